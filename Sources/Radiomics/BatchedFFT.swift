import Foundation

/// The number type of the transforms behind Moran's I and Geary's C: single precision, for twice the
/// lanes per instruction and half the memory of double. Every sum over frequencies is accumulated in
/// double, so the two features move by about 1e-7 relative against double-precision transforms
/// (6e-8 on the CT phantom and STS_001 GTVs); the tests hold them to 1e-6 of the sums over every pair.
typealias FFTSample = Float

/// Forward 3D discrete Fourier transform (unnormalised, e^(-2πi k·x/P)) of split-complex data, x fastest,
/// for lengths with prime factors 2, 3 and 5.
///
/// Each axis is transformed in batches of lines that every butterfly runs over as contiguous lanes
/// (element t of line l at t·stride + l). Lines whose lanes are already contiguous (along y and z) are
/// transformed where they are; lines along x are transposed into a buffer and back.
struct FFT3 {
    let dims: [Int]
    let plans: [FFTPlan]

    init(dims: [Int]) {
        self.dims = dims
        plans = dims.map { FFTPlan.shared(length: $0) }
    }

    /// Samples per batch buffer: enough lanes to amortise the loops, small enough for the cache.
    static let batchSamples = 16_384

    /// Transforms in place. The data must vanish outside `support[a]` elements of each axis: lines
    /// that are still zero when their axis is transformed are skipped. With `realInput` (the imaginary
    /// parts are zero) only the frequencies kx ≤ P0/2 are computed; the others are the conjugates
    /// Z(P0 - kx, -ky, -kz) and are left undefined.
    func forward(re: inout [FFTSample], im: inout [FFTSample], support: [Int], realInput: Bool = false) {
        let columns = realInput ? dims[0] / 2 + 1 : dims[0]
        passes(&re, &im) { pass in
            pass.x(rows: support[1], planes: support[2])
            pass.y(columns: columns, planes: support[2])
            pass.z(columns: columns, rows: dims[1])
        }
    }

    /// Runs `body` with the one-axis transforms of (re, im) at hand.
    func passes(_ re: inout [FFTSample], _ im: inout [FFTSample], _ body: (Passes) -> Void) {
        re.withUnsafeMutableBufferPointer { re in
            im.withUnsafeMutableBufferPointer { im in
                passes(re: re.baseAddress!, im: im.baseAddress!, body)
            }
        }
    }

    /// Runs `body` with the one-axis transforms of the grid at (re, im) at hand (the scratch is made once
    /// for all the transforms `body` runs).
    func passes(re: UnsafeMutablePointer<FFTSample>, im: UnsafeMutablePointer<FFTSample>, _ body: (Passes) -> Void) {
        // A batch never holds more than the grid (small grids, small scratch).
        let buffers = BatchBuffers(capacity: min(Self.batchSamples, dims.reduce(1, *)) + 4 * dims.max()!)
        defer { buffers.release() }
        body(Passes(fft: self, re: re, im: im, buffers: buffers))
    }

    /// One-axis transforms of the first lines, columns or planes of a grid.
    struct Passes {
        let fft: FFT3
        let re: UnsafeMutablePointer<FFTSample>
        let im: UnsafeMutablePointer<FFTSample>
        let buffers: BatchBuffers

        /// Along x, the lines with y < `rows` and z < `planes`; only their first `nonzero` elements are
        /// read (the others are taken as zero).
        func x(rows: Int, planes: Int, nonzero: Int? = nil) {
            let (p0, p1) = (fft.dims[0], fft.dims[1])
            guard p0 > 1 else { return }
            for z in 0..<planes {
                lines(0, count: rows, element: 1, line: p0, base: z * p1 * p0, nonzero: nonzero ?? p0)
            }
        }

