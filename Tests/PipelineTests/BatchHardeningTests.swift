import XCTest
import Foundation
import Cohort
import FeatureStore
import Planning
import TestSupport
@testable import Pipeline

/// Issue 12: item 5 (the store refuses NUL text), item 10 (file names from patient ids; batches go on past a
/// failing patient) and item 11 (plain messages through the CLI).
final class BatchHardeningTests: XCTestCase {
    static let longID = String(repeating: "P", count: 300)
    static let traversalID = "../../x"

    /// A three-patient cohort whose ids are SYN001, a 300-character id and `../../x`, extracted, scored,
    /// aggregated and planned into `store`.
    func hostileCohortStore(_ dir: URL) throws -> (folder: URL, store: URL, ids: [String]) {
        let folder = try smallCohort(dir, patients: 3, seed: 11)
        for file in ["lesions.csv", "patients.csv"] {
            let url = folder.appendingPathComponent(file)
            let lines = try String(contentsOf: url, encoding: .utf8).components(separatedBy: "\n").map { line -> String in
                if line.hasPrefix("SYN002,") { return Self.longID + line.dropFirst(6) }
                if line.hasPrefix("SYN003,") { return Self.traversalID + line.dropFirst(6) }
                return line
            }
            try lines.joined(separator: "\n").write(to: url, atomically: true, encoding: .utf8)
        }
        let store = dir.appendingPathComponent("store.h5")
        let summary = try CohortExtraction.run(cohort: try CohortManifest.load(folder), store: store, settings: testSettings)
        XCTAssertTrue(summary.succeeded, "\(summary.failed)")
        try CohortScoring.run(store: store, signature: ReportTests.signature, fileHash: "0", source: "test")
        try CohortAggregation.run(store: store, signatureName: ReportTests.signature.name)
        _ = try CohortPlanning.run(store: store, signatureName: ReportTests.signature.name, policy: .standard)
        return (folder, store, ["SYN001", Self.longID, Self.traversalID])
    }

    /// Every entry below `root`, relative.
    func tree(_ root: URL) -> [String] {
        (FileManager.default.enumerator(atPath: root.path)?.allObjects as? [String] ?? []).sorted()
    }

    // MARK: item 10

    /// A 300-character id made `plan --json` and `report --all-patients` stop at that patient (no file for
    /// any later patient); `../../x` must not leave the output folder.
    func testLongAndTraversalIdsGetSafeFileNamesAndEveryPatientIsWritten() throws {
        let dir = try SharedData.temporaryDirectory(for: self)
        let (_, store, ids) = try hostileCohortStore(dir)
        let out = dir.appendingPathComponent("out/a/b")
        let plans = out.appendingPathComponent("plans")
        _ = try PlanJSON.write(store: store, signatureName: ReportTests.signature.name, to: plans)
        let reports = out.appendingPathComponent("reports")
        _ = try PatientReporting.write(store: store, signature: ReportTests.signature, cohortFolder: nil, to: reports,
                                       pdf: .never, quiet: true)

        // Nothing was written outside the two folders.
        XCTAssertEqual(tree(dir.appendingPathComponent("out")).filter { !$0.hasPrefix("a/b/plans") && !$0.hasPrefix("a/b/reports") },
                       ["a", "a/b"])
        let planFiles = tree(plans), reportFiles = tree(reports)
        XCTAssertEqual(planFiles.count, 3, "\(planFiles)")
        XCTAssertEqual(reportFiles.filter { $0.hasSuffix(".html") }.count, 3, "\(reportFiles)")
        XCTAssertEqual(reportFiles.filter { $0.hasSuffix(".plan.json") }.count, 3, "\(reportFiles)")
        for name in planFiles + reportFiles {
            XCTAssertFalse(name.contains("/") || name.hasPrefix("."), name)
            XCTAssertLessThanOrEqual(name.utf8.count, 100, name)
        }
        var seen: [String] = []
        for name in planFiles {
            let doc = try JSONDecoder().decode(PatientPlanDocument.self, from: Data(contentsOf: plans.appendingPathComponent(name)))
            seen.append(doc.patientID)
        }
        XCTAssertEqual(Set(seen), Set(ids), "each patient's plan is in its own file")
        XCTAssertTrue(planFiles.contains("SYN001.plan.json"), "plain ids keep their name")
    }

