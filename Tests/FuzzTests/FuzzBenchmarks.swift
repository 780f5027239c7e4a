import Foundation
import TestSupport
import XCTest

/// The worker process of a fuzz campaign: this test binary started by `FuzzCampaign` with
/// `LESIONMAP_FUZZ_WORKER` set. Skipped in ordinary test runs.
final class FuzzWorkerEntry: XCTestCase {
    func testWorker() throws {
        let env = ProcessInfo.processInfo.environment
        guard env[FuzzEnvironment.workDirectory] != nil else {
            throw XCTSkip("fuzz worker: started by FuzzCampaign only")
        }
        try FuzzWorker.run(environment: env)
    }
}

/// The fuzzing benchmark: a seeded random-mutation campaign over the NIfTI, NRRD, manifest and DICOM
/// readers, in worker processes that the campaign restarts after a crash, a hang or a runaway allocation.
///
/// Runs only with `LESIONMAP_BENCHMARK=1`; `LESIONMAP_FUZZ_SECONDS` sets the duration (default 60),
/// `LESIONMAP_FUZZ_SEED` the run seed (default 1), `LESIONMAP_FUZZ_TIMEOUT` the per-input hang timeout in
/// seconds (default 10), `LESIONMAP_FUZZ_MEMORY_MB` the worker memory cap (default 2048), `LESIONMAP_FUZZ_INPUTS`
/// an optional cap on the number of inputs. Use a release build:
/// `LESIONMAP_BENCHMARK=1 LESIONMAP_FUZZ_SECONDS=1800 swift test -c release -Xswiftc -enable-testing --filter FuzzBenchmarks`.
/// The work folder (seeds, reproducers, worker logs, `messages.txt` with every distinct refusal) is kept
/// when the campaign finds anything, and its path printed.
final class FuzzBenchmarks: XCTestCase {
    func testFuzzReaders() throws {
        let env = ProcessInfo.processInfo.environment
        guard env["LESIONMAP_BENCHMARK"] == "1" else { throw XCTSkip("benchmark: set LESIONMAP_BENCHMARK=1") }
        let seconds = Double(env["LESIONMAP_FUZZ_SECONDS"] ?? "") ?? 60
        let work = FileManager.default.temporaryDirectory.appendingPathComponent("lesionmap-fuzz-\(UUID().uuidString)")
        var campaign = FuzzCampaign(work: work)
        campaign.seconds = seconds
        campaign.runSeed = UInt64(env["LESIONMAP_FUZZ_SEED"] ?? "") ?? 1
        campaign.hangTimeout = Double(env["LESIONMAP_FUZZ_TIMEOUT"] ?? "") ?? 10
        campaign.memoryCapMB = Int(env["LESIONMAP_FUZZ_MEMORY_MB"] ?? "") ?? 2048
        if let inputs = env["LESIONMAP_FUZZ_INPUTS"].flatMap({ Int($0) }) { campaign.inputs = inputs }
        let report = try campaign.run()
        print("fuzz run seed \(campaign.runSeed), \(Int(seconds)) s budget, hang timeout \(Int(campaign.hangTimeout)) s, "
              + "memory cap \(campaign.memoryCapMB) MB, \(ProcessInfo.processInfo.activeProcessorCount) cores")
        print(report.summary)
        let clean = report.findings.isEmpty && report.unexpected.isEmpty
        if clean {
            try? FileManager.default.removeItem(at: work)
        } else {
            print("fuzz work folder kept: \(work.path)")
        }
        XCTAssertEqual(report.count(.crash), 0, "crashes")
        XCTAssertEqual(report.count(.hang), 0, "hangs")
        XCTAssertEqual(report.count(.runawayMemory), 0, "runaway allocations")
        XCTAssertEqual(report.unexpected.count, 0, "unexpected outcomes")
    }
}

