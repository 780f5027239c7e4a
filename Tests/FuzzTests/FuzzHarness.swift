import Foundation

/// Counts of one reader's outcomes.
struct ReaderTally: Codable, Sendable {
    var accepted = 0
    var refused = 0
    var unexpected = 0
    var classified: Int { accepted + refused + unexpected }

    mutating func add(_ other: ReaderTally) {
        accepted += other.accepted; refused += other.refused; unexpected += other.unexpected
    }
}

/// What a worker has done so far, written atomically about once a second and when it finishes.
struct WorkerSnapshot: Codable, Sendable {
    /// The last input whose reader returned (-1: none yet).
    var lastIndex: Int
    var finished: Bool
    var tallies: [String: ReaderTally]
    /// Normalised refusal messages per reader, with counts.
    var messages: [String: [String: Int]]
    /// Unexpected outcomes (error of another type, broken invariant): index and message.
    var unexpected: [String]
    /// The worker's peak resident memory (VmHWM), in kB.
    var peakKB: Int
}

/// Environment variables shared by the campaign and its worker processes.
enum FuzzEnvironment {
    static let workDirectory = "LESIONMAP_FUZZ_WORKER"
    static let start = "LESIONMAP_FUZZ_START"
    static let end = "LESIONMAP_FUZZ_END"
    static let deadline = "LESIONMAP_FUZZ_DEADLINE"
    static let runSeed = "LESIONMAP_FUZZ_RUN_SEED"
    static let segment = "LESIONMAP_FUZZ_SEGMENT"
    /// Test hooks for the harness's own test: crash, hang or allocate at a given input index.
    static let selfTestCrash = "LESIONMAP_FUZZ_SELFTEST_CRASH"
    static let selfTestHang = "LESIONMAP_FUZZ_SELFTEST_HANG"
    static let selfTestAllocate = "LESIONMAP_FUZZ_SELFTEST_ALLOCATE"
}

/// /proc/<pid>/status fields in kB (Linux); nil elsewhere or when the process is gone.
func procStatusKB(_ pid: Int32, _ field: String) -> Int? {
    guard let text = try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8) else { return nil }
    for line in text.split(separator: "\n") where line.hasPrefix(field + ":") {
        return Int(line.dropFirst(field.count + 1).trimmingCharacters(in: .whitespaces).split(separator: " ").first ?? "")
    }
    return nil
}

// MARK: - Worker