    /// One patient whose files cannot be written fails alone, named with the reason; the others are written.
    func testBatchResultsListTheFailingPatient() throws {
        let dir = try SharedData.temporaryDirectory(for: self)
        let (_, store, ids) = try hostileCohortStore(dir)
        let reports = dir.appendingPathComponent("reports"), plans = dir.appendingPathComponent("plans")
        try blockFirstPatient(reports: reports, plans: plans)

        let batch = try PatientReporting.write(store: store, signature: ReportTests.signature, cohortFolder: nil, to: reports,
                                               pdf: .never, quiet: true)
        XCTAssertEqual(batch.written.map(\.patientID), Array(ids.dropFirst()))
        XCTAssertEqual(batch.failed.map(\.patientID), ["SYN001"])
        XCTAssertTrue(batch.failed[0].message.contains("SYN001.html") && !batch.failed[0].message.contains("Error Domain"),
                      batch.failed[0].message)
        let planBatch = try PlanJSON.write(store: store, signatureName: ReportTests.signature.name, to: plans)
        XCTAssertEqual(planBatch.files.map(\.patientID), Array(ids.dropFirst()))
        XCTAssertEqual(planBatch.failed.map(\.patientID), ["SYN001"])

        // A patient asked for by name that is not in the store fails alone too.
        let asked = try PatientReporting.write(store: store, signature: ReportTests.signature, patientIDs: ["NOPE", Self.traversalID],
                                               cohortFolder: nil, to: dir.appendingPathComponent("r2"), pdf: .never, quiet: true)
        XCTAssertEqual(asked.written.map(\.patientID), [Self.traversalID])
        XCTAssertEqual(asked.failed.map(\.patientID), ["NOPE"])
    }

    /// Through the CLI: `report --all-patients` and `plan --json` write every other patient, print each failure
    /// with its patient id after the summary and exit non-zero.
    func testReportAndPlanCommandsGoOnPastAFailingPatient() throws {
        let dir = try SharedData.temporaryDirectory(for: self)
        let (_, store, _) = try hostileCohortStore(dir)
        let reports = dir.appendingPathComponent("reports"), plans = dir.appendingPathComponent("plans")
        try blockFirstPatient(reports: reports, plans: plans)
        let signature = try signatureFile(dir).path
        let report = try lesionmap(["report", store.path, "--all-patients", "--out", reports.path, "--pdf", "never", "--quiet",
                                    "--signature", signature])
        XCTAssertEqual(report.status, 1, report.stderr)
        XCTAssertTrue(report.stderr.contains("FAILED SYN001:") && report.stderr.contains("SYN001.html"), report.stderr)
        XCTAssertFalse(report.stderr.contains("Error Domain"), report.stderr)
        XCTAssertTrue(report.stdout.contains("../../x: ") && report.stdout.contains(Self.longID + ": "),
                      "the other patients are written: \(report.stdout)")
        XCTAssertEqual(tree(reports).filter { $0.hasSuffix(".html") && $0 != "SYN001.html" }.count, 2)

        let plan = try lesionmap(["plan", store.path, "--json", plans.path, "--signature", signature])
        XCTAssertEqual(plan.status, 1, plan.stderr)
        XCTAssertTrue(plan.stderr.contains("FAILED SYN001:"), plan.stderr)
        XCTAssertFalse(plan.stderr.contains("Error Domain"), plan.stderr)
        XCTAssertEqual(tree(plans).filter { $0 != "SYN001.plan.json" }.count, 2, "\(tree(plans))")
    }

    /// Folders where SYN001's report and plan file would go, so that writing them fails.
    func blockFirstPatient(reports: URL, plans: URL) throws {
        try FileManager.default.createDirectory(at: reports.appendingPathComponent("SYN001.html"), withIntermediateDirectories: true)
        try FileManager.default.createDirectory(at: plans.appendingPathComponent("SYN001.plan.json"), withIntermediateDirectories: true)
    }

