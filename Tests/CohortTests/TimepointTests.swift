import XCTest
import ImagingCore
import ImageIO
import TestSupport
@testable import Cohort

/// The manifest's `timepoint` column and the loader's checks and automatic matching across time points.
final class TimepointTests: XCTestCase {
    private var dir: URL!
    private let grid = ImageGrid(size: Size3(40, 40, 10), spacing: Vector3(2, 2, 2))

    override func setUpWithError() throws {
        dir = try SharedData.temporaryDirectory(for: self)
        try FileManager.default.createDirectory(at: dir.appendingPathComponent("img"), withIntermediateDirectories: true)
        let image = Volume<Float>(grid: grid, voxels: (0..<grid.voxelCount).map { Float($0 % 70) })
        for name in ["ct0", "ct60", "ct120", "other"] {
            try NIfTI.write(image, to: dir.appendingPathComponent("img/\(name).nii.gz"))
        }
        // Baseline: labels 1, 2, 3 (2x2x1-voxel blobs).
        try writeLabels("m0", [(1, 5, 5, 2), (2, 30, 8, 5), (3, 10, 30, 7)])
        // Day 60: the patient lies (3, -2, 1) voxels = (6, -4, 2) mm off; lesion 2 vanished, lesion 1 is now label 7,
        // lesion 3 label 4, and a new lesion (label 9) appeared.
        try writeLabels("m60", [(7, 8, 3, 3), (4, 13, 28, 8), (9, 30, 30, 3)])
        // Day 120: back in place; lesion 1 (label 2 now), the day-60 new lesion (label 5) and another new one (label 8).
        try writeLabels("m120", [(2, 5, 5, 2), (5, 27, 32, 2), (8, 20, 15, 8)])
        // Another patient's layout: every pair differs from every baseline pair by more than 45 mm as a vector (numpy).
        try writeLabels("mother", [(1, 23, 23, 9), (2, 25, 20, 3), (3, 22, 23, 0)])
        try write("patients.csv", "patient_id\nP1\n")
    }

    private func writeLabels(_ name: String, _ blobs: [(Int32, Int, Int, Int)]) throws {
        var labels = LabelMap(grid: grid, repeating: 0)
        for (value, i, j, k) in blobs {
            for di in 0..<2 { for dj in 0..<2 { labels[i + di, j + dj, k] = value } }
        }
        try NIfTI.write(labels, to: dir.appendingPathComponent("img/\(name).nii.gz"))
    }

    private func write(_ name: String, _ text: String) throws {
        try text.write(to: dir.appendingPathComponent(name), atomically: true, encoding: .utf8)
    }

    // MARK: - Manifest

