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
/// wrap-around); `InverseDistanceSums` evaluates them slab by slab.
enum SpatialAutocorrelation {
    static func moranAndGeary(_ region: PreparedRegion) -> (moran: Double, geary: Double) {
        let n = region.grid.size
        guard let box = Preprocessor.boundingBox(region.intensityMask, size: n) else { return (.nan, .nan) }
        let rows = BoxRows(box, in: n)
        var count = 0, sum = 0.0
        region.intensities.withUnsafeBufferPointer { x in
            region.intensityMask.withUnsafeBufferPointer { inside in
                rows.forEach { from in
                    for i in from..<(from + rows.length) where inside[i] { count += 1; sum += x[i] }
                }
            }
        }
        guard count >= 2 else { return (.nan, .nan) }
        let signals = BoxSignals(region, rows: rows, mean: sum / Double(count))
        let ss = signals.sumOfSquares
        guard ss > 0 else { return (.nan, .nan) }
        let b = box.size
        let sums = InverseDistanceSums(size: b, spacing: region.grid.spacing).evaluate(signals)
        let nD = Double(count)
        let moran = nD / sums.mKm * sums.aKa / ss
        let geary = (nD - 1) * (2 * sums.a2Km - 2 * sums.aKa) / (2 * sums.mKm * ss)
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

/// The rows of a box in a grid: where each starts in the grid, x fastest.
struct BoxRows {
    let box: IndexBox
    let grid: Size3
    /// Voxels per row.
    var length: Int { box.size.nx }

    init(_ box: IndexBox, in grid: Size3) {
        self.box = box
        self.grid = grid
    }

    /// The grid index of the first voxel of row `j` of z-plane `k` of the box.
    func start(plane k: Int, row j: Int) -> Int {
        ((k + box.lower.k) * grid.ny + j + box.lower.j) * grid.nx + box.lower.i
    }

    /// Calls `body` with the grid index of the first voxel of each row, in memory order.
    @inline(__always)
    func forEach(_ body: (_ start: Int) -> Void) {
        let b = box.size
        for k in 0..<b.nz {
            for j in 0..<b.ny { body(start(plane: k, row: j)) }
        }
    }
}

/// The real signals of a box whose pair sums `InverseDistanceSums` takes, row by row as the transforms
/// read them: the deviations a = X - μ (zero outside the ROI), the ROI indicator m and a² (computed in
/// double). They are read from the region where they are, never stored whole.
struct BoxSignals {
    let region: PreparedRegion
    let rows: BoxRows
    let mean: Double
    /// Σ a², in double.
    let sumOfSquares: Double

    /// The signals of the ROI (`intensityMask`) of `region` on the box `rows`, with mean intensity `mean`.
    init(_ region: PreparedRegion, rows: BoxRows, mean: Double) {
        self.region = region
        self.rows = rows
        self.mean = mean
        var ss = 0.0
        region.intensities.withUnsafeBufferPointer { x in
            region.intensityMask.withUnsafeBufferPointer { inside in
                rows.forEach { from in
                    for i in from..<(from + rows.length) where inside[i] {
                        let d = x[i] - mean
                        ss += d * d
                    }
                }
            }
        }
        sumOfSquares = ss
    }

    /// Writes a and m of row `j` of z-plane `k` of the box to `a` and `m`.
    func deviations(plane k: Int, row j: Int, a: UnsafeMutablePointer<FFTSample>, m: UnsafeMutablePointer<FFTSample>) {
        let from = rows.start(plane: k, row: j)
        region.intensities.withUnsafeBufferPointer { x in
            region.intensityMask.withUnsafeBufferPointer { inside in
                for i in 0..<rows.length {
                    let isInside = inside[from + i]
                    a[i] = isInside ? FFTSample(x[from + i] - mean) : 0
                    m[i] = isInside ? 1 : 0
                }
            }
        }
    }

    /// Writes a² of row `j` of z-plane `k` of the box to `a2`.
    func squares(plane k: Int, row j: Int, a2: UnsafeMutablePointer<FFTSample>) {
        let from = rows.start(plane: k, row: j)
        region.intensities.withUnsafeBufferPointer { x in
            region.intensityMask.withUnsafeBufferPointer { inside in
                for i in 0..<rows.length {
                    let d = x[from + i] - mean
                    a2[i] = inside[from + i] ? FFTSample(d * d) : 0
                }
            }
        }
    }
}

/// The three inverse-distance pair sums of a box, Σ a (K ⋆ a), Σ a² (K ⋆ m) and Σ m (K ⋆ m), by Parseval's
/// theorem on the box zero-padded to P0 x P1 x P2 (each at least twice the box less one).
///
/// The padded 3D spectra are never held whole. Each z-plane of the box is transformed in x and y in a
/// plane buffer that stays in cache (a and m packed as real and imaginary parts, a² two planes at a
/// time); only the half-plane of frequencies kx ≤ P0/2 of each signal is kept (the signals are real),
/// plane after plane, in blocks of rows whose z-planes are contiguous. The transform along z then runs on
/// a block at a time (the zero padding taken as known, not stored), and the products with the kernel
/// spectrum are summed at once. K depends on |δx|, |δy| and |δz| only, so its
/// spectrum is real and even in each frequency: one octant is computed, also plane by plane.
struct InverseDistanceSums {

    let size: Size3
    let spacing: Vector3
    /// Padded lengths.
    let p0: Int, p1: Int, p2: Int
    /// Frequencies kept along x (0...P0/2) and kernel octant extents along y and z.
    let h0: Int, h1: Int, h2: Int

    init(size: Size3, spacing: Vector3) {
        self.size = size
        self.spacing = spacing
        p0 = SpatialAutocorrelation.fftLength(2 * size.nx - 1)
        p1 = SpatialAutocorrelation.fftLength(2 * size.ny - 1)
        p2 = SpatialAutocorrelation.fftLength(2 * size.nz - 1)
        h0 = p0 / 2 + 1; h1 = p1 / 2 + 1; h2 = p2 / 2 + 1
    }

    /// The sums for the signals of the box.
    func evaluate(_ signals: BoxSignals) -> (aKa: Double, a2Km: Double, mKm: Double) {
        let spectra = planeSpectra(signals)
        // The kernel octant as weights of the half-plane: frequencies kx and -kx both count, except
        // kx = 0 and kx = P0/2.
        var kernel = kernelOctant()
        let paired = 1..<(2 * (h0 - 1) == p0 ? h0 - 1 : h0)
        kernel.withUnsafeMutableBufferPointer { k in
            for row in stride(from: 0, to: k.count, by: h0) {
                for kx in paired { k[row + kx] *= 2 }
            }
        }
        var aKa = 0.0, a2Km = 0.0, mKm = 0.0
        let plan = FFTPlan.shared(length: p2)
        // A batch is a block of the store: whole rows of the half-plane (every kx of some ky), so that
        // the kernel values of a row are contiguous.
        let rows = rowsPerBlock
        let buffers = (0..<3).map { _ in BatchBuffers(capacity: rows * h0 * p2) }
        defer { buffers.forEach { $0.release() } }
        let octantPlane = h1 * h0
        spectra.withBuffers { transformed in
            kernel.withUnsafeMutableBufferPointer { kernel in
                var ky0 = 0
                while ky0 < p1 {
                    let block = spectra.block(containing: ky0)
                    let r = min(rows, block.upperBound - ky0), w = r * h0, c0 = spectra.offset(plane: 0, row: ky0)
                    // z transforms of the batch's columns of a, m and a², read where they are stored.
                    let out = zip(transformed, buffers).map { signal, buffer in
                        plan.run(LaneArray(signal.re + c0, signal.im + c0, stride: block.count * h0), nonzero: size.nz,
                                 into: nil, scratch: buffer, lanes: w)
                    }
                    let (ar, ai) = (out[0].re, out[0].im), (mr, mi) = (out[1].re, out[1].im), (wr, wi) = (out[2].re, out[2].im)
                    for kz in 0..<p2 {
                        let plane = kernel.baseAddress! + min(kz, p2 - kz) * octantPlane
                        for row in 0..<r {
                            let ky = ky0 + row
                            let factors = plane + min(ky, p1 - ky) * h0
                            // Terms in single precision, eight at a time, summed in double.
                            var sumA = SIMD8<Double>(), sumW = SIMD8<Double>(), sumM = SIMD8<Double>()
                            let e0 = kz * w + row * h0
                            var kx = 0
                            while kx < h0 {
                                let e = e0 + kx
                                if kx + 8 <= h0 {
                                    let k = SIMD8<FFTSample>.load(factors + kx)
                                    let (xr, xi) = (SIMD8<FFTSample>.load(ar + e), SIMD8<FFTSample>.load(ai + e))
                                    let (yr, yi) = (SIMD8<FFTSample>.load(mr + e), SIMD8<FFTSample>.load(mi + e))
                                    let (zr, zi) = (SIMD8<FFTSample>.load(wr + e), SIMD8<FFTSample>.load(wi + e))
                                    sumA += SIMD8<Double>(k * (xr * xr + xi * xi))
                                    sumM += SIMD8<Double>(k * (yr * yr + yi * yi))
                                    sumW += SIMD8<Double>(k * (zr * yr + zi * yi))
                                    kx += 8
                                } else {
                                    let k = factors[kx]
                                    sumA[0] += Double(k * (ar[e] * ar[e] + ai[e] * ai[e]))
                                    sumM[0] += Double(k * (mr[e] * mr[e] + mi[e] * mi[e]))
                                    sumW[0] += Double(k * (wr[e] * mr[e] + wi[e] * mi[e]))
                                    kx += 1
                                }
                            }
                            aKa += sumA.sum(); a2Km += sumW.sum(); mKm += sumM.sum()
                        }
                    }
                    ky0 += r
                }
            }
        }
        let scale = 1 / Double(p0 * p1 * p2)
        return (aKa * scale, a2Km * scale, mKm * scale)
    }

    /// Split-complex spectra of a, m and a² over the half-plane (kx ≤ P0/2, every ky) of each z-plane, laid
    /// out for the z transforms: blocks of `rowsPerBlock` consecutive rows ky are stored together, z-plane
    /// after z-plane, so that the z transforms of a block read one contiguous stretch of memory.
    final class PlaneSpectra {
        let planes: Int, rows: Int, width: Int, rowsPerBlock: Int
        let storage: UnsafeMutablePointer<FFTSample>

        init(planes: Int, rows: Int, width: Int, rowsPerBlock: Int) {
            self.planes = planes
            self.rows = rows
            self.width = width
            self.rowsPerBlock = rowsPerBlock
            storage = .allocate(capacity: 6 * planes * rows * width)
        }

        deinit { storage.deallocate() }

        /// Signal s (0: a, 1: m, 2: a²), real or imaginary parts.
        func part(_ s: Int, imaginary: Bool) -> UnsafeMutablePointer<FFTSample> {
            storage + (2 * s + (imaginary ? 1 : 0)) * planes * rows * width
        }

        /// The rows of the block that holds row `ky`.
        func block(containing ky: Int) -> Range<Int> {
            let first = ky - ky % rowsPerBlock
            return first..<min(first + rowsPerBlock, rows)
        }

        /// Where row `ky` of z-plane `t` starts in a part.
        func offset(plane t: Int, row ky: Int) -> Int {
            let block = block(containing: ky)
            return block.lowerBound * planes * width + (t * block.count + ky - block.lowerBound) * width
        }

        func withBuffers<R>(_ body: ([(re: UnsafeMutablePointer<FFTSample>, im: UnsafeMutablePointer<FFTSample>)]) -> R) -> R {
            withExtendedLifetime(self) {
                body((0..<3).map { (part($0, imaginary: false), part($0, imaginary: true)) })
            }
        }
    }

    /// Rows of the half-plane per batch of z transforms: enough lanes per butterfly (about 500 on
    /// STS_001) to pay for the loops, while the scratch of the three signals (about 1.5 MiB) stays in the
    /// L2 cache (measured: four times larger or smaller batches are 1 to 5 ms slower on STS_001).
    var rowsPerBlock: Int { max(1, min(p1, 32_768 / (p2 * h0))) }

    func planeSpectra(_ signals: BoxSignals) -> PlaneSpectra {
        let (nx, ny, nz) = (size.nx, size.ny, size.nz)
        let spectra = PlaneSpectra(planes: nz, rows: p1, width: h0, rowsPerBlock: rowsPerBlock)
        let (p0, p1, h0) = (self.p0, self.p1, self.h0)
        let plane = PlaneBuffer(count: p0 * p1)
        defer { plane.release() }
        let (re, im) = (plane.re, plane.im)
        /// Stores the half-plane of the plane transform of two real planes u + i v: U as z-plane `first.plane`
        /// of signal `first.signal`, V as `second`.
        func unpack(into first: (signal: Int, plane: Int), _ second: (signal: Int, plane: Int)?) {
            for ky in 0..<p1 {
                let row = ky * p0, mirror = ((p1 - ky) % p1) * p0
                let out = spectra.offset(plane: first.plane, row: ky)
                let (ur, ui) = (spectra.part(first.signal, imaginary: false) + out, spectra.part(first.signal, imaginary: true) + out)
                let (vr, vi) = second.map {
                    let out = spectra.offset(plane: $0.plane, row: ky)
                    return (spectra.part($0.signal, imaginary: false) + out, spectra.part($0.signal, imaginary: true) + out)
                } ?? (ur, ui)
                // kx = 0 pairs with itself; kx > 0 with P0 - kx of the mirrored row.
                ur[0] = (re[row] + re[mirror]) / 2; ui[0] = (im[row] - im[mirror]) / 2
                if second != nil {
                    vr[0] = (im[row] + im[mirror]) / 2; vi[0] = (re[mirror] - re[row]) / 2
                }
                // kx and P0 - kx eight at a time: lanes of the mirrored row run backwards.
                let q0 = mirror + p0
                var kx = 1
                while kx + 8 <= h0 {
                    let pr = SIMD8<FFTSample>.load(re + row + kx), pi = SIMD8<FFTSample>.load(im + row + kx)
                    let qr = Self.reversed(.load(re + q0 - kx - 7)), qi = Self.reversed(.load(im + q0 - kx - 7))
                    ((pr + qr) * 0.5).store(ur + kx); ((pi - qi) * 0.5).store(ui + kx)
                    if second != nil { ((pi + qi) * 0.5).store(vr + kx); ((qr - pr) * 0.5).store(vi + kx) }
                    kx += 8
                }
                while kx < h0 {
                    let p = row + kx, q = q0 - kx
                    ur[kx] = (re[p] + re[q]) * 0.5; ui[kx] = (im[p] - im[q]) * 0.5
                    if second != nil { vr[kx] = (im[p] + im[q]) * 0.5; vi[kx] = (re[q] - re[p]) * 0.5 }
                    kx += 1
                }
            }
        }
        let fft = FFT3(dims: [p0, p1, 1])
        fft.passes(re: re, im: im) { pass in
            // The transforms read rows < ny and columns < nx only, all of them filled for each plane.
            // a + i m, one z-plane at a time.
            for k in 0..<nz {
                for j in 0..<ny { signals.deviations(plane: k, row: j, a: re + j * p0, m: im + j * p0) }
                pass.x(rows: ny, planes: 1, nonzero: nx)
                pass.y(columns: p0, planes: 1, nonzero: ny)
                unpack(into: (0, k), (1, k))
            }
            // a² of planes k and k + 1 as real and imaginary parts.
            for k in stride(from: 0, to: nz, by: 2) {
                for j in 0..<ny {
                    signals.squares(plane: k, row: j, a2: re + j * p0)
                    if k + 1 < nz {
                        signals.squares(plane: k + 1, row: j, a2: im + j * p0)
                    } else {
                        (im + j * p0).update(repeating: 0, count: nx)
                    }
                }
                pass.x(rows: ny, planes: 1, nonzero: nx)
                pass.y(columns: p0, planes: 1, nonzero: ny)
                unpack(into: (2, k), k + 1 < nz ? (2, k + 1) : nil)
            }
        }
        return spectra
    }

    /// 1 / √(dx² sx² + yz) for dx < count, computed in double four at a time.
    private static func inverseDistances(_ line: UnsafeMutablePointer<FFTSample>, count: Int, xSquared: Double, yz: Double) {
        var dx = 0
        while dx + 4 <= count {
            let x = SIMD4<Double>(Double(dx), Double(dx + 1), Double(dx + 2), Double(dx + 3))
            let v = 1 / (x * x * xSquared + yz).squareRoot()
            for k in 0..<4 { line[dx + k] = FFTSample(v[k]) }
            dx += 4
        }
        while dx < count { line[dx] = FFTSample(1 / (Double(dx * dx) * xSquared + yz).squareRoot()); dx += 1 }
    }

    @inline(__always)
    private static func reversed(_ v: SIMD8<FFTSample>) -> SIMD8<FFTSample> {
        SIMD8(v[7], v[6], v[5], v[4], v[3], v[2], v[1], v[0])
    }

    /// A split-complex plane.
    struct PlaneBuffer {
        let re: UnsafeMutablePointer<FFTSample>, im: UnsafeMutablePointer<FFTSample>
        let count: Int

        init(count: Int) {
            self.count = count
            re = .allocate(capacity: count); im = .allocate(capacity: count)
            clear()
        }

        func clear() { re.update(repeating: 0, count: count); im.update(repeating: 0, count: count) }

        func release() { re.deallocate(); im.deallocate() }
    }

    /// The DFT over the padded grid of K(δ) = 1/|δ| (K(0) = 0) for |δ_a| < the box size, at frequencies
    /// kx < h0, ky < h1, kz < h2 (it is real and even in each), x fastest.
    ///
    /// Planes δz and δz + 1 are transformed together in x and y as real and imaginary parts (both spectra
    /// are real); within a plane only the lines δy ≥ 0 are transformed along x (the others are copies) and
    /// only the columns kx < h0 along y. The z transform then packs two blocks of columns the same way.
    func kernelOctant() -> [FFTSample] {
        let (nx, ny, nz) = (size.nx, size.ny, size.nz)
        let s2 = (spacing.x * spacing.x, spacing.y * spacing.y, spacing.z * spacing.z)
        let octantPlane = h1 * h0
        // Every element of the planes and of the octant is written before it is read (no zeroing).
        let planes = UnsafeMutablePointer<FFTSample>.allocate(capacity: nz * octantPlane)
        defer { planes.deallocate() }
        let (p0, p1, h0, h1) = (self.p0, self.p1, self.h0, self.h1)
        let plane = PlaneBuffer(count: p0 * p1)
        defer { plane.release() }
        FFT3(dims: [p0, p1, 1]).passes(re: plane.re, im: plane.im) { pass in
            for dz in stride(from: 0, to: nz, by: 2) {
                // Zero what the transforms read and the kernel values do not cover: between the offsets
                // and their even extension along x, and the rows between them along y.
                for part in [plane.re, plane.im] {
                    for dy in 0..<ny { (part + dy * p0 + nx).update(repeating: 0, count: p0 - 2 * nx + 1) }
                    for dy in ny..<(p1 - ny + 1) { (part + dy * p0).update(repeating: 0, count: h0) }
                }
                for (part, z) in [(plane.re, dz), (plane.im, dz + 1)] {
                    for dy in 0..<ny {
                        let line = part + dy * p0
                        guard z < nz else {
                            line.update(repeating: 0, count: nx); (line + p0 - nx + 1).update(repeating: 0, count: nx - 1)
                            continue
                        }
                        let yz = Double(dy * dy) * s2.1 + Double(z * z) * s2.2
                        Self.inverseDistances(line, count: nx, xSquared: s2.0, yz: yz)
                        if yz == 0 { line[0] = 0 }
                        // The even extension: offset -dx at P0 - dx.
                        for dx in 1..<max(1, nx) { line[p0 - dx] = line[dx] }
                    }
                }
                pass.x(rows: ny, planes: 1)
                for dy in 1..<max(1, ny) {
                    let from = dy * p0, to = (p1 - dy) * p0
                    (pass.re + to).update(from: pass.re + from, count: h0)
                    (pass.im + to).update(from: pass.im + from, count: h0)
                }
                pass.y(columns: h0, planes: 1)
                for ky in 0..<h1 {
                    let out = dz * octantPlane + ky * h0
                    (planes + out).update(from: plane.re + ky * p0, count: h0)
                    if dz + 1 < nz {
                        let next = out + octantPlane
                        (planes + next).update(from: plane.im + ky * p0, count: h0)
                    }
                }
            }
        }
        // Along z: element t of the even extension is plane min(t, P2 - t) when that is < nz.
        let plan = FFTPlan.shared(length: p2)
        let lanes = max(1, min(octantPlane, FFT3.batchSamples / p2))
        let buffer = BatchBuffers(capacity: lanes * p2)
        defer { buffer.release() }
        return [FFTSample](unsafeUninitializedCapacity: h2 * octantPlane) { octant, written in
            let out = octant.baseAddress!
            var c0 = 0
            while c0 < octantPlane {
                // Columns c0 ..< c0 + w as real parts, the next (up to) w as imaginary parts.
                let w = min(lanes, (octantPlane - c0 + 1) / 2), second = c0 + w, w2 = min(w, octantPlane - second)
                for t in 0..<p2 {
                    let toR = buffer.ar + t * w, toI = buffer.ai + t * w
                    let dz = min(t, p2 - t)
                    if dz < nz {
                        toR.update(from: planes + dz * octantPlane + c0, count: w)
                        (toI).update(from: planes + dz * octantPlane + second, count: w2)
                        (toI + w2).update(repeating: 0, count: w - w2)
                    } else {
                        toR.update(repeating: 0, count: w); toI.update(repeating: 0, count: w)
                    }
                }
                let spectra = plan.run(LaneArray(buffer.ar, buffer.ai, stride: w), nonzero: p2, into: nil,
                                       scratch: buffer, lanes: w)
                let (sr, si) = (spectra.re, spectra.im)
                for kz in 0..<h2 {
                    (out + kz * octantPlane + c0).update(from: sr + kz * w, count: w)
                    (out + kz * octantPlane + second).update(from: si + kz * w, count: w2)
                }
                c0 += 2 * w
            }
            written = h2 * octantPlane
        }
    }
}