    /// A store whose plans' policy needs MIL attention, and attention weights for every patient but SYN001.
    func attentionStore(_ dir: URL) throws -> (store: URL, ids: [String], policy: PlanningPolicy, patients: [String]) {
        let (_, store, ids) = try hostileCohortStore(dir)
        var contents = try StoreContents.read(from: store)
        let patients = try contents.lesions.texts("patient_id"), lesions = try contents.lesions.texts("lesion_id")
        let keep = patients.indices.filter { patients[$0] != "SYN001" }
        var t = Table()
        try t.append("patient_id", .text(keep.map { patients[$0] }))
        try t.append("lesion_id", .text(keep.map { lesions[$0] }))
        try t.append("attention", .number(keep.map { _ in 0.5 }))
        try t.append("method", .text(keep.map { _ in "mil_attention" }))
        contents.tables["comparison/" + pathComponent(ReportTests.signature.name) + "/pfs_attention"] = StoreTable(table: t)
        try contents.write(to: store)
        var policy = PlanningPolicy.standard
        policy.attention = AttentionRule(minSBRTWeight: 0.2)
        return (store, ids, policy, patients)
    }

    /// A policy needing MIL attention, and a patient without attention weights: that patient fails alone
    /// (it stopped the planning of the whole cohort).
    func testPlanningGoesOnPastAPatientThatCannotBePlanned() throws {
        let dir = try SharedData.temporaryDirectory(for: self)
        let (store, _, policy, patients) = try attentionStore(dir)
        _ = try CohortPlanning.run(store: store, signatureName: ReportTests.signature.name, policy: policy)
        let plan = try XCTUnwrap(try StoreContents.read(from: store).tables[CohortPlanning.path(ReportTests.signature.name)]).table
        let categories = try plan.texts("category"), rationale = try plan.texts("rationale")
        for i in patients.indices {
            if patients[i] == "SYN001" {
                XCTAssertEqual(categories[i], "", "no plan for the patient without attention")
                XCTAssertTrue(rationale[i].hasPrefix("no plan:") && rationale[i].contains("attention"), rationale[i])
            } else {
                XCTAssertNotNil(TargetCategory(rawValue: categories[i]), "\(patients[i]) is planned")
            }
        }
    }

    func testPlanningOutcomeListsThePatientThatCannotBePlanned() throws {
        let dir = try SharedData.temporaryDirectory(for: self)
        let (store, ids, policy, patients) = try attentionStore(dir)
        let outcome = try CohortPlanning.run(store: store, signatureName: ReportTests.signature.name, policy: policy)
        XCTAssertEqual(outcome.failed.map(\.patientID), ["SYN001"])
        XCTAssertEqual(outcome.planned.count, patients.filter { $0 != "SYN001" }.count)
        // Its plan JSON fails alone, saying why.
        let batch = try PlanJSON.write(store: store, signatureName: ReportTests.signature.name, to: dir.appendingPathComponent("p"))
        XCTAssertEqual(batch.files.map(\.patientID), Array(ids.dropFirst()))
        XCTAssertTrue(batch.failed.first?.message.contains("no plan") == true, "\(batch.failed)")

        // Without any attention in the store, the policy is wrong for every patient: one cohort-level error.
        var contents = try StoreContents.read(from: store)
        contents.tables["comparison/" + pathComponent(ReportTests.signature.name) + "/pfs_attention"] = nil
        try contents.write(to: store)
        XCTAssertThrowsError(try CohortPlanning.run(store: store, signatureName: ReportTests.signature.name, policy: policy)) { e in
            XCTAssertTrue("\(e)".contains("lesionmap compare"), "\(e)")
        }
    }

