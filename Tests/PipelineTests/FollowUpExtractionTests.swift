import XCTest
import ImagingCore
import ImageIO
import Cohort
import FeatureStore
import TestSupport
@testable import Pipeline

/// Two time points end to end: manifest -> matched lesions -> store rows per (lesion, time point) -> delta; and the
/// baseline-only stages reading a store with follow-ups exactly as its baseline-only twin.
final class FollowUpExtractionTests: XCTestCase {
    private var dir: URL!
    private let grid = ImageGrid(size: Size3(40, 40, 12), spacing: Vector3(2, 2, 2))

    override func setUpWithError() throws {
        dir = try SharedData.temporaryDirectory(for: self)
        for name in ["full", "base"] {
            try FileManager.default.createDirectory(at: dir.appendingPathComponent("\(name)/img"), withIntermediateDirectories: true)
        }
        // Textured image; lesions are 4x4x3-voxel blocks (label value, corner i, j, k).
        let image = Volume<Float>(grid: grid, voxels: (0..<grid.voxelCount).map { Float(($0 * 37) % 200) - 50 })
        let baseline: [(Int32, Int, Int, Int)] = [(1, 4, 4, 2), (2, 28, 6, 5), (3, 8, 28, 6)]
        // Day 60: shifted by (2, -1, 1) voxels; lesion 2 vanished, a new lesion appeared; labels renumbered.
        let day60: [(Int32, Int, Int, Int)] = [(5, 6, 3, 3), (6, 10, 27, 7), (7, 28, 28, 3)]
        for name in ["full", "base"] {
            try NIfTI.write(image, to: dir.appendingPathComponent("\(name)/img/ct0.nii.gz"))
            try labels(baseline, to: dir.appendingPathComponent("\(name)/img/m0.nii.gz"))
            try "patient_id,pfs_months,pfs_event\nP1,10,1\nP2,4,0\n".write(to: dir.appendingPathComponent("\(name)/patients.csv"), atomically: true, encoding: .utf8)
        }
        try NIfTI.write(image, to: dir.appendingPathComponent("full/img/ct60.nii.gz"))
        try labels(day60, to: dir.appendingPathComponent("full/img/m60.nii.gz"))
        try labels([(1, 20, 20, 4)], to: dir.appendingPathComponent("full/img/p2.nii.gz"))
        try labels([(1, 20, 20, 4)], to: dir.appendingPathComponent("base/img/p2.nii.gz"))
        let baseRows = """
        patient_id,lesion_id,image,mask,roi,location,timepoint
        P1,,img/ct0.nii.gz,img/m0.nii.gz,,liver,
        P2,x,img/ct0.nii.gz,img/p2.nii.gz,1,lung,0
        """
        try (baseRows + "\n").write(to: dir.appendingPathComponent("base/lesions.csv"), atomically: true, encoding: .utf8)
        try (baseRows + "\nP1,,img/ct60.nii.gz,img/m60.nii.gz,,liver,60\n")
            .write(to: dir.appendingPathComponent("full/lesions.csv"), atomically: true, encoding: .utf8)
    }

    private func labels(_ blobs: [(Int32, Int, Int, Int)], to url: URL) throws {
        var map = LabelMap(grid: grid, repeating: 0)
        for (v, i, j, k) in blobs {
            for a in 0..<4 { for b in 0..<4 { for c in 0..<3 { map[i + a, j + b, k + c] = v } } }
        }
        try NIfTI.write(map, to: url)
    }

    private func extract(_ name: String) throws -> URL {
        let store = dir.appendingPathComponent("\(name).h5")
        let summary = try CohortExtraction.run(cohort: try CohortManifest.load(dir.appendingPathComponent(name)), store: store,
                                               settings: testSettings, loader: PatientLoader(matchAutomatically: true))
        XCTAssertTrue(summary.succeeded, summary.text(allWarnings: true))
        return store
    }

