import Foundation
import ImagingCore

/// Double-precision discrete Fourier transform of split-complex data, of any length: radix-2 for powers of
/// two, Bluestein's chirp-z transform (through a power-of-two transform) otherwise.
///
/// Forward: X[k] = Σ_x f[x] e^(-2πi k x / n); inverse: f[x] = (1/n) Σ_k X[k] e^(+2πi k x / n).
///
/// Why a transform of its own rather than the radiomics engine's: that one (Radiomics/BatchedFFT.swift) is
/// single precision, internal, and shaped for Moran's I (real input, supports, batches); filters need double
/// precision (IBSI 2 response maps are compared within 0.001 on values up to thousands), complex kernels
/// (Gabor) and arbitrary lengths, and `Filters` sits below `Radiomics` in the target graph. Moving that code down
/// would change the numbers the radiomics features are pinned to; this small transform keeps both as they are.
public struct FFTPlan: Sendable {
    public let length: Int
    private let kind: Kind

    private enum Kind: Sendable {
        case identity
        case radix2(twiddleRe: [Double], twiddleIm: [Double], bitReversed: [Int])
        case bluestein(chirpRe: [Double], chirpIm: [Double], filterRe: [Double], filterIm: [Double], inner: Radix2Box)
    }

    /// A power-of-two plan held by reference so the enum stays small and `Sendable`.
    private final class Radix2Box: Sendable {
        let plan: FFTPlan
        init(_ plan: FFTPlan) { self.plan = plan }
    }

    public init(length n: Int) {
        precondition(n >= 1, "a transform needs at least one sample")
        length = n
        if n == 1 {
            kind = .identity
        } else if n & (n - 1) == 0 {
            let half = n / 2
            var tr = [Double](repeating: 0, count: half), ti = tr
            for k in 0..<half {
                let a = -2 * Double.pi * Double(k) / Double(n)
                tr[k] = cos(a); ti[k] = sin(a)
            }
            let bits = n.trailingZeroBitCount
            let rev = (0..<n).map { x -> Int in
                var r = 0, v = x
                for _ in 0..<bits { r = (r << 1) | (v & 1); v >>= 1 }
                return r
            }
            kind = .radix2(twiddleRe: tr, twiddleIm: ti, bitReversed: rev)
        } else {
            var m = 1
            while m < 2 * n - 1 { m <<= 1 }
            // Chirp w[k] = e^(-iπ k²/n); k² reduced modulo 2n keeps the angle exact for long transforms.
            var cr = [Double](repeating: 0, count: n), ci = cr
            for k in 0..<n {
                let q = (k * k) % (2 * n)
                let a = -Double.pi * Double(q) / Double(n)
                cr[k] = cos(a); ci[k] = sin(a)
            }
            var fr = [Double](repeating: 0, count: m), fi = fr
            for k in 0..<n {
                fr[k] = cr[k]; fi[k] = -ci[k]
                if k > 0 { fr[m - k] = cr[k]; fi[m - k] = -ci[k] }
            }
            let inner = FFTPlan(length: m)
            inner.forward(&fr, &fi)
            kind = .bluestein(chirpRe: cr, chirpIm: ci, filterRe: fr, filterIm: fi, inner: Radix2Box(inner))
        }
    }

    /// In-place forward transform (unnormalised).
    public func forward(_ re: inout [Double], _ im: inout [Double]) {
        precondition(re.count == length && im.count == length, "transform of \(length) samples")
        re.withUnsafeMutableBufferPointer { r in
            im.withUnsafeMutableBufferPointer { i in forward(re: r.baseAddress!, im: i.baseAddress!) }
        }
    }

    /// In-place inverse transform, normalised by 1/n.
    public func inverse(_ re: inout [Double], _ im: inout [Double]) {
        precondition(re.count == length && im.count == length, "transform of \(length) samples")
        re.withUnsafeMutableBufferPointer { r in
            im.withUnsafeMutableBufferPointer { i in inverse(re: r.baseAddress!, im: i.baseAddress!) }
        }
    }

