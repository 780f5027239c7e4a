import Foundation
import ImagingCore

/// Moran's I and Geary's C with inverse-distance weights over every pair of ROI voxels, exactly,
/// in O(M log M) for a box of M voxels instead of O(N²) pairs.
///
/// With a_k = X_k - μ on ROI voxels and 0 elsewhere, m the ROI indicator and K(δ) = 1/|δ| (K(0) = 0)
/// the weight of a voxel offset δ, every pair sum is a correlation with K:
/// Σ_{i≠j} w_ij a_i a_j = Σ a (K ⋆ a), W = Σ_{i≠j} w_ij = Σ m (K ⋆ m), and
/// Σ_{i≠j} w_ij (X_i - X_j)² = 2 Σ a² (K ⋆ m) - 2 Σ a (K ⋆ a).
/// The sums follow from Parseval's theorem on the box zero-padded to at least twice its size (so no
/// wrap-around): one FFT of a and m packed as real and imaginary parts, one of a² (half the spectrum,
/// as a² is real), and the spectrum of
/// K. K depends on |δx|, |δy| and |δz| only, so its spectrum is real and even, and its transform
/// needs one octant of lines per axis.
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
        let support = [b.nx, b.ny, b.nz]
        let dims = support.map { fftLength(2 * $0 - 1) }
        let total = dims[0] * dims[1] * dims[2]
        let kernel = kernelSpectrum(support: support, dims: dims, spacing: [sp.x, sp.y, sp.z])
        // z = a + i m; w = a² (real).
        var zr = [Double](repeating: 0, count: total), zi = zr
        var wr = zr, wi = zr
        var ss = 0.0
        for k in 0..<b.nz {
            for j in 0..<b.ny {
                for i in 0..<b.nx {
                    let t = ((k + box.lower.k) * n.ny + j + box.lower.j) * n.nx + i + box.lower.i
                    guard region.intensityMask[t] else { continue }
                    let a = region.intensities[t] - mu
                    let p = (k * dims[1] + j) * dims[0] + i
                    zr[p] = a; zi[p] = 1; wr[p] = a * a
                    ss += a * a
                }
            }
        }
        guard ss > 0 else { return (.nan, .nan) }
        let fft = FFT3(dims: dims)
        fft.forward(re: &zr, im: &zi, support: support)
        fft.forward(re: &wr, im: &wi, support: support, realInput: true)
        let h0 = dims[0] / 2 + 1, h1 = dims[1] / 2 + 1
        // Parseval: Σ f (K ⋆ g) = (1/M) Σ_k K̂(k) Re(conj(F̂(k)) Ĝ(k)); the spectra of a and m follow
        // from Z(k) and Z(-k): Â = (Z(k) + conj Z(-k)) / 2, M̂ = (Z(k) - conj Z(-k)) / 2i. Each term is
        // the same at k and -k (K̂ is even, the signals real), so kx runs over 0...P0/2, the terms
        // with a partner -k of kx > P0/2 counted twice.
        var aKa = 0.0, a2Km = 0.0, mKm = 0.0
        zr.withUnsafeBufferPointer { zr in
        zi.withUnsafeBufferPointer { zi in
        wr.withUnsafeBufferPointer { wr in
        wi.withUnsafeBufferPointer { wi in
        kernel.withUnsafeBufferPointer { kernel in
            for k in 0..<dims[2] {
                let kn = (dims[2] - k) % dims[2], kk = min(k, dims[2] - k)
                for j in 0..<dims[1] {
                    let jn = (dims[1] - j) % dims[1], jj = min(j, dims[1] - j)
                    let row = (k * dims[1] + j) * dims[0], mirror = (kn * dims[1] + jn) * dims[0]
                    let kernelRow = (kk * h1 + jj) * h0
                    var rowAKa = 0.0, rowA2Km = 0.0, rowMKm = 0.0
                    for i in 0..<h0 {
                        let p = row + i
                        let q = mirror + (i == 0 ? 0 : dims[0] - i)
                        let ar = (zr[p] + zr[q]) / 2, ai = (zi[p] - zi[q]) / 2
                        let mr = (zi[p] + zi[q]) / 2, mi = (zr[q] - zr[p]) / 2
                        let weight = (i == 0 || 2 * i == dims[0] ? 1 : 2) * kernel[kernelRow + i]
                        rowAKa += weight * (ar * ar + ai * ai)
                        rowMKm += weight * (mr * mr + mi * mi)
                        rowA2Km += weight * (wr[p] * mr + wi[p] * mi)
                    }
                    aKa += rowAKa; mKm += rowMKm; a2Km += rowA2Km
                }
            }
        }
        }
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

    /// The DFT over the padded grid `dims` of K(δ) = 1/|δ| (K(0) = 0) for offsets |δ_a| < `support[a]`,
    /// at frequencies k_a ≤ dims[a] / 2 (it is real and even in each), x fastest.
    ///
    /// K is even in each axis, so only one octant of lines is transformed along x; the lines and planes
    /// of the other octants are copies made before the y and z transforms, which compute only the
    /// frequencies of the first octant.
    static func kernelSpectrum(support n: [Int], dims: [Int], spacing: [Double]) -> [Double] {
        let (p0, p1, p2) = (dims[0], dims[1], dims[2])
        let h = dims.map { $0 / 2 + 1 }
        var re = [Double](repeating: 0, count: p0 * p1 * p2), im = re
        let s2 = spacing.map { $0 * $0 }
        for dz in 0..<n[2] {
            for dy in 0..<n[1] {
                let line = (dz * p1 + dy) * p0
                let yz = Double(dy * dy) * s2[1] + Double(dz * dz) * s2[2]
                for dx in 0..<n[0] where dx != 0 || yz != 0 {
                    let k = 1 / (Double(dx * dx) * s2[0] + yz).squareRoot()
                    re[line + dx] = k
                    if dx > 0 { re[line + p0 - dx] = k }
                }
            }
        }
        let fft = FFT3(dims: dims)
        fft.passes(&re, &im) { pass in
            pass.x(rows: n[1], planes: n[2])
            // Rows -dy are rows dy (the first h0 frequencies are all the y transform reads).
            for dz in 0..<n[2] {
                for dy in 1..<max(1, n[1]) {
                    let from = (dz * p1 + dy) * p0, to = (dz * p1 + p1 - dy) * p0
                    for kx in 0..<h[0] { pass.re[to + kx] = pass.re[from + kx]; pass.im[to + kx] = pass.im[from + kx] }
                }
            }
            pass.y(columns: h[0], planes: n[2])
            // Planes -dz are planes dz, for the frequencies the z transform reads.
            for dz in 1..<max(1, n[2]) {
                for ky in 0..<h[1] {
                    let from = (dz * p1 + ky) * p0, to = ((p2 - dz) * p1 + ky) * p0
                    for kx in 0..<h[0] { pass.re[to + kx] = pass.re[from + kx]; pass.im[to + kx] = pass.im[from + kx] }
                }
            }
            pass.z(columns: h[0], rows: h[1])
        }
        var out = [Double](repeating: 0, count: h[0] * h[1] * h[2])
        for kz in 0..<h[2] {
            for ky in 0..<h[1] {
                for kx in 0..<h[0] { out[(kz * h[1] + ky) * h[0] + kx] = re[(kz * p1 + ky) * p0 + kx] }
            }
        }
        return out
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

/// Forward 3D discrete Fourier transform (unnormalised, e^(-2πi k·x/P)) of split-complex data, x fastest,
/// for lengths with prime factors 2, 3 and 5.
///
/// Each axis is transformed in batches: a few lines are gathered into a buffer that interleaves them
/// (element t of line l at t·lanes + l), so that every butterfly runs over contiguous lanes.
struct FFT3 {
    let dims: [Int]
    let plans: [FFTPlan]

    init(dims: [Int]) {
        self.dims = dims
        plans = dims.map { FFTPlan(length: $0) }
    }

    /// Doubles per batch buffer: enough lanes to amortise the loops, small enough for the cache.
    fileprivate static let batchDoubles = 8192

    /// Transforms in place. The data must vanish outside `support[a]` elements of each axis: lines
    /// that are still zero when their axis is transformed are skipped. With `realInput` (the imaginary
    /// parts are zero) only the frequencies kx ≤ P0/2 are computed; the others are the conjugates
    /// Z(P0 - kx, -ky, -kz) and are left undefined.
    func forward(re: inout [Double], im: inout [Double], support: [Int], realInput: Bool = false) {
        let columns = realInput ? dims[0] / 2 + 1 : dims[0]
        passes(&re, &im) { pass in
            pass.x(rows: support[1], planes: support[2])
            pass.y(columns: columns, planes: support[2])
            pass.z(columns: columns, rows: dims[1])
        }
    }

    /// Runs `body` with the one-axis transforms of (re, im) at hand.
    func passes(_ re: inout [Double], _ im: inout [Double], _ body: (Passes) -> Void) {
        re.withUnsafeMutableBufferPointer { re in
            im.withUnsafeMutableBufferPointer { im in
                let buffers = BatchBuffers(capacity: Self.batchDoubles + 4 * dims.max()!)
                defer { buffers.release() }
                body(Passes(fft: self, re: re.baseAddress!, im: im.baseAddress!, buffers: buffers))
            }
        }
    }

    /// One-axis transforms of the first lines, columns or planes of a grid.
    struct Passes {
        let fft: FFT3
        let re: UnsafeMutablePointer<Double>
        let im: UnsafeMutablePointer<Double>
        fileprivate let buffers: BatchBuffers

        /// Along x, the lines with y < `rows` and z < `planes`.
        func x(rows: Int, planes: Int) {
            let (p0, p1) = (fft.dims[0], fft.dims[1])
            guard p0 > 1 else { return }
            for z in 0..<planes { lines(0, count: rows, element: 1, line: p0, base: z * p1 * p0) }
        }

        /// Along y, the columns x < `columns` of the planes z < `planes`.
        func y(columns: Int, planes: Int) {
            let (p0, p1) = (fft.dims[0], fft.dims[1])
            guard p1 > 1 else { return }
            for z in 0..<planes { lines(1, count: columns, element: p0, line: 1, base: z * p0 * p1) }
        }

        /// Along z, the columns with x < `columns` and y < `rows`.
        func z(columns: Int, rows: Int) {
            let (p0, p1, p2) = (fft.dims[0], fft.dims[1], fft.dims[2])
            guard p2 > 1 else { return }
            if columns == p0 {
                // Whole rows are contiguous: batch across them.
                lines(2, count: rows * p0, element: p0 * p1, line: 1, base: 0)
            } else {
                for y in 0..<rows { lines(2, count: columns, element: p0 * p1, line: 1, base: y * p0) }
            }
        }

        /// Transforms along `axis` the `count` lines starting at `base + l * line` (element t at
        /// `+ t * element`), in batches that fit the buffers.
        private func lines(_ axis: Int, count: Int, element: Int, line: Int, base: Int) {
            let lanes = max(1, min(count, FFT3.batchDoubles / fft.dims[axis]))
            var l = 0
            while l < count {
                let w = min(lanes, count - l)
                buffers.run(fft.plans[axis], re, im, lanes: w, element: element, line: line, base: base + l * line)
                l += w
            }
        }
    }
}

/// Scratch for batched transforms: two split-complex buffers.
fileprivate struct BatchBuffers {
    let ar, ai, br, bi: UnsafeMutablePointer<Double>

    init(capacity: Int) {
        ar = .allocate(capacity: capacity); ai = .allocate(capacity: capacity)
        br = .allocate(capacity: capacity); bi = .allocate(capacity: capacity)
    }

    func release() { ar.deallocate(); ai.deallocate(); br.deallocate(); bi.deallocate() }

    /// Transforms `lanes` lines of the data: element t of line l at `base + t * element + l * line`.
    func run(_ plan: FFTPlan, _ re: UnsafeMutablePointer<Double>, _ im: UnsafeMutablePointer<Double>,
             lanes: Int, element: Int, line: Int, base: Int) {
        let len = plan.length
        for t in 0..<len {
            let fromR = re + base + t * element, fromI = im + base + t * element
            let toR = ar + t * lanes, toI = ai + t * lanes
            for l in 0..<lanes { toR[l] = fromR[l * line]; toI[l] = fromI[l * line] }
        }
        let inB = plan.run(ar, ai, br, bi, lanes: lanes)
        let (sr, si) = inB ? (br, bi) : (ar, ai)
        for t in 0..<len {
            let toR = re + base + t * element, toI = im + base + t * element
            let fromR = sr + t * lanes, fromI = si + t * lanes
            for l in 0..<lanes { toR[l * line] = fromR[l]; toI[l * line] = fromI[l] }
        }
    }
}

/// A mixed-radix (4, 2, 3, 5) Stockham FFT (decimation in frequency, natural order, forward,
/// unnormalised) over interleaved lanes.
///
/// Stage with radix p, sub-length n = p m and stride s: for j < m and q < s,
/// y[q + s (p j + r)] = ω_n^(j r) Σ_t x[q + s (j + t m)] ω_p^(t r), ω_n = e^(-2πi/n).
struct FFTPlan {
    let length: Int
    let radices: [Int]
    /// Twiddles ω_n^(j r) of each stage, at `offsets[stage] + j p + r`.
    let twiddleRe: [Double]
    let twiddleIm: [Double]
    let offsets: [Int]

    init(length: Int) {
        self.length = length
        var f = [Int](), r = length
        for p in [4, 2, 3, 5] { while r % p == 0 { f.append(p); r /= p } }
        precondition(r == 1, "FFT length \(length) must have only the factors 2, 3 and 5")
        radices = f
        var tr = [Double](), ti = [Double](), off = [Int]()
        var n = length
        for p in f {
            let m = n / p
            off.append(tr.count)
            for j in 0..<m {
                for q in 0..<p {
                    let angle = 2 * Double.pi * Double(j * q) / Double(n)
                    tr.append(cos(angle))
                    ti.append(-sin(angle))
                }
            }
            n = m
        }
        twiddleRe = tr
        twiddleIm = ti
        offsets = off
    }

    /// Transforms the `lanes` interleaved sequences in (ar, ai), with (br, bi) as scratch of the same
    /// size; returns true when the result ends in (br, bi).
    func run(_ ar: UnsafeMutablePointer<Double>, _ ai: UnsafeMutablePointer<Double>,
             _ br: UnsafeMutablePointer<Double>, _ bi: UnsafeMutablePointer<Double>, lanes w: Int) -> Bool {
        var n = length, s = 1
        var inB = false
        twiddleRe.withUnsafeBufferPointer { twr in
        twiddleIm.withUnsafeBufferPointer { twi in
            for (stage, p) in radices.enumerated() {
                let m = n / p
                let (xr, xi) = inB ? (br, bi) : (ar, ai)
                let (yr, yi) = inB ? (ar, ai) : (br, bi)
                let span = s * m * w, ys = s * w
                for j in 0..<m {
                    let tw = offsets[stage] + j * p
                    let wr = twr.baseAddress! + tw, wi = twi.baseAddress! + tw
                    for q in 0..<s {
                        let x = (q + s * j) * w, y = (q + s * p * j) * w
                        let io = Lanes(xr + x, xi + x, span), oo = Lanes(yr + y, yi + y, ys)
                        switch p {
                        case 4: Self.radix4(io, oo, wr, wi, w)
                        case 2: Self.radix2(io, oo, wr, wi, w)
                        case 3: Self.radix3(io, oo, wr, wi, w)
                        default: Self.radix5(io, oo, wr, wi, w)
                        }
                    }
                }
                inB.toggle()
                n = m
                s *= p
            }
        }
        }
        return inB
    }

    /// Element t of a butterfly: `t * step` lanes after (re, im).
    struct Lanes {
        let re: UnsafeMutablePointer<Double>
        let im: UnsafeMutablePointer<Double>
        let step: Int

        init(_ re: UnsafeMutablePointer<Double>, _ im: UnsafeMutablePointer<Double>, _ step: Int) {
            self.re = re; self.im = im; self.step = step
        }

        @inline(__always) func real(_ t: Int) -> UnsafeMutablePointer<Double> { re + t * step }
        @inline(__always) func imag(_ t: Int) -> UnsafeMutablePointer<Double> { im + t * step }
    }

    @inline(__always)
    private static func radix2(_ x: Lanes, _ y: Lanes, _ wr: UnsafePointer<Double>, _ wi: UnsafePointer<Double>, _ w: Int) {
        let (x0r, x0i, x1r, x1i) = (x.real(0), x.imag(0), x.real(1), x.imag(1))
        let (y0r, y0i, y1r, y1i) = (y.real(0), y.imag(0), y.real(1), y.imag(1))
        let w1r = wr[1], w1i = wi[1]
        for l in 0..<w {
            let ar = x0r[l], ai = x0i[l], br = x1r[l], bi = x1i[l]
            y0r[l] = ar + br; y0i[l] = ai + bi
            let ur = ar - br, ui = ai - bi
            y1r[l] = ur * w1r - ui * w1i; y1i[l] = ur * w1i + ui * w1r
        }
    }

    @inline(__always)
    private static func radix3(_ x: Lanes, _ y: Lanes, _ wr: UnsafePointer<Double>, _ wi: UnsafePointer<Double>, _ w: Int) {
        let c3 = 0.5 * 3.0.squareRoot()
        let (x0r, x0i, x1r, x1i, x2r, x2i) = (x.real(0), x.imag(0), x.real(1), x.imag(1), x.real(2), x.imag(2))
        let (y0r, y0i, y1r, y1i, y2r, y2i) = (y.real(0), y.imag(0), y.real(1), y.imag(1), y.real(2), y.imag(2))
        let w1r = wr[1], w1i = wi[1], w2r = wr[2], w2i = wi[2]
        for l in 0..<w {
            let a0r = x0r[l], a0i = x0i[l], a1r = x1r[l], a1i = x1i[l], a2r = x2r[l], a2i = x2i[l]
            let t1r = a1r + a2r, t1i = a1i + a2i
            let t2r = a0r - 0.5 * t1r, t2i = a0i - 0.5 * t1i
            // -i (√3/2) (x1 - x2)
            let t3r = c3 * (a1i - a2i), t3i = -c3 * (a1r - a2r)
            y0r[l] = a0r + t1r; y0i[l] = a0i + t1i
            let u1r = t2r + t3r, u1i = t2i + t3i, u2r = t2r - t3r, u2i = t2i - t3i
            y1r[l] = u1r * w1r - u1i * w1i; y1i[l] = u1r * w1i + u1i * w1r
            y2r[l] = u2r * w2r - u2i * w2i; y2i[l] = u2r * w2i + u2i * w2r
        }
    }

    @inline(__always)
    private static func radix4(_ x: Lanes, _ y: Lanes, _ wr: UnsafePointer<Double>, _ wi: UnsafePointer<Double>, _ w: Int) {
        let (x0r, x0i, x1r, x1i) = (x.real(0), x.imag(0), x.real(1), x.imag(1))
        let (x2r, x2i, x3r, x3i) = (x.real(2), x.imag(2), x.real(3), x.imag(3))
        let (y0r, y0i, y1r, y1i) = (y.real(0), y.imag(0), y.real(1), y.imag(1))
        let (y2r, y2i, y3r, y3i) = (y.real(2), y.imag(2), y.real(3), y.imag(3))
        let w1r = wr[1], w1i = wi[1], w2r = wr[2], w2i = wi[2], w3r = wr[3], w3i = wi[3]
        for l in 0..<w {
            let a0r = x0r[l], a0i = x0i[l], a1r = x1r[l], a1i = x1i[l]
            let a2r = x2r[l], a2i = x2i[l], a3r = x3r[l], a3i = x3i[l]
            let e0r = a0r + a2r, e0i = a0i + a2i, e1r = a0r - a2r, e1i = a0i - a2i
            let o0r = a1r + a3r, o0i = a1i + a3i
            // o1 = -i (x1 - x3)
            let o1r = a1i - a3i, o1i = a3r - a1r
            y0r[l] = e0r + o0r; y0i[l] = e0i + o0i
            let u1r = e1r + o1r, u1i = e1i + o1i
            y1r[l] = u1r * w1r - u1i * w1i; y1i[l] = u1r * w1i + u1i * w1r
            let u2r = e0r - o0r, u2i = e0i - o0i
            y2r[l] = u2r * w2r - u2i * w2i; y2i[l] = u2r * w2i + u2i * w2r
            let u3r = e1r - o1r, u3i = e1i - o1i
            y3r[l] = u3r * w3r - u3i * w3i; y3i[l] = u3r * w3i + u3i * w3r
        }
    }

    @inline(__always)
    private static func radix5(_ x: Lanes, _ y: Lanes, _ wr: UnsafePointer<Double>, _ wi: UnsafePointer<Double>, _ w: Int) {
        let c51 = cos(2 * Double.pi / 5), c52 = cos(4 * Double.pi / 5)
        let s51 = -sin(2 * Double.pi / 5), s52 = -sin(4 * Double.pi / 5)
        let (x0r, x0i, x1r, x1i, x2r, x2i) = (x.real(0), x.imag(0), x.real(1), x.imag(1), x.real(2), x.imag(2))
        let (x3r, x3i, x4r, x4i) = (x.real(3), x.imag(3), x.real(4), x.imag(4))
        let (y0r, y0i, y1r, y1i, y2r, y2i) = (y.real(0), y.imag(0), y.real(1), y.imag(1), y.real(2), y.imag(2))
        let (y3r, y3i, y4r, y4i) = (y.real(3), y.imag(3), y.real(4), y.imag(4))
        let w1r = wr[1], w1i = wi[1], w2r = wr[2], w2i = wi[2], w3r = wr[3], w3i = wi[3], w4r = wr[4], w4i = wi[4]
        for l in 0..<w {
            let a0r = x0r[l], a0i = x0i[l]
            let a1r = x1r[l] + x4r[l], a1i = x1i[l] + x4i[l], b1r = x1r[l] - x4r[l], b1i = x1i[l] - x4i[l]
            let a2r = x2r[l] + x3r[l], a2i = x2i[l] + x3i[l], b2r = x2r[l] - x3r[l], b2i = x2i[l] - x3i[l]
            let p1r = a0r + c51 * a1r + c52 * a2r, p1i = a0i + c51 * a1i + c52 * a2i
            let p2r = a0r + c52 * a1r + c51 * a2r, p2i = a0i + c52 * a1i + c51 * a2i
            // i (s1 b1 + s2 b2) and i (s2 b1 - s1 b2), s = -sin
            let q1r = -(s51 * b1i + s52 * b2i), q1i = s51 * b1r + s52 * b2r
            let q2r = -(s52 * b1i - s51 * b2i), q2i = s52 * b1r - s51 * b2r
            y0r[l] = a0r + a1r + a2r; y0i[l] = a0i + a1i + a2i
            let u1r = p1r + q1r, u1i = p1i + q1i, u2r = p2r + q2r, u2i = p2i + q2i
            let u3r = p2r - q2r, u3i = p2i - q2i, u4r = p1r - q1r, u4i = p1i - q1i
            y1r[l] = u1r * w1r - u1i * w1i; y1i[l] = u1r * w1i + u1i * w1r
            y2r[l] = u2r * w2r - u2i * w2i; y2i[l] = u2r * w2i + u2i * w2r
            y3r[l] = u3r * w3r - u3i * w3i; y3i[l] = u3r * w3i + u3i * w3r
            y4r[l] = u4r * w4r - u4i * w4i; y4i[l] = u4r * w4i + u4i * w4r
        }
    }
}
