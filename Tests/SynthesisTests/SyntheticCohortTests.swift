import Foundation
import ImageIO
import ImagingCore
import Synthesis
import TestSupport
import XCTest

final class SyntheticCohortTests: XCTestCase {
    static let smallGrid = [66, 54, 24]

    private func files(in dir: URL) throws -> [String: Data] {
        var out = [String: Data]()
        let fm = FileManager.default
        guard let walker = fm.enumerator(at: dir, includingPropertiesForKeys: [.isRegularFileKey]) else { return out }
        for case let url as URL in walker where (try url.resourceValues(forKeys: [.isRegularFileKey])).isRegularFile == true {
            out[String(url.path.dropFirst(dir.path.count + 1))] = try Data(contentsOf: url)
        }
        return out
    }

    func testSameSeedGivesIdenticalFilesAndOtherSeedDiffers() throws {
        let root = try SharedData.temporaryDirectory(for: self)
        let options = SynthesisOptions(patients: 3, seed: 77, gridSize: Self.smallGrid)
        try SyntheticCohort.generate(options, into: root.appendingPathComponent("a"))
        try SyntheticCohort.generate(options, into: root.appendingPathComponent("b"))
        var other = options
        other.seed = 78
        try SyntheticCohort.generate(other, into: root.appendingPathComponent("c"))
        let a = try files(in: root.appendingPathComponent("a"))
        let b = try files(in: root.appendingPathComponent("b"))
        let c = try files(in: root.appendingPathComponent("c"))
        XCTAssertEqual(Set(a.keys), ["images/SYN001_ct.nii.gz", "images/SYN002_ct.nii.gz", "images/SYN003_ct.nii.gz",
                                     "masks/SYN001_lesions.nii.gz", "masks/SYN002_lesions.nii.gz", "masks/SYN003_lesions.nii.gz",
                                     "lesions.csv", "patients.csv", "truth.csv", "synthesis.json"])
        for (name, data) in a { XCTAssertEqual(data, b[name], "\(name) differs between runs with the same seed") }
        XCTAssertNotEqual(a["images/SYN001_ct.nii.gz"], c["images/SYN001_ct.nii.gz"])
        XCTAssertNotEqual(a["truth.csv"], c["truth.csv"])
    }

    func testManifestLabelsAndTruthAgree() throws {
        let dir = try SharedData.temporaryDirectory(for: self)
        let options = SynthesisOptions(patients: 4, seed: 12, outcomeDriver: .minimum, gridSize: [88, 72, 32])
        let summary = try SyntheticCohort.generate(options, into: dir)
        XCTAssertFalse(summary.skipped)
        let lesions = try readCSV(dir.appendingPathComponent("lesions.csv"))
        let patients = try readCSV(dir.appendingPathComponent("patients.csv"))
        let truth = try readCSV(dir.appendingPathComponent("truth.csv"))
        XCTAssertEqual(lesions.count, summary.lesions)
        XCTAssertEqual(truth.count, lesions.count)
        XCTAssertEqual(patients.map { $0["patient_id"]! }, ["SYN001", "SYN002", "SYN003", "SYN004"])
        for p in patients {
            XCTAssertTrue(["0", "1"].contains(p["pfs_event"]!))
            XCTAssertTrue(["CR", "PR", "SD", "PD"].contains(p["best_response"]!))
            XCTAssertLessThanOrEqual(Double(p["pfs_months"]!)!, Double(p["os_months"]!)!)
        }
        let spacing = options.grid.spacing
        let voxelML = spacing.x * spacing.y * spacing.z / 1000
        for pid in patients.map({ $0["patient_id"]! }) {
            let rows = lesions.filter { $0["patient_id"] == pid }
            let truthRows = truth.filter { $0["patient_id"] == pid }
            XCTAssertTrue((1...10).contains(rows.count))
            XCTAssertEqual(rows.map { $0["lesion_id"]! }, truthRows.map { $0["lesion_id"]! })
            XCTAssertEqual(Set(rows.map { $0["kvp"]! }).count, 1, "one kVp per image")
            XCTAssertEqual(rows.filter { $0["irradiated"] == "1" }.count >= 1, true)
            let image = try NIfTI.readImage(dir.appendingPathComponent(rows[0]["image"]!))
            let mask = try NIfTI.readLabelMap(dir.appendingPathComponent(rows[0]["mask"]!))
            XCTAssertTrue(image.grid.matches(mask.grid))
            XCTAssertTrue(image.grid.matches(options.grid))
            XCTAssertEqual(mask.labels, rows.map { Int32($0["roi"]!)! }, pid)
            let u = truthRows.map { Double($0["infiltration"]!)! }
            let mean = u.reduce(0, +) / Double(u.count)
            let sd = (u.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / Double(u.count)).squareRoot()
            for (row, t) in zip(rows, truthRows) {
                XCTAssertEqual(row["location"], t["location"])
                let count = mask.voxels.filter { $0 == Int32(row["roi"]!)! }.count
                XCTAssertEqual(Double(t["volume_ml"]!)!, Double(count) * voxelML, accuracy: 0.0006)
                XCTAssertEqual(Double(t["min_infiltration"]!)!, u.min()!, accuracy: 1e-4)
                XCTAssertEqual(Double(t["mean_infiltration"]!)!, mean, accuracy: 1e-4)
                XCTAssertEqual(Double(t["sd_infiltration"]!)!, sd, accuracy: 2e-4)
                XCTAssertEqual(t["outcome_driver"], "minimum")
            }
        }
    }

    func testGenerationIsIdempotentAndRefusesOtherOptions() throws {
        let dir = try SharedData.temporaryDirectory(for: self)
        let options = SynthesisOptions(patients: 2, seed: 5, gridSize: Self.smallGrid)
        try SyntheticCohort.generate(options, into: dir)
        let before = try files(in: dir)
        let record = dir.appendingPathComponent("synthesis.json")
        let stamp = try FileManager.default.attributesOfItem(atPath: record.path)[.modificationDate] as? Date
        let again = try SyntheticCohort.generate(options, into: dir)
        XCTAssertTrue(again.skipped)
        XCTAssertEqual(try FileManager.default.attributesOfItem(atPath: record.path)[.modificationDate] as? Date, stamp)
        XCTAssertEqual(try SyntheticCohort.record(in: dir)?.options, options)

        var other = options
        other.patients = 3
        XCTAssertThrowsError(try SyntheticCohort.generate(other, into: dir)) { error in
            guard case SynthesisError.conflictingCohort(let message) = error else { return XCTFail("\(error)") }
            XCTAssertTrue(message.contains(dir.path))
        }

        // An interrupted run (no record, a file missing) is completed by running again, with the same bytes.
        try FileManager.default.removeItem(at: record)
        try FileManager.default.removeItem(at: dir.appendingPathComponent("masks/SYN002_lesions.nii.gz"))
        XCTAssertNil(try SyntheticCohort.record(in: dir))
        XCTAssertFalse(try SyntheticCohort.generate(options, into: dir).skipped)
        XCTAssertEqual(try files(in: dir), before)
    }
}