        /// Along y, the columns x < `columns` of the planes z < `planes`; only their first `nonzero`
        /// elements are read (the others are taken as zero).
        func y(columns: Int, planes: Int, nonzero: Int? = nil) {
            let (p0, p1) = (fft.dims[0], fft.dims[1])
            guard p1 > 1 else { return }
            for z in 0..<planes {
                lines(1, count: columns, element: p0, line: 1, base: z * p0 * p1, nonzero: nonzero ?? p1)
            }
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
        private func lines(_ axis: Int, count: Int, element: Int, line: Int, base: Int, nonzero: Int? = nil) {
            // Whole vectors of lanes where the buffer allows.
            let fit = FFT3.batchSamples / fft.dims[axis]
            let lanes = max(1, min(count, fit >= 8 ? fit - fit % 8 : fit))
            var l = 0
            while l < count {
                let w = min(lanes, count - l)
                buffers.run(fft.plans[axis], re, im, lanes: w, element: element, line: line, base: base + l * line,
                            nonzero: nonzero ?? fft.dims[axis])
                l += w
            }
        }
    }
}

/// Split-complex lanes: element t of lane l at (re, im) + t * stride + l.
struct LaneArray {
    let re: UnsafeMutablePointer<FFTSample>
    let im: UnsafeMutablePointer<FFTSample>
    let stride: Int

    init(_ re: UnsafeMutablePointer<FFTSample>, _ im: UnsafeMutablePointer<FFTSample>, stride: Int) {
        self.re = re; self.im = im; self.stride = stride
    }
}

/// Scratch for batched transforms: two split-complex buffers, and zeros for the lanes of elements that
/// are known to vanish.
struct BatchBuffers {
    let ar, ai, br, bi: UnsafeMutablePointer<FFTSample>
    let zeros: UnsafeMutablePointer<FFTSample>

    init(capacity: Int) {
        ar = .allocate(capacity: capacity); ai = .allocate(capacity: capacity)
        br = .allocate(capacity: capacity); bi = .allocate(capacity: capacity)
        zeros = .allocate(capacity: capacity)
        zeros.initialize(repeating: 0, count: capacity)
    }

    func release() { ar.deallocate(); ai.deallocate(); br.deallocate(); bi.deallocate(); zeros.deallocate() }

    /// Transforms `lanes` lines of the data in place: element t of line l at `base + t * element + l * line`,
    /// read for t < `nonzero` only (zero beyond). Contiguous lines (`line` 1) are read and written where
    /// they are; others are gathered into the scratch and scattered back.
    func run(_ plan: FFTPlan, _ re: UnsafeMutablePointer<FFTSample>, _ im: UnsafeMutablePointer<FFTSample>,
             lanes: Int, element: Int, line: Int, base: Int, nonzero: Int) {
        if line == 1 {
            let data = LaneArray(re + base, im + base, stride: element)
            _ = plan.run(data, nonzero: nonzero, into: data, scratch: self, lanes: lanes)
            return
        }
        precondition(element == 1, "lines gathered across lanes must be contiguous")
        let count = min(nonzero, plan.length)
        // Element t of line l: gathered to t * lanes + l, and back.
        Transpose.run(from: re + base, rowStride: line, to: ar, columnStride: lanes, rows: lanes, columns: count)
        Transpose.run(from: im + base, rowStride: line, to: ai, columnStride: lanes, rows: lanes, columns: count)
        let result = plan.run(LaneArray(ar, ai, stride: lanes), nonzero: nonzero, into: nil, scratch: self, lanes: lanes)
        Transpose.run(from: result.re, rowStride: lanes, to: re + base, columnStride: line, rows: plan.length, columns: lanes)
        Transpose.run(from: result.im, rowStride: lanes, to: im + base, columnStride: line, rows: plan.length, columns: lanes)
    }
}

/// Matrix transposition in tiles of 8 x 8.
enum Transpose {
    /// Writes element (r, c) of the `rows` x `columns` matrix at `from` + r * rowStride + c to
    /// `to` + c * columnStride + r.
    static func run(from: UnsafeMutablePointer<FFTSample>, rowStride: Int, to: UnsafeMutablePointer<FFTSample>,
                    columnStride: Int, rows: Int, columns: Int) {
        let fullRows = rows - rows % 8, fullColumns = columns - columns % 8
        var r = 0
        while r < fullRows {
            var c = 0
            while c < fullColumns {
                tile(from + r * rowStride + c, rowStride, to + c * columnStride + r, columnStride)
                c += 8
            }
            for r1 in r..<(r + 8) {
                for c1 in fullColumns..<columns { to[c1 * columnStride + r1] = from[r1 * rowStride + c1] }
            }
            r += 8
        }
        for r1 in fullRows..<rows {
            for c1 in 0..<columns { to[c1 * columnStride + r1] = from[r1 * rowStride + c1] }
        }
    }