    /// Each case: lesions.csv body (after the header), and the expected problem (row, column, text) or nil for a
    /// manifest that loads.
    func testTimepointValidationTable() throws {
        let header = "patient_id,lesion_id,image,mask,roi,timepoint\n"
        let cases: [(String, String, (Int, String, String)?)] = [
            ("same id at two time points is one lesion", """
             P1,a,img/ct0.nii.gz,img/m0.nii.gz,1,
             P1,a,img/ct60.nii.gz,img/m60.nii.gz,7,60
             """, nil),
            ("pre-baseline scan (negative days)", """
             P1,a,img/ct0.nii.gz,img/m0.nii.gz,1,0
             P1,a,img/ct60.nii.gz,img/m60.nii.gz,7,-30
             """, nil),
            ("duplicate lesion at one time point", """
             P1,a,img/ct0.nii.gz,img/m0.nii.gz,1,0
             P1,a,img/ct60.nii.gz,img/m60.nii.gz,7,60
             P1,a,img/ct60.nii.gz,img/m60.nii.gz,4,60
             """, (4, "lesion_id", "duplicate lesion 'a' for patient 'P1' at time point 60 (first at row 3)")),
            ("days not a number", """
             P1,a,img/ct0.nii.gz,img/m0.nii.gz,1,
             P1,a,img/ct60.nii.gz,img/m60.nii.gz,7,day 60
             """, (3, "timepoint", "'day 60' is not a number")),
            ("follow-up without baseline", """
             P1,a,img/ct60.nii.gz,img/m60.nii.gz,7,60
             P1,b,img/ct120.nii.gz,img/m120.nii.gz,2,120
             """, (2, "timepoint", "patient 'P1' has rows at time points 60, 120 (days) but no baseline row (timepoint empty or 0): lesion a at day 60, lesion b at day 120;")),
            ("one image at two time points", """
             P1,a,img/ct0.nii.gz,img/m0.nii.gz,1,
             P1,a,img/ct0.nii.gz,img/m60.nii.gz,7,60
             """, (3, "timepoint", "60 disagrees with time point 0 given for the same image at row 2")),
        ]
        for (name, body, expected) in cases {
            try write("lesions.csv", header + body + "\n")
            do {
                let cohort = try CohortManifest.load(dir)
                if let expected { XCTFail("\(name): loaded, expected row \(expected.0) \(expected.1): \(expected.2)"); continue }
                XCTAssertEqual(cohort.patients[0].lesions.count, body.split(separator: "\n").count, name)
            } catch let e as ManifestError {
                guard let (row, column, text) = expected else { XCTFail("\(name): \(e)"); continue }
                XCTAssertEqual(e.problems.count, 1, "\(name): \(e)")
                XCTAssertTrue(e.problems.contains { $0.row == row && $0.column == column && $0.message.contains(text) },
                              "\(name): \(e)")
            }
        }
    }

    func testTimepointsAreParsed() throws {
        try write("lesions.csv", """
        patient_id,lesion_id,image,mask,roi,timepoint
        P1,a,img/ct0.nii.gz,img/m0.nii.gz,1,
        P1,a,img/ct60.nii.gz,img/m60.nii.gz,7,60
        P1,a,img/ct120.nii.gz,img/m120.nii.gz,2,120.5
        """)
        let cohort = try CohortManifest.load(dir)
        XCTAssertEqual(cohort.patients[0].lesions.map(\.timepoint), [0, 60, 120.5])
        let p = try PatientLoader().load(cohort.patients[0], relativeTo: cohort.folder)
        XCTAssertEqual(p.lesions.map(\.timepoint), [0, 60, 120.5])
        XCTAssertEqual(p.lesions.map(\.id), ["a", "a", "a"])
        XCTAssertEqual(p.scans.count, 3, "each time point's scan is loaded")
        XCTAssertEqual(p.lesions.map(\.scanIndex), [0, 1, 2])
        XCTAssertTrue(p.warnings.isEmpty, "\(p.warnings)")
    }

    // MARK: - Loader: matching and checks

    private let expandingRows = """
        patient_id,lesion_id,image,mask,roi,timepoint
        P1,,img/ct0.nii.gz,img/m0.nii.gz,,
        P1,,img/ct60.nii.gz,img/m60.nii.gz,,60
        P1,,img/ct120.nii.gz,img/m120.nii.gz,,120
        """

    /// Day 60 is shifted by (6, -4, 2) mm with a vanished and a new lesion; day 120 holds the day-60 new lesion again
    /// and one more. Matched lesions take the baseline ids, new ones N1, N2, kept over time.
    func testAutomaticMatchingNamesFollowUpLesions() throws {
        try write("lesions.csv", expandingRows)
        let cohort = try CohortManifest.load(dir)
        let p = try PatientLoader(matchAutomatically: true).load(cohort.patients[0], relativeTo: cohort.folder)
        let byTime = Dictionary(grouping: p.lesions, by: \.timepoint).mapValues { $0.map(\.id) }
        XCTAssertEqual(byTime[0], ["L1", "L2", "L3"])
        XCTAssertEqual(byTime[60], ["L3", "L1", "N1"], "labels 4, 7, 9 in ascending order")
        XCTAssertEqual(byTime[120], ["L1", "N1", "N2"], "labels 2, 5, 8")
        XCTAssertTrue(p.warnings.isEmpty, "\(p.warnings)")
    }

