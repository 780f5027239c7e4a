import Foundation
import ImagingCore
@testable import Radiomics
import XCTest

/// Texture matrices and features on tiny ROIs computed by hand, and degenerate ROIs.
final class TextureMatrixTests: XCTestCase {
    /// A ROI from `slices[z][y][x]` grey levels (0 = outside).
    static func roi(_ slices: [[[Int32]]], binCount: Int? = nil) -> DiscretisedROI {
        let size = Size3(slices[0][0].count, slices[0].count, slices.count)
        let levels = slices.flatMap { $0.flatMap { $0 } }
        return DiscretisedROI(size: size, spacing: Vector3(1, 1, 1), levels: levels,
                              binCount: binCount ?? Int(levels.max() ?? 0))
    }

    /// 1 1 2 / 1 2 2 / 0 2 3 (rows y = 0, 1, 2): 8 voxels, 3 grey levels.
    static let small = roi([[[1, 1, 2], [1, 2, 2], [0, 2, 3]]])
    static let oneVoxel = roi([[[0, 0, 0], [0, 4, 0], [0, 0, 0]]], binCount: 5)
    static let singleLevel = roi([[[1, 1], [1, 1]], [[1, 1], [1, 0]]])

    static func value(_ features: [FeatureValue], _ tag: String) -> FeatureValue? {
        features.first { $0.ibsiTag == tag }
    }

    // MARK: GLCM

    func testCooccurrenceAlongXByHand() throws {
        let grid = TextureGrid(Self.small)
        var cells = [Int32](repeating: 0, count: 16)
        GLCM.count(grid, Offset3(1, 0, 0), slices: 0..<1, into: &cells)
        // Pairs (1,1) (1,2) (1,2) (2,2) (2,3): symmetric counts 2, 2+2, 2, 1+1 over 10.
        let values = try XCTUnwrap(GLCM.values(cells, greyLevels: 3))
        func f(_ feature: GLCM.Feature) -> Double { values[GLCM.Feature.allCases.firstIndex(of: feature)!] }
        XCTAssertEqual(f(.jointMaximum), 0.2, accuracy: 1e-12)
        XCTAssertEqual(f(.jointAverage), 1.7, accuracy: 1e-12)   // p_i. = 0.4, 0.5, 0.1
        XCTAssertEqual(f(.jointVariance), 0.41, accuracy: 1e-12)
        XCTAssertEqual(f(.angularSecondMoment), 0.18, accuracy: 1e-12)
        XCTAssertEqual(f(.contrast), 0.6, accuracy: 1e-12)
        XCTAssertEqual(f(.jointEntropy), -(0.8 * log2(0.2) + 0.2 * log2(0.1)), accuracy: 1e-12)
        XCTAssertEqual(f(.sumAverage), 3.4, accuracy: 1e-12)
        XCTAssertEqual(f(.inverseVariance), 0.6, accuracy: 1e-12)
        XCTAssertEqual(f(.autocorrelation), (0.2 * 1 + 0.4 * 2 + 0.2 * 4 + 0.2 * 6), accuracy: 1e-12)
    }

    func testGLCMMergedSliceAndVolumeAgreeOnOneSlice() throws {
        // Merging the 4 in-plane directions gives 17 pairs: (1,1)x3 (1,2)x6 (2,2)x5 (2,3)x3.
        let features = GLCM.features(Self.small, aggregations: TextureAggregation.allCases)
        XCTAssertEqual(features.count, 6 * GLCM.Feature.allCases.count)
        let slice = try XCTUnwrap(Self.value(features, "cm_joint_max_2D_comb"))
        XCTAssertEqual(slice.value, 10.0 / 34.0, accuracy: 1e-12)
        XCTAssertEqual(try XCTUnwrap(Self.value(features, "cm_contrast_2D_comb")).value, 18.0 / 34.0, accuracy: 1e-12)
        // Through-plane directions have no pairs in one slice, so 3D equals 2D here.
        for name in GLCM.Feature.allCases.map(\.rawValue) {
            let merged2D = try XCTUnwrap(Self.value(features, "cm_\(name)_2D_comb")).value
            let merged3D = try XCTUnwrap(Self.value(features, "cm_\(name)_3D_comb")).value
            let average2D = try XCTUnwrap(Self.value(features, "cm_\(name)_2D_avg")).value
            let average3D = try XCTUnwrap(Self.value(features, "cm_\(name)_3D_avg")).value
            XCTAssertEqual(merged2D, merged3D, accuracy: 1e-12, name)
            XCTAssertEqual(average2D, average3D, accuracy: 1e-12, name)
        }
    }