    @inline(__always)
    private static func tile(_ from: UnsafeMutablePointer<FFTSample>, _ rowStride: Int,
                             _ to: UnsafeMutablePointer<FFTSample>, _ columnStride: Int) {
        let v0 = SIMD8<FFTSample>.load(from), v1 = SIMD8<FFTSample>.load(from + rowStride)
        let v2 = SIMD8<FFTSample>.load(from + 2 * rowStride), v3 = SIMD8<FFTSample>.load(from + 3 * rowStride)
        let v4 = SIMD8<FFTSample>.load(from + 4 * rowStride), v5 = SIMD8<FFTSample>.load(from + 5 * rowStride)
        let v6 = SIMD8<FFTSample>.load(from + 6 * rowStride), v7 = SIMD8<FFTSample>.load(from + 7 * rowStride)
        for c in 0..<8 {
            SIMD8(v0[c], v1[c], v2[c], v3[c], v4[c], v5[c], v6[c], v7[c]).store(to + c * columnStride)
        }
    }
}

/// A mixed-radix (8, 4, 2, 3, 5) Stockham FFT (decimation in frequency, natural order, forward,
/// unnormalised) over interleaved lanes.
///
/// Stage with radix p, sub-length n = p m and stride s: for j < m and q < s,
/// y[q + s (p j + r)] = ω_n^(j r) Σ_t x[q + s (j + t m)] ω_p^(t r), ω_n = e^(-2πi/n).
struct FFTPlan {
    let length: Int
    let radices: [Int]
    /// Twiddles ω_n^(j r) of each stage, at `offsets[stage] + j p + r`.
    let twiddleRe: [FFTSample]
    let twiddleIm: [FFTSample]
    let offsets: [Int]

    init(length: Int) {
        self.length = length
        var f = [Int](), r = length
        // Radix 8 first: fewer stages, so fewer passes over the lanes.
        for p in [8, 4, 2, 3, 5] { while r % p == 0 { f.append(p); r /= p } }
        precondition(r == 1, "FFT length \(length) must have only the factors 2, 3 and 5")
        radices = f
        var tr = [FFTSample](), ti = [FFTSample](), off = [Int]()
        var n = length
        for p in f {
            let m = n / p
            off.append(tr.count)
            for j in 0..<m {
                for q in 0..<p {
                    let angle = 2 * Double.pi * Double(j * q) / Double(n)
                    tr.append(FFTSample(cos(angle)))
                    ti.append(FFTSample(-sin(angle)))
                }
            }
            n = m
        }
        twiddleRe = tr
        twiddleIm = ti
        offsets = off
    }

    /// The plan of `length`, made once per process: a plan is a table of twiddles that depends on the
    /// length only, and the regions of a cohort share a few lengths.
    static func shared(length: Int) -> FFTPlan {
        PlanCache.shared.plan(length)
    }

