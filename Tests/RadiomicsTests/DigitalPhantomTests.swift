import Foundation
import ImageIO
import ImagingCore
import Radiomics
import TestSupport
import XCTest

/// Conformance on the IBSI 1 digital phantom, one test per family printing matched/total.
final class DigitalPhantomTests: XCTestCase {
    static let lock = NSLock()
    nonisolated(unsafe) static var cached: (RegionFeatures, ReferenceValues)?

    func phantom() throws -> (RegionFeatures, ReferenceValues) {
        let dir = try SharedData.url("ibsi1/digital_phantom")
        Self.lock.lock()
        defer { Self.lock.unlock() }
        if let c = Self.cached { return c }
        let image = try NIfTI.readImage(dir.appendingPathComponent("image.nii.gz"))
        let mask = try NIfTI.readLabelMap(dir.appendingPathComponent("mask.nii.gz")).map { $0 > 0 }
        let features = try RadiomicsExtractor.extract(image: image, mask: mask, settings: .ibsiDigitalPhantom,
                                                      context: "digital phantom")
        let reference = try ReferenceValues(url: dir.appendingPathComponent("reference_values.csv"))
        Self.cached = (features, reference)
        return (features, reference)
    }

    func check(_ family: FeatureFamily, file: StaticString = #filePath, line: UInt = #line) throws {
        let (features, reference) = try phantom()
        let outcome = reference.compare(prefixes: [family.ibsiPrefix + "_"]) { features.value(ibsiTag: $0) }
        print("digital phantom \(family.rawValue): \(outcome.matched)/\(outcome.total) matched")
        for f in outcome.failures { print("  mismatch \(f)") }
        XCTAssertGreaterThan(outcome.total, 0, file: file, line: line)
        XCTAssertEqual(outcome.matched, outcome.total, outcome.failures.joined(separator: "; "), file: file, line: line)
    }

    func testMorphology() throws { try check(.morphology) }
    func testLocalIntensity() throws { try check(.localIntensity) }
    func testIntensityStatistics() throws { try check(.intensity) }
    func testIntensityHistogram() throws { try check(.histogram) }
    func testIntensityVolumeHistogram() throws { try check(.intensityVolumeHistogram) }
    func testGLCM() throws { try check(.glcm) }
    func testGLRLM() throws { try check(.glrlm) }
    func testGLSZM() throws { try check(.glszm) }
    func testGLDZM() throws { try check(.gldzm) }
    func testNGTDM() throws { try check(.ngtdm) }
    func testNGLDM() throws { try check(.ngldm) }
}