    func testGLCMOfOneVoxelIsNaNWithNote() {
        let features = GLCM.features(Self.oneVoxel, aggregations: TextureAggregation.allCases)
        XCTAssertEqual(features.count, 6 * GLCM.Feature.allCases.count)
        for feature in features {
            XCTAssertTrue(feature.value.isNaN, feature.ibsiTag)
            XCTAssertNotNil(feature.note, feature.ibsiTag)
        }
    }

    func testGLCMOfSingleLevelHasNotesOnlyWhereUndefined() throws {
        let features = GLCM.features(Self.singleLevel, aggregations: [.volume3DMerged])
        for feature in features {
            if feature.name == "corr" || feature.name == "info_corr1" {
                XCTAssertTrue(feature.value.isNaN, feature.ibsiTag)
                XCTAssertNotNil(feature.note, feature.ibsiTag)
            } else {
                XCTAssertTrue(feature.value.isFinite, feature.ibsiTag)
                XCTAssertNil(feature.note, feature.ibsiTag)
            }
        }
        XCTAssertEqual(try XCTUnwrap(Self.value(features, "cm_joint_max_3D_comb")).value, 1)
        XCTAssertEqual(try XCTUnwrap(Self.value(features, "cm_contrast_3D_comb")).value, 0)
        XCTAssertEqual(try XCTUnwrap(Self.value(features, "cm_info_corr2_3D_comb")).value, 0)
    }

    func testLongerDistanceSkipsNearNeighbours() throws {
        // Along x at distance 2 only (1, 2) in row 0 and (1, 2) in row 1 pair up.
        let grid = TextureGrid(Self.small)
        var cells = [Int32](repeating: 0, count: 16)
        GLCM.count(grid, Offset3(2, 0, 0), slices: 0..<1, into: &cells)
        let values = try XCTUnwrap(GLCM.values(cells, greyLevels: 3))
        XCTAssertEqual(values[GLCM.Feature.allCases.firstIndex(of: .jointMaximum)!], 0.5, accuracy: 1e-12)
        XCTAssertEqual(values[GLCM.Feature.allCases.firstIndex(of: .contrast)!], 1, accuracy: 1e-12)
    }

    // MARK: GLRLM

    func testRunsAlongXByHand() throws {
        let grid = TextureGrid(Self.small)
        var matrix = LevelMatrix(greyLevels: 3, maxValue: 3, voxelCount: 8)
        GLRLM.countRuns(grid, Offset3(1, 0, 0), slices: 0..<1, into: &matrix)
        // Runs: level 1 of lengths 2, 1; level 2 of lengths 1, 2, 1; level 3 of length 1.
        XCTAssertEqual(matrix.counts, [1, 1, 0, 2, 1, 0, 1, 0, 0])
        let values = try XCTUnwrap(GLRLM.Feature.values(matrix))
        func f(_ feature: GLRLM.Feature) -> Double { values[GLRLM.Feature.allCases.firstIndex(of: feature)!] }
        XCTAssertEqual(f(.shortRunsEmphasis), 4.5 / 6, accuracy: 1e-12)
        XCTAssertEqual(f(.longRunsEmphasis), 12.0 / 6, accuracy: 1e-12)
        XCTAssertEqual(f(.greyLevelNonUniformity), 14.0 / 6, accuracy: 1e-12)
        XCTAssertEqual(f(.runLengthNonUniformity), 20.0 / 6, accuracy: 1e-12)
        XCTAssertEqual(f(.runPercentage), 6.0 / 8, accuracy: 1e-12)
        XCTAssertEqual(f(.lowGreyLevelRunEmphasis), (2 + 3.0 / 4 + 1.0 / 9) / 6, accuracy: 1e-12)
        XCTAssertEqual(f(.runEntropy), -(4 * (1.0 / 6) * log2(1.0 / 6) + (2.0 / 6) * log2(2.0 / 6)), accuracy: 1e-12)
    }

