import Foundation

/// Grey level co-occurrence matrix features (IBSI 1, section 3.6, family `LFYI`).
///
/// A GLCM counts how often grey levels `i` and `j` occur in two ROI voxels a step `δ·m`
/// apart along direction `m`, in both senses, so the matrix is symmetric. With `N_g` grey
/// levels, `p_ij` the counts over their sum, marginal `p_i.` (= `p_.j`), mean `μ = Σ i p_i.`,
/// diagonal probabilities `p_{i-j,k} = Σ p_ij [|i-j| = k]` and cross-diagonal
/// `p_{i+j,k} = Σ p_ij [i+j = k]`, the features are those of `Feature`.
///
/// Matrices per direction: 4 in-plane directions per slice (2D), the same 4 summed over
/// slices (2.5D), or all 13 directions of the volume (3D); `avg` averages the feature over the
/// direction matrices (and slices), `comb` computes it on the merged matrix (per slice for 2D).
public enum GLCM {
    /// The IBSI 1 GLCM features; the raw value is the feature part of the IBSI tag.
    public enum Feature: String, CaseIterable, Sendable {
        /// Joint maximum (`GYBY`): `max_ij p_ij`.
        case jointMaximum = "joint_max"
        /// Joint average (`60VM`): `Σ_ij i p_ij`.
        case jointAverage = "joint_avg"
        /// Joint variance (`UR99`): `Σ_ij (i - μ)² p_ij`.
        case jointVariance = "joint_var"
        /// Joint entropy (`TU9B`): `-Σ_ij p_ij log2 p_ij`.
        case jointEntropy = "joint_entr"
        /// Difference average (`TF7R`): `Σ_k k p_{i-j,k}`.
        case differenceAverage = "diff_avg"
        /// Difference variance (`D3YU`): `Σ_k (k - μ_d)² p_{i-j,k}`, `μ_d` the difference average.
        case differenceVariance = "diff_var"
        /// Difference entropy (`NTRS`): `-Σ_k p_{i-j,k} log2 p_{i-j,k}`.
        case differenceEntropy = "diff_entr"
        /// Sum average (`ZGXS`): `Σ_k k p_{i+j,k}`, k = 2...2N_g.
        case sumAverage = "sum_avg"
        /// Sum variance (`OEEB`): `Σ_k (k - μ_s)² p_{i+j,k}`, `μ_s` the sum average.
        case sumVariance = "sum_var"
        /// Sum entropy (`P6QZ`): `-Σ_k p_{i+j,k} log2 p_{i+j,k}`.
        case sumEntropy = "sum_entr"
        /// Angular second moment, energy (`8ZQL`): `Σ_ij p_ij²`.
        case angularSecondMoment = "energy"
        /// Contrast (`ACUI`): `Σ_ij (i - j)² p_ij`.
        case contrast = "contrast"
        /// Dissimilarity (`8S9J`): `Σ_ij |i - j| p_ij`.
        case dissimilarity = "dissimilarity"
        /// Inverse difference (`IB1Z`): `Σ_ij p_ij / (1 + |i - j|)`.
        case inverseDifference = "inv_diff"
        /// Normalised inverse difference (`NDRX`): `Σ_ij p_ij / (1 + |i - j| / N_g)`.
        case normalisedInverseDifference = "inv_diff_norm"
        /// Inverse difference moment (`WF0Z`): `Σ_ij p_ij / (1 + (i - j)²)`.
        case inverseDifferenceMoment = "inv_diff_mom"
        /// Normalised inverse difference moment (`1QCO`): `Σ_ij p_ij / (1 + (i - j)² / N_g²)`.
        case normalisedInverseDifferenceMoment = "inv_diff_mom_norm"
        /// Inverse variance (`E8JP`): `2 Σ_{i<j} p_ij / (i - j)²`.
        case inverseVariance = "inv_var"
        /// Correlation (`NI2N`): `(Σ_ij i j p_ij - μ²) / σ²`, `σ²` the variance of `p_i.`.
        case correlation = "corr"
        /// Autocorrelation (`QWB0`): `Σ_ij i j p_ij`.
        case autocorrelation = "auto_corr"
        /// Cluster tendency (`DG8W`): `Σ_ij (i + j - 2μ)² p_ij`.
        case clusterTendency = "clust_tend"
        /// Cluster shade (`7NFM`): `Σ_ij (i + j - 2μ)³ p_ij`.
        case clusterShade = "clust_shade"
        /// Cluster prominence (`AE86`): `Σ_ij (i + j - 2μ)⁴ p_ij`.
        case clusterProminence = "clust_prom"
        /// First information correlation (`R8DG`): `(HXY - HXY1) / HX`, with joint entropy `HXY`,
        /// marginal entropy `HX = -Σ p_i. log2 p_i.` and `HXY1 = -Σ_ij p_ij log2(p_i. p_.j)`.
        case informationCorrelation1 = "info_corr1"
        /// Second information correlation (`JN9H`): `sqrt(1 - exp(-2 (HXY2 - HXY)))`, with
        /// `HXY2 = -Σ_ij p_i. p_.j log2(p_i. p_.j)`.
        case informationCorrelation2 = "info_corr2"
    }