    /// Transforms `lanes` sequences: reads `input` for the elements t < `nonzero` only (the others are
    /// taken as zero), writes the spectra to `output` (which may be `input`) or, when it is nil, to the
    /// scratch, and returns where they are. The scratch must hold `length` x `lanes` samples.
    func run(_ input: LaneArray, nonzero: Int, into output: LaneArray?, scratch: BatchBuffers, lanes w: Int) -> LaneArray {
        let a = LaneArray(scratch.ar, scratch.ai, stride: w), b = LaneArray(scratch.br, scratch.bi, stride: w)
        guard !radices.isEmpty else {
            let to = output ?? b
            if nonzero > 0 {
                to.re.update(from: input.re, count: w); to.im.update(from: input.im, count: w)
            } else {
                to.re.update(repeating: 0, count: w); to.im.update(repeating: 0, count: w)
            }
            return to
        }
        var n = length, s = 1
        var source = input
        twiddleRe.withUnsafeBufferPointer { twr in
        twiddleIm.withUnsafeBufferPointer { twi in
            for (stage, p) in radices.enumerated() {
                let m = n / p
                let target = stage == radices.count - 1 ? (output ?? b) : (stage % 2 == 0 ? b : a)
                let (xs, ys) = (source.stride, target.stride)
                for j in 0..<m {
                    let tw = offsets[stage] + j * p
                    let wr = twr.baseAddress! + tw, wi = twi.baseAddress! + tw
                    if stage == 0 && j + (p - 1) * m >= nonzero {
                        // First stage, some inputs known to be zero (s = 1).
                        var x = GatheredLanes(zeros: scratch.zeros)
                        for t in 0..<p where j + t * m < nonzero {
                            let e = j + t * m
                            x.set(t, source.re + e * xs, source.im + e * xs)
                        }
                        Self.butterfly(p, x, Lanes(target.re + p * j * ys, target.im + p * j * ys, ys), wr, wi, w,
                                       upperHalfZero: p % 2 == 0 && j + p / 2 * m >= nonzero)
                        continue
                    }
                    for q in 0..<s {
                        let x = (q + s * j) * xs, y = (q + s * p * j) * ys
                        Self.butterfly(p, Lanes(source.re + x, source.im + x, s * m * xs),
                                       Lanes(target.re + y, target.im + y, s * ys), wr, wi, w)
                    }
                }
                source = target
                n = m
                s *= p
            }
        }
        }
        return source
    }

    /// With `upperHalfZero` the inputs t ≥ p/2 (p even) are zero and not read.
    @inline(__always)
    private static func butterfly<X: ButterflyInput>(_ p: Int, _ x: X, _ y: Lanes, _ wr: UnsafePointer<FFTSample>,
                                                     _ wi: UnsafePointer<FFTSample>, _ w: Int, upperHalfZero: Bool = false) {
        switch (p, upperHalfZero) {
        case (8, false): radix8(x, y, wr, wi, w, upperHalfZero: false)
        case (8, true): radix8(x, y, wr, wi, w, upperHalfZero: true)
        case (4, false): radix4(x, y, wr, wi, w)
        case (4, true): radix4LowerHalf(x, y, wr, wi, w)
        case (2, false): radix2(x, y, wr, wi, w)
        case (2, true): radix2LowerHalf(x, y, wr, wi, w)
        case (3, _): radix3(x, y, wr, wi, w)
        default: radix5(x, y, wr, wi, w)
        }
    }

    /// Element t of a butterfly: `t * step` lanes after (re, im).
    struct Lanes: ButterflyInput {
        let re: UnsafeMutablePointer<FFTSample>
        let im: UnsafeMutablePointer<FFTSample>
        let step: Int

        init(_ re: UnsafeMutablePointer<FFTSample>, _ im: UnsafeMutablePointer<FFTSample>, _ step: Int) {
            self.re = re; self.im = im; self.step = step
        }

        @inline(__always) func real(_ t: Int) -> UnsafeMutablePointer<FFTSample> { re + t * step }
        @inline(__always) func imag(_ t: Int) -> UnsafeMutablePointer<FFTSample> { im + t * step }
    }

    /// Elements of a butterfly anywhere (up to eight): some may point at zeros.
    struct GatheredLanes: ButterflyInput {
        typealias Pointer = UnsafeMutablePointer<FFTSample>
        typealias Eight = (Pointer, Pointer, Pointer, Pointer, Pointer, Pointer, Pointer, Pointer)
        private var re: Eight, im: Eight

        /// Every element at `zeros`.
        init(zeros z: Pointer) {
            re = (z, z, z, z, z, z, z, z); im = re
        }

        mutating func set(_ t: Int, _ r: Pointer, _ i: Pointer) {
            switch t {
            case 0: re.0 = r; im.0 = i
            case 1: re.1 = r; im.1 = i
            case 2: re.2 = r; im.2 = i
            case 3: re.3 = r; im.3 = i
            case 4: re.4 = r; im.4 = i
            case 5: re.5 = r; im.5 = i
            case 6: re.6 = r; im.6 = i
            default: re.7 = r; im.7 = i
            }
        }