    func testRunsAlongADiagonalThroughSlices() {
        // A 2x2x2 cube of one level: along (1,1,1) one run of 2 and six runs of 1.
        let grid = TextureGrid(Self.roi([[[1, 1], [1, 1]], [[1, 1], [1, 1]]]))
        var matrix = LevelMatrix(greyLevels: 1, maxValue: 2, voxelCount: 8)
        GLRLM.countRuns(grid, Offset3(1, 1, 1), slices: 0..<2, into: &matrix)
        XCTAssertEqual(matrix.counts, [6, 1])
    }

    func testGLRLMRunPercentageOfMergedDirectionsCountsVoxelsPerDirection() throws {
        let features = GLRLM.features(Self.singleLevel, aggregations: [.volume3DMerged, .volume3DAverage])
        let merged = try XCTUnwrap(Self.value(features, "rlm_r_perc_3D_comb")).value
        let average = try XCTUnwrap(Self.value(features, "rlm_r_perc_3D_avg")).value
        XCTAssertEqual(merged, average, accuracy: 1e-12)
        XCTAssertLessThanOrEqual(merged, 1)
    }

    func testGLRLMOfOneVoxelAndOneLevelAreDefined() throws {
        for roi in [Self.oneVoxel, Self.singleLevel] {
            let features = GLRLM.features(roi, aggregations: TextureAggregation.allCases)
            XCTAssertEqual(features.count, 6 * GLRLM.Feature.allCases.count)
            for feature in features {
                XCTAssertTrue(feature.value.isFinite, feature.ibsiTag)
                XCTAssertNil(feature.note)
            }
        }
        let one = GLRLM.features(Self.oneVoxel, aggregations: [.volume3DMerged])
        XCTAssertEqual(try XCTUnwrap(Self.value(one, "rlm_sre_3D_comb")).value, 1)
        XCTAssertEqual(try XCTUnwrap(Self.value(one, "rlm_r_perc_3D_comb")).value, 1)
        XCTAssertEqual(try XCTUnwrap(Self.value(one, "rlm_gl_var_3D_comb")).value, 0)
    }

    func testEmptyROIGivesNotesNotCrashes() {
        let empty = Self.roi([[[0, 0], [0, 0]]], binCount: 3)
        for features in [GLCM.features(empty, aggregations: TextureAggregation.allCases),
                         GLRLM.features(empty, aggregations: TextureAggregation.allCases),
                         GLSZM.features(empty, aggregations: TextureAggregation.allCases),
                         GLDZM.features(empty, morphologicalMask: nil, aggregations: TextureAggregation.allCases),
                         NGTDM.features(empty, aggregations: TextureAggregation.allCases),
                         NGLDM.features(empty, aggregations: TextureAggregation.allCases)] {
            XCTAssertFalse(features.isEmpty)
            XCTAssertTrue(features.allSatisfy { $0.value.isNaN && $0.note != nil })
        }
    }

    // MARK: GLSZM

    /// The zones of `grid` as (level, size, first slice), in the order of their first voxels.
    static func zones(_ grid: TextureGrid, planar: Bool) -> [(level: Int32, size: Int32, slice: Int)] {
        let both = GreyLevelZones.label(grid, planar: planar, volume: !planar)
        let zones = (planar ? both.planar : both.volume)!
        return zones.levels.indices.map { zone in
            (zones.levels[zone], zones.sizes[zone], (0..<grid.nz).first { zones.sliceStarts[$0 + 1] > zone }!)
        }
    }

