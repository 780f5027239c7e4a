import ImagingCore

/// A box of double-precision values positioned on an image's voxel grid (it may reach outside the image): the
/// working array of a filter. Values are stored x fastest, then y, then z.
///
/// A filter reads the image over its output box grown by its support (`read`, which applies the boundary
/// condition where the box leaves the image), then shrinks the block with "valid" convolutions back to the
/// output box: no value outside the image is ever computed, only looked up.
public struct FilterBlock: Sendable {
    /// The image voxel index of the block's first value.
    public var origin: Index3
    public var size: Size3
    public var values: [Double]

    public init(origin: Index3, size: Size3, values: [Double]) {
        precondition(values.count == size.count, "block of \(size) needs \(size.count) values, got \(values.count)")
        self.origin = origin
        self.size = size
        self.values = values
    }

    public init(origin: Index3, size: Size3, repeating value: Double = 0) {
        self.init(origin: origin, size: size, values: [Double](repeating: value, count: size.count))
    }

    /// The image voxel indices the block covers.
    public var box: IndexBox {
        IndexBox(lower: origin, upper: Index3(origin.i + size.nx - 1, origin.j + size.ny - 1, origin.k + size.nz - 1))
    }

    @inline(__always)
    public func linearIndex(_ i: Int, _ j: Int, _ k: Int) -> Int { (k * size.ny + j) * size.nx + i }

    /// The value at image voxel index (i, j, k) (which must lie in the block).
    @inline(__always)
    public subscript(image i: Int, _ j: Int, _ k: Int) -> Double {
        values[linearIndex(i - origin.i, j - origin.j, k - origin.k)]
    }

    /// The image over `region` (which may leave the image), voxels outside the image standing for the in-image
    /// voxel `boundary` names (or 0 for `zero`).
    ///
    /// Rows are copied through pointers: each row's source x indices are worked out once for the block, and a row
    /// whose x indices run through the image without a boundary is converted in one straight loop (the values are
    /// those of the general `read` below; only the way of reaching them differs).
    public static func read(_ image: Volume<Float>, over region: IndexBox, boundary: BoundaryCondition) -> FilterBlock {
        let size = region.size, n = image.size
        let xs = (region.lower.i...region.upper.i).map { boundary.sourceIndex($0, count: n.nx) ?? -1 }
        let ys = (region.lower.j...region.upper.j).map { boundary.sourceIndex($0, count: n.ny) }
        let zs = (region.lower.k...region.upper.k).map { boundary.sourceIndex($0, count: n.nz) }
        // The x within the image form one stretch of consecutive sources in the middle of the row.
        var inner = 0..<0
        if let first = xs.firstIndex(where: { $0 >= 0 }) {
            var end = first + 1
            while end < xs.count && xs[end] == xs[end - 1] + 1 { end += 1 }
            inner = first..<end
        }
        let out = [Double](unsafeUninitializedCapacity: size.count) { buffer, initialised in
            image.voxels.withUnsafeBufferPointer { voxels in
                xs.withUnsafeBufferPointer { xs in
                    let dst = buffer.baseAddress!, src = voxels.baseAddress!
                    var o = 0
                    for z in zs {
                        for y in ys {
                            let row = dst + o
                            o += size.nx
                            guard let z, let y else {
                                row.initialize(repeating: 0, count: size.nx)
                                continue
                            }
                            let source = src + (z * n.ny + y) * n.nx
                            for x in 0..<inner.lowerBound {
                                (row + x).initialize(to: xs[x] >= 0 ? Double(source[xs[x]]) : 0)
                            }
                            if !inner.isEmpty {
                                let from = source + xs[inner.lowerBound]
                                for x in 0..<inner.count { (row + inner.lowerBound + x).initialize(to: Double(from[x])) }
                            }
                            for x in inner.upperBound..<size.nx {
                                (row + x).initialize(to: xs[x] >= 0 ? Double(source[xs[x]]) : 0)
                            }
                        }
                    }
                }
            }
            initialised = size.count
        }
        return FilterBlock(origin: region.lower, size: size, values: out)
    }

