import Foundation
import ImageIO
import ImagingCore
import Radiomics
import TestSupport
import XCTest

/// Speed figures (printed, never asserted): the whole IBSI feature set of the CT phantom GTV, per family.
/// Runs only with `LESIONMAP_BENCHMARK=1` (use a release build); PyRadiomics comparisons are in
/// `PipelineTests/RadiomicsSpeedBenchmarks`.
final class RadiomicsBenchmarks: XCTestCase {
    func testCTPhantomFeatureSetTiming() throws {
        guard ProcessInfo.processInfo.environment["LESIONMAP_BENCHMARK"] == "1" else {
            throw XCTSkip("benchmark: set LESIONMAP_BENCHMARK=1")
        }
        let dir = try SharedData.url("ibsi1/ct_phantom/nifti")
        let image = try NIfTI.readImage(dir.appendingPathComponent("image.nii.gz"))
        let mask = try NIfTI.readLabelMap(dir.appendingPathComponent("mask.nii.gz")).map { $0 > 0 }
        for (name, settings) in [("ibsi-a", ExtractionSettings.ibsiA), ("ibsi-c", .ibsiC), ("ibsi-e", .ibsiE)] {
            var total = 0.0
            for family in settings.families {
                var s = settings
                s.families = [family]
                let start = Date()
                _ = try RadiomicsExtractor.extract(image: image, mask: mask, settings: s, context: "CT phantom GTV")
                let t = Date().timeIntervalSince(start)
                total += t
                print(String(format: "benchmark %@ %@ (with preprocessing): %.4f s", name, family.rawValue, t))
            }
            let start = Date()
            let all = try RadiomicsExtractor.extract(image: image, mask: mask, settings: settings, context: "CT phantom GTV")
            print(String(format: "benchmark %@ whole feature set (%d values, single thread): %.4f s", name,
                         all.features.count, Date().timeIntervalSince(start)))
        }
    }
}