    func testZonesByHand() throws {
        // 8-connected zones: level 1 of size 3, level 2 of size 4, level 3 of size 1.
        let grid = TextureGrid(Self.small)
        let zones = Self.zones(grid, planar: true)
        XCTAssertEqual(zones.map(\.level), [1, 2, 3])
        XCTAssertEqual(zones.map(\.size), [3, 4, 1])
        let features = GLSZM.features(Self.small, aggregations: TextureAggregation.allCases)
        XCTAssertEqual(features.count, 3 * GLSZM.Feature.allCases.count, "avg and comb share one single-matrix tag")
        XCTAssertEqual(Set(features.map(\.ibsiTag)).count, features.count)
        XCTAssertEqual(try XCTUnwrap(Self.value(features, "szm_sze_2D")).value, (1.0 / 9 + 1.0 / 16 + 1) / 3, accuracy: 1e-12)
        XCTAssertEqual(try XCTUnwrap(Self.value(features, "szm_lze_2_5D")).value, 26.0 / 3, accuracy: 1e-12)
        XCTAssertEqual(try XCTUnwrap(Self.value(features, "szm_z_perc_3D")).value, 3.0 / 8, accuracy: 1e-12)
        XCTAssertEqual(try XCTUnwrap(Self.value(features, "szm_zs_var_3D")).value, 42.0 / 27, accuracy: 1e-12)
    }

    func testZonesLinkDiagonallyAndAcrossSlicesOnlyIn3D() {
        XCTAssertEqual(Self.zones(TextureGrid(Self.roi([[[1, 2], [2, 1]]])), planar: true).map(\.size), [2, 2])
        let corners = TextureGrid(Self.roi([[[1, 0], [0, 0]], [[0, 0], [0, 1]]]))
        XCTAssertEqual(Self.zones(corners, planar: true).map(\.size), [1, 1])
        XCTAssertEqual(Self.zones(corners, planar: true).map(\.slice), [0, 1])
        XCTAssertEqual(Self.zones(corners, planar: false).map(\.size), [2])
    }

    func testZonesOfLongSnakeMergeIntoOne() {
        // A U-shaped zone whose arms meet only at the bottom: union-find must join them.
        let grid = TextureGrid(Self.roi([[[1, 0, 1], [1, 0, 1], [1, 1, 1]]]))
        XCTAssertEqual(Self.zones(grid, planar: true).map(\.size), [7])
    }

    // MARK: GLDZM

    func testBorderDistanceIsManhattanNotChebyshev() {
        // A 3x3 block in a 5x5 slice with one corner punched out: the centre's nearest exit is
        // diagonal, 1 step under Chebyshev but 2 under the IBSI (4-connected) definition.
        var rows = [[Int32]](repeating: [0, 0, 0, 0, 0], count: 5)
        for y in 1...3 { for x in 1...3 { rows[y][x] = 1 } }
        rows[1][1] = 0
        let grid = TextureGrid(Self.roi([rows]))
        let distance = BorderDistance.map(grid, inside: grid.levels.map { $0 > 0 }, planar: true)
        XCTAssertEqual(distance[2 * 5 + 2], 2)
        XCTAssertEqual(distance[1 * 5 + 2], 1)
        XCTAssertEqual(distance[0], 0)
    }

    func testBorderDistanceIn3DUsesFaceNeighboursAndTheGridEdge() {
        let cube = TextureGrid(Self.roi([[[1, 1, 1], [1, 1, 1], [1, 1, 1]],
                                         [[1, 1, 1], [1, 1, 1], [1, 1, 1]],
                                         [[1, 1, 1], [1, 1, 1], [1, 1, 1]]]))
        let volume = BorderDistance.map(cube, inside: cube.levels.map { $0 > 0 }, planar: false)
        XCTAssertEqual(volume[13], 2)
        XCTAssertEqual(volume.filter { $0 == 1 }.count, 26)
        let slices = BorderDistance.map(cube, inside: cube.levels.map { $0 > 0 }, planar: true)
        XCTAssertEqual(slices.filter { $0 == 2 }.count, 3, "the centre of each slice")
    }