    /// The values over `region` of a map defined on an image of `imageSize`, of which this block holds at least
    /// the voxels `boundary` makes `region` read (see `sourceBox`). Used to pad a response map (e.g. before a
    /// Laws energy map) with the boundary rule at the image's edges.
    public func read(over region: IndexBox, imageSize: Size3, boundary: BoundaryCondition) -> FilterBlock {
        let o = origin
        return FilterBlock.read(region: region, imageSize: imageSize, boundary: boundary) { values[$0] } linear: {
            linearIndex($0 - o.i, $1 - o.j, $2 - o.k)
        }
    }

    private static func read(region: IndexBox, imageSize: Size3, boundary: BoundaryCondition,
                             value: (Int) -> Double, linear: (Int, Int, Int) -> Int) -> FilterBlock {
        let size = region.size
        let xs = (region.lower.i...region.upper.i).map { boundary.sourceIndex($0, count: imageSize.nx) }
        let ys = (region.lower.j...region.upper.j).map { boundary.sourceIndex($0, count: imageSize.ny) }
        let zs = (region.lower.k...region.upper.k).map { boundary.sourceIndex($0, count: imageSize.nz) }
        var out = [Double](repeating: 0, count: size.count)
        var n = 0
        for z in zs {
            for y in ys {
                guard let z, let y else { n += size.nx; continue }
                for x in xs {
                    if let x { out[n] = value(linear(x, y, z)) }
                    n += 1
                }
            }
        }
        return FilterBlock(origin: region.lower, size: size, values: out)
    }

    /// The smallest box of in-image voxels that reading `region` of an image of `imageSize` with `boundary`
    /// touches (nil if it reads only zeros). For periodic padding this may be far from `region`.
    public static func sourceBox(of region: IndexBox, imageSize: Size3, boundary: BoundaryCondition) -> IndexBox? {
        var lo = [0, 0, 0], hi = [0, 0, 0]
        for axis in 0..<3 {
            let mapped = (region.lower(axis)...region.upper(axis)).compactMap {
                boundary.sourceIndex($0, count: imageSize[axis])
            }
            guard let a = mapped.min(), let b = mapped.max() else { return nil }
            lo[axis] = a; hi[axis] = b
        }
        return IndexBox(lower: Index3(lo[0], lo[1], lo[2]), upper: Index3(hi[0], hi[1], hi[2]))
    }

    /// The values inside `box` (which must lie in the block).
    public func cropped(to box: IndexBox) -> FilterBlock {
        if box == self.box { return self }
        let s = box.size
        var out = [Double]()
        out.reserveCapacity(s.count)
        for k in box.lower.k...box.upper.k {
            for j in box.lower.j...box.upper.j {
                let start = linearIndex(box.lower.i - origin.i, j - origin.j, k - origin.k)
                out.append(contentsOf: values[start..<(start + s.nx)])
            }
        }
        return FilterBlock(origin: box.lower, size: s, values: out)
    }

    /// The block as a Float volume on the sub-grid of `grid` it covers (it must lie inside the image).
    public func volume(on grid: ImageGrid) -> Volume<Float> {
        Volume(grid: grid.subgrid(box), voxels: Precision.singles(values))
    }

    /// Every value transformed.
    public func map(_ transform: (Double) -> Double) -> FilterBlock {
        FilterBlock(origin: origin, size: size, values: values.map(transform))
    }