    /// GLCM features of `roi` for each requested aggregation, neighbours `distance` voxels apart
    /// (Chebyshev). Features with no neighbouring pair of ROI voxels are NaN with a note.
    public static func features(
        _ roi: DiscretisedROI, aggregations: [TextureAggregation], distance: Int = 1
    ) -> [FeatureValue] {
        let wanted = TextureOutput.distinct(aggregations, singleMatrix: false)
        guard !wanted.isEmpty else { return [] }
        let grid = TextureGrid(roi)
        let step = max(distance, 1)
        let cellCount = (grid.greyLevels + 1) * (grid.greyLevels + 1)
        let extents = grid.rowExtents()
        let computed = DirectionalAggregation.compute(
            wanted, grid: grid, step: step, featureCount: Feature.allCases.count,
            zero: { _ in Counts(cells: [Int32](repeating: 0, count: cellCount)) },
            count: { counts, direction, slices in
                count(grid, direction, slices: slices, into: &counts.cells, extents: extents)
            },
            values: { values($0.cells, greyLevels: grid.greyLevels) })
        var result: [FeatureValue] = []
        for (aggregation, values) in zip(wanted, computed) {
            let within = aggregation.singleMatrixSuffix == "3D" ? "the volume" : "any slice"
            result += TextureOutput.values(
                Feature.self, family: .glcm, suffix: aggregation.rawValue, values: values,
                emptyReason: "no two ROI voxels are neighbours at distance \(step) in \(within) (e.g. a one-voxel ROI)")
        }
        return result
    }

    /// Asymmetric co-occurrence counts of one or more directions.
    struct Counts: DirectionalMatrix {
        var cells: [Int32]

        mutating func add(_ other: Counts) {
            cells.withUnsafeMutableBufferPointer { cells in
                other.cells.withUnsafeBufferPointer { more in
                    for index in 0..<cells.count { cells[index] &+= more[index] }
                }
            }
        }

        mutating func move(into sum: inout Counts) {
            precondition(sum.cells.count == cells.count, "merged counts have the same grey levels")
            cells.withUnsafeMutableBufferPointer { cells in
                sum.cells.withUnsafeMutableBufferPointer { sum in
                    for index in 0..<cells.count {
                        sum[index] &+= cells[index]
                        cells[index] = 0
                    }
                }
            }
        }
    }