    /// In-place forward transform of `length` samples at (re, im).
    public func forward(re: UnsafeMutablePointer<Double>, im: UnsafeMutablePointer<Double>) {
        switch kind {
        case .identity:
            return
        case let .radix2(twr, twi, reversal):
            let n = length
            reversal.withUnsafeBufferPointer { rev in
                for x in 0..<n {
                    let y = rev[x]
                    if y > x { swap(&re[x], &re[y]); swap(&im[x], &im[y]) }
                }
            }
            twr.withUnsafeBufferPointer { tr in
                twi.withUnsafeBufferPointer { ti in
                    var size = 2
                    while size <= n {
                        let half = size / 2
                        let step = n / size
                        var start = 0
                        while start < n {
                            var t = 0
                            for j in 0..<half {
                                let wr = tr[t], wi = ti[t]
                                t += step
                                let a = start + j, b = a + half
                                let xr = re[b] * wr - im[b] * wi
                                let xi = re[b] * wi + im[b] * wr
                                re[b] = re[a] - xr; im[b] = im[a] - xi
                                re[a] += xr; im[a] += xi
                            }
                            start += size
                        }
                        size <<= 1
                    }
                }
            }
        case let .bluestein(cr, ci, fr, fi, box):
            let inner = box.plan
            let m = inner.length
            var ar = [Double](repeating: 0, count: m), ai = ar
            for k in 0..<length {
                ar[k] = re[k] * cr[k] - im[k] * ci[k]
                ai[k] = re[k] * ci[k] + im[k] * cr[k]
            }
            inner.forward(&ar, &ai)
            for k in 0..<m {
                let r = ar[k] * fr[k] - ai[k] * fi[k]
                let i = ar[k] * fi[k] + ai[k] * fr[k]
                ar[k] = r; ai[k] = i
            }
            inner.inverse(&ar, &ai)
            for k in 0..<length {
                re[k] = ar[k] * cr[k] - ai[k] * ci[k]
                im[k] = ar[k] * ci[k] + ai[k] * cr[k]
            }
        }
    }

    /// In-place inverse transform (normalised by 1/n) of `length` samples at (re, im).
    public func inverse(re: UnsafeMutablePointer<Double>, im: UnsafeMutablePointer<Double>) {
        // ifft(X) = conj(fft(conj(X))) / n
        for k in 0..<length { im[k] = -im[k] }
        forward(re: re, im: im)
        let s = 1 / Double(length)
        for k in 0..<length { re[k] *= s; im[k] = -im[k] * s }
    }
}

/// Multi-dimensional transforms of split-complex arrays laid out x fastest, then y, then z.
public enum FFT {
    /// The smallest power of two at least `n` (a fast transform length for zero-padded convolutions).
    public static func fastLength(atLeast n: Int) -> Int {
        var m = 1
        while m < n { m <<= 1 }
        return m
    }

    /// Transforms (re, im) of `size` in place along each of `axes` (forward, or inverse normalised by 1/n per axis).
    public static func transform(re: inout [Double], im: inout [Double], size: Size3, axes: [Int] = [0, 1, 2],
                                 inverse: Bool = false) {
        precondition(re.count == size.count && im.count == size.count, "array of \(size) expected")
        for axis in axes where size[axis] > 1 {
            let n = size[axis]
            let plan = FFTPlan(length: n)
            let stride = axis == 0 ? 1 : (axis == 1 ? size.nx : size.nx * size.ny)
            var lr = [Double](repeating: 0, count: n), li = lr
            // Lines along `axis`: start offsets are every index whose `axis` coordinate is 0.
            for k in 0..<(axis == 2 ? 1 : size.nz) {
                for j in 0..<(axis == 1 ? 1 : size.ny) {
                    for i in 0..<(axis == 0 ? 1 : size.nx) {
                        let start = (k * size.ny + j) * size.nx + i
                        for t in 0..<n { lr[t] = re[start + t * stride]; li[t] = im[start + t * stride] }
                        if inverse { plan.inverse(&lr, &li) } else { plan.forward(&lr, &li) }
                        for t in 0..<n { re[start + t * stride] = lr[t]; im[start + t * stride] = li[t] }
                    }
                }
            }
        }
    }
}