        @inline(__always) func real(_ t: Int) -> Pointer { Self.element(re, t) }
        @inline(__always) func imag(_ t: Int) -> Pointer { Self.element(im, t) }

        @inline(__always) private static func element(_ p: Eight, _ t: Int) -> Pointer {
            switch t { case 0: p.0; case 1: p.1; case 2: p.2; case 3: p.3; case 4: p.4; case 5: p.5; case 6: p.6; default: p.7 }
        }
    }

    /// Runs `butterfly` over lanes 0 ..< w: eight at a time, then one at a time.
    @inline(__always)
    private static func overLanes(_ w: Int, _ butterfly: (Int, SIMD8<Float>.Type) -> Void, _ tail: (Int, Float.Type) -> Void) {
        var l = 0
        while l + 8 <= w { butterfly(l, SIMD8<Float>.self); l += 8 }
        while l < w { tail(l, Float.self); l += 1 }
    }

    @inline(__always)
    private static func radix2<X: ButterflyInput>(_ x: X, _ y: Lanes, _ wr: UnsafePointer<FFTSample>, _ wi: UnsafePointer<FFTSample>, _ w: Int) {
        let w1r = wr[1], w1i = wi[1]
        @inline(__always) func step<V: FFTLanes>(_ l: Int, _: V.Type) {
            let ar = V.load(x.real(0) + l), ai = V.load(x.imag(0) + l)
            let br = V.load(x.real(1) + l), bi = V.load(x.imag(1) + l)
            (ar + br).store(y.real(0) + l); (ai + bi).store(y.imag(0) + l)
            let ur = ar - br, ui = ai - bi
            (ur * w1r - ui * w1i).store(y.real(1) + l); (ur * w1i + ui * w1r).store(y.imag(1) + l)
        }
        overLanes(w, step, step)
    }

    /// Radix 2 with x1 = 0.
    @inline(__always)
    private static func radix2LowerHalf<X: ButterflyInput>(_ x: X, _ y: Lanes, _ wr: UnsafePointer<FFTSample>, _ wi: UnsafePointer<FFTSample>, _ w: Int) {
        let w1r = wr[1], w1i = wi[1]
        @inline(__always) func step<V: FFTLanes>(_ l: Int, _: V.Type) {
            let ar = V.load(x.real(0) + l), ai = V.load(x.imag(0) + l)
            ar.store(y.real(0) + l); ai.store(y.imag(0) + l)
            (ar * w1r - ai * w1i).store(y.real(1) + l); (ar * w1i + ai * w1r).store(y.imag(1) + l)
        }
        overLanes(w, step, step)
    }

    @inline(__always)
    private static func radix3<X: ButterflyInput>(_ x: X, _ y: Lanes, _ wr: UnsafePointer<FFTSample>, _ wi: UnsafePointer<FFTSample>, _ w: Int) {
        let c3 = FFTSample(0.5 * 3.0.squareRoot())
        let w1r = wr[1], w1i = wi[1], w2r = wr[2], w2i = wi[2]
        @inline(__always) func step<V: FFTLanes>(_ l: Int, _: V.Type) {
            let a0r = V.load(x.real(0) + l), a0i = V.load(x.imag(0) + l)
            let a1r = V.load(x.real(1) + l), a1i = V.load(x.imag(1) + l)
            let a2r = V.load(x.real(2) + l), a2i = V.load(x.imag(2) + l)
            let t1r = a1r + a2r, t1i = a1i + a2i
            let t2r = a0r - t1r * 0.5, t2i = a0i - t1i * 0.5
            // -i (√3/2) (x1 - x2)
            let t3r = (a1i - a2i) * c3, t3i = (a2r - a1r) * c3
            (a0r + t1r).store(y.real(0) + l); (a0i + t1i).store(y.imag(0) + l)
            let u1r = t2r + t3r, u1i = t2i + t3i, u2r = t2r - t3r, u2i = t2i - t3i
            (u1r * w1r - u1i * w1i).store(y.real(1) + l); (u1r * w1i + u1i * w1r).store(y.imag(1) + l)
            (u2r * w2r - u2i * w2i).store(y.real(2) + l); (u2r * w2i + u2i * w2r).store(y.imag(2) + l)
        }
        overLanes(w, step, step)
    }

