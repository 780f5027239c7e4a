/// Neighbouring grey level dependence matrix features (IBSI 1, section 3.11, family `REK0`).
///
/// A voxel `k` of grey level `i` depends on each ROI neighbour within Chebyshev distance `δ`
/// (in-plane for 2D and 2.5D) whose grey level differs by at most the coarseness `α`; its
/// dependence count is `j = 1 +` that number. Every ROI voxel counts, neighbours outside the
/// ROI never do. The NGLDM counts `s_ij`, the voxels of grey level `i` with dependence `j`.
/// With `N_s = Σ s_ij` (= `N_v`), marginals `s_i.` and `s_.j` and `p_ij = s_ij / N_s`, the
/// features are those of `Feature`.
///
/// 2D averages each feature over slices; 2.5D merges the slices' matrices (and their `N_v`);
/// 3D uses the volume's neighbourhoods.
public enum NGLDM {
    /// The IBSI 1 NGLDM features; the raw value is the feature part of the IBSI tag.
    public enum Feature: String, CaseIterable, Sendable {
        /// Low dependence emphasis (`SODN`): `Σ_j s_.j / j² / N_s`.
        case lowDependenceEmphasis = "lde"
        /// High dependence emphasis (`IMOQ`): `Σ_j j² s_.j / N_s`.
        case highDependenceEmphasis = "hde"
        /// Low grey level count emphasis (`TL9H`): `Σ_i s_i. / i² / N_s`.
        case lowGreyLevelCountEmphasis = "lgce"
        /// High grey level count emphasis (`OAE7`): `Σ_i i² s_i. / N_s`.
        case highGreyLevelCountEmphasis = "hgce"
        /// Low dependence low grey level emphasis (`EQ3F`): `Σ_ij s_ij / (i² j²) / N_s`.
        case lowDependenceLowGreyLevelEmphasis = "ldlge"
        /// Low dependence high grey level emphasis (`JA6D`): `Σ_ij i² s_ij / j² / N_s`.
        case lowDependenceHighGreyLevelEmphasis = "ldhge"
        /// High dependence low grey level emphasis (`NBZI`): `Σ_ij j² s_ij / i² / N_s`.
        case highDependenceLowGreyLevelEmphasis = "hdlge"
        /// High dependence high grey level emphasis (`9QMG`): `Σ_ij i² j² s_ij / N_s`.
        case highDependenceHighGreyLevelEmphasis = "hdhge"
        /// Grey level non-uniformity (`FP8K`): `Σ_i s_i.² / N_s`.
        case greyLevelNonUniformity = "glnu"
        /// Normalised grey level non-uniformity (`5SPA`): `Σ_i s_i.² / N_s²`.
        case normalisedGreyLevelNonUniformity = "glnu_norm"
        /// Dependence count non-uniformity (`Z87G`): `Σ_j s_.j² / N_s`.
        case dependenceCountNonUniformity = "dcnu"
        /// Normalised dependence count non-uniformity (`OKJI`): `Σ_j s_.j² / N_s²`.
        case normalisedDependenceCountNonUniformity = "dcnu_norm"
        /// Dependence count percentage (`6XV8`): `N_s / N_v` (1 by construction).
        case dependenceCountPercentage = "dc_perc"
        /// Grey level variance (`1PFV`): `Σ_ij (i - μ)² p_ij`, `μ = Σ_ij i p_ij`.
        case greyLevelVariance = "gl_var"
        /// Dependence count variance (`DNX2`): `Σ_ij (j - μ)² p_ij`, `μ = Σ_ij j p_ij`.
        case dependenceCountVariance = "dc_var"
        /// Dependence count entropy (`FCBV`): `-Σ_ij p_ij log2 p_ij`.
        case dependenceCountEntropy = "dc_entr"
        /// Dependence count energy (`CAS9`): `Σ_ij p_ij²`.
        case dependenceCountEnergy = "dc_energy"
    }

    /// NGLDM features of `roi` for each requested aggregation (`avg` and `comb` of one
    /// dimensionality are the same single-matrix value), with neighbourhood radius `distance`
    /// (Chebyshev) and coarseness `α`. Only an empty ROI gives NaN.
    public static func features(
        _ roi: DiscretisedROI, aggregations: [TextureAggregation], distance: Int = 1, coarseness: Int = 0
    ) -> [FeatureValue] {
        let radius = max(distance, 1)
        let alpha = Int32(max(coarseness, 0))
        return SingleMatrixAggregation.levelMatrixFeatures(
            Feature.self, family: .ngldm, roi: roi, aggregations: aggregations,
            items: { grid, planar, volume in
                let counts = dependences(grid, radius: radius, alpha: alpha, planar: planar, volume: volume)
                // A voxel depends on at most every other voxel of its neighbourhood.
                let side = 2 * radius + 1
                return (counts.planar.map { items(grid, dependences: $0, bound: side * side) },
                        counts.volume.map { items(grid, dependences: $0, bound: side * side * side) })
            })
    }

