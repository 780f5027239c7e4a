import XCTest
import Foundation
import Cohort
import Radiomics
import Synthesis
import Perturbation
import TestSupport
@testable import Pipeline

/// `lesionmap robustness` speed: lesions per second with the 20 default perturbations, next to plain extraction
/// of the same lesions (once each, `LesionFeatureExtractor` as `extract` runs it) measured in the same run.
/// Runs only with `LESIONMAP_BENCHMARK=1`, in a release build:
///
///     LESIONMAP_BENCHMARK=1 swift test -c release -Xswiftc -enable-testing --filter RobustnessBenchmarks
///
/// `LESIONMAP_ROBUSTNESS_LESIONS` sets the number of lesions (default 100).
final class RobustnessBenchmarks: XCTestCase {
    override func setUpWithError() throws {
        guard ProcessInfo.processInfo.environment["LESIONMAP_BENCHMARK"] == "1" else {
            throw XCTSkip("benchmark: set LESIONMAP_BENCHMARK=1 (release build)")
        }
    }

    func testRobustnessLesionsPerSecond() throws {
        let wanted = Int(ProcessInfo.processInfo.environment["LESIONMAP_ROBUSTNESS_LESIONS"] ?? "") ?? 100
        let dir = try SharedData.temporaryDirectory(for: self)
        let folder = dir.appendingPathComponent("cohort")
        // About four lesions per patient (1 + Binomial(9, 0.33)).
        _ = try SyntheticCohort.generate(SynthesisOptions(patients: wanted / 3 + 5, seed: 1), into: folder)
        let cohort = try CohortManifest.load(folder)
        var patients: [Patient] = []
        var count = 0
        for entry in cohort.patients where count < wanted {
            var p = try PatientLoader().load(entry, relativeTo: cohort.folder)
            p.lesions = Array(p.lesions.prefix(wanted - count))
            count += p.lesions.count
            patients.append(p)
        }
        XCTAssertEqual(count, wanted)
        let settings = ExtractionSettings.clinicalDefault
        let perturbations = Perturbation.defaults

        var start = Date()
        for p in patients {
            for (si, scan) in p.scans.enumerated() {
                let masks = p.lesions.filter { $0.scanIndex == si }.map(\.mask)
                if !masks.isEmpty { _ = try LesionFeatureExtractor.extract(image: scan.image, lesions: masks, settings: settings) }
            }
        }
        let plain = Date().timeIntervalSince(start)

        start = Date()
        var failures: [String] = []
        var measured: [CohortRobustness.LesionMeasurements] = []
        for p in patients {
            let m = CohortRobustness.measure(p, settings: .everyModality(settings), perturbations: perturbations, seed: 1)
            failures += m.failures
            measured += m.lesions
        }
        let robust = Date().timeIntervalSince(start)
        XCTAssertEqual(failures, [])
        let cores = ProcessInfo.processInfo.activeProcessorCount
        print(String(format: "robustness benchmark: %d lesions x %d perturbations (default preset, %d cores): %.1f s, %.3f lesions/s, %.2f lesion extractions/s",
                     count, perturbations.count, cores, robust, Double(count) / robust, Double(count * perturbations.count) / robust))
        print(String(format: "robustness benchmark: plain extraction of the same lesions: %.1f s, %.2f lesions/s; one perturbed extraction costs %.2fx a plain one",
                     plain, Double(count) / plain, robust / Double(perturbations.count) / plain))

        // The ranking of families by median ICC, under all twenty perturbations and under each kind alone.
        let kinds = [("all 20", perturbations)] + Perturbation.defaultsByKind.map { ($0.kind, $0.instances) }
        for (label, subset) in kinds {
            var table = RobustnessTable(perturbations: subset)
            for l in measured {
                table.add(.init(patientID: l.patientID, lesionID: l.lesionID,
                                rows: subset.map { p in l.rows[perturbations.firstIndex(of: p)!] }))
            }
            let ranking = RobustnessTests.medianByFamily(table.robustness())
            print("robustness ranking (\(label)): " + ranking.map { String(format: "%@ %.2f", $0.family, $0.median) }.joined(separator: ", "))
        }
    }
}