    func testZoneDistancesByHand() throws {
        // 5x5 of level 1 with a level 2 centre: distances 1 (zone of level 1) and 3.
        var rows = [[Int32]](repeating: [1, 1, 1, 1, 1], count: 5)
        rows[2][2] = 2
        let features = GLDZM.features(Self.roi([rows]), morphologicalMask: nil, aggregations: [.slice2DAverage])
        XCTAssertEqual(try XCTUnwrap(Self.value(features, "dzm_sde_2D")).value, (1 + 1.0 / 9) / 2, accuracy: 1e-12)
        XCTAssertEqual(try XCTUnwrap(Self.value(features, "dzm_lde_2D")).value, 5, accuracy: 1e-12)
        XCTAssertEqual(try XCTUnwrap(Self.value(features, "dzm_zd_var_2D")).value, 1, accuracy: 1e-12)
    }

    func testDistancesComeFromTheMorphologicalMask() throws {
        // Intensity ROI: the inner 3x3 of a 5x5 slice; morphological mask: the whole slice.
        var rows = [[Int32]](repeating: [0, 0, 0, 0, 0], count: 5)
        for y in 1...3 { for x in 1...3 { rows[y][x] = 1 } }
        let roi = Self.roi([rows])
        let own = GLDZM.features(roi, morphologicalMask: nil, aggregations: [.slice2DMerged])
        let wide = GLDZM.features(roi, morphologicalMask: [Bool](repeating: true, count: 25), aggregations: [.slice2DMerged])
        XCTAssertEqual(try XCTUnwrap(Self.value(own, "dzm_lde_2D")).value, 1)
        XCTAssertEqual(try XCTUnwrap(Self.value(wide, "dzm_lde_2D")).value, 4)
        XCTAssertEqual(try XCTUnwrap(Self.value(wide, "dzm_z_perc_2D")).value, 1.0 / 9, accuracy: 1e-12)
    }

    // MARK: NGTDM

    func testNeighbourhoodDifferencesByHand() throws {
        // s_1 = 1/3 + 3/5 + 1/2, s_2 = 1/3 + 2/7, s_3 = 1; n = 3, 4, 1 (in-plane, ROI neighbours only).
        let s = [43.0 / 30, 13.0 / 21, 1], p = [3.0 / 8, 4.0 / 8, 1.0 / 8]
        let features = NGTDM.features(Self.small, aggregations: [.slice2DAverage, .volume3DMerged])
        let coarseness = 1 / zip(p, s).reduce(0) { $0 + $1.0 * $1.1 }
        XCTAssertEqual(try XCTUnwrap(Self.value(features, "ngt_coarseness_2D")).value, coarseness, accuracy: 1e-12)
        XCTAssertEqual(try XCTUnwrap(Self.value(features, "ngt_coarseness_3D")).value, coarseness, accuracy: 1e-12)
        let strength = 2 * ((p[0] + p[1]) + (p[0] + p[2]) * 4 + (p[1] + p[2])) / s.reduce(0, +)
        XCTAssertEqual(try XCTUnwrap(Self.value(features, "ngt_strength_2D")).value, strength, accuracy: 1e-12)
        let contrast = 2 * (p[0] * p[1] + p[0] * p[2] * 4 + p[1] * p[2]) / 6 * s.reduce(0, +) / 8
        XCTAssertEqual(try XCTUnwrap(Self.value(features, "ngt_contrast_2D")).value, contrast, accuracy: 1e-12)
    }

    func testNGTDMOfOneVoxelIsNaNAndOfOneLevelIsDefined() throws {
        for feature in NGTDM.features(Self.oneVoxel, aggregations: TextureAggregation.allCases) {
            XCTAssertTrue(feature.value.isNaN, feature.ibsiTag)
            XCTAssertNotNil(feature.note, feature.ibsiTag)
        }
        let flat = NGTDM.features(Self.singleLevel, aggregations: TextureAggregation.allCases)
        XCTAssertEqual(flat.count, 3 * NGTDM.Feature.allCases.count)
        for feature in flat {
            XCTAssertEqual(feature.value, feature.name == "coarseness" ? 1e6 : 0, feature.ibsiTag)
            XCTAssertNil(feature.note)
        }
    }

    // MARK: NGLDM