    func testTwoTimePointsEndToEndAndBaselineStagesUnchanged() throws {
        let full = try extract("full"), base = try extract("base")
        let contents = try StoreContents.read(from: full)
        XCTAssertEqual(try contents.lesions.texts("lesion_id"), ["L1", "L2", "L3", "L1", "L3", "N1", "x"],
                       "day 60 labels 5, 6, 7 matched to L1, L3 and new; rows in manifest order")
        XCTAssertEqual(try contents.lesions.numbers("timepoint"), [0, 0, 0, 60, 60, 60, 0].map(Double.init))
        XCTAssertEqual(try contents.scans.numbers("timepoint"), [0, 60, 0])
        // Same mask shape at both time points: the day-60 volume equals the baseline's.
        let volumes = try contents.lesions.numbers("volume_ml")
        XCTAssertEqual(volumes[3], volumes[0])

        // The baseline view of the store with follow-ups holds what the baseline-only store holds.
        let baseContents = try StoreContents.read(from: base)
        XCTAssertEqual(contents.baseline().features, baseContents.features)
        XCTAssertEqual(try contents.baseline().lesions.texts("lesion_id"), try baseContents.lesions.texts("lesion_id"))

        // Scores (here a feature standing in for a signature) aggregate over baseline rows only: same aggregates.
        for (url, c) in [(full, contents), (base, baseContents)] {
            var c = c
            var t = Table()
            try t.append("patient_id", .text(try c.lesions.texts("patient_id")))
            try t.append("lesion_id", .text(try c.lesions.texts("lesion_id")))
            try t.append("score", .number(try c.lesions.numbers("volume_ml").enumerated().map { $0.element + Double($0.offset % 3) }))
            c.tables["scores/test"] = StoreTable(table: t, attributes: ["signature_name": "test"])
            try c.write(to: url)
        }
        // The score's offset (row % 3) is the same for the baseline rows of both stores (rows 0-2, and x at 6 vs 3);
        // the follow-up rows (3-5) carry scores the baseline-only stages must ignore.
        let a = try CohortAggregation.run(store: full, signatureName: "test")
        let b = try CohortAggregation.run(store: base, signatureName: "test")
        XCTAssertEqual(a.patients, b.patients)
        for (k, v) in b.values {
            XCTAssertEqual(a.values[k]!.map { $0.isNaN ? -999 : $0 }, v.map { $0.isNaN ? -999 : $0 }, "\(k)")
        }

        // Delta-radiomics over the follow-up rows with a baseline (L1 and L3 at day 60).
        let delta = dir.appendingPathComponent("delta.csv")
        let r = try DeltaRadiomics.run(store: full, csv: delta, scoresCSV: nil)
        XCTAssertEqual(r.pairs, 2)
        XCTAssertEqual(r.newLesionRows, 1)
        let table = try StoreContents.read(from: full).tables[DeltaRadiomics.featuresPath]!.table
        let features = try table.texts("feature"), changes = try table.numbers("change")
        let volumeRows = features.indices.filter { features[$0] == "ct.tumour.morphology.volume" }
        XCTAssertFalse(volumeRows.isEmpty, "\(Set(features).sorted().prefix(5))")
        for i in volumeRows { XCTAssertEqual(changes[i], 0, accuracy: 1e-9, "same mask shape: no volume change") }
    }

    /// `extract --match`, `--match-gate` and `--match-max-shift` decide which follow-up rows are the same lesion, so the
    /// store records them (root attribute `lesion_matching`, not in the settings hash: features do not depend on
    /// them) and a resume with other options is refused, naming both; the same options resume; `force` starts afresh.
    func testResumeWithOtherMatchingOptionsIsRefused() throws {
        let cohort = try CohortManifest.load(dir.appendingPathComponent("full"))
        let store = dir.appendingPathComponent("matching.h5")
        let auto = PatientLoader(matchAutomatically: true)
        func run(_ loader: PatientLoader, force: Bool = false) throws -> ExtractionSummary {
            try CohortExtraction.run(cohort: cohort, store: store, settings: testSettings, force: force, loader: loader)
        }
        XCTAssertTrue(try run(auto).succeeded)
        let recorded = try StoreContents.read(from: store).attributes
        XCTAssertEqual(recorded.lesionMatching,
                       #"{"ambiguity_margin_mm":5,"gate_mm":20,"match":"auto","max_rotation_degrees":10,"max_shift_mm":100}"#)
        XCTAssertEqual(recorded.settingsHash, SHA256.hex(of: try CohortExtraction.settingsJSON(testSettings)),
                       "the settings hash does not depend on the matching options")
        XCTAssertEqual(try run(auto).resumed, ["P1", "P2"], "same options: resumed")

        var gate = auto
        gate.matching.gateMM = 12.5
        for (name, other) in [("--match ids", PatientLoader(matchAutomatically: false)), ("--match-gate 12.5", gate)] {
            XCTAssertThrowsError(try run(other), name) { error in
                guard case .lesionMatchingMismatch(let path, let stored, let requested)? = error as? FeatureStoreError else {
                    return XCTFail("\(name): \(error)")
                }
                XCTAssertEqual(path, store.path)
                XCTAssertEqual(stored, recorded.lesionMatching)
                XCTAssertEqual(requested, other.matchingRecord)
                let text = "\(error)"
                XCTAssertTrue(text.contains("other lesion matching options") && text.contains("--match-gate")
                              && text.contains("force"), text)
            }
        }
        XCTAssertEqual(try StoreContents.read(from: store).attributes.lesionMatching, recorded.lesionMatching,
                       "a refused resume leaves the store as it was")
        XCTAssertTrue(try run(gate, force: true).succeeded)
        XCTAssertEqual(try StoreContents.read(from: store).attributes.lesionMatching, gate.matchingRecord)
        XCTAssertTrue(gate.matchingRecord.contains(#""gate_mm":12.5"#), gate.matchingRecord)
    }

    /// `lesionmap robustness` measures the baseline rows only: on the cohort with a follow-up it writes what it writes
    /// on the baseline-only cohort.
    func testRobustnessMeasuresBaselineRowsOnly() throws {
        var outputs: [String] = []
        for name in ["full", "base"] {
            let values = dir.appendingPathComponent("\(name)-values.csv"), icc = dir.appendingPathComponent("\(name)-icc.csv")
            let (summary, _) = try CohortRobustness.run(cohort: try CohortManifest.load(dir.appendingPathComponent(name)),
                                                        settings: .everyModality(testSettings), perturbations: [.original],
                                                        values: values, icc: icc)
            XCTAssertEqual(summary.lesionCount, 4, name)
            outputs.append(try String(contentsOf: values, encoding: .utf8))
        }
        XCTAssertEqual(outputs[0], outputs[1])
    }
}