/// The worker side: runs inputs `start..<end` until `deadline`, writing each input to disk and its index
/// to `progress` before running the reader, so that the parent can name and keep the input that killed it.
enum FuzzWorker {
    static func run(environment env: [String: String]) throws {
        let work = URL(fileURLWithPath: env[FuzzEnvironment.workDirectory]!)
        let start = Int(env[FuzzEnvironment.start] ?? "0") ?? 0
        let end = Int(env[FuzzEnvironment.end] ?? "") ?? Int.max
        let deadline = Date(timeIntervalSince1970: Double(env[FuzzEnvironment.deadline] ?? "") ?? .infinity)
        let runSeed = UInt64(env[FuzzEnvironment.runSeed] ?? "1") ?? 1
        let segment = env[FuzzEnvironment.segment] ?? "0"
        let crashAt = env[FuzzEnvironment.selfTestCrash].flatMap { Int($0) }
        let hangAt = env[FuzzEnvironment.selfTestHang].flatMap { Int($0) }
        let allocateAt = env[FuzzEnvironment.selfTestAllocate].flatMap { Int($0) }

        let executor = try FuzzExecutor(seedsDirectory: work.appendingPathComponent("seeds"), runSeed: runSeed)
        let scratch = work.appendingPathComponent("scratch")
        try executor.prepareScratch(scratch)
        let progress = open(work.appendingPathComponent("progress").path, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        precondition(progress >= 0, "cannot open the progress file")
        defer { close(progress) }

        var snapshot = WorkerSnapshot(lastIndex: start - 1, finished: false, tallies: [:], messages: [:],
                                      unexpected: [], peakKB: 0)
        let snapshotURL = work.appendingPathComponent("snapshot-\(segment).json")
        func save() {
            snapshot.peakKB = procStatusKB(getpid(), "VmHWM") ?? 0
            try? JSONEncoder().encode(snapshot).write(to: snapshotURL, options: .atomic)
        }
        var lastSave = Date()
        var index = start
        while index < end && Date() < deadline {
            let input = executor.input(index)
            try executor.write(input, scratch: scratch)
            let line = Array(String(format: "%020d\n", index).utf8)
            _ = line.withUnsafeBytes { pwrite(progress, $0.baseAddress, $0.count, 0) }
            if index == crashAt { fatalError("fuzz harness self-test: deliberate crash at input \(index)") }
            if index == hangAt { while true { sleep(1000) } }
            if index == allocateAt {
                let block = UnsafeMutableRawPointer.allocate(byteCount: 1 << 30, alignment: 4096)
                for page in stride(from: 0, to: 1 << 30, by: 4096) { block.storeBytes(of: 1, toByteOffset: page, as: UInt8.self) }
                while true { sleep(1000) }  // hold it, as a reader stuck filling a huge buffer would
            }
            let outcome = executor.run(input, scratch: scratch)
            let reader = input.reader.rawValue
            switch outcome {
            case .accepted: snapshot.tallies[reader, default: ReaderTally()].accepted += 1
            case .refused(let message):
                snapshot.tallies[reader, default: ReaderTally()].refused += 1
                if snapshot.messages[reader, default: [:]].count < 2000 || snapshot.messages[reader]?[message] != nil {
                    snapshot.messages[reader, default: [:]][message, default: 0] += 1
                }
            case .unexpected(let message):
                snapshot.tallies[reader, default: ReaderTally()].unexpected += 1
                if snapshot.unexpected.count < 200 {
                    snapshot.unexpected.append("input \(index) (\(reader), \(input.seed.name), \(input.file)): \(message)")
                }
            }
            snapshot.lastIndex = index
            index += 1
            if Date().timeIntervalSince(lastSave) > 1 {
                save()
                lastSave = Date()
            }
        }
        snapshot.finished = true
        save()
    }
}

// MARK: - Campaign (parent)

/// An input that killed, stalled or bloated a worker, with the folder that reproduces it.
struct FuzzFinding: Sendable {
    enum Kind: String, Sendable { case crash, hang, runawayMemory = "runaway memory" }
    var kind: Kind
    var index: Int
    var reader: String
    var seed: String
    var file: String
    var reproducer: URL
    var detail: String
}

struct FuzzReport: Sendable {
    var seconds: Double
    var executions: [String: Int]
    var tallies: [String: ReaderTally]
    var distinctMessages: [String: Int]
    var findings: [FuzzFinding]
    var unexpected: [String]
    var peakMB: Double
    var workerStarts: Int

    var totalExecutions: Int { executions.values.reduce(0, +) }
    func count(_ kind: FuzzFinding.Kind) -> Int { findings.filter { $0.kind == kind }.count }
    func count(_ kind: FuzzFinding.Kind, reader: String) -> Int {
        findings.filter { $0.kind == kind && $0.reader == reader }.count
    }

    /// The figures, one line per reader, then the totals.
    var summary: String {
        var lines: [String] = []
        for reader in FuzzReader.allCases.map(\.rawValue) {
            let t = tallies[reader] ?? ReaderTally()
            let n = executions[reader] ?? 0
            lines.append(String(format: "fuzz %@: %d executions (%.1f/s), %d read, %d refused (%d distinct messages), "
                                + "%d unexpected, %d crashes, %d hangs, %d runaway allocations",
                                reader.padding(toLength: 8, withPad: " ", startingAt: 0), n, Double(n) / max(seconds, 1e-9),
                                t.accepted, t.refused, distinctMessages[reader] ?? 0, t.unexpected,
                                count(.crash, reader: reader), count(.hang, reader: reader),
                                count(.runawayMemory, reader: reader)))
        }
        lines.append(String(format: "fuzz total: %d executions in %.0f s (%.1f/s), %d crashes, %d hangs, "
                            + "%d runaway allocations, %d unexpected outcomes, peak worker memory %.0f MB, %d worker start(s)",
                            totalExecutions, seconds, Double(totalExecutions) / max(seconds, 1e-9), count(.crash),
                            count(.hang), count(.runawayMemory), tallies.values.reduce(0) { $0 + $1.unexpected },
                            peakMB, workerStarts))
        for f in findings {
            lines.append("fuzz finding: \(f.kind.rawValue) at input \(f.index) (\(f.reader), seed \(f.seed), "
                         + "file \(f.file)); reproducer \(f.reproducer.path); \(f.detail)")
        }
        for u in unexpected.prefix(20) { lines.append("fuzz unexpected: \(u)") }
        return lines.joined(separator: "\n")
    }
}

/// The parent side: builds the seeds, runs worker processes (this test binary running `FuzzWorker`)
/// until the time or input budget is spent, restarts a worker after a crash, a hang (no progress for
/// `hangTimeout` seconds) or a runaway allocation (resident memory above `memoryCapMB`), and keeps a
/// reproducer folder for each.
struct FuzzCampaign {
    var work: URL
    var runSeed: UInt64 = 1
    var inputs: Int = .max
    var seconds: Double = .infinity
    var hangTimeout: Double = 10
    var memoryCapMB: Int = 2048
    /// Extra environment for the workers (the self-test hooks).
    var extraEnvironment: [String: String] = [:]
    /// The worker test to run, as XCTest names it on the command line.
    static let workerTest = "FuzzTests.FuzzWorkerEntry/testWorker"

