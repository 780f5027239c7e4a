import Foundation

/// Neighbourhood grey tone difference matrix features (IBSI 1, section 3.10, family `IPET`).
///
/// For each ROI voxel `k` with grey level `i`, `X̄_k` is the mean grey level of its ROI
/// neighbours within Chebyshev distance `δ` (in-plane for 2D and 2.5D), the voxel itself
/// excluded; voxels without ROI neighbours are left out. The NGTDM holds, per grey level,
/// `s_i = Σ |i - X̄_k|` and the count `n_i` of such voxels. With `N_vc = Σ n_i`,
/// `p_i = n_i / N_vc` and `N_gp` the number of levels with `p_i > 0`, the features are those of
/// `Feature`; double sums run over levels with `p_i > 0`.
///
/// 2D averages each feature over slices; 2.5D sums `s_i` and `n_i` over slices; 3D uses the
/// volume's neighbourhoods.
public enum NGTDM {
    /// The IBSI 1 NGTDM features; the raw value is the feature part of the IBSI tag.
    public enum Feature: String, CaseIterable, Sendable {
        /// Coarseness (`QCDE`): `1 / Σ_i p_i s_i`, and 10⁶ when that sum is 0.
        case coarseness = "coarseness"
        /// Contrast (`65HE`): `[Σ_ij p_i p_j (i - j)² / (N_gp (N_gp - 1))] · Σ_i s_i / N_vc`, 0 when `N_gp = 1`.
        case contrast = "contrast"
        /// Busyness (`NQ30`): `Σ_i p_i s_i / Σ_ij |i p_i - j p_j|`, 0 when `N_gp = 1`.
        case busyness = "busyness"
        /// Complexity (`HDEZ`): `Σ_ij |i - j| (p_i s_i + p_j s_j) / (p_i + p_j) / N_vc`.
        case complexity = "complexity"
        /// Strength (`1X9X`): `Σ_ij (p_i + p_j)(i - j)² / Σ_i s_i`, 0 when `Σ_i s_i = 0`.
        case strength = "strength"
    }

    /// NGTDM features of `roi` for each requested aggregation (`avg` and `comb` of one
    /// dimensionality are the same single-matrix value), neighbourhoods of Chebyshev radius
    /// `distance`. NaN with a note when no ROI voxel has a neighbour in the ROI.
    public static func features(
        _ roi: DiscretisedROI, aggregations: [TextureAggregation], distance: Int = 1
    ) -> [FeatureValue] {
        let wanted = TextureOutput.distinct(aggregations, singleMatrix: true)
        guard !wanted.isEmpty else { return [] }
        let grid = TextureGrid(roi)
        let radius = max(distance, 1)
        let needsPlanar = wanted.contains { $0.singleMatrixSuffix != "3D" }
        let needs3D = wanted.contains { $0.singleMatrixSuffix == "3D" }
        // Per voxel, (ROI voxels in the box) << sumBits + (sum of their levels), in 32 bits when
        // that fits.
        let side = 2 * radius + 1
        let maxCount = side * side * side
        let sumBits = (maxCount * grid.greyLevels).bitWidth - (maxCount * grid.greyLevels).leadingZeroBitCount
        let countBits = maxCount.bitWidth - maxCount.leadingZeroBitCount
        let (sliceMatrices, volumeMatrix) = sumBits + countBits <= 31
            ? matrices(Int32.self, grid, radius: radius, sumBits: sumBits, planar: needsPlanar, volume: needs3D)
            : matrices(Int64.self, grid, radius: radius, sumBits: sumBits, planar: needsPlanar, volume: needs3D)
        let computed = SingleMatrixAggregation.compute(
            wanted, grid: grid, featureCount: Feature.allCases.count,
            slice: { sliceMatrices[$0] },
            mergedSlices: {
                var merged = Matrix(greyLevels: grid.greyLevels)
                for slice in sliceMatrices { merged.add(slice) }
                return merged
            },
            volume: { volumeMatrix },
            values: values)
        var result: [FeatureValue] = []
        for (aggregation, values) in zip(wanted, computed) {
            result += TextureOutput.values(
                Feature.self, family: .ngtdm, suffix: aggregation.singleMatrixSuffix, values: values,
                emptyReason: "no ROI voxel has an ROI neighbour within distance \(radius) (e.g. a one-voxel ROI)")
        }
        return result
    }

