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

        // Per voxel (ROI neighbours << 32) + (sum of their levels), the voxel itself included.
        var inPlane: [Int64] = grid.levels.map { $0 > 0 ? (1 << 32) + Int64($0) : 0 }
        boxSum(&inPlane, count: grid.nx, stride: 1, lines: lines(grid, along: 0), radius: radius)
        boxSum(&inPlane, count: grid.ny, stride: grid.nx, lines: lines(grid, along: 1), radius: radius)
        var sliceMatrices: [Matrix] = []
        if needsPlanar {
            sliceMatrices = (0..<grid.nz).map { z in
                matrix(grid, sums: inPlane, voxels: (z * grid.sliceSize)..<((z + 1) * grid.sliceSize))
            }
        }
        let computed = SingleMatrixAggregation.compute(
            wanted, grid: grid, featureCount: Feature.allCases.count,
            slice: { sliceMatrices[$0] },
            mergedSlices: {
                var merged = Matrix(greyLevels: grid.greyLevels)
                for slice in sliceMatrices { merged.add(slice) }
                return merged
            },
            volume: {
                guard needs3D else { return nil }
                var volume = inPlane
                boxSum(&volume, count: grid.nz, stride: grid.sliceSize, lines: lines(grid, along: 2), radius: radius)
                return matrix(grid, sums: volume, voxels: 0..<grid.levels.count)
            },
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

    /// The first voxel of every line along `axis`.
    private static func lines(_ grid: TextureGrid, along axis: Int) -> [Int] {
        var starts: [Int] = []
        for z in 0..<(axis == 2 ? 1 : grid.nz) {
            for y in 0..<(axis == 1 ? 1 : grid.ny) {
                for x in 0..<(axis == 0 ? 1 : grid.nx) { starts.append((z * grid.ny + y) * grid.nx + x) }
            }
        }
        return starts
    }

    /// Replaces each value by the sum of the values within `radius` along lines of `count`
    /// voxels `stride` apart.
    private static func boxSum(_ values: inout [Int64], count: Int, stride: Int, lines: [Int], radius: Int) {
        var line = [Int64](repeating: 0, count: count)
        values.withUnsafeMutableBufferPointer { values in
            for start in lines {
                for t in 0..<count { line[t] = values[start + t * stride] }
                var window: Int64 = 0
                for t in 0..<min(radius, count) { window += line[t] }
                for t in 0..<count {
                    if t + radius < count { window += line[t + radius] }
                    if t - radius - 1 >= 0 { window -= line[t - radius - 1] }
                    values[start + t * stride] = window
                }
            }
        }
    }

    /// The NGTDM of the ROI voxels among `voxels`, from neighbourhood sums that include the voxel.
    private static func matrix(_ grid: TextureGrid, sums: [Int64], voxels: Range<Int>) -> Matrix {
        var matrix = Matrix(greyLevels: grid.greyLevels)
        for index in voxels {
            let level = grid.levels[index]
            guard level > 0 else { continue }
            let others = sums[index] - (1 << 32) - Int64(level)
            let neighbours = others >> 32
            guard neighbours > 0 else { continue }
            let mean = Double(others & 0xFFFF_FFFF) / Double(neighbours)
            matrix.differences[Int(level) - 1] += abs(Double(level) - mean)
            matrix.counts[Int(level) - 1] += 1
        }
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
