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
    /// Row r reads `rowLength[r]` consecutive inputs from `rowFirst[r]` (relative to `span.lowerBound`) with the
    /// weights `weights[rowOffset[r]...]` (zeros inside the window kept, so every row is a dense dot product).
    let rowFirst: [Int]
    let rowLength: [Int]
    let rowOffset: [Int]
    let weights: [Double]
    /// Whether every row has row 0's weights, one input further on (`rowFirst[r] == rowFirst[0] + r`): the chain is
    /// then a plain valid correlation with row 0's weights (every output whose support stays inside the axis).
    let regular: Bool

    /// The chain `kernels` (applied first to last) on an axis of `count` voxels under `boundary`, for the
    /// outputs `outputs`.
    init(kernels: [Kernel1D], count n: Int, boundary: BoundaryCondition, outputs: ClosedRange<Int>) {
        precondition(outputs.lowerBound >= 0 && outputs.upperBound < n, "outputs lie inside the axis")
        self.outputs = outputs
        // Row i of the chain P_K ... P_1 is e_i P_K ... P_1: push e_i back through the transposed passes.
        var current = [Double](repeating: 0, count: n), next = current
        var rows = [(first: Int, weights: [Double])]()
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
            let nonzero = support.filter { current[$0] != 0 }
            if let first = nonzero.min(), let last = nonzero.max() {
                rows.append((first, Array(current[first...last])))
                lo = min(lo, first)
                hi = max(hi, last)
            } else {
                rows.append((i, []))
            }
            for q in support { current[q] = 0 }
        }
        if lo > hi { lo = outputs.lowerBound; hi = outputs.lowerBound }
        self.span = lo...hi
        var offsets = [Int](), all = [Double]()
        for row in rows {
            offsets.append(all.count)
            all.append(contentsOf: row.weights)
        }
        self.rowFirst = rows.map { row in row.weights.isEmpty ? 0 : row.first - lo }
        self.rowLength = rows.map(\.weights.count)
        self.rowOffset = offsets
        self.weights = all
        let first = rows.first
        self.regular = first.map { f in
            !f.weights.isEmpty && rows.enumerated().allSatisfy { r, row in
                row.first == f.first + r && row.weights == f.weights
            }
        } ?? false
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
        let m = cascade.outputs.count
        let out = [Double](unsafeUninitializedCapacity: outSize.count) { outBuffer, initialised in
            values.withUnsafeBufferPointer { srcBuffer in
                cascade.weights.withUnsafeBufferPointer { wBuffer in
                    let src = srcBuffer.baseAddress!, dst = outBuffer.baseAddress!
                    func row(_ r: Int) -> UnsafeBufferPointer<Double> {
                        UnsafeBufferPointer(rebasing: wBuffer[cascade.rowOffset[r]..<(cascade.rowOffset[r] + cascade.rowLength[r])])
                    }
                    if axis == 0 {
                        if cascade.regular {
                            // Every output the same taps one voxel further: a correlation along each x line.
                            let taps = RowTap.list(Array(row(0)), stride: 1), first = offset + cascade.rowFirst[0]
                            taps.withUnsafeBufferPointer { taps in
                                for line in 0..<(size.ny * size.nz) {
                                    FilterBlock.correlateRow(src + line * size.nx + first, taps: taps,
                                                             into: dst + line * m, count: m)
                                }
                            }
                        } else {
                            // Each x line: one dot product per output.
                            for line in 0..<(size.ny * size.nz) {
                                let input = src + line * size.nx + offset, output = dst + line * m
                                for r in 0..<m {
                                    let w = row(r), x = input + cascade.rowFirst[r]
                                    var sum = 0.0
                                    for t in 0..<w.count where w[t] != 0 { sum += w[t] * x[t] }
                                    output[r] = sum
                                }
                            }
                        }
                    } else {
                        // Along y (z): whole x rows (xy planes) weighted and summed, contiguous and vectorised.
                        let run = axis == 1 ? size.nx : size.nx * size.ny
                        let outer = axis == 1 ? size.nz : 1
                        let inStride = axis == 1 ? size.nx * size.ny : 0
                        let outStride = axis == 1 ? size.nx * m : 0
                        for o in 0..<outer {
                            for r in 0..<m {
                                FilterBlock.correlateRow(src + o * inStride + (offset + cascade.rowFirst[r]) * run,
                                                         stride: run, taps: row(r), into: dst + o * outStride + r * run,
                                                         count: run)
                            }
                        }
                    }
                }
            }
            initialised = outSize.count
        }
        return FilterBlock(origin: outOrigin, size: outSize, values: out)
    }
}