    func run() throws -> FuzzReport {
        let fm = FileManager.default
        try fm.createDirectory(at: work, withIntermediateDirectories: true)
        let seedsDir = work.appendingPathComponent("seeds")
        if !fm.fileExists(atPath: seedsDir.appendingPathComponent(FuzzSeeds.listFile).path) {
            try FuzzSeeds.build(in: seedsDir)
        }
        let executor = try FuzzExecutor(seedsDirectory: seedsDir, runSeed: runSeed)
        let binary = try fm.destinationOfSymbolicLink(atPath: "/proc/self/exe")
        let began = Date()
        let deadline = seconds.isFinite ? began.addingTimeInterval(seconds) : Date.distantFuture

        var next = 0
        var segment = 0
        var executedRanges: [ClosedRange<Int>] = []
        var tallies: [String: ReaderTally] = [:]
        var messages: [String: [String: Int]] = [:]
        var unexpected: [String] = []
        var findings: [FuzzFinding] = []
        var peakKB = 0
        let readerCount = FuzzReader.allCases.count

        while next < inputs && Date() < deadline {
            segment += 1
            let progressURL = work.appendingPathComponent("progress")
            try? fm.removeItem(at: progressURL)
            let logURL = work.appendingPathComponent("worker-\(segment).log")
            fm.createFile(atPath: logURL.path, contents: nil)
            let log = try FileHandle(forWritingTo: logURL)
            let process = Process()
            process.executableURL = URL(fileURLWithPath: binary)
            process.arguments = [Self.workerTest]
            var env = ProcessInfo.processInfo.environment
            env[FuzzEnvironment.workDirectory] = work.path
            env[FuzzEnvironment.start] = String(next)
            env[FuzzEnvironment.end] = inputs == .max ? nil : String(inputs)
            env[FuzzEnvironment.deadline] = deadline == .distantFuture ? nil : String(deadline.timeIntervalSince1970)
            env[FuzzEnvironment.runSeed] = String(runSeed)
            env[FuzzEnvironment.segment] = String(segment)
            for (k, v) in extraEnvironment { env[k] = v }
            process.environment = env
            process.standardOutput = log
            process.standardError = log
            process.standardInput = FileHandle.nullDevice
            try process.run()
            let pid = process.processIdentifier

            // Watch: progress (the index being run and when it last changed) and memory.
            var lastProgress = -1
            var lastChange = Date()
            var killedFor: FuzzFinding.Kind?
            var killDetail = ""
            let startupGrace = 120.0
            while process.isRunning {
                usleep(100_000)
                if let text = try? String(contentsOf: progressURL, encoding: .utf8),
                   let index = Int(text.trimmingCharacters(in: .whitespacesAndNewlines)), index != lastProgress {
                    lastProgress = index
                    lastChange = Date()
                }
                if let hwm = procStatusKB(pid, "VmHWM") { peakKB = max(peakKB, hwm) }
                if let rss = procStatusKB(pid, "VmRSS"), rss > memoryCapMB * 1024 {
                    killedFor = .runawayMemory
                    killDetail = "resident memory \(rss / 1024) MB exceeded the \(memoryCapMB) MB cap"
                    kill(pid, SIGKILL)
                    break
                }
                let limit = lastProgress < 0 ? startupGrace : hangTimeout
                if Date().timeIntervalSince(lastChange) > limit {
                    killedFor = .hang
                    killDetail = "no progress for \(Int(limit)) s"
                    kill(pid, SIGKILL)
                    break
                }
            }
            process.waitUntilExit()
            try? log.close()
            if let text = try? String(contentsOf: progressURL, encoding: .utf8),
               let index = Int(text.trimmingCharacters(in: .whitespacesAndNewlines)) {
                lastProgress = index
            }

            let snapshotURL = work.appendingPathComponent("snapshot-\(segment).json")
            let snapshot = (try? Data(contentsOf: snapshotURL)).flatMap { try? JSONDecoder().decode(WorkerSnapshot.self, from: $0) }
            if let snapshot {
                for (reader, t) in snapshot.tallies { tallies[reader, default: ReaderTally()].add(t) }
                for (reader, m) in snapshot.messages {
                    messages[reader, default: [:]].merge(m, uniquingKeysWith: +)
                }
                unexpected += snapshot.unexpected
                peakKB = max(peakKB, snapshot.peakKB)
            }
            let cleanExit = process.terminationReason == .exit && process.terminationStatus == 0
                && snapshot?.finished == true && killedFor == nil
            if cleanExit {
                // The worker ran until the input budget or the deadline was spent.
                if let last = snapshot?.lastIndex, last >= next { executedRanges.append(next...last) }
                break
            }
            // The worker died, stalled or bloated on input `lastProgress` (or before its first input).
            guard lastProgress >= next else {
                throw FuzzHarnessError(description: "worker \(segment) failed before its first input; see \(logURL.path):\n"
                                       + tail(of: logURL))
            }
            executedRanges.append(next...lastProgress)
            let input = executor.input(lastProgress)
            let kind = killedFor ?? .crash
            let reproducer = work.appendingPathComponent("reproducers")
                .appendingPathComponent("\(kind == .crash ? "crash" : kind == .hang ? "hang" : "memory")-\(lastProgress)")
            try executor.writeReproducer(input, to: reproducer)
            let detail = killedFor != nil ? killDetail
                : (process.terminationReason == .uncaughtSignal ? "signal \(process.terminationStatus)"
                   : "exit status \(process.terminationStatus)") + "; worker log ends: " + tail(of: logURL)
            findings.append(FuzzFinding(kind: kind, index: lastProgress, reader: input.reader.rawValue,
                                        seed: input.seed.name, file: input.file, reproducer: reproducer, detail: detail))
            next = lastProgress + 1
        }

        var executions: [String: Int] = [:]
        for range in executedRanges {
            for (r, reader) in FuzzReader.allCases.enumerated() {
                // Inputs i in range with i % readerCount == r.
                let first = range.lowerBound + ((r - range.lowerBound % readerCount) + readerCount) % readerCount
                let n = first > range.upperBound ? 0 : (range.upperBound - first) / readerCount + 1
                executions[reader.rawValue, default: 0] += n
            }
        }
        try writeMessages(messages)
        return FuzzReport(seconds: Date().timeIntervalSince(began), executions: executions, tallies: tallies,
                          distinctMessages: messages.mapValues(\.count), findings: findings, unexpected: unexpected,
                          peakMB: Double(peakKB) / 1024, workerStarts: segment)
    }

