import Foundation
import ImagingCore

/// Moran's I and Geary's C with inverse-distance weights over every pair of ROI voxels, exactly,
/// in O(M log M) for a box of M voxels instead of O(N²) pairs.
///
/// With a_k = X_k - μ on ROI voxels and 0 elsewhere, m the ROI indicator and K(δ) = 1/|δ| (K(0) = 0)
/// the weight of a voxel offset δ, every pair sum is a correlation with K:
/// Σ_{i≠j} w_ij a_i a_j = Σ a (K ⋆ a), W = Σ_{i≠j} w_ij = Σ m (K ⋆ m), and
/// Σ_{i≠j} w_ij (X_i - X_j)² = 2 Σ a² (K ⋆ m) - 2 Σ a (K ⋆ a).
/// The sums follow from two FFTs by Parseval's theorem, on the box zero-padded to at least twice its
/// size (so no wrap-around), with a and m, and a² and K, packed as real and imaginary parts.
enum SpatialAutocorrelation {
    static func moranAndGeary(_ region: PreparedRegion) -> (moran: Double, geary: Double) {
        let n = region.grid.size, sp = region.grid.spacing
        guard let box = Preprocessor.boundingBox(region.intensityMask, size: n) else { return (.nan, .nan) }
        var count = 0, sum = 0.0
        for t in 0..<region.intensityMask.count where region.intensityMask[t] {
            count += 1; sum += region.intensities[t]
        }
        guard count >= 2 else { return (.nan, .nan) }
        let mu = sum / Double(count)
        let b = box.size
        let dims = [b.nx, b.ny, b.nz].map { fftLength(2 * $0 - 1) }
        let total = dims[0] * dims[1] * dims[2]
        var re = [Double](repeating: 0, count: total), im = [Double](repeating: 0, count: total)
        var ss = 0.0
        for k in 0..<b.nz {
            for j in 0..<b.ny {
                for i in 0..<b.nx {
                    let t = ((k + box.lower.k) * n.ny + j + box.lower.j) * n.nx + i + box.lower.i
                    guard region.intensityMask[t] else { continue }
                    let a = region.intensities[t] - mu
                    let p = (k * dims[1] + j) * dims[0] + i
                    re[p] = a; im[p] = 1
                    ss += a * a
                }
            }
        }
        guard ss > 0 else { return (.nan, .nan) }
        // Kernel 1/|δ| on the padded grid, negative offsets wrapped.
        var kre = [Double](repeating: 0, count: total), kim = [Double](repeating: 0, count: total)
        for k in 0..<dims[2] {
            let dz = k < b.nz ? k : (k > dims[2] - b.nz ? k - dims[2] : Int.max)
            guard dz != Int.max else { continue }
            for j in 0..<dims[1] {
                let dy = j < b.ny ? j : (j > dims[1] - b.ny ? j - dims[1] : Int.max)
                guard dy != Int.max else { continue }
                for i in 0..<dims[0] {
                    let dx = i < b.nx ? i : (i > dims[0] - b.nx ? i - dims[0] : Int.max)
                    guard dx != Int.max, dx != 0 || dy != 0 || dz != 0 else { continue }
                    let x = Double(dx) * sp.x, y = Double(dy) * sp.y, z = Double(dz) * sp.z
                    kre[(k * dims[1] + j) * dims[0] + i] = 1 / (x * x + y * y + z * z).squareRoot()
                }
            }
        }
        // Second transform: a² (real part) with the kernel (imaginary part).
        swap(&kre, &kim)
        for p in 0..<total where re[p] != 0 { kre[p] = re[p] * re[p] }
        FFT3.transform(re: &re, im: &im, dims: dims, inverse: false)
        FFT3.transform(re: &kre, im: &kim, dims: dims, inverse: false)
        // Parseval: Σ f (K ⋆ g) = (1/M) Σ_k K̂(k) Re(conj(F̂(k)) Ĝ(k)); spectra of the packed real
        // signals x + i y follow from X(k) = (Z(k) + conj Z(-k)) / 2, Y(k) = (Z(k) - conj Z(-k)) / 2i.
        var aKa = 0.0, a2Km = 0.0, mKm = 0.0
        for k in 0..<dims[2] {
            let kn = (dims[2] - k) % dims[2]
            for j in 0..<dims[1] {
                let jn = (dims[1] - j) % dims[1]
                for i in 0..<dims[0] {
                    let p = (k * dims[1] + j) * dims[0] + i
                    let q = (kn * dims[1] + jn) * dims[0] + (dims[0] - i) % dims[0]
                    let ar = (re[p] + re[q]) / 2, ai = (im[p] - im[q]) / 2
                    let mr = (im[p] + im[q]) / 2, mi = (re[q] - re[p]) / 2
                    let a2r = (kre[p] + kre[q]) / 2, a2i = (kim[p] - kim[q]) / 2
                    let kernel = (kim[p] + kim[q]) / 2
                    aKa += kernel * (ar * ar + ai * ai)
                    mKm += kernel * (mr * mr + mi * mi)
                    a2Km += kernel * (a2r * mr + a2i * mi)
                }
            }
        }
        let scale = 1 / Double(total)
        aKa *= scale; a2Km *= scale; mKm *= scale
        let nD = Double(count)
        let moran = nD / mKm * aKa / ss
        let geary = (nD - 1) * (2 * a2Km - 2 * aKa) / (2 * mKm * ss)
        return (moran, geary)
    }