    func testPatientFileNameRule() {
        let ids = ["SYN001", "../../x", "..", ".hidden", "", "a/b", "a\\b", "a b", "a_b", "CON", "con.txt", "Lpt9",
                   "P1", "p1", "trailing.", String(repeating: "é", count: 200), Self.longID, Self.longID + "Q", "Müller",
                   "M_ller"]
        let names = PatientFileNames.names(ids)
        XCTAssertEqual(names[0], "SYN001")
        XCTAssertEqual(names[8], "a_b")
        XCTAssertEqual(names[12], "P1")
        XCTAssertEqual(names[19], "M_ller")
        XCTAssertEqual(Set(names.map { $0.lowercased() }).count, ids.count, "distinct even on case-insensitive file systems: \(names)")
        for (id, name) in zip(ids, names) {
            XCTAssertFalse(name.isEmpty || name.hasPrefix(".") || name.hasSuffix(".") || name.contains("/") || name.contains("\\"), name)
            XCTAssertTrue(name.unicodeScalars.allSatisfy { $0.isASCII }, name)
            XCTAssertLessThanOrEqual((name + ".plan.json").utf8.count, 100, name)
            XCTAssertEqual(PatientFileNames.names(ids)[ids.firstIndex(of: id)!], name, "stable")
        }
        XCTAssertTrue(names[1].hasPrefix("_._.._x-"), names[1])
        XCTAssertTrue(names[9].hasPrefix("CON-"), names[9])
        XCTAssertTrue(names[13].hasPrefix("p1-"), "the second of two ids differing in case only is hashed: \(names[13])")
        XCTAssertEqual(PatientFileNames.name("p1"), "p1", "on its own an id keeps its name")
        XCTAssertEqual(PatientFileNames.name("../../x"), names[1])
    }

    // MARK: item 5

    /// HDF5 text ends at a NUL: the store refuses such text instead of cutting it.
    func testStoreRefusesTextWithNUL() throws {
        var t = Table()
        XCTAssertThrowsError(try t.append("patient_id", .text(["P\u{0}X", "P\u{0}Y"]))) { e in
            XCTAssertTrue("\(e)".contains("NUL") && "\(e)".contains("patient_id"), "\(e)")
        }
        try t.append("patient_id", .text(["P1"]))
        XCTAssertThrowsError(try t.set("patient_id", .text(["P\u{0}1"])))
        // A failure message is always recordable: a NUL there is shown as U+FFFD.
        let failures = StoreContents.failureTable([.init(patientID: "P1", stage: "load", message: "bad\u{0}byte")])
        XCTAssertEqual(try failures.texts("message"), ["bad\u{FFFD}byte"])
    }

    // MARK: item 11

    func testCLIErrorsArePlainLinesNamingTheFile() throws {
        let dir = try SharedData.temporaryDirectory(for: self)
        let folder = try smallCohort(dir, patients: 1, seed: 2)
        func check(_ arguments: [String], _ expected: [String], file: StaticString = #filePath, line: UInt = #line) throws {
            let r = try lesionmap(arguments)
            XCTAssertEqual(r.status, 1, r.stderr, file: file, line: line)
            let lines = r.stderr.split(separator: "\n").filter { !$0.isEmpty }
            XCTAssertTrue((1...2).contains(lines.count), "one or two lines: \(r.stderr)", file: file, line: line)
            for bad in ["Error Domain", "NSCocoaErrorDomain", "DecodingError", "CodingKeys", "UserInfo"] {
                XCTAssertFalse(r.stderr.contains(bad), r.stderr, file: file, line: line)
            }
            for e in expected { XCTAssertTrue(r.stderr.contains(e), "'\(e)' missing: \(r.stderr)", file: file, line: line) }
        }
        let settings = dir.appendingPathComponent("settings.json")
        let extract = ["extract", folder.path, "--store", dir.appendingPathComponent("s.h5").path, "--quiet", "--settings"]
        try check(extract + [dir.appendingPathComponent("missing.json").path], ["missing.json", "no such settings file"])
        try check(extract + [dir.path], [dir.path, "is a folder"])
        let fifo = dir.appendingPathComponent("fifo.json")
        XCTAssertEqual(mkfifo(fifo.path, 0o644), 0)
        try check(extract + [fifo.path], ["fifo.json", "FIFO"])
        try "{\n  \"mode\": \"3D\",\n  discretisation: 1\n}\n".write(to: settings, atomically: true, encoding: .utf8)
        try check(extract + [settings.path], ["settings.json", "line 3, column 3"])
        var json = try CohortExtraction.settingsJSON(testSettings)
        json = json.replacingOccurrences(of: "\"mode\":\"3D\"", with: "\"mode\":3")
        try json.write(to: settings, atomically: true, encoding: .utf8)
        try check(extract + [settings.path], ["settings.json", "'mode'"])

        // A store where no file can be made: its folder is a file (and, when not root, a read-only folder).
        let notAFolder = dir.appendingPathComponent("plain-file")
        try Data("x".utf8).write(to: notAFolder)
        try check(["extract", folder.path, "--store", notAFolder.appendingPathComponent("s.h5").path, "--quiet"],
                  ["plain-file", "not a folder"])
        if getuid() != 0 {
            let readOnly = dir.appendingPathComponent("read-only")
            try FileManager.default.createDirectory(at: readOnly, withIntermediateDirectories: true)
            chmod(readOnly.path, 0o555)
            defer { chmod(readOnly.path, 0o755) }
            try check(["extract", folder.path, "--store", readOnly.appendingPathComponent("s.h5").path, "--quiet"],
                      ["read-only", "permission denied"])
        }
        try check(["extract", dir.appendingPathComponent("nowhere").path, "--store", dir.appendingPathComponent("s.h5").path],
                  ["nowhere", "no such folder"])
    }