    /// `s_i` and `n_i` per grey level (index `i - 1`).
    struct Matrix {
        var differences: [Double]
        var counts: [Double]

        init(greyLevels: Int) {
            differences = [Double](repeating: 0, count: greyLevels)
            counts = [Double](repeating: 0, count: greyLevels)
        }

        mutating func add(_ other: Matrix) {
            for i in counts.indices {
                differences[i] += other.differences[i]
                counts[i] += other.counts[i]
            }
        }
    }

    /// The NGTDM of each slice (in-plane neighbourhoods) and of the volume, as asked for.
    private static func matrices<Word: FixedWidthInteger & SignedInteger>(
        _ word: Word.Type, _ grid: TextureGrid, radius: Int, sumBits: Int, planar: Bool, volume: Bool
    ) -> (slices: [Matrix], volume: Matrix?) {
        // Levels are never negative: min(level, 1) is 1 for an ROI voxel, 0 outside (without a branch: vectorised).
        let shift = Word(sumBits)
        var sums: [Word] = grid.levels.mapVoxels { Word(truncatingIfNeeded: min($0, 1)) &<< shift | Word(truncatingIfNeeded: $0) }
        boxSum(&sums, count: grid.nx, stride: 1, radius: radius)
        boxSum(&sums, count: grid.ny, stride: grid.nx, radius: radius)
        let slices = planar ? (0..<grid.nz).map { z in
            matrix(grid, sums: sums, sumBits: sumBits, slices: z..<(z + 1))
        } : []
        guard volume else { return (slices, nil) }
        boxSum(&sums, count: grid.nz, stride: grid.sliceSize, radius: radius)
        return (slices, matrix(grid, sums: sums, sumBits: sumBits, slices: nil))
    }

    /// Replaces each value by the sum of the values within `radius` along one axis, whose
    /// `count` positions are `stride` values apart (1, `nx` or `nx·ny` for x, y or z).
    ///
    /// Works on whole blocks of `stride` contiguous values through prefix sums, so the y and
    /// z passes run over contiguous rows and planes.
    private static func boxSum<Word: FixedWidthInteger>(_ values: inout [Word], count: Int, stride: Int, radius: Int) {
        let chunk = count * stride
        // Only the first `stride` prefix sums (zeros) are read before they are written.
        let prefixCount = (count + 1) * stride
        var prefix = [Word](unsafeUninitializedCapacity: prefixCount) { prefix, initialised in
            prefix.baseAddress?.initialize(repeating: 0, count: Swift.min(stride, prefixCount))
            initialised = prefixCount
        }
        let total = values.count
        values.withUnsafeMutableBufferPointer { values in
            prefix.withUnsafeMutableBufferPointer { prefix in
                // Plain pointers (no buffer reached through the closure's context), so the loops vectorise.
                guard let values = values.baseAddress, let prefix = prefix.baseAddress else { return }
                for base in Swift.stride(from: 0, to: total, by: chunk) {
                    if stride == 1 {
                        for t in 0..<count { prefix[t &+ 1] = prefix[t] &+ values[base &+ t] }
                        // Windows clipped at the row's ends, then the inner ones (no clipping: vectorised).
                        let head = min(radius, count), tail = max(head, count &- radius)
                        func clipped(_ t: Int) {
                            values[base &+ t] = prefix[min(t &+ radius, count &- 1) &+ 1] &- prefix[max(t &- radius, 0)]
                        }
                        for t in 0..<head { clipped(t) }
                        for t in tail..<count { clipped(t) }
                        for t in head..<tail { values[base &+ t] = prefix[t &+ radius &+ 1] &- prefix[t &- radius] }
                        continue
                    }
                    for t in 0..<count {
                        let from = t * stride, to = from + stride
                        for k in 0..<stride { prefix[to &+ k] = prefix[from &+ k] &+ values[base &+ from &+ k] }
                    }
                    for t in 0..<count {
                        let low = max(t - radius, 0) * stride, high = (min(t + radius, count - 1) + 1) * stride
                        let out = base + t * stride
                        for k in 0..<stride { values[out &+ k] = prefix[high &+ k] &- prefix[low &+ k] }
                    }
                }
            }
        }
    }

