import Radiomics
import XCTest

/// Every texture tag of the IBSI 1 digital phantom: value rounded to three significant
/// digits, within the reference tolerance.
final class TextureConformanceTests: XCTestCase {
    private func check(_ family: FeatureFamily, _ compute: (DiscretisedROI) -> [FeatureValue]) throws {
        let roi = try TexturePhantom.roi()
        let failures = try TexturePhantom.mismatches(family, computed: compute(roi))
        XCTAssert(failures.isEmpty, "\(family.rawValue) mismatches:\n" + failures.joined(separator: "\n"))
    }

    func testGLCMOnDigitalPhantom() throws {
        try check(.glcm) { GLCM.features($0, aggregations: TextureAggregation.allCases) }
    }

    func testGLRLMOnDigitalPhantom() throws {
        try check(.glrlm) { GLRLM.features($0, aggregations: TextureAggregation.allCases) }
    }

    func testGLSZMOnDigitalPhantom() throws {
        try check(.glszm) { GLSZM.features($0, aggregations: TextureAggregation.allCases) }
    }

    func testGLDZMOnDigitalPhantom() throws {
        try check(.gldzm) { GLDZM.features($0, morphologicalMask: nil, aggregations: TextureAggregation.allCases) }
    }

    func testNGTDMOnDigitalPhantom() throws {
        try check(.ngtdm) { NGTDM.features($0, aggregations: TextureAggregation.allCases) }
    }

    func testNGLDMOnDigitalPhantom() throws {
        try check(.ngldm) { NGLDM.features($0, aggregations: TextureAggregation.allCases) }
    }
}
