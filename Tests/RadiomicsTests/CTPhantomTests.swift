import Foundation
import ImageIO
import ImagingCore
import Radiomics
import TestSupport
import XCTest

/// Conformance on the IBSI 1 CT phantom for configurations A and C (every family and the
/// preprocessing diagnostics), printing matched/total per family.
final class CTPhantomTests: XCTestCase {
    static let diagnosticPrefixes = ["img_dim_", "vox_dim_", "mean_int_", "min_int_", "max_int_", "int_mask_",
                                     "morph_mask_"]

    func run(config: String, settings base: ExtractionSettings) throws {
        let dir = try SharedData.url("ibsi1/ct_phantom")
        let image = try NIfTI.readImage(dir.appendingPathComponent("nifti/image.nii.gz"))
        let mask = try NIfTI.readLabelMap(dir.appendingPathComponent("nifti/mask.nii.gz")).map { $0 > 0 }
        var settings = base
        settings.wholeImageDiagnostics = true
        let start = Date()
        let features = try RadiomicsExtractor.extract(image: image, mask: mask, settings: settings,
                                                      context: "CT phantom GTV")
        print("CT phantom config \(config): extracted in \(String(format: "%.3f", Date().timeIntervalSince(start))) s")
        let reference = try ReferenceValues(url: dir.appendingPathComponent("reference_values_config_\(config).csv"))
        var failures = [String]()
        let groups: [(String, [String])] = [("diagnostics", Self.diagnosticPrefixes)]
            + settings.families.map { ($0.rawValue, [$0.ibsiPrefix + "_"]) }
        for (name, prefixes) in groups {
            let outcome = reference.compare(prefixes: prefixes, excluding: name == "diagnostics" ? [] : ["morph_mask_"]) {
                features.value(ibsiTag: $0)
            }
            print("CT phantom config \(config) \(name): \(outcome.matched)/\(outcome.total) matched")
            for f in outcome.failures { print("  mismatch \(f)") }
            failures += outcome.failures
        }
        XCTAssertTrue(failures.isEmpty, failures.joined(separator: "; "))
    }

    func testConfigA() throws { try run(config: "a", settings: .ibsiA) }
    func testConfigC() throws { try run(config: "c", settings: .ibsiC) }
}