    /// Valid 1D convolution along `axis`: (f * h)[x] = Σ_j h[j] f[x - j + center], evaluated only where the
    /// whole kernel lies in the block. The block shrinks by `h.count - 1` voxels along `axis` (its origin moves
    /// up by `h.count - 1 - center`).
    public func convolved(along axis: Int, with kernel: Kernel1D) -> FilterBlock {
        let h = kernel.weights
        let n = h.count
        precondition(size[axis] >= n, "block of \(size) too small for a kernel of \(n) along axis \(axis)")
        var outSize = size
        var outOrigin = origin
        switch axis {
        case 0: outSize.nx -= n - 1; outOrigin.i += n - 1 - kernel.center
        case 1: outSize.ny -= n - 1; outOrigin.j += n - 1 - kernel.center
        default: outSize.nz -= n - 1; outOrigin.k += n - 1 - kernel.center
        }
        // out[u] = Σ_j h[j] in[u + n - 1 - j] = Σ_t w[t] in[u + t] with w the reversed weights, the taps
        // accumulated in order t = 0, 1, ... for every voxel (as a dot product per voxel would).
        let stride = axis == 0 ? 1 : (axis == 1 ? size.nx : size.nx * size.ny)
        let w = RowTap.list(Array(h.reversed()), stride: stride)
        let out = [Double](unsafeUninitializedCapacity: outSize.count) { buffer, initialised in
            values.withUnsafeBufferPointer { src in
                w.withUnsafeBufferPointer { taps in
                    let src = src.baseAddress!, dst = buffer.baseAddress!
                    var o = 0
                    for k in 0..<outSize.nz {
                        for j in 0..<outSize.ny {
                            FilterBlock.correlateRow(src + (k * size.ny + j) * size.nx, taps: taps,
                                                     into: dst + o, count: outSize.nx)
                            o += outSize.nx
                        }
                    }
                }
            }
            initialised = outSize.count
        }
        return FilterBlock(origin: outOrigin, size: outSize, values: out)
    }
}

extension FilterBlock {
    /// out[i] = Σ_t taps[t] · input[i + t · stride] for i in 0..<count, the taps summed in order t = 0, 1, ...
    /// from 0 (each product rounded, then added: the same value as a scalar loop), taps of weight 0 skipped.
    ///
    /// The filters' hot loop. The taps of non-zero weight and their input offsets are listed once per row (on the
    /// stack), so the loop over taps neither tests weights nor multiplies indices. 32 outputs stay in registers
    /// across all taps (one broadcast of the weight per tap for all 32), then 8; the last fewer than 8 outputs of
    /// a row of at least 8 are computed as the row's last 8 (those already written are written again with the
    /// same values: each output is the same sum whatever group it is computed in). Plain scalars, not SIMD
    /// types: the optimiser vectorises them, and unoptimised (debug) builds stay fast.
    @inline(__always)
    static func correlateRow(_ input: UnsafePointer<Double>, stride: Int, taps: UnsafeBufferPointer<Double>,
                             into output: UnsafeMutablePointer<Double>, count: Int) {
        withUnsafeTemporaryAllocation(of: RowTap.self, capacity: max(taps.count, 1)) { list in
            let m = RowTap.list(taps, stride: stride, into: list)
            correlateRow(input, taps: UnsafeBufferPointer(rebasing: list[0..<m]), into: output, count: count)
        }
    }