extension FFT {
    /// 2D transform of a pa x pb array (x fastest) with ready plans for its two axes.
    static func transform2D(re: inout [Double], im: inout [Double], plans: (FFTPlan, FFTPlan), inverse: Bool) {
        re.withUnsafeMutableBufferPointer { r in
            im.withUnsafeMutableBufferPointer { i in
                transform2D(re: r.baseAddress!, im: i.baseAddress!, plans: plans, inverse: inverse)
            }
        }
    }

    static func transform2D(re: UnsafeMutablePointer<Double>, im: UnsafeMutablePointer<Double>,
                            plans: (FFTPlan, FFTPlan), inverse: Bool) {
        let (pa, pb) = (plans.0.length, plans.1.length)
        // Rows are contiguous: transformed where they are.
        for v in 0..<pb {
            if inverse { plans.0.inverse(re: re + v * pa, im: im + v * pa) } else { plans.0.forward(re: re + v * pa, im: im + v * pa) }
        }
        let cr = UnsafeMutablePointer<Double>.allocate(capacity: pb), ci = UnsafeMutablePointer<Double>.allocate(capacity: pb)
        defer { cr.deallocate(); ci.deallocate() }
        for u in 0..<pa {
            for t in 0..<pb { cr[t] = re[t * pa + u]; ci[t] = im[t * pa + u] }
            if inverse { plans.1.inverse(re: cr, im: ci) } else { plans.1.forward(re: cr, im: ci) }
            for t in 0..<pb { re[t * pa + u] = cr[t]; im[t * pa + u] = ci[t] }
        }
    }
}

/// A complex 2D kernel for a plane of the grid: weights indexed [b * sizeA + a] along in-plane axes (a, b), its
/// origin at (centerA, centerB) (see `Kernel1D` for the convolution convention).
public struct ComplexKernel2D: Sendable {
    public var sizeA: Int
    public var sizeB: Int
    public var centerA: Int
    public var centerB: Int
    public var re: [Double]
    public var im: [Double]

    public init(sizeA: Int, sizeB: Int, centerA: Int, centerB: Int, re: [Double], im: [Double]) {
        precondition(re.count == sizeA * sizeB && im.count == sizeA * sizeB, "kernel of \(sizeA)x\(sizeB) values")
        self.sizeA = sizeA; self.sizeB = sizeB; self.centerA = centerA; self.centerB = centerB
        self.re = re; self.im = im
    }
}

extension FilterBlock {
    /// Valid 2D convolution with a complex kernel in the plane of axes (a, b) (each slice along the third axis on
    /// its own), by FFT: the real and imaginary parts of the response. Each in-plane axis shrinks by the kernel's
    /// size minus one, as in `convolved(along:with:)`.
    public func convolvedValid(with kernel: ComplexKernel2D, plane: (a: Int, b: Int)) -> (re: FilterBlock, im: FilterBlock) {
        convolvedValid(with: [kernel], plane: plane)[0]
    }