    /// Adds the co-occurrences along `offset` within `slices` to the (N_g+1)² asymmetric counts
    /// `cells[a * (N_g+1) + b]`. Only pairs within the ROI's extents of their two rows are visited;
    /// row and column 0 take pairs there with a voxel outside the ROI, which the features ignore.
    static func count(_ grid: TextureGrid, _ offset: Offset3, slices: Range<Int>, into cells: inout [Int32],
                      extents: [(lower: Int, upper: Int)]? = nil) {
        let stride = grid.greyLevels + 1
        let shift = offset.linear(grid)
        let extents = extents ?? grid.rowExtents()
        // Cells fit 32 bits (the matrix has fewer than 2^31 of them): eight pairs' cells are made at once.
        let eightAtATime = cells.count <= Int(Int32.max)
        grid.levels.withUnsafeBufferPointer { levels in
            cells.withUnsafeMutableBufferPointer { cells in
                let levels = levels.baseAddress!, counts = cells.baseAddress!
                let lanes = LaneBuffer()
                RowKernels.roiRows(grid, offset, extents: extents, slices: slices) { row in
                    countRow(levels, counts, row, shift: shift, stride: stride, eightAtATime: eightAtATime, lanes.pointer)
                }
            }
        }
    }

    /// The pairs of the voxels in `row` and those `shift` further on, eight at a time when their cells fit 32 bits.
    ///
    /// Not inlined, so that `RowKernels.increment` reads its lanes back from memory: inlined, the optimiser may see that
    /// `lanes` is not `counts` and take each lane out of the vector register instead (three instructions, not one), and
    /// the loop has registers enough for its pointers.
    @inline(never)
    private static func countRow(_ levels: UnsafePointer<Int32>, _ counts: UnsafeMutablePointer<Int32>, _ row: Range<Int>,
                                 shift: Int, stride: Int, eightAtATime: Bool, _ lanes: UnsafeMutablePointer<Int32>) {
        func load(_ pointer: UnsafePointer<Int32>) -> SIMD8<Int32> {
            UnsafeRawPointer(pointer).loadUnaligned(as: SIMD8<Int32>.self)
        }
        var index = row.lowerBound
        if eightAtATime {
            let strides = SIMD8<Int32>(repeating: Int32(truncatingIfNeeded: stride)), last = row.upperBound &- 8
            while index <= last {
                let cell = load(levels + index) &* strides &+ load(levels + (index &+ shift))
                RowKernels.increment(counts, cells: cell, through: lanes)
                index &+= 8
            }
        }
        while index < row.upperBound {
            counts[Int(levels[index]) &* stride &+ Int(levels[index &+ shift])] &+= 1
            index &+= 1
        }
    }

    /// For each grey level `i` in 1...N_g, a range `lower[i]...upper[i]` of `j >= i` (empty when `lower[i] > upper[i]`)
    /// outside which every symmetric count `c_ij + c_ji` is zero.
    ///
    /// `c_ij + c_ji` can be non-zero only where `c_ij` is (`j` between the first and last non-zero column of row `i`)
    /// or `c_ji` is (`i` between those of row `j`): `j` at most the last row whose first non-zero column is at most `i`,
    /// and at least the first row whose last non-zero column is at least `i`. Rows are scanned from both ends eight
    /// cells at a time.
    static func pairRanges(_ c: UnsafeBufferPointer<Int32>, greyLevels ng: Int) -> (lower: [Int], upper: [Int]) {
        let stride = ng + 1
        precondition(c.count == stride * stride, "(N_g + 1)² cells")
        func zero(_ pointer: UnsafePointer<Int32>) -> Bool {
            !any(UnsafeRawPointer(pointer).loadUnaligned(as: SIMD8<Int32>.self) .!= SIMD8<Int32>())
        }
        // The first and last non-zero column in 1...N_g of each row (N_g + 1 and 0 for a row of zeros).
        var first = [Int](repeating: ng + 1, count: stride), last = [Int](repeating: 0, count: stride)
        for a in 1..<stride {
            let row = c.baseAddress! + a * stride
            var j = 1
            while j + 8 <= stride && zero(row + j) { j += 8 }
            while j < stride && row[j] == 0 { j += 1 }
            guard j < stride else { continue }
            var k = ng
            while k - 8 >= j && zero(row + (k - 7)) { k -= 8 }
            while row[k] == 0 { k -= 1 }
            (first[a], last[a]) = (j, k)
        }
        // reach[i]: the last row whose first non-zero column is at most i; from[i]: the first row whose last non-zero
        // column is at least i.
        var reach = [Int](repeating: 0, count: stride + 1), from = [Int](repeating: stride, count: stride + 1)
        for row in 1..<stride where first[row] < stride {
            reach[first[row]] = max(reach[first[row]], row)
            from[last[row]] = min(from[last[row]], row)
        }
        for i in 1..<stride { reach[i] = max(reach[i], reach[i - 1]) }
        for i in Swift.stride(from: ng - 1, through: 0, by: -1) { from[i] = min(from[i], from[i + 1]) }
        var lower = [Int](repeating: 1, count: stride), upper = [Int](repeating: 0, count: stride)
        for i in 1..<stride {
            lower[i] = max(i, min(first[i], from[i]))
            upper[i] = min(ng, max(last[i], reach[i]))
        }
        return (lower, upper)
    }