    /// Writing a store where no file can be made was reported as HDF5's internal open message.
    func testStoreInAFolderWhereNothingCanBeWrittenIsAPlainError() throws {
        let dir = try SharedData.temporaryDirectory(for: self)
        let notAFolder = dir.appendingPathComponent("plain-file")
        try Data("x".utf8).write(to: notAFolder)
        let contents = StoreContents(attributes: StoreAttributes(settingsJSON: "{}"))
        var folders = [(notAFolder, "not a folder")]
        if getuid() != 0 {
            let readOnly = dir.appendingPathComponent("read-only")
            try FileManager.default.createDirectory(at: readOnly, withIntermediateDirectories: true)
            chmod(readOnly.path, 0o555)
            folders.append((readOnly, "permission denied"))
        }
        for (folder, reason) in folders {
            let store = folder.appendingPathComponent("s.h5")
            XCTAssertThrowsError(try contents.write(to: store)) { e in
                let text = ErrorText.plain(e)
                XCTAssertEqual(text.components(separatedBy: ": ").first, "cannot write \(store.path)", text)
                XCTAssertTrue(text.contains(reason) && !text.contains("HDF5") && !text.contains("errno"), text)
            }
        }
    }

    /// A FIFO or a folder given as the store: HDF5 waited forever on the FIFO.
    func testStoreThatIsAFIFOOrAFolderIsRefusedAtOnce() throws {
        let dir = try SharedData.temporaryDirectory(for: self)
        let fifo = dir.appendingPathComponent("store.h5")
        XCTAssertEqual(mkfifo(fifo.path, 0o644), 0)
        let text = dir.appendingPathComponent("notes.h5")
        try Data("patient_id,lesion_id\n".utf8).write(to: text)
        for (path, expected) in [(fifo.path, "not a regular file"), (dir.path, "folder"), (text.path, "not an HDF5 file"),
                                 (dir.appendingPathComponent("missing.h5").path, "no such file")] {
            let r = try lesionmap(["score", path], timeout: 30)
            XCTAssertEqual(r.status, 1, "score \(path) must fail at once, not wait (status -1 = gave up after 30 s)")
            XCTAssertTrue(r.stderr.contains(path) && r.stderr.contains(expected) && !r.stderr.contains("H5F"), r.stderr)
        }
        let plan = dir.appendingPathComponent("plain-file")
        try Data("x".utf8).write(to: plan)
        let r = try lesionmap(["plan", fifo.path, "--json", plan.path], timeout: 30)
        XCTAssertEqual(r.status, 1)
    }