    /// Per voxel, the dependence count `j` in the in-plane (`planar`) and/or the volume
    /// neighbourhood of Chebyshev radius `radius`: 1 plus the ROI neighbours whose levels differ
    /// by at most `alpha`; 0 outside the ROI.
    ///
    /// The counts are gathered: each voxel compares its level with those of all its neighbours,
    /// a block of voxels of one row at a time, its count staying in a register. Equal levels
    /// (`alpha` 0) are compared in the narrowest lanes that hold every level and count: bytes
    /// (32 voxels a vector) up to 255 grey levels and radius 2 in 3D, else 16 bits (16 voxels);
    /// other cases in 32-bit lanes (8 voxels).
    static func dependences(_ grid: TextureGrid, radius: Int, alpha: Int32, planar: Bool, volume: Bool)
        -> (planar: [Int32]?, volume: [Int32]?) {
        let side = 2 * radius + 1
        let largest = max(grid.greyLevels, volume ? side * side * side : side * side)
        // The vector types are concrete in each closure: their comparisons and subtractions are
        // then single instructions (generic ones work lane by lane on narrow lanes).
        if alpha == 0 && largest <= Int(UInt8.max) {
            return dependences(grid, radius: radius, planar: planar, volume: volume) { (count: SIMD32<UInt8>, own, other) in
                count &- lanes(own .== other)
            }
        } else if alpha == 0 && largest <= Int(UInt16.max) {
            return dependences(grid, radius: radius, planar: planar, volume: volume) { (count: SIMD16<UInt16>, own, other) in
                count &- lanes(own .== other)
            }
        }
        // Levels are never negative: they fit unsigned lanes.
        let most = SIMD8<UInt32>(repeating: UInt32(alpha))
        return dependences(grid, radius: radius, planar: planar, volume: volume) { (count: SIMD8<UInt32>, own, other) in
            let difference = pointwiseMax(own, other) &- pointwiseMin(own, other)
            return count &- (lanes(difference .<= most) & ~lanes(other .== .zero))
        }
    }

    /// The lanes of a mask as integers: all ones where it is true, 0 where false (a mask stores
    /// its lanes so), so that `count &- lanes(mask)` adds 1 where the mask is true. (The mask's
    /// own operators and `replacing(with:where:)` work lane by lane on byte lanes.)
    @inline(__always)
    private static func lanes<Lanes: SIMD>(_ mask: SIMDMask<Lanes.MaskStorage>) -> Lanes {
        unsafeBitCast(mask, to: Lanes.self)
    }