    /// The features of the symmetric GLCM `C + Cᵀ` of the asymmetric counts `cells`, in
    /// `Feature.allCases` order; nil when there is no pair.
    static func values(_ cells: [Int32], greyLevels ng: Int) -> [Double]? {
        let stride = ng + 1
        // Symmetric counts m_ij = c_ij + c_ji, summed over i <= j with weight 2 off the diagonal.
        var marginal = [Int](repeating: 0, count: stride)
        var difference = [Int](repeating: 0, count: ng)
        var sum = [Int](repeating: 0, count: 2 * ng + 1)
        var largest = 0, squares = 0, products = 0, xLogX = 0.0
        let logs = CountLogarithms()
        cells.withUnsafeBufferPointer { c in
            // Most cells of a matrix with many grey levels are zero (neighbours have similar levels): only the band of
            // each row that can hold a non-zero count is visited, in the same order.
            let (lower, upper) = pairRanges(c, greyLevels: ng)
            marginal.withUnsafeMutableBufferPointer { marginal in
                difference.withUnsafeMutableBufferPointer { difference in
                    sum.withUnsafeMutableBufferPointer { sum in
                        // The diagonal cell (weight 1) first, then the others of the row (weight 2), in the order
                        // of `j` as before: the sum of `c log2 c` is the same to the bit (doubling is exact).
                        for i in 1...ng where lower[i] <= upper[i] {
                            var rowMarginal = 0
                            if lower[i] == i {
                                let m = Int(c[i &* stride &+ i] &+ c[i &* stride &+ i])
                                if m != 0 {
                                    if m > largest { largest = m }
                                    xLogX += logs.xLog2x(m)
                                    squares &+= m &* m
                                    products &+= i &* i &* m
                                    rowMarginal = m
                                    difference[0] &+= m
                                    sum[i &+ i] &+= m
                                }
                            }
                            var j = max(lower[i], i &+ 1)
                            while j <= upper[i] {
                                let m = Int(c[i &* stride &+ j] &+ c[j &* stride &+ i])
                                if m != 0 {
                                    if m > largest { largest = m }
                                    xLogX += 2 * logs.xLog2x(m)
                                    squares &+= 2 &* m &* m
                                    products &+= 2 &* i &* j &* m
                                    rowMarginal &+= m
                                    marginal[j] &+= m
                                    difference[j &- i] &+= 2 &* m
                                    sum[i &+ j] &+= 2 &* m
                                }
                                j &+= 1
                            }
                            marginal[i] &+= rowMarginal
                        }
                    }
                }
            }
        }
        let counted = marginal.reduce(0, +)
        guard counted > 0 else { return nil }
        let total = Double(counted)
        let jointMaximum = Double(largest) / total
        let jointEntropy = CountLogarithms.entropy(sumOfXLog2X: xLogX, total: total)
        let energy = Double(squares) / (total * total)
        let autocorrelation = Double(products) / total
        let marginalP = marginal.map { Double($0) / total }
        let differenceP = difference.map { Double($0) / total }
        let sumP = sum.map { Double($0) / total }
        var mean = 0.0, variance = 0.0, marginalEntropy = 0.0
        for i in 1...ng { mean += Double(i) * marginalP[i] }
        for i in 1...ng where marginalP[i] > 0 {
            variance += (Double(i) - mean) * (Double(i) - mean) * marginalP[i]
            marginalEntropy += entropyTerm(marginalP[i])
        }

        let g = Double(ng)
        var differenceAverage = 0.0, differenceEntropy = 0.0, contrast = 0.0
        var inverseDifference = 0.0, inverseDifferenceNorm = 0.0, inverseMoment = 0.0, inverseMomentNorm = 0.0
        var inverseVariance = 0.0
        for (k, p) in differenceP.enumerated() where p > 0 {
            let d = Double(k)
            differenceAverage += d * p
            differenceEntropy += entropyTerm(p)
            contrast += d * d * p
            inverseDifference += p / (1 + d)
            inverseDifferenceNorm += p / (1 + d / g)
            inverseMoment += p / (1 + d * d)
            inverseMomentNorm += p / (1 + d * d / (g * g))
            if k > 0 { inverseVariance += p / (d * d) }
        }
        var differenceVariance = 0.0
        for (k, p) in differenceP.enumerated() where p > 0 {
            differenceVariance += (Double(k) - differenceAverage) * (Double(k) - differenceAverage) * p
        }

        var sumAverage = 0.0, sumEntropy = 0.0
        for (k, p) in sumP.enumerated() where p > 0 {
            sumAverage += Double(k) * p
            sumEntropy += entropyTerm(p)
        }
        var sumVariance = 0.0, tendency = 0.0, shade = 0.0, prominence = 0.0
        for (k, p) in sumP.enumerated() where p > 0 {
            let s = Double(k) - sumAverage
            sumVariance += s * s * p
            let c = Double(k) - 2 * mean
            tendency += c * c * p
            shade += c * c * c * p
            prominence += c * c * c * c * p
        }

        // For a symmetric matrix HXY1 = HXY2 = 2 HX.
        let hxy1 = 2 * marginalEntropy
        return Feature.allCases.map { feature in
            switch feature {
            case .jointMaximum: return jointMaximum
            case .jointAverage: return mean
            case .jointVariance: return variance
            case .jointEntropy: return jointEntropy
            case .differenceAverage: return differenceAverage
            case .differenceVariance: return differenceVariance
            case .differenceEntropy: return differenceEntropy
            case .sumAverage: return sumAverage
            case .sumVariance: return sumVariance
            case .sumEntropy: return sumEntropy
            case .angularSecondMoment: return energy
            case .contrast: return contrast
            case .dissimilarity: return differenceAverage
            case .inverseDifference: return inverseDifference
            case .normalisedInverseDifference: return inverseDifferenceNorm
            case .inverseDifferenceMoment: return inverseMoment
            case .normalisedInverseDifferenceMoment: return inverseMomentNorm
            case .inverseVariance: return inverseVariance
            case .correlation: return variance > 0 ? (autocorrelation - mean * mean) / variance : .nan
            case .autocorrelation: return autocorrelation
            case .clusterTendency: return tendency
            case .clusterShade: return shade
            case .clusterProminence: return prominence
            case .informationCorrelation1:
                return marginalEntropy > 0 ? (jointEntropy - hxy1) / marginalEntropy : .nan
            case .informationCorrelation2:
                return (max(0, 1 - exp(-2 * (hxy1 - jointEntropy)))).squareRoot()
            }
        }
    }
}

extension GLCM.Feature: TextureFeatureName {
    var undefinedReason: String {
        switch self {
        case .correlation: return "undefined: a single grey level co-occurs (zero variance)"
        case .informationCorrelation1: return "undefined: a single grey level co-occurs (zero marginal entropy)"
        default: return "undefined for this matrix"
        }
    }
}