    /// Without --match auto the expansion ids are kept; ids without a baseline row warn as new lesions.
    func testExpansionIDsWithoutMatchingWarnOfNewLesions() throws {
        try write("lesions.csv", expandingRows)
        let cohort = try CohortManifest.load(dir)
        let p = try PatientLoader().load(cohort.patients[0], relativeTo: cohort.folder)
        XCTAssertEqual(p.lesions.filter { $0.timepoint == 60 }.map(\.id), ["L4", "L7", "L9"])
        for id in ["L4", "L7", "L9"] {
            XCTAssertTrue(p.warnings.contains { $0.contains("patient P1, lesion \(id), time point 60 days: new lesion") }, "\(p.warnings)")
        }
    }

    func testOtherPatientsScanAtATimePointIsRefused() throws {
        try write("lesions.csv", """
        patient_id,lesion_id,image,mask,roi,timepoint
        P1,,img/ct0.nii.gz,img/m0.nii.gz,,
        P1,,img/other.nii.gz,img/mother.nii.gz,,60
        """)
        let cohort = try CohortManifest.load(dir)
        XCTAssertThrowsError(try PatientLoader(matchAutomatically: true).load(cohort.patients[0], relativeTo: cohort.folder)) { error in
            let text = "\(error)"
            XCTAssertTrue(text.contains("patient P1") && text.contains("time point 60 days") && text.contains("img/other.nii.gz")
                          && text.contains("another patient"), text)
        }
    }

    /// A lesion id given at both time points whose centroid moved 40 mm after alignment warns, naming patient,
    /// lesion and time point; the others agree.
    func testImplausibleMoveOfALesionIDWarns() throws {
        try write("lesions.csv", """
        patient_id,lesion_id,image,mask,roi,timepoint
        P1,a,img/ct0.nii.gz,img/m0.nii.gz,1,
        P1,b,img/ct0.nii.gz,img/m0.nii.gz,2,
        P1,c,img/ct0.nii.gz,img/m0.nii.gz,3,
        P1,a,img/ct60.nii.gz,img/m60.nii.gz,7,60
        P1,c,img/ct60.nii.gz,img/m60.nii.gz,4,60
        P1,b,img/ct60.nii.gz,img/m60.nii.gz,9,60
        """)
        let cohort = try CohortManifest.load(dir)
        let p = try PatientLoader().load(cohort.patients[0], relativeTo: cohort.folder)
        XCTAssertEqual(p.warnings.count, 1, "\(p.warnings)")
        XCTAssertTrue(p.warnings[0].hasPrefix("patient P1, lesion b, time point 60 days, file img/ct60.nii.gz: the lesion lies"), p.warnings[0])
        XCTAssertTrue(p.warnings[0].contains("another lesion under the same id"), p.warnings[0])
    }