    @inline(__always)
    private static func radix4<X: ButterflyInput>(_ x: X, _ y: Lanes, _ wr: UnsafePointer<FFTSample>, _ wi: UnsafePointer<FFTSample>, _ w: Int) {
        let w1r = wr[1], w1i = wi[1], w2r = wr[2], w2i = wi[2], w3r = wr[3], w3i = wi[3]
        @inline(__always) func step<V: FFTLanes>(_ l: Int, _: V.Type) {
            let a0r = V.load(x.real(0) + l), a0i = V.load(x.imag(0) + l)
            let a1r = V.load(x.real(1) + l), a1i = V.load(x.imag(1) + l)
            let a2r = V.load(x.real(2) + l), a2i = V.load(x.imag(2) + l)
            let a3r = V.load(x.real(3) + l), a3i = V.load(x.imag(3) + l)
            let e0r = a0r + a2r, e0i = a0i + a2i, e1r = a0r - a2r, e1i = a0i - a2i
            let o0r = a1r + a3r, o0i = a1i + a3i
            // o1 = -i (x1 - x3)
            let o1r = a1i - a3i, o1i = a3r - a1r
            (e0r + o0r).store(y.real(0) + l); (e0i + o0i).store(y.imag(0) + l)
            let u1r = e1r + o1r, u1i = e1i + o1i
            (u1r * w1r - u1i * w1i).store(y.real(1) + l); (u1r * w1i + u1i * w1r).store(y.imag(1) + l)
            let u2r = e0r - o0r, u2i = e0i - o0i
            (u2r * w2r - u2i * w2i).store(y.real(2) + l); (u2r * w2i + u2i * w2r).store(y.imag(2) + l)
            let u3r = e1r - o1r, u3i = e1i - o1i
            (u3r * w3r - u3i * w3i).store(y.real(3) + l); (u3r * w3i + u3i * w3r).store(y.imag(3) + l)
        }
        overLanes(w, step, step)
    }

    /// Radix 4 with x2 = x3 = 0.
    @inline(__always)
    private static func radix4LowerHalf<X: ButterflyInput>(_ x: X, _ y: Lanes, _ wr: UnsafePointer<FFTSample>, _ wi: UnsafePointer<FFTSample>, _ w: Int) {
        let w1r = wr[1], w1i = wi[1], w2r = wr[2], w2i = wi[2], w3r = wr[3], w3i = wi[3]
        @inline(__always) func step<V: FFTLanes>(_ l: Int, _: V.Type) {
            let a0r = V.load(x.real(0) + l), a0i = V.load(x.imag(0) + l)
            let a1r = V.load(x.real(1) + l), a1i = V.load(x.imag(1) + l)
            (a0r + a1r).store(y.real(0) + l); (a0i + a1i).store(y.imag(0) + l)
            // x0 - i x1, x0 - x1, x0 + i x1
            let u1r = a0r + a1i, u1i = a0i - a1r
            (u1r * w1r - u1i * w1i).store(y.real(1) + l); (u1r * w1i + u1i * w1r).store(y.imag(1) + l)
            let u2r = a0r - a1r, u2i = a0i - a1i
            (u2r * w2r - u2i * w2i).store(y.real(2) + l); (u2r * w2i + u2i * w2r).store(y.imag(2) + l)
            let u3r = a0r - a1i, u3i = a0i + a1r
            (u3r * w3r - u3i * w3i).store(y.real(3) + l); (u3r * w3i + u3i * w3r).store(y.imag(3) + l)
        }
        overLanes(w, step, step)
    }