    /// `correlateRow` with the non-zero taps already listed (`RowTap.list`), for passes that correlate many rows
    /// with the same taps and stride: listing 41 taps for each row of 100 outputs costs a fifth of the row.
    @inline(__always)
    static func correlateRow(_ input: UnsafePointer<Double>, taps list: UnsafeBufferPointer<RowTap>,
                             into output: UnsafeMutablePointer<Double>, count: Int) {
        var i = 0
        // 32 outputs (eight vectors of four) per sweep over the taps: each tap's additions then fill the adders
        // while the previous ones complete (with 16, the four additions of a tap waited on the four of the tap before).
        while i + 32 <= count {
            var a0 = 0.0, a1 = 0.0, a2 = 0.0, a3 = 0.0, a4 = 0.0, a5 = 0.0, a6 = 0.0, a7 = 0.0
            var a8 = 0.0, a9 = 0.0, a10 = 0.0, a11 = 0.0, a12 = 0.0, a13 = 0.0, a14 = 0.0, a15 = 0.0
            var b0 = 0.0, b1 = 0.0, b2 = 0.0, b3 = 0.0, b4 = 0.0, b5 = 0.0, b6 = 0.0, b7 = 0.0
            var b8 = 0.0, b9 = 0.0, b10 = 0.0, b11 = 0.0, b12 = 0.0, b13 = 0.0, b14 = 0.0, b15 = 0.0
            for tap in list {
                let w = tap.weight, p = input + tap.offset + i
                a0 += w * p[0]; a1 += w * p[1]; a2 += w * p[2]; a3 += w * p[3]
                a4 += w * p[4]; a5 += w * p[5]; a6 += w * p[6]; a7 += w * p[7]
                a8 += w * p[8]; a9 += w * p[9]; a10 += w * p[10]; a11 += w * p[11]
                a12 += w * p[12]; a13 += w * p[13]; a14 += w * p[14]; a15 += w * p[15]
                b0 += w * p[16]; b1 += w * p[17]; b2 += w * p[18]; b3 += w * p[19]
                b4 += w * p[20]; b5 += w * p[21]; b6 += w * p[22]; b7 += w * p[23]
                b8 += w * p[24]; b9 += w * p[25]; b10 += w * p[26]; b11 += w * p[27]
                b12 += w * p[28]; b13 += w * p[29]; b14 += w * p[30]; b15 += w * p[31]
            }
            let q = output + i
            q[0] = a0; q[1] = a1; q[2] = a2; q[3] = a3; q[4] = a4; q[5] = a5; q[6] = a6; q[7] = a7
            q[8] = a8; q[9] = a9; q[10] = a10; q[11] = a11; q[12] = a12; q[13] = a13; q[14] = a14; q[15] = a15
            q[16] = b0; q[17] = b1; q[18] = b2; q[19] = b3; q[20] = b4; q[21] = b5; q[22] = b6; q[23] = b7
            q[24] = b8; q[25] = b9; q[26] = b10; q[27] = b11; q[28] = b12; q[29] = b13; q[30] = b14; q[31] = b15
            i += 32
        }
        @inline(__always) func eight(at i: Int) {
            var a0 = 0.0, a1 = 0.0, a2 = 0.0, a3 = 0.0, a4 = 0.0, a5 = 0.0, a6 = 0.0, a7 = 0.0
            for tap in list {
                let w = tap.weight, p = input + tap.offset + i
                a0 += w * p[0]; a1 += w * p[1]; a2 += w * p[2]; a3 += w * p[3]
                a4 += w * p[4]; a5 += w * p[5]; a6 += w * p[6]; a7 += w * p[7]
            }
            let q = output + i
            q[0] = a0; q[1] = a1; q[2] = a2; q[3] = a3; q[4] = a4; q[5] = a5; q[6] = a6; q[7] = a7
        }
        while i + 8 <= count {
            eight(at: i)
            i += 8
        }
        guard i < count else { return }
        if count >= 8 {
            eight(at: count - 8)
            return
        }
        while i < count {
            var acc = 0.0
            for tap in list { acc += tap.weight * input[tap.offset + i] }
            output[i] = acc
            i += 1
        }
    }
}

/// A tap of a 1D correlation of non-zero weight, with the offset of the input it reads.
struct RowTap {
    var offset: Int
    var weight: Double

    /// Writes the taps of non-zero `weights` in order (tap t reading `t · stride` further on) to `list` (which holds
    /// at least `weights.count`), and returns how many there are.
    @inline(__always)
    static func list(_ weights: UnsafeBufferPointer<Double>, stride: Int, into list: UnsafeMutableBufferPointer<RowTap>) -> Int {
        var m = 0
        for t in 0..<weights.count where weights[t] != 0 {
            list[m] = RowTap(offset: t * stride, weight: weights[t])
            m += 1
        }
        return m
    }

    /// The taps of non-zero `weights` in order.
    static func list(_ weights: [Double], stride: Int) -> [RowTap] {
        weights.enumerated().compactMap { t, w in w != 0 ? RowTap(offset: t * stride, weight: w) : nil }
    }
}