    func testDependencesByHand() throws {
        // Dependence counts j (1 + equal 8-neighbours): level 1: 3,3,3; level 2: 3,4,4,3; level 3: 1.
        let features = NGLDM.features(Self.small, aggregations: [.slice2DMerged])
        XCTAssertEqual(try XCTUnwrap(Self.value(features, "ngl_lde_2D")).value, (1 + 5.0 / 9 + 2.0 / 16) / 8, accuracy: 1e-12)
        XCTAssertEqual(try XCTUnwrap(Self.value(features, "ngl_hde_2D")).value, 78.0 / 8, accuracy: 1e-12)
        XCTAssertEqual(try XCTUnwrap(Self.value(features, "ngl_dc_energy_2D")).value, 18.0 / 64, accuracy: 1e-12)
        XCTAssertEqual(try XCTUnwrap(Self.value(features, "ngl_dc_perc_2D")).value, 1)
        // With coarseness 1, levels 1-2 and 2-3 depend on each other as well.
        let coarse = NGLDM.features(Self.small, aggregations: [.slice2DMerged], coarseness: 1)
        XCTAssertGreaterThan(try XCTUnwrap(Self.value(coarse, "ngl_hde_2D")).value, 78.0 / 8)
    }

    func testDependencesCountThroughPlaneNeighboursIn3D() {
        let grid = TextureGrid(Self.roi([[[1, 1], [1, 1]], [[1, 1], [1, 1]]]))
        let counts = NGLDM.dependences(grid, radius: 1, alpha: 0, planar: true, volume: true)
        XCTAssertEqual(counts.planar, [Int32](repeating: 4, count: 8))
        XCTAssertEqual(counts.volume, [Int32](repeating: 8, count: 8))
    }

    /// Dependence counts as defined, voxel by voxel and neighbour by neighbour.
    static func dependencesByDefinition(_ grid: TextureGrid, radius: Int, alpha: Int32, planar: Bool) -> [Int32] {
        var counts = [Int32](repeating: 0, count: grid.levels.count)
        for z in 0..<grid.nz {
            for y in 0..<grid.ny {
                for x in 0..<grid.nx {
                    let index = (z * grid.ny + y) * grid.nx + x, level = grid.levels[index]
                    guard level > 0 else { continue }
                    counts[index] = 1
                    for dz in (planar ? 0...0 : -radius...radius) {
                        for dy in -radius...radius {
                            for dx in -radius...radius where (dx, dy, dz) != (0, 0, 0) {
                                guard grid.contains(x + dx, y + dy, z + dz) else { continue }
                                let other = grid.levels[((z + dz) * grid.ny + y + dy) * grid.nx + x + dx]
                                if other > 0 && abs(other - level) <= alpha { counts[index] += 1 }
                            }
                        }
                    }
                }
            }
        }
        return counts
    }

    func testDependencesMatchTheirDefinitionInEveryLaneWidth() {
        // Rows longer and shorter than a vector, ROI voxels on the grid's faces, and levels that
        // need bytes, 16-bit and 32-bit lanes.
        for highest: Int32 in [4, 300, 70_000] {
            let roi = Self.roi((0..<5).map { z in (0..<7).map { y in (0..<37).map { x in
                let hash = UInt32(truncatingIfNeeded: ((x * 7 + y) * 5 + z) * 2_654_435_761)
                return (hash >> 7) % 5 == 0 ? 0 : 1 + Int32((hash >> 13) % UInt32(highest))
            } } })
            let grid = TextureGrid(roi)
            for radius in 1...2 {
                for alpha: Int32 in [0, 1, 2] {
                    let counts = NGLDM.dependences(grid, radius: radius, alpha: alpha, planar: true, volume: true)
                    let what = "levels 1...\(highest), radius \(radius), alpha \(alpha)"
                    for (counted, planar) in [(counts.planar, true), (counts.volume, false)] {
                        XCTAssertEqual(counted, Self.dependencesByDefinition(grid, radius: radius, alpha: alpha, planar: planar), what)
                    }
                }
            }
        }
    }