    /// The smallest length ≥ `n` whose prime factors are 2, 3 and 5.
    static func fftLength(_ n: Int) -> Int {
        var m = max(n, 1)
        while true {
            var r = m
            for p in [2, 3, 5] { while r % p == 0 { r /= p } }
            if r == 1 { return m }
            m += 1
        }
    }
}

/// In-place 3D discrete Fourier transform (mixed radix 2, 3, 5; lengths from `fftLength`).
enum FFT3 {
    static func transform(re: inout [Double], im: inout [Double], dims: [Int], inverse: Bool) {
        let strides = [1, dims[0], dims[0] * dims[1]]
        for axis in 0..<3 {
            let len = dims[axis], st = strides[axis]
            guard len > 1 else { continue }
            let plan = FFT1(length: len, inverse: inverse)
            var lr = [Double](repeating: 0, count: len), li = lr
            var scratchR = lr, scratchI = lr
            let others = dims[0] * dims[1] * dims[2] / len
            for o in 0..<others {
                let start: Int
                switch axis {
                case 0: start = o * dims[0]
                case 1: start = (o / dims[0]) * dims[0] * dims[1] + o % dims[0]
                default: start = o
                }
                for t in 0..<len { lr[t] = re[start + t * st]; li[t] = im[start + t * st] }
                plan.run(&lr, &li, &scratchR, &scratchI)
                for t in 0..<len { re[start + t * st] = lr[t]; im[start + t * st] = li[t] }
            }
        }
        if inverse {
            let s = 1 / Double(dims[0] * dims[1] * dims[2])
            for p in 0..<re.count { re[p] *= s; im[p] *= s }
        }
    }
}

/// A 1D mixed-radix (2, 3, 4, 5) Stockham FFT plan (decimation in frequency, natural order), unnormalised.
///
/// Stage with radix p, sub-length n = p m and stride s: for j < m and q < s,
/// y[q + s (p j + r)] = ω_n^(j r) Σ_t x[q + s (j + t m)] ω_p^(t r).
struct FFT1 {
    let length: Int
    let factors: [Int]
    let sign: Double
    /// Per stage, the twiddles ω_n^(j r) for j < m, r < p (index j p + r).
    let twiddleRe: [[Double]]
    let twiddleIm: [[Double]]

    init(length: Int, inverse: Bool) {
        self.length = length
        var f = [Int](), r = length
        for p in [4, 2, 3, 5] { while r % p == 0 { f.append(p); r /= p } }
        precondition(r == 1, "FFT length \(length) must have only the factors 2, 3 and 5")
        factors = f
        sign = inverse ? 1 : -1
        var tr = [[Double]](), ti = [[Double]]()
        var n = length
        for p in f {
            let m = n / p
            var wr = [Double](repeating: 0, count: m * p), wi = wr
            for j in 0..<m {
                for q in 0..<p {
                    let angle = 2 * Double.pi * Double(j * q) / Double(n)
                    wr[j * p + q] = cos(angle)
                    wi[j * p + q] = sign * sin(angle)
                }
            }
            tr.append(wr); ti.append(wi)
            n = m
        }
        twiddleRe = tr
        twiddleIm = ti
    }

    /// Stores (xr + i xi)(wr + i wi) at `at`.
    @inline(__always)
    private func rotate(_ xr: Double, _ xi: Double, _ wr: Double, _ wi: Double,
                        _ yr: UnsafeMutableBufferPointer<Double>, _ yi: UnsafeMutableBufferPointer<Double>, _ at: Int) {
        yr[at] = xr * wr - xi * wi
        yi[at] = xr * wi + xi * wr
    }