    /// Valid 2D convolutions with several complex kernels of one size (each slice's spectrum is computed once).
    ///
    /// A circular convolution of a slice's own length is exact on the valid part (wrap-around reaches only the
    /// first `size - 1` outputs, which are dropped), so slices are transformed zero-padded to a power of two at
    /// least their length.
    public func convolvedValid(with kernels: [ComplexKernel2D], plane: (a: Int, b: Int)) -> [(re: FilterBlock, im: FilterBlock)] {
        guard let first = kernels.first else { return [] }
        precondition(kernels.allSatisfy { $0.sizeA == first.sizeA && $0.sizeB == first.sizeB
            && $0.centerA == first.centerA && $0.centerB == first.centerB }, "kernels of one size and origin")
        let (a, b) = plane
        let c = 3 - a - b
        let la = size[a], lb = size[b], lc = size[c]
        precondition(la >= first.sizeA && lb >= first.sizeB, "block \(size) smaller than the kernel")
        let pa = FFT.fastLength(atLeast: la), pb = FFT.fastLength(atLeast: lb)
        let plans = (FFTPlan(length: pa), FFTPlan(length: pb))
        // Kernel spectra, zero-padded.
        let spectra: [([Double], [Double])] = kernels.map { kernel in
            var kr = [Double](repeating: 0, count: pa * pb), ki = kr
            for v in 0..<kernel.sizeB {
                for u in 0..<kernel.sizeA {
                    kr[v * pa + u] = kernel.re[v * kernel.sizeA + u]
                    ki[v * pa + u] = kernel.im[v * kernel.sizeA + u]
                }
            }
            FFT.transform2D(re: &kr, im: &ki, plans: plans, inverse: false)
            return (kr, ki)
        }
        let oa = la - first.sizeA + 1, ob = lb - first.sizeB + 1
        var outSize = [size.nx, size.ny, size.nz]
        outSize[a] = oa; outSize[b] = ob
        let os = Size3(outSize[0], outSize[1], outSize[2])
        var outOrigin = [origin.i, origin.j, origin.k]
        outOrigin[a] += first.sizeA - 1 - first.centerA
        outOrigin[b] += first.sizeB - 1 - first.centerB
        let oo = Index3(outOrigin[0], outOrigin[1], outOrigin[2])
        var outRe = [[Double]](repeating: [Double](repeating: 0, count: os.count), count: kernels.count)
        var outIm = outRe
        let strides = [1, size.nx, size.nx * size.ny]
        let outStrides = [1, os.nx, os.nx * os.ny]
        let planeCount = pa * pb
        let sr = UnsafeMutablePointer<Double>.allocate(capacity: planeCount), si = UnsafeMutablePointer<Double>.allocate(capacity: planeCount)
        let pr = UnsafeMutablePointer<Double>.allocate(capacity: planeCount), pi = UnsafeMutablePointer<Double>.allocate(capacity: planeCount)
        defer { sr.deallocate(); si.deallocate(); pr.deallocate(); pi.deallocate() }
        let (sa, sb, sc) = (strides[a], strides[b], strides[c])
        let (ta, tb, tc) = (outStrides[a], outStrides[b], outStrides[c])
        let (ka, kb) = (first.sizeA, first.sizeB)
        values.withUnsafeBufferPointer { src in
            for w in 0..<lc {
                sr.update(repeating: 0, count: planeCount)
                si.update(repeating: 0, count: planeCount)
                for v in 0..<lb {
                    let base = v * sb + w * sc
                    for u in 0..<la { sr[v * pa + u] = src[base + u * sa] }
                }
                FFT.transform2D(re: sr, im: si, plans: plans, inverse: false)
                for n in 0..<spectra.count {
                    spectra[n].0.withUnsafeBufferPointer { kr in
                        spectra[n].1.withUnsafeBufferPointer { ki in
                            for t in 0..<planeCount {
                                pr[t] = sr[t] * kr[t] - si[t] * ki[t]
                                pi[t] = sr[t] * ki[t] + si[t] * kr[t]
                            }
                        }
                    }
                    FFT.transform2D(re: pr, im: pi, plans: plans, inverse: true)
                    outRe[n].withUnsafeMutableBufferPointer { oR in
                        outIm[n].withUnsafeMutableBufferPointer { oI in
                            for v in 0..<ob {
                                for u in 0..<oa {
                                    let s = (v + kb - 1) * pa + (u + ka - 1)
                                    let d = u * ta + v * tb + w * tc
                                    oR[d] = pr[s]; oI[d] = pi[s]
                                }
                            }
                        }
                    }
                }
            }
        }
        return (0..<kernels.count).map {
            (FilterBlock(origin: oo, size: os, values: outRe[$0]), FilterBlock(origin: oo, size: os, values: outIm[$0]))
        }
    }
}