    func testZoneAndDependenceFamiliesOfOneVoxelAndOneLevelAreDefined() throws {
        for roi in [Self.oneVoxel, Self.singleLevel] {
            let all = GLSZM.features(roi, aggregations: TextureAggregation.allCases)
                + GLDZM.features(roi, morphologicalMask: nil, aggregations: TextureAggregation.allCases)
                + NGLDM.features(roi, aggregations: TextureAggregation.allCases)
            XCTAssertEqual(all.count, 3 * (16 + 16 + 17))
            for feature in all {
                XCTAssertTrue(feature.value.isFinite, feature.ibsiTag)
                XCTAssertNil(feature.note, feature.ibsiTag)
            }
        }
        let one = NGLDM.features(Self.oneVoxel, aggregations: [.volume3DMerged])
        XCTAssertEqual(try XCTUnwrap(Self.value(one, "ngl_lde_3D")).value, 1)
        XCTAssertEqual(try XCTUnwrap(Self.value(one, "ngl_dc_entr_3D")).value, 0)
    }

    // MARK: Shared zone labelling and packed sums

    /// A 6x5x4 ROI of pseudo-random levels 1...4: zones of several sizes and distances.
    static func patterned(_ seed: Int32) -> DiscretisedROI {
        roi((0..<4).map { z in (0..<5).map { y in (0..<6).map { x in
            let hash = UInt32(truncatingIfNeeded: ((x * 5 + y) * 7 + z) * 2_654_435_761 + Int(seed) * 40_503)
            return 1 + Int32((hash >> 13) % 4)
        } } })
    }

    func testZoneMemoGivesTheSameFeaturesAsFreshLabelling() {
        let a = Self.patterned(0), b = Self.patterned(1)
        // Fresh storage each time: nothing to reuse.
        let copy = { (roi: DiscretisedROI) in
            DiscretisedROI(size: roi.size, spacing: roi.spacing, levels: roi.levels.map { $0 }, binCount: roi.binCount)
        }
        let freshA = GLDZM.features(copy(a), morphologicalMask: nil, aggregations: TextureAggregation.allCases)
        let freshB = GLSZM.features(copy(b), aggregations: TextureAggregation.allCases)
        // GLSZM then GLDZM of one ROI (the second reuses the zones), alternating ROIs.
        _ = GLSZM.features(a, aggregations: [.volume3DMerged])
        XCTAssertEqual(GLDZM.features(a, morphologicalMask: nil, aggregations: TextureAggregation.allCases), freshA)
        XCTAssertEqual(GLSZM.features(b, aggregations: TextureAggregation.allCases), freshB)
        XCTAssertEqual(GLDZM.features(a, morphologicalMask: nil, aggregations: TextureAggregation.allCases), freshA)
        XCTAssertNotEqual(freshA.map(\.value), GLDZM.features(b, morphologicalMask: nil, aggregations: TextureAggregation.allCases).map(\.value))
    }

    func testZoneMemoIsSafeUnderConcurrentUse() {
        let rois = (0..<3).map { Self.patterned(Int32($0)) }
        let expected = rois.map { GLSZM.features($0, aggregations: TextureAggregation.allCases) }
        let results = UnsafeMutableBufferPointer<[FeatureValue]>.allocate(capacity: 60)
        results.initialize(repeating: [])
        defer { results.deallocate() }
        DispatchQueue.concurrentPerform(iterations: 60) { i in
            results[i] = GLSZM.features(rois[i % 3], aggregations: TextureAggregation.allCases)
        }
        for i in 0..<60 { XCTAssertEqual(results[i], expected[i % 3], "run \(i)") }
    }

    func testNGTDMWithWideNeighbourhoodsPacksSumsIn64Bits() {
        // Radius 2 already spans the 3x3 slice; radius 40 no longer fits 32-bit packed sums.
        let near = NGTDM.features(Self.small, aggregations: TextureAggregation.allCases, distance: 2)
        let wide = NGTDM.features(Self.small, aggregations: TextureAggregation.allCases, distance: 40)
        XCTAssertEqual(near.map(\.value), wide.map(\.value))
    }
}