/// Always-on fuzzing checks: a short fixed-seed run in this process, and the harness's own machinery.
final class FuzzRegressionTests: XCTestCase {
    /// 150 fixed-seed inputs per reader, in a worker process (so a hang fails the test after 10 s instead of
    /// blocking the suite): none crashes, hangs or bloats, and each is read or refused with the reader's own
    /// error type.
    func testFixedSeedInputsAreReadOrRefusedCleanly() throws {
        let dir = try SharedData.temporaryDirectory(for: self)
        var campaign = FuzzCampaign(work: dir.appendingPathComponent("work"))
        campaign.runSeed = 20261206
        campaign.inputs = 150 * FuzzReader.allCases.count
        let report = try campaign.run()
        print(report.summary)
        XCTAssertEqual(report.findings.map { "\($0.kind.rawValue) at input \($0.index): \($0.detail)" }, [])
        XCTAssertEqual(report.unexpected, [])
        for reader in FuzzReader.allCases.map(\.rawValue) {
            let t = report.tallies[reader] ?? ReaderTally()
            XCTAssertEqual(report.executions[reader], 150, reader)
            // Both outcomes occur: the mutations neither break everything nor leave everything readable.
            XCTAssertGreaterThan(t.refused, 0, "\(reader): nothing was refused")
            XCTAssertGreaterThan(t.accepted, 0, "\(reader): nothing was read")
        }
    }

    /// Input generation is a function of (run seed, index): the parent regenerates the input a worker died on.
    func testInputsAreReproducibleFromTheirIndex() throws {
        let dir = try SharedData.temporaryDirectory(for: self)
        try FuzzSeeds.build(in: dir.appendingPathComponent("seeds"))
        let a = try FuzzExecutor(seedsDirectory: dir.appendingPathComponent("seeds"), runSeed: 5)
        let b = try FuzzExecutor(seedsDirectory: dir.appendingPathComponent("seeds"), runSeed: 5)
        let c = try FuzzExecutor(seedsDirectory: dir.appendingPathComponent("seeds"), runSeed: 6)
        var differences = 0
        for index in 0..<200 {
            let x = a.input(index), y = b.input(index)
            XCTAssertEqual(x.bytes, y.bytes)
            XCTAssertEqual(x.file, y.file)
            XCTAssertEqual(x.seed.name, y.seed.name)
            if c.input(index).bytes != x.bytes { differences += 1 }
        }
        XCTAssertGreaterThan(differences, 150, "another run seed gives other inputs")
    }

    /// The campaign survives a worker that crashes, hangs and allocates without bound: it counts each,
    /// keeps a reproducer, restarts the worker after the input and still runs every input.
    func testCampaignSurvivesCrashHangAndRunawayAllocation() throws {
        let dir = try SharedData.temporaryDirectory(for: self)
        var campaign = FuzzCampaign(work: dir.appendingPathComponent("work"))
        campaign.inputs = 48
        campaign.hangTimeout = 10  // generous: a debug worker on a loaded 2-core machine can take seconds on one input
        campaign.memoryCapMB = 600
        campaign.extraEnvironment = [FuzzEnvironment.selfTestCrash: "5", FuzzEnvironment.selfTestHang: "17",
                                     FuzzEnvironment.selfTestAllocate: "30"]
        let report = try campaign.run()
        print(report.summary)
        XCTAssertEqual(report.findings.map(\.kind), [.crash, .hang, .runawayMemory])
        XCTAssertEqual(report.findings.map(\.index), [5, 17, 30])
        XCTAssertEqual(report.findings.map(\.reader), ["nrrd", "nrrd", "manifest"])
        XCTAssertEqual(report.totalExecutions, 48)
        XCTAssertEqual(report.executions["nifti"], 12)
        XCTAssertEqual(report.workerStarts, 4)
        XCTAssertTrue(report.findings[0].detail.contains("deliberate crash"), report.findings[0].detail)
        for finding in report.findings {
            let note = try String(contentsOf: finding.reproducer.appendingPathComponent("REPRODUCER.txt"), encoding: .utf8)
            XCTAssertTrue(note.contains("input \(finding.index) "), note)
            XCTAssertTrue(FileManager.default.fileExists(atPath: finding.reproducer.appendingPathComponent(finding.file).path))
        }
    }
}
