import XCTest
@testable import Radiomics

final class FeatureTypesTests: XCTestCase {
    func testStableNamesAndTagPrefixes() {
        let v = FeatureValue(family: .glcm, name: "joint_max", ibsiTag: "cm_joint_max_3D_comb", value: 0.509)
        XCTAssertEqual(v.stableName, "glcm.joint_max")
        XCTAssertTrue(v.ibsiTag.hasPrefix(FeatureFamily.glcm.ibsiPrefix + "_"))
        XCTAssertEqual(TextureAggregation.volume2_5DMerged.singleMatrixSuffix, "2_5D")
        XCTAssertEqual(Set(FeatureFamily.allCases.map(\.ibsiPrefix)).count, FeatureFamily.allCases.count)
    }
}