    /// Radix 8 as radix 2 then radix 4: y(2r) = DFT4(x(t) + x(t+4)), y(2r+1) = DFT4((x(t) - x(t+4)) ω8^t).
    @inline(__always)
    private static func radix8<X: ButterflyInput>(_ x: X, _ y: Lanes, _ wr: UnsafePointer<FFTSample>, _ wi: UnsafePointer<FFTSample>,
                                                  _ w: Int, upperHalfZero: Bool) {
        let h = FFTSample(0.5.squareRoot())
        @inline(__always) func step<V: FFTLanes>(_ l: Int, _: V.Type, _ upperHalfZero: Bool) {
            @inline(__always) func load(_ t: Int) -> (V, V) { (V.load(x.real(t) + l), V.load(x.imag(t) + l)) }
            /// Stores z ω_n^(j r) as output r.
            @inline(__always) func store(_ r: Int, _ z: (V, V)) {
                if r == 0 { z.0.store(y.real(0) + l); z.1.store(y.imag(0) + l); return }
                (z.0 * wr[r] - z.1 * wi[r]).store(y.real(r) + l); (z.0 * wi[r] + z.1 * wr[r]).store(y.imag(r) + l)
            }
            /// The 4-point DFT of d, stored as outputs `first`, `first` + 2, + 4, + 6.
            @inline(__always) func dft4(_ d0: (V, V), _ d1: (V, V), _ d2: (V, V), _ d3: (V, V), first: Int) {
                let e0 = (d0.0 + d2.0, d0.1 + d2.1), e1 = (d0.0 - d2.0, d0.1 - d2.1)
                let o0 = (d1.0 + d3.0, d1.1 + d3.1)
                // o1 = -i (d1 - d3)
                let o1 = (d1.1 - d3.1, d3.0 - d1.0)
                store(first, (e0.0 + o0.0, e0.1 + o0.1)); store(first + 2, (e1.0 + o1.0, e1.1 + o1.1))
                store(first + 4, (e0.0 - o0.0, e0.1 - o0.1)); store(first + 6, (e1.0 - o1.0, e1.1 - o1.1))
            }
            let a0 = load(0), a1 = load(1), a2 = load(2), a3 = load(3)
            // b = x(t) + x(t+4) and c = x(t) - x(t+4): both x(t) when the upper half is zero.
            var b = (a0, a1, a2, a3), c = b
            if !upperHalfZero {
                let a4 = load(4), a5 = load(5), a6 = load(6), a7 = load(7)
                b = ((a0.0 + a4.0, a0.1 + a4.1), (a1.0 + a5.0, a1.1 + a5.1), (a2.0 + a6.0, a2.1 + a6.1), (a3.0 + a7.0, a3.1 + a7.1))
                c = ((a0.0 - a4.0, a0.1 - a4.1), (a1.0 - a5.0, a1.1 - a5.1), (a2.0 - a6.0, a2.1 - a6.1), (a3.0 - a7.0, a3.1 - a7.1))
            }
            dft4(b.0, b.1, b.2, b.3, first: 0)
            // c1 ω8 = c1 (1 - i)/√2, c2 ω8² = -i c2, c3 ω8³ = c3 (-1 - i)/√2
            dft4(c.0, ((c.1.0 + c.1.1) * h, (c.1.1 - c.1.0) * h), (c.2.1, -c.2.0),
                 ((c.3.1 - c.3.0) * h, -(c.3.0 + c.3.1) * h), first: 1)
        }
        if upperHalfZero {
            overLanes(w, { step($0, $1, true) }, { step($0, $1, true) })
        } else {
            overLanes(w, { step($0, $1, false) }, { step($0, $1, false) })
        }
    }