    /// `dependences` with levels and counts in `Lanes`, whose scalar holds every level and count;
    /// `adding(count, own, other)` adds 1 to `count` where the neighbour's level `other` counts for
    /// the voxel's level `own` (any value where `own` is 0).
    ///
    /// The levels are copied to a grid with a border of `radius` voxels of level 0, so that every
    /// voxel has all its neighbours at fixed offsets and the border, like the voxels outside the
    /// ROI, counts for no ROI voxel. The arrays are written row by row, zeros included, rather than
    /// cleared first: the zeros are the border and the rows' ends, and a clear is a pass of its own.
    @inline(__always)
    private static func dependences<Lanes: SIMD>(
        _ grid: TextureGrid, radius r: Int, planar: Bool, volume: Bool, _ adding: (Lanes, Lanes, Lanes) -> Lanes
    ) -> (planar: [Int32]?, volume: [Int32]?) where Lanes.Scalar: FixedWidthInteger & UnsignedInteger {
        let (nx, ny, nz) = (grid.nx, grid.ny, grid.nz)
        let (px, py, pz) = (nx + 2 * r, ny + 2 * r, nz + 2 * r)
        // The x from the first to the last ROI voxel of row `z * ny + y` of the grid.
        func roiXs(_ row: Int) -> Range<Int> {
            let extent = grid.extents[row]
            return extent.lower <= extent.upper ? extent.lower..<(extent.upper + 1) : nx..<nx
        }
        // Voxel (x, y, z) of the grid is voxel (x + r, y + r, z + r) of the padded grid.
        func padded(_ row: Int) -> Int { ((row / ny + r) * py + row % ny + r) * px + r }
        // A block starts at an ROI voxel and reads up to a vector beyond the padded grid's last voxel.
        let count = pz * py * px + Lanes.scalarCount
        let levels = [Lanes.Scalar](unsafeUninitializedCapacity: count) { levels, initialised in
            grid.levels.withUnsafeBufferPointer { source in
                for paddedRow in 0..<(pz * py) {
                    let (y, z) = (paddedRow % py - r, paddedRow / py - r)
                    let row = z * ny + y
                    // Padded x of the levels copied (none in a row of the border).
                    let xs = y >= 0 && y < ny && z >= 0 && z < nz ? roiXs(row) : nx..<nx
                    let to = levels.baseAddress! + paddedRow * px + r
                    for x in -r..<xs.lowerBound { to[x] = 0 }
                    if !xs.isEmpty {
                        let from = source.baseAddress! + row * nx
                        for x in xs { to[x] = Lanes.Scalar(truncatingIfNeeded: from[x]) }
                    }
                    for x in xs.upperBound..<(nx + r) { to[x] = 0 }
                }
                for index in (pz * py * px)..<count { levels[index] = 0 }
            }
            initialised = count
        }
        // Counts are written for the blocks of each row's extent before they are read, and read
        // there only; blocks run past the extents, and the counts of voxels outside the ROI are
        // meaningless. Both neighbourhoods write the same blocks.
        var counts = [Lanes.Scalar](unsafeUninitializedCapacity: count) { _, initialised in initialised = count }
        func dependences(volume: Bool) -> [Int32] {
            // The neighbours' offsets in the padded grid (the voxel itself excluded).
            var shifts: [Int] = []
            for dz in (volume ? -r...r : 0...0) {
                for dy in -r...r {
                    for dx in -r...r where dx != 0 || dy != 0 || dz != 0 { shifts.append((dz * py + dy) * px + dx) }
                }
            }
            // In bytes, for loads from the block's address.
            let size = MemoryLayout<Lanes.Scalar>.stride
            let byteShifts = shifts.map { $0 * size }
            let one = Lanes(repeating: 1)
            return levels.withUnsafeBytes { levelBytes in
                counts.withUnsafeMutableBufferPointer { counts in
                    byteShifts.withUnsafeBufferPointer { shifts in
                        for row in 0..<(ny * nz) {
                            let xs = roiXs(row), start = padded(row)
                            let blocks = stride(from: start + xs.lowerBound, to: start + xs.upperBound, by: Lanes.scalarCount)
                            for block in blocks {
                                let address = levelBytes.baseAddress! + block * size
                                let own = address.loadUnaligned(as: Lanes.self)
                                var count = one
                                for shift in shifts {
                                    count = adding(count, own, address.loadUnaligned(fromByteOffset: shift, as: Lanes.self))
                                }
                                UnsafeMutableRawPointer(counts.baseAddress! + block).storeBytes(of: count, as: Lanes.self)
                            }
                        }
                    }
                    return [Int32](unsafeUninitializedCapacity: nx * ny * nz) { voxels, initialised in
                        let levels = levelBytes.assumingMemoryBound(to: Lanes.Scalar.self).baseAddress!
                        for row in 0..<(ny * nz) {
                            let xs = roiXs(row), start = padded(row)
                            let (level, count) = (levels + start, counts.baseAddress! + start)
                            let to = voxels.baseAddress! + row * nx
                            for x in 0..<xs.lowerBound { to[x] = 0 }
                            for x in xs {
                                // Read unconditionally, so that the loop is vectorised.
                                let counted = Int32(truncatingIfNeeded: count[x])
                                to[x] = level[x] == 0 ? 0 : counted
                            }
                            for x in xs.upperBound..<nx { to[x] = 0 }
                        }
                        initialised = nx * ny * nz
                    }
                }
            }
        }
        return (planar ? dependences(volume: false) : nil, volume ? dependences(volume: true) : nil)
    }

    /// The grid's voxels as items: grey level and dependence count (voxels outside the ROI have
    /// level 0 and count 0), no count above `bound`.
    private static func items(_ grid: TextureGrid, dependences: [Int32], bound: Int) -> LevelItems {
        LevelItems(levels: grid.levels, values: dependences, valueBound: bound)
    }
}

extension NGLDM.Feature: LevelMatrixFeature {
    var quantity: LevelMatrixStatistics.Quantity {
        switch self {
        case .lowDependenceEmphasis: return .smallEmphasis
        case .highDependenceEmphasis: return .largeEmphasis
        case .lowGreyLevelCountEmphasis: return .lowGreyEmphasis
        case .highGreyLevelCountEmphasis: return .highGreyEmphasis
        case .lowDependenceLowGreyLevelEmphasis: return .smallLowGrey
        case .lowDependenceHighGreyLevelEmphasis: return .smallHighGrey
        case .highDependenceLowGreyLevelEmphasis: return .largeLowGrey
        case .highDependenceHighGreyLevelEmphasis: return .largeHighGrey
        case .greyLevelNonUniformity: return .greyNonUniformity
        case .normalisedGreyLevelNonUniformity: return .greyNonUniformityNormalised
        case .dependenceCountNonUniformity: return .secondNonUniformity
        case .normalisedDependenceCountNonUniformity: return .secondNonUniformityNormalised
        case .dependenceCountPercentage: return .percentage
        case .greyLevelVariance: return .greyVariance
        case .dependenceCountVariance: return .secondVariance
        case .dependenceCountEntropy: return .entropy
        case .dependenceCountEnergy: return .energy
        }
    }
}
