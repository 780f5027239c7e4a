import XCTest
@testable import Aggregation

final class ChangAggregationTests: XCTestCase {
    let lesions = [
        LesionValue(lesionID: "a", value: 2, volume: 10),
        LesionValue(lesionID: "b", value: 4, volume: 30),
        LesionValue(lesionID: "c", value: .nan, volume: 5),
    ]

    func testShapeFeaturesAreSummedOthersAveraged() {
        XCTAssertTrue(ChangAggregation.isSizeOrShape("tumour.morph.volume"))
        XCTAssertTrue(ChangAggregation.isSizeOrShape("morph.sphericity"))
        XCTAssertFalse(ChangAggregation.isSizeOrShape("tumour.glcm.joint_max_3D_comb"))
        XCTAssertFalse(ChangAggregation.isSizeOrShape("morph"))
        for rule in ChangAggregation.allCases {
            XCTAssertEqual(rule.aggregate(lesions, featureName: "tumour.morph.volume"), 6)
        }
        XCTAssertEqual(ChangAggregation.unweighted.aggregate(lesions, featureName: "tumour.intensity.mean"), 3)
        XCTAssertEqual(ChangAggregation.volumeWeighted.aggregate(lesions, featureName: "tumour.intensity.mean"),
                       (20 + 120) / 40.0, accuracy: 1e-12)
        XCTAssertTrue(ChangAggregation.unweighted.aggregate([], featureName: "x.y").isNaN)
    }
}
