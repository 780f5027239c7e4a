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
                         GLRLM.features(empty, aggregations: TextureAggregation.allCases)] {
            XCTAssertFalse(features.isEmpty)
            XCTAssertTrue(features.allSatisfy { $0.value.isNaN && $0.note != nil })
        }
    }
}