    /// The NGTDM of the ROI voxels of `slices` (all when nil), from neighbourhood sums that include the voxel.
    ///
    /// Two passes over each row's stretch of ROI voxels (`TextureGrid.roiRanges`), 256 voxels at a time: first
    /// `|i - X̄_k|` of every voxel, without a branch (vectorised: the division and subtraction are the same IEEE
    /// operations in each lane), and its level, 0 for a voxel outside the ROI or without neighbours; then the
    /// differences are added to their level's sum one after another in voxel order, as before. The counts are
    /// integers until the end (a double count that adds 1 each time is the same number).
    private static func matrix<Word: FixedWidthInteger & SignedInteger>(
        _ grid: TextureGrid, sums: [Word], sumBits: Int, slices: Range<Int>?
    ) -> Matrix {
        var matrix = Matrix(greyLevels: grid.greyLevels)
        var counts = [Int](repeating: 0, count: grid.greyLevels)
        let sumMask: Word = (1 << Word(sumBits)) &- 1
        let one: Word = 1 << Word(sumBits)
        let shift = Word(sumBits)
        grid.levels.withUnsafeBufferPointer { levels in
            sums.withUnsafeBufferPointer { sums in
                matrix.differences.withUnsafeMutableBufferPointer { differences in
                    counts.withUnsafeMutableBufferPointer { counts in
                        withUnsafeTemporaryAllocation(of: Double.self, capacity: 256) { distance in
                            withUnsafeTemporaryAllocation(of: Int32.self, capacity: 256) { kept in
                                // Plain pointers (no buffer reached through the closure's context): the first
                                // loop vectorises.
                                guard let levels = levels.baseAddress, let sums = sums.baseAddress,
                                      let differences = differences.baseAddress, let counts = counts.baseAddress,
                                      let distance = distance.baseAddress, let kept = kept.baseAddress else { return }
                                grid.roiRanges(slices: slices) { range in
                                    var start = range.lowerBound
                                    while start < range.upperBound {
                                        let m = min(256, range.upperBound &- start)
                                        for j in 0..<m {
                                            let level = levels[start &+ j]
                                            let others = sums[start &+ j] &- one &- Word(level)
                                            let neighbours = others >> shift
                                            let mean = Double(others & sumMask) / Double(neighbours)
                                            distance[j] = abs(Double(level) - mean)
                                            kept[j] = level > 0 && neighbours > 0 ? level : 0
                                        }
                                        for j in 0..<m {
                                            let level = Int(kept[j])
                                            guard level > 0 else { continue }
                                            differences[level &- 1] += distance[j]
                                            counts[level &- 1] &+= 1
                                        }
                                        start &+= m
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
        matrix.counts = counts.mapVoxels(Double.init)
        return matrix
    }

    /// The features of one NGTDM in `Feature.allCases` order; nil when no voxel has a neighbour.
    static func values(_ matrix: Matrix) -> [Double]? {
        let total = matrix.counts.reduce(0, +)
        guard total > 0 else { return nil }
        let present = matrix.counts.indices.filter { matrix.counts[$0] > 0 }
        let p = matrix.counts.map { $0 / total }
        let s = matrix.differences
        let weighted = present.reduce(0) { $0 + p[$1] * s[$1] }
        let differenceSum = s.reduce(0, +)
        var spread = 0.0, busynessDenominator = 0.0, complexity = 0.0, strength = 0.0
        for a in present {
            for b in present {
                let d = Double(a - b)
                spread += p[a] * p[b] * d * d
                busynessDenominator += abs(Double(a + 1) * p[a] - Double(b + 1) * p[b])
                complexity += abs(d) * (p[a] * s[a] + p[b] * s[b]) / (p[a] + p[b])
                strength += (p[a] + p[b]) * d * d
            }
        }
        let levelsPresent = Double(present.count)
        return Feature.allCases.map { feature in
            switch feature {
            case .coarseness:
                return weighted > 0 ? 1 / weighted : 1e6
            case .contrast:
                return present.count > 1 ? spread / (levelsPresent * (levelsPresent - 1)) * differenceSum / total : 0
            case .busyness:
                guard present.count > 1 else { return 0 }
                return busynessDenominator > 0 ? weighted / busynessDenominator : .nan
            case .complexity:
                return complexity / total
            case .strength:
                return differenceSum > 0 ? strength / differenceSum : 0
            }
        }
    }
}

extension NGTDM.Feature: TextureFeatureName {
    var undefinedReason: String {
        switch self {
        case .busyness: return "undefined: i·p_i is the same for every grey level present"
        default: return "undefined for this matrix"
        }
    }
}