    /// Transforms (re, im) in place, using the scratch buffers (all of `length`).
    func run(_ re: inout [Double], _ im: inout [Double], _ sr: inout [Double], _ si: inout [Double]) {
        var n = length, s = 1
        var inData = true
        let sgn = sign
        let c3 = 0.5 * 3.0.squareRoot()
        // Radix-5 constants.
        let c51 = cos(2 * Double.pi / 5), c52 = cos(4 * Double.pi / 5)
        let s51 = sgn * sin(2 * Double.pi / 5), s52 = sgn * sin(4 * Double.pi / 5)
        re.withUnsafeMutableBufferPointer { dr in
        im.withUnsafeMutableBufferPointer { di in
        sr.withUnsafeMutableBufferPointer { tr in
        si.withUnsafeMutableBufferPointer { ti in
            for (stage, p) in factors.enumerated() {
                let m = n / p
                let xr = inData ? dr : tr, xi = inData ? di : ti
                let yr = inData ? tr : dr, yi = inData ? ti : di
                twiddleRe[stage].withUnsafeBufferPointer { wr in
                twiddleIm[stage].withUnsafeBufferPointer { wi in
                    for j in 0..<m {
                        for q in 0..<s {
                            let base = q + s * j, out = q + s * p * j
                            switch p {
                            case 2:
                                let ar = xr[base], ai = xi[base], br = xr[base + s * m], bi = xi[base + s * m]
                                yr[out] = ar + br; yi[out] = ai + bi
                                let r1 = ar - br, i1 = ai - bi
                                rotate(r1, i1, wr[j * 2 + 1], wi[j * 2 + 1], yr, yi, out + s)
                            case 4:
                                let x0r = xr[base], x0i = xi[base]
                                let x1r = xr[base + s * m], x1i = xi[base + s * m]
                                let x2r = xr[base + 2 * s * m], x2i = xi[base + 2 * s * m]
                                let x3r = xr[base + 3 * s * m], x3i = xi[base + 3 * s * m]
                                let ar = x0r + x2r, ai = x0i + x2i, br = x0r - x2r, bi = x0i - x2i
                                let cr = x1r + x3r, ci = x1i + x3i
                                // d = sgn i (x1 - x3)
                                let dr0 = -sgn * (x1i - x3i), di0 = sgn * (x1r - x3r)
                                yr[out] = ar + cr; yi[out] = ai + ci
                                let k = j * 4
                                rotate(br + dr0, bi + di0, wr[k + 1], wi[k + 1], yr, yi, out + s)
                                rotate(ar - cr, ai - ci, wr[k + 2], wi[k + 2], yr, yi, out + 2 * s)
                                rotate(br - dr0, bi - di0, wr[k + 3], wi[k + 3], yr, yi, out + 3 * s)
                            case 3:
                                let x0r = xr[base], x0i = xi[base]
                                let x1r = xr[base + s * m], x1i = xi[base + s * m]
                                let x2r = xr[base + 2 * s * m], x2i = xi[base + 2 * s * m]
                                let t1r = x1r + x2r, t1i = x1i + x2i
                                let t2r = x0r - 0.5 * t1r, t2i = x0i - 0.5 * t1i
                                // sgn i (√3/2) (x1 - x2)
                                let t3r = -sgn * c3 * (x1i - x2i), t3i = sgn * c3 * (x1r - x2r)
                                yr[out] = x0r + t1r; yi[out] = x0i + t1i
                                let y1r = t2r + t3r, y1i = t2i + t3i, y2r = t2r - t3r, y2i = t2i - t3i
                                rotate(y1r, y1i, wr[j * 3 + 1], wi[j * 3 + 1], yr, yi, out + s)
                                rotate(y2r, y2i, wr[j * 3 + 2], wi[j * 3 + 2], yr, yi, out + 2 * s)
                            default:
                                let x0r = xr[base], x0i = xi[base]
                                let x1r = xr[base + s * m], x1i = xi[base + s * m]
                                let x2r = xr[base + 2 * s * m], x2i = xi[base + 2 * s * m]
                                let x3r = xr[base + 3 * s * m], x3i = xi[base + 3 * s * m]
                                let x4r = xr[base + 4 * s * m], x4i = xi[base + 4 * s * m]
                                let a1r = x1r + x4r, a1i = x1i + x4i, b1r = x1r - x4r, b1i = x1i - x4i
                                let a2r = x2r + x3r, a2i = x2i + x3i, b2r = x2r - x3r, b2i = x2i - x3i
                                let p1r = x0r + c51 * a1r + c52 * a2r, p1i = x0i + c51 * a1i + c52 * a2i
                                let p2r = x0r + c52 * a1r + c51 * a2r, p2i = x0i + c52 * a1i + c51 * a2i
                                // i (s1 b1 + s2 b2) and i (s2 b1 - s1 b2)
                                let q1r = -(s51 * b1i + s52 * b2i), q1i = s51 * b1r + s52 * b2r
                                let q2r = -(s52 * b1i - s51 * b2i), q2i = s52 * b1r - s51 * b2r
                                yr[out] = x0r + a1r + a2r; yi[out] = x0i + a1i + a2i
                                let k = j * 5
                                rotate(p1r + q1r, p1i + q1i, wr[k + 1], wi[k + 1], yr, yi, out + s)
                                rotate(p2r + q2r, p2i + q2i, wr[k + 2], wi[k + 2], yr, yi, out + 2 * s)
                                rotate(p2r - q2r, p2i - q2i, wr[k + 3], wi[k + 3], yr, yi, out + 3 * s)
                                rotate(p1r - q1r, p1i - q1i, wr[k + 4], wi[k + 4], yr, yi, out + 4 * s)
                            }
                        }
                    }
                }
                }
                inData.toggle()
                n = m
                s *= p
            }
            if !inData {
                for t in 0..<length { dr[t] = tr[t]; di[t] = ti[t] }
            }
        }
        }
        }
        }
    }
}
