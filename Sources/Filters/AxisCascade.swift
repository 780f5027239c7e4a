import ImagingCore

/// A chain of 1D convolutions along one image axis, each padding its input by a boundary rule, reduced to the
/// weights every output voxel of a range takes from the in-image voxels of that axis.
///
/// IBSI 2 applies separable filters as successive 1D convolutions, each on the previous result padded again
/// by the boundary condition (zero, nearest, periodic, mirror). Convolutions along different axes commute, so
/// a separable filter (or a cascade of them, as in a multi-level wavelet decomposition) is one such chain per
/// axis. Writing each chain as sparse rows lets a response be computed over a box of the image only: the
/// rows name exactly the in-image voxels the box needs, whatever the boundary rule.
///
/// A kernel w of odd length N (centre c = N/2) convolves as y[i] = Σ_j w[j] x̃[i + c - j], x̃ the padded
/// input (scipy.ndimage.convolve1d).
struct AxisCascade: Sendable {
    /// Output indices (in-image) the rows stand for.
    let outputs: ClosedRange<Int>
    /// In-image input indices the rows read: the smallest range holding every non-zero weight.
    let span: ClosedRange<Int>
    /// Row r's terms are `columns[rowStart[r]..<rowStart[r + 1]]` (relative to `span.lowerBound`) and `weights`.
    let rowStart: [Int]
    let columns: [Int]
    let weights: [Double]

    /// The chain `kernels` (applied first to last, each of odd length) on an axis of `count` voxels under
    /// `boundary`, for the outputs `outputs`.
    init(kernels: [[Double]], count n: Int, boundary: BoundaryCondition, outputs: ClosedRange<Int>) {
        precondition(kernels.allSatisfy { $0.count % 2 == 1 }, "cascade kernels have odd lengths")
        precondition(outputs.lowerBound >= 0 && outputs.upperBound < n, "outputs lie inside the axis")
        self.outputs = outputs
        // Row i of the chain P_K ... P_1 is e_i P_K ... P_1: push e_i back through the transposed passes.
        var current = [Double](repeating: 0, count: n), next = current
        var rowStart = [0], columns = [Int](), weights = [Double]()
        var lo = Int.max, hi = Int.min
        for i in outputs {
            current[i] = 1
            var support = [i]
            for kernel in kernels.reversed() {
                let c = kernel.count / 2
                var touched = [Int]()
                for r in support {
                    let v = current[r]
                    current[r] = 0
                    if v == 0 { continue }
                    for (j, w) in kernel.enumerated() where w != 0 {
                        guard let q = boundary.sourceIndex(r + c - j, count: n) else { continue }
                        if next[q] == 0 { touched.append(q) }
                        next[q] += v * w
                    }
                }
                swap(&current, &next)
                support = touched
            }
            for q in Set(support).sorted() where current[q] != 0 {
                columns.append(q)
                weights.append(current[q])
                lo = min(lo, q)
                hi = max(hi, q)
            }
            for q in support { current[q] = 0 }
            rowStart.append(columns.count)
        }
        if lo > hi { lo = outputs.lowerBound; hi = outputs.lowerBound }
        self.span = lo...hi
        self.rowStart = rowStart
        self.columns = columns.map { $0 - lo }
        self.weights = weights
    }

    /// The identity on `outputs` (an axis a 2D filter leaves alone).
    init(identityOn outputs: ClosedRange<Int>) {
        self.outputs = outputs
        self.span = outputs
        self.rowStart = Array(0...outputs.count)
        self.columns = Array(0..<outputs.count)
        self.weights = [Double](repeating: 1, count: outputs.count)
    }
}

/// A block of voxels in Double, x fastest, covering `lower ..< lower + size` of an image's index space.
struct VoxelBlock: Sendable {
    var lower: Index3
    var size: Size3
    var values: [Double]

    /// The voxels of `image` in `box` (which must lie inside the image).
    init(_ image: Volume<Float>, box: IndexBox) {
        lower = box.lower
        size = box.size
        var values = [Double]()
        values.reserveCapacity(size.count)
        for k in box.lower.k...box.upper.k {
            for j in box.lower.j...box.upper.j {
                let row = image.grid.linearIndex(box.lower.i, j, k)
                for i in 0..<size.nx { values.append(Double(image.voxels[row + i])) }
            }
        }
        self.values = values
    }

    init(lower: Index3, size: Size3, values: [Double]) {
        self.lower = lower
        self.size = size
        self.values = values
    }

    /// This block with `cascade` applied along `axis` (0 = x, 1 = y, 2 = z): that axis now covers the
    /// cascade's outputs. The block must hold the cascade's span on that axis.
    func applying(_ cascade: AxisCascade, along axis: Int) -> VoxelBlock {
        let offset = cascade.span.lowerBound - lower[axis]
        precondition(offset >= 0 && cascade.span.upperBound - lower[axis] < size[axis],
                     "the block holds the cascade's input span")
        var outSize = size
        outSize[settable: axis] = cascade.outputs.count
        var outLower = lower
        outLower[axis] = cascade.outputs.lowerBound
        // Lines along `axis`: element t of line l sits at base(l) + t * stride.
        let (nx, ny) = (size.nx, size.ny)
        let stride = axis == 0 ? 1 : (axis == 1 ? nx : nx * ny)
        let outStride = axis == 0 ? 1 : (axis == 1 ? outSize.nx : outSize.nx * outSize.ny)
        var out = [Double](repeating: 0, count: outSize.count)
        let m = cascade.outputs.count
        values.withUnsafeBufferPointer { src in
            out.withUnsafeMutableBufferPointer { dst in
                cascade.columns.withUnsafeBufferPointer { cols in
                    cascade.weights.withUnsafeBufferPointer { ws in
                        // The other two axes, in order.
                        let (a1, a2) = axis == 0 ? (1, 2) : (axis == 1 ? (0, 2) : (0, 1))
                        for u2 in 0..<size[a2] {
                            for u1 in 0..<size[a1] {
                                var inBase = 0, outBase = 0
                                var idx = Index3(0, 0, 0)
                                idx[a1] = u1
                                idx[a2] = u2
                                inBase = (idx.k * ny + idx.j) * nx + idx.i + offset * stride
                                outBase = (idx.k * outSize.ny + idx.j) * outSize.nx + idx.i
                                for r in 0..<m {
                                    var sum = 0.0
                                    for t in cascade.rowStart[r]..<cascade.rowStart[r + 1] {
                                        sum += ws[t] * src[inBase + cols[t] * stride]
                                    }
                                    dst[outBase + r * outStride] = sum
                                }
                            }
                        }
                    }
                }
            }
        }
        return VoxelBlock(lower: outLower, size: outSize, values: out)
    }

    /// The block as single-precision voxels on `grid`.
    func volume(on grid: ImageGrid) -> Volume<Float> {
        Volume(grid: grid, voxels: values.map { Float($0) })
    }
}

extension Index3 {
    /// Component `axis` (0 = i, 1 = j, 2 = k).
    subscript(axis: Int) -> Int {
        get { axis == 0 ? i : (axis == 1 ? j : k) }
        set {
            switch axis {
            case 0: i = newValue
            case 1: j = newValue
            default: k = newValue
            }
        }
    }
}

extension Size3 {
    /// Component `axis` (0 = nx, 1 = ny, 2 = nz), settable.
    subscript(settable axis: Int) -> Int {
        get { self[axis] }
        set {
            switch axis {
            case 0: nx = newValue
            case 1: ny = newValue
            default: nz = newValue
            }
        }
    }
}
