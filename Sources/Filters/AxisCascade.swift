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
/// Each kernel convolves as `Kernel1D` defines, y[i] = Σ_j h[j] x̃[i - j + centre], x̃ the padded input
/// (scipy.ndimage.convolve1d for odd kernels centred at N/2). `FilterBlock.convolved(along:with:)` is the same
/// pass on a block already padded; a chain re-pads between its passes, which rows over in-image voxels express
/// directly (for periodic padding a row can wrap to the far side of the image).
struct AxisCascade: Sendable {
    /// Output indices (in-image) the rows stand for.
    let outputs: ClosedRange<Int>
    /// In-image input indices the rows read: the smallest range holding every non-zero weight.
    let span: ClosedRange<Int>
    /// Row r's terms are `columns[rowStart[r]..<rowStart[r + 1]]` (relative to `span.lowerBound`) and `weights`.
    let rowStart: [Int]
    let columns: [Int]
    let weights: [Double]

    /// The chain `kernels` (applied first to last) on an axis of `count` voxels under `boundary`, for the
    /// outputs `outputs`.
    init(kernels: [Kernel1D], count n: Int, boundary: BoundaryCondition, outputs: ClosedRange<Int>) {
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
                let c = kernel.center
                var touched = [Int]()
                for r in support {
                    let v = current[r]
                    current[r] = 0
                    if v == 0 { continue }
                    for (j, w) in kernel.weights.enumerated() where w != 0 {
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

extension FilterBlock {
    /// This block with `cascade` applied along `axis` (0 = x, 1 = y, 2 = z): that axis now covers the
    /// cascade's outputs. The block must hold the cascade's input span on that axis.
    func applying(_ cascade: AxisCascade, along axis: Int) -> FilterBlock {
        let lower = [origin.i, origin.j, origin.k]
        let offset = cascade.span.lowerBound - lower[axis]
        precondition(offset >= 0 && cascade.span.upperBound - lower[axis] < size[axis],
                     "the block holds the cascade's input span")
        var outSize = size, outOrigin = origin
        switch axis {
        case 0: outSize.nx = cascade.outputs.count; outOrigin.i = cascade.outputs.lowerBound
        case 1: outSize.ny = cascade.outputs.count; outOrigin.j = cascade.outputs.lowerBound
        default: outSize.nz = cascade.outputs.count; outOrigin.k = cascade.outputs.lowerBound
        }
        // Lines along `axis`: element t at base + t * stride; (a1, a2) the other two axes.
        let stride = axis == 0 ? 1 : (axis == 1 ? size.nx : size.nx * size.ny)
        let outStride = axis == 0 ? 1 : (axis == 1 ? outSize.nx : outSize.nx * outSize.ny)
        let (a1, a2) = axis == 0 ? (1, 2) : (axis == 1 ? (0, 2) : (0, 1))
        let m = cascade.outputs.count
        var out = [Double](repeating: 0, count: outSize.count)
        values.withUnsafeBufferPointer { src in
            out.withUnsafeMutableBufferPointer { dst in
                cascade.rowStart.withUnsafeBufferPointer { starts in
                    cascade.columns.withUnsafeBufferPointer { cols in
                        cascade.weights.withUnsafeBufferPointer { ws in
                            for u2 in 0..<size[a2] {
                                for u1 in 0..<size[a1] {
                                    let (pi, pj, pk) = axis == 0 ? (0, u1, u2) : (axis == 1 ? (u1, 0, u2) : (u1, u2, 0))
                                    let inBase = (pk * size.ny + pj) * size.nx + pi + offset * stride
                                    let outBase = (pk * outSize.ny + pj) * outSize.nx + pi
                                    for r in 0..<m {
                                        var sum = 0.0
                                        for t in starts[r]..<starts[r + 1] { sum += ws[t] * src[inBase + cols[t] * stride] }
                                        dst[outBase + r * outStride] = sum
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
        return FilterBlock(origin: outOrigin, size: outSize, values: out)
    }
}