    /// Expanding follow-up rows (one `location`/`irradiated` cell for all their lesions): a lesion matched to a known
    /// lesion takes that lesion's location and irradiated when the row leaves them empty; a differing given value is
    /// warned of, naming patient, lesion, time point, column and both values, and the reference value kept. New lesions
    /// keep their row's values, and a new lesion's first row is its reference at later time points.
    func testMatchedFollowUpLesionsInheritLocationAndIrradiated() throws {
        try write("lesions.csv", """
        patient_id,lesion_id,image,mask,roi,location,irradiated,timepoint
        P1,L1,img/ct0.nii.gz,img/m0.nii.gz,1,liver,1,
        P1,L2,img/ct0.nii.gz,img/m0.nii.gz,2,lung,0,
        P1,L3,img/ct0.nii.gz,img/m0.nii.gz,3,lymph node,0,
        P1,,img/ct60.nii.gz,img/m60.nii.gz,,,,60
        P1,,img/ct120.nii.gz,img/m120.nii.gz,,bone,0,120
        """)
        let cohort = try CohortManifest.load(dir)
        XCTAssertEqual(cohort.patients[0].lesions.map(\.locationGiven), [true, true, true, false, true])
        XCTAssertEqual(cohort.patients[0].lesions.map(\.irradiatedGiven), [true, true, true, false, true])
        let p = try PatientLoader(matchAutomatically: true).load(cohort.patients[0], relativeTo: cohort.folder)
        func facts(_ t: Double) -> [String] {
            p.lesions.filter { $0.timepoint == t }.map { "\($0.id) \($0.location.rawValue) \($0.irradiated ? 1 : 0)" }
        }
        XCTAssertEqual(facts(0), ["L1 liver 1", "L2 lung 0", "L3 lymph_node 0"])
        XCTAssertEqual(facts(60), ["L3 lymph_node 0", "L1 liver 1", "N1 other 0"], "each matched lesion its own baseline's; N1 the empty row's")
        XCTAssertEqual(facts(120), ["L1 liver 1", "N1 other 0", "N2 bone 0"], "the reference values kept; the new N2 the row's")
        let expected = [
            "patient P1, lesion L1, time point 120 days: column location gives bone, but its baseline row gives liver; kept liver",
            "patient P1, lesion L1, time point 120 days: column irradiated gives 0, but its baseline row gives 1; kept 1",
            "patient P1, lesion N1, time point 120 days: column location gives bone, but its row at time point 60 days, where it first appears, gives other (empty); kept other",
        ]
        XCTAssertEqual(p.warnings.count, expected.count, "\(p.warnings)")
        for w in expected { XCTAssertTrue(p.warnings.contains { $0.hasPrefix(w) }, "\(w) not in \(p.warnings)") }
    }

    /// A follow-up whose scan lies 200 mm away in patient coordinates (another frame of reference, or another patient
    /// or body region) with the same lesion layout: no alignment within --match-max-shift (100 mm) exists, so the
    /// patient fails, naming patient, time point and file, even with lesion ids given (the check does not depend on
    /// --match); a larger --match-max-shift accepts it, with no lesion reported as moved.
    func testFollowUpFarOffInPatientCoordinatesIsRefused() throws {
        var far = grid
        far.origin = grid.origin + Vector3(200, 0, 0)
        var labels = LabelMap(grid: far, repeating: 0)
        for (value, i, j, k) in [(Int32(1), 5, 5, 2), (2, 30, 8, 5), (3, 10, 30, 7)] {
            for di in 0..<2 { for dj in 0..<2 { labels[i + di, j + dj, k] = value } }
        }
        try NIfTI.write(labels, to: dir.appendingPathComponent("img/mfar.nii.gz"))
        try NIfTI.write(Volume<Float>(grid: far, voxels: (0..<far.voxelCount).map { Float($0 % 70) }),
                        to: dir.appendingPathComponent("img/far.nii.gz"))
        try write("lesions.csv", """
        patient_id,lesion_id,image,mask,roi,timepoint
        P1,a,img/ct0.nii.gz,img/m0.nii.gz,1,
        P1,b,img/ct0.nii.gz,img/m0.nii.gz,2,
        P1,c,img/ct0.nii.gz,img/m0.nii.gz,3,
        P1,a,img/far.nii.gz,img/mfar.nii.gz,1,60
        P1,b,img/far.nii.gz,img/mfar.nii.gz,2,60
        P1,c,img/far.nii.gz,img/mfar.nii.gz,3,60
        """)
        let cohort = try CohortManifest.load(dir)
        XCTAssertThrowsError(try PatientLoader().load(cohort.patients[0], relativeTo: cohort.folder)) { error in
            let text = "\(error)"
            XCTAssertTrue(text.contains("patient P1") && text.contains("time point 60 days") && text.contains("img/far.nii.gz")
                          && text.contains("150.2 mm apart, more than the largest shift considered (100.0 mm)")
                          && text.contains("another patient"), text)
        }
        var wide = PatientLoader()
        wide.matching.maxShiftMM = 300
        let p = try wide.load(cohort.patients[0], relativeTo: cohort.folder)
        XCTAssertEqual(p.lesions.map(\.id), ["a", "b", "c", "a", "b", "c"])
        XCTAssertTrue(p.warnings.isEmpty, "\(p.warnings)")
    }
}