    /// Every distinct refusal message with its count, per reader, for reading after a run.
    private func writeMessages(_ messages: [String: [String: Int]]) throws {
        var text = ""
        for reader in messages.keys.sorted() {
            text += "## \(reader)\n"
            for (m, n) in messages[reader]!.sorted(by: { $0.value > $1.value }) { text += "\(n)\t\(m)\n" }
        }
        try Data(text.utf8).write(to: work.appendingPathComponent("messages.txt"))
    }

    /// The worker log's lines that say why it died (Swift runtime errors, C++ aborts), else its last lines.
    private func tail(of url: URL) -> String {
        let text = (try? String(contentsOf: url, encoding: .utf8)) ?? ""
        let lines = text.split(separator: "\n")
        let causes = lines.filter { line in
            ["Fatal error", "fatal error", "runtime failure", "Precondition failed", "Assertion failed", "terminate called",
             "what():", "Segmentation", "Aborted", "crashed:", "SIGSEGV", "SIGILL", "SIGABRT", "SIGBUS"].contains { line.contains($0) }
        }
        return (causes.isEmpty ? Array(lines.suffix(6)) : Array(causes.prefix(6))).joined(separator: " | ")
    }
}

struct FuzzHarnessError: Error, CustomStringConvertible { var description: String }