    @inline(__always)
    private static func radix5<X: ButterflyInput>(_ x: X, _ y: Lanes, _ wr: UnsafePointer<FFTSample>, _ wi: UnsafePointer<FFTSample>, _ w: Int) {
        let c51 = FFTSample(cos(2 * Double.pi / 5)), c52 = FFTSample(cos(4 * Double.pi / 5))
        let s51 = FFTSample(-sin(2 * Double.pi / 5)), s52 = FFTSample(-sin(4 * Double.pi / 5))
        let w1r = wr[1], w1i = wi[1], w2r = wr[2], w2i = wi[2], w3r = wr[3], w3i = wi[3], w4r = wr[4], w4i = wi[4]
        @inline(__always) func step<V: FFTLanes>(_ l: Int, _: V.Type) {
            let a0r = V.load(x.real(0) + l), a0i = V.load(x.imag(0) + l)
            let x1r = V.load(x.real(1) + l), x1i = V.load(x.imag(1) + l)
            let x2r = V.load(x.real(2) + l), x2i = V.load(x.imag(2) + l)
            let x3r = V.load(x.real(3) + l), x3i = V.load(x.imag(3) + l)
            let x4r = V.load(x.real(4) + l), x4i = V.load(x.imag(4) + l)
            let a1r = x1r + x4r, a1i = x1i + x4i, b1r = x1r - x4r, b1i = x1i - x4i
            let a2r = x2r + x3r, a2i = x2i + x3i, b2r = x2r - x3r, b2i = x2i - x3i
            let p1r = a0r + a1r * c51 + a2r * c52, p1i = a0i + a1i * c51 + a2i * c52
            let p2r = a0r + a1r * c52 + a2r * c51, p2i = a0i + a1i * c52 + a2i * c51
            // i (s1 b1 + s2 b2) and i (s2 b1 - s1 b2), s = -sin
            let q1r = -(b1i * s51 + b2i * s52), q1i = b1r * s51 + b2r * s52
            let q2r = -(b1i * s52 - b2i * s51), q2i = b1r * s52 - b2r * s51
            (a0r + a1r + a2r).store(y.real(0) + l); (a0i + a1i + a2i).store(y.imag(0) + l)
            let u1r = p1r + q1r, u1i = p1i + q1i, u2r = p2r + q2r, u2i = p2i + q2i
            let u3r = p2r - q2r, u3i = p2i - q2i, u4r = p1r - q1r, u4i = p1i - q1i
            (u1r * w1r - u1i * w1i).store(y.real(1) + l); (u1r * w1i + u1i * w1r).store(y.imag(1) + l)
            (u2r * w2r - u2i * w2i).store(y.real(2) + l); (u2r * w2i + u2i * w2r).store(y.imag(2) + l)
            (u3r * w3r - u3i * w3i).store(y.real(3) + l); (u3r * w3i + u3i * w3r).store(y.imag(3) + l)
            (u4r * w4r - u4i * w4i).store(y.real(4) + l); (u4r * w4i + u4i * w4r).store(y.imag(4) + l)
        }
        overLanes(w, step, step)
    }
}

/// Plans by length, shared by the threads of a process.
private final class PlanCache: @unchecked Sendable {
    static let shared = PlanCache()
    private let lock = NSLock()
    private var plans: [Int: FFTPlan] = [:]

    func plan(_ length: Int) -> FFTPlan {
        lock.lock()
        defer { lock.unlock() }
        if let plan = plans[length] { return plan }
        let plan = FFTPlan(length: length)
        plans[length] = plan
        return plan
    }
}

/// Where a butterfly finds its elements: element t at `real(t)` and `imag(t)`, lanes contiguous.
protocol ButterflyInput {
    func real(_ t: Int) -> UnsafeMutablePointer<FFTSample>
    func imag(_ t: Int) -> UnsafeMutablePointer<FFTSample>
}

/// Lanes a butterfly works on at once: one `Float`, or eight in a `SIMD8<Float>` (loaded and stored
/// unaligned).
protocol FFTLanes {
    static func + (a: Self, b: Self) -> Self
    static func - (a: Self, b: Self) -> Self
    static func * (a: Self, b: Self) -> Self
    static func * (a: Self, b: Float) -> Self
    static prefix func - (a: Self) -> Self
    static func load(_ p: UnsafeMutablePointer<FFTSample>) -> Self
    func store(_ p: UnsafeMutablePointer<FFTSample>)
}

extension Float: FFTLanes {
    @inline(__always) static func load(_ p: UnsafeMutablePointer<FFTSample>) -> Float { p.pointee }
    @inline(__always) func store(_ p: UnsafeMutablePointer<FFTSample>) { p.pointee = self }
}

extension SIMD8: FFTLanes where Scalar == Float {
    @inline(__always) static func load(_ p: UnsafeMutablePointer<FFTSample>) -> SIMD8<Float> {
        UnsafeRawPointer(p).loadUnaligned(as: SIMD8<Float>.self)
    }
    @inline(__always) func store(_ p: UnsafeMutablePointer<FFTSample>) {
        UnsafeMutableRawPointer(p).storeBytes(of: self, as: SIMD8<Float>.self)
    }
}