/// A 1D convolution kernel: weights h[0..<n] with the kernel's origin at `center` (the weight applied to the
/// voxel itself); a symmetric odd kernel has `center == n / 2`.
public struct Kernel1D: Hashable, Sendable {
    public var weights: [Double]
    public var center: Int

    public init(_ weights: [Double], center: Int? = nil) {
        precondition(!weights.isEmpty, "a kernel needs weights")
        self.weights = weights
        self.center = center ?? weights.count / 2
        precondition((0..<weights.count).contains(self.center), "kernel centre outside its weights")
    }

    /// The mirrored kernel h[-x] (IBSI 2 rotations by π along an axis), its origin mirrored with it.
    public var reversed: Kernel1D { Kernel1D(weights.reversed(), center: weights.count - 1 - center) }

    /// Voxels the kernel reads below the output voxel and above it.
    public var reach: (before: Int, after: Int) { (weights.count - 1 - center, center) }
}

/// A separable kernel: a 1D kernel along some of the axes x (0), y (1), z (2); an axis without one is left
/// alone (2D filters have none along z).
public struct SeparableKernel: Hashable, Sendable {
    public var kernels: [Kernel1D?]

    public init(x: Kernel1D?, y: Kernel1D?, z: Kernel1D?) { kernels = [x, y, z] }

    /// The region to read for an output over `box`.
    public func support(of box: IndexBox) -> IndexBox {
        var b = box
        for axis in 0..<3 {
            if let k = kernels[axis] { b = b.grown(axis: axis, before: k.reach.before, after: k.reach.after) }
        }
        return b
    }

    /// The response over `box` of the image (or of a padded map, through `read`) convolved with this kernel.
    public func apply(to image: Volume<Float>, over box: IndexBox, boundary: BoundaryCondition) -> FilterBlock {
        convolveValid(FilterBlock.read(image, over: support(of: box), boundary: boundary))
    }

    /// Valid convolution of `block` along each axis that has a kernel.
    public func convolveValid(_ block: FilterBlock) -> FilterBlock {
        var b = block
        // z first then y then x: the longest-stride passes on the largest block are the cheapest per value.
        for axis in [2, 1, 0] { if let k = kernels[axis] { b = b.convolved(along: axis, with: k) } }
        return b
    }

    /// This kernel rotated by a right-angle rotation: the kernel along axis `i` moves to axis
    /// `rotation.permutation[i]`, mirrored when `rotation.signs[i] < 0`.
    public func rotated(by rotation: RightAngleRotation) -> SeparableKernel {
        var out: [Kernel1D?] = [nil, nil, nil]
        for i in 0..<3 {
            guard let k = kernels[i] else { continue }
            out[rotation.permutation[i]] = rotation.signs[i] < 0 ? k.reversed : k
        }
        return SeparableKernel(x: out[0], y: out[1], z: out[2])
    }
}

/// Voxel-wise pooling of responses computed over the same box.
struct PoolAccumulator {
    let pooling: Pooling
    private(set) var block: FilterBlock?
    private(set) var count = 0

    init(_ pooling: Pooling) { self.pooling = pooling }

    mutating func add(_ b: FilterBlock) {
        count += 1
        guard var acc = block else { block = b; return }
        block = nil  // `acc` holds the only reference: updated in place, not copied
        precondition(acc.size == b.size && acc.origin == b.origin, "pooled responses must cover the same box")
        acc.values.withUnsafeMutableBufferPointer { a in
            b.values.withUnsafeBufferPointer { v in
                switch pooling {
                case .max: for n in 0..<a.count where v[n] > a[n] { a[n] = v[n] }
                case .mean: for n in 0..<a.count { a[n] += v[n] }
                }
            }
        }
        block = acc
    }

    var result: FilterBlock {
        guard var b = block else { preconditionFailure("nothing pooled") }
        if pooling == .mean { let c = Double(count); b.values = b.values.map { $0 / c } }
        return b
    }
}