    func testErrorTextTranslatesFoundationAndDecodingErrors() throws {
        let write = CocoaError(.fileWriteNoPermission, userInfo: [NSFilePathErrorKey: "/data/x.h5",
                                                                 NSUnderlyingErrorKey: NSError(domain: NSPOSIXErrorDomain, code: Int(EACCES))])
        XCTAssertEqual(ErrorText.plain(write), "cannot write /data/x.h5: permission denied; check the folder's permissions or choose another location")
        let missing = CocoaError(.fileReadNoSuchFile, userInfo: [NSFilePathErrorKey: "/data/s.json"])
        XCTAssertEqual(ErrorText.plain(missing), "cannot read /data/s.json: no such file or folder")
        XCTAssertEqual(ErrorText.plain(CocoaError(.fileWriteVolumeReadOnly, userInfo: [NSFilePathErrorKey: "/ro/x"])),
                       "cannot write /ro/x: the file system is read-only; choose a writable location")
        struct S: Decodable { var a: Int; var b: [String: [Int]] }
        func decodingMessage(_ json: String) -> String {
            switch Result(catching: { try JSONDecoder().decode(S.self, from: Data(json.utf8)) }) {
            case .success: return ""
            case .failure(let error): return ErrorText.plain(error)
            }
        }
        XCTAssertEqual(decodingMessage("{\"b\": {}}"), "missing key 'a'")
        XCTAssertEqual(decodingMessage("{\"a\": 1, \"b\": {\"k\": [1, \"x\"]}}"), "key 'b.k[1]' has the wrong type (expected a number)")
        XCTAssertEqual(JSONSyntax.firstError(in: "{\"a\": 1,\n}")?.line, 2)
        XCTAssertEqual(JSONSyntax.firstError(in: "[1, 2]\n x").map { "\($0.line):\($0.column)" }, "2:2")
        XCTAssertNil(JSONSyntax.firstError(in: "{\"a\": [1, -2.5e3, true, null, \"q\\u00e9\"]}"))
    }

    // MARK: helpers

    /// The test signature as a file, for the CLI.
    func signatureFile(_ dir: URL) throws -> URL {
        let url = dir.appendingPathComponent("sig.json")
        try JSONEncoder().encode(ReportTests.signature).write(to: url)
        return url
    }

    /// Runs the `lesionmap` executable built beside the tests (or `LESIONMAP_BIN`).
    /// Gives up (status -1) after `timeout` seconds.
    func lesionmap(_ arguments: [String], timeout: Double = 600) throws -> (status: Int32, stdout: String, stderr: String) {
        var exe: URL?
        if let path = ProcessInfo.processInfo.environment["LESIONMAP_BIN"] { exe = URL(fileURLWithPath: path) }
        let bundleDir = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
        for up in 0..<4 where exe == nil {
            let c = (0..<up).reduce(bundleDir) { d, _ in d.deletingLastPathComponent() }.appendingPathComponent("lesionmap")
            if FileManager.default.isExecutableFile(atPath: c.path) { exe = c }
        }
        guard let exe else {
            if SharedData.isCI { XCTFail("lesionmap executable not built next to the tests") }
            throw XCTSkip("lesionmap executable not built next to the tests (run `swift build --build-tests` first)")
        }
        let p = Process()
        p.executableURL = exe
        p.arguments = arguments
        let out = Pipe(), err = Pipe()
        p.standardOutput = out
        p.standardError = err
        try p.run()
        let deadline = Date().addingTimeInterval(timeout)
        while p.isRunning && Date() < deadline { Thread.sleep(forTimeInterval: 0.05) }
        let timedOut = p.isRunning
        if timedOut { p.terminate() }
        p.waitUntilExit()
        let errData = err.fileHandleForReading.readDataToEndOfFile()
        let outData = out.fileHandleForReading.readDataToEndOfFile()
        return (timedOut ? -1 : p.terminationStatus, String(decoding: outData, as: UTF8.self), String(decoding: errData, as: UTF8.self))
    }
}
