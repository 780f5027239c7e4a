import XCTest
import Foundation
import TestSupport
#if canImport(Glibc)
import Glibc
#endif

/// Cohort extraction throughput, whole process, against PyRadiomics' batch mode on the same manifest and the
/// same cores, in one run (figures printed, never asserted).
///
/// Runs only with `LESIONMAP_BENCHMARK=1`, in a release build, with PyRadiomics' batch command installed
/// (`pyradiomics` on the PATH, or its path in `LESIONMAP_PYRADIOMICS`):
///
///     LESIONMAP_BENCHMARK=1 LESIONMAP_PYRADIOMICS=/path/to/venv/bin/pyradiomics \
///       swift test -c release -Xswiftc -enable-testing --filter CohortThroughputBenchmarks
///
/// The cohort: `lesionmap synth --patients 40 --seed 1` (`LESIONMAP_BENCHMARK_PATIENTS` to change the number; 152
/// lesions with 40),
/// CT-like int16 NIfTI images of 176 x 144 x 48 voxels (1.5 x 1.5 x 4 mm), one label map per patient.
///
/// - LesionMap: `lesionmap extract COHORT --store S.h5 --preset default --jobs 2`, then `--jobs 1`, each into a
///   fresh store: 1 mm isotropic trilinear resampling, re-segmentation [-1000, 3000] HU, bin width 25 HU, every
///   feature family, for the tumour **and** its 10 mm peritumoral ring (two regions per lesion).
/// - PyRadiomics: `pyradiomics INPUT.csv --jobs 2 --param PARAMS.yaml --format csv` (one row per lesion: image,
///   label map, label), all feature classes on the original image, `resampledPixelSpacing` [1, 1, 1] with
///   `sitkLinear`, `resegmentRange` [-1000, 3000], `binWidth` 25: the tumour only, so PyRadiomics does less work
///   (no ring). Both tools get a re-segmentation lower bound of -1000 HU, a multiple of the bin width:
///   PyRadiomics' bins start at a multiple of the bin width below the lowest value, LesionMap's at the lower
///   bound, so the bin edges are the same (-1000, -975, ...) and texture matrices agree.
///
/// Wall time of the whole process (start-up, reading, writing the store or CSV) gives lesions per second; CPU time
/// (user + system, PyRadiomics' workers included) is the figure a loaded machine disturbs least; peak
/// resident memory is that of the lesionmap process (`wait4`'s `ru_maxrss`) and, for PyRadiomics, the largest
/// sum over its process tree (the batch command and its `--jobs` workers), sampled every 20 ms from `/proc`.
/// The load average is printed with every figure: the machine may be shared.
final class CohortThroughputBenchmarks: XCTestCase {
    override func setUpWithError() throws {
        guard ProcessInfo.processInfo.environment["LESIONMAP_BENCHMARK"] == "1" else {
            throw XCTSkip("benchmark: set LESIONMAP_BENCHMARK=1 (and use -c release)")
        }
    }

    struct Run {
        var wall: Double
        /// User + system time of the process and the descendants it waited for (PyRadiomics' workers).
        var cpu: Double
        var peakBytes: Int
        var status: Int32
        var load: String
    }

    func testCohortExtractionAgainstPyRadiomicsBatch() throws {
        let env = ProcessInfo.processInfo.environment
        let pyradiomics = env["LESIONMAP_PYRADIOMICS"] ?? "pyradiomics"
        let patients = Int(env["LESIONMAP_BENCHMARK_PATIENTS"] ?? "") ?? 40
        let lesionmap = try lesionmapExecutable().path
        let dir = try SharedData.temporaryDirectory(for: self)
        let cohort = dir.appendingPathComponent("cohort")
        // Written by the binary under test (a release build), not by this test bundle.
        let synth = try Self.run(lesionmap, ["synth", "--out", cohort.path, "--patients", String(patients), "--seed", "1"],
                                 stdout: "/dev/null", tree: false)
        XCTAssertEqual(synth.status, 0, "lesionmap synth failed")

        // PyRadiomics' batch input: one row per lesion (image, label map, label) from the manifest.
        let rows = try String(contentsOf: cohort.appendingPathComponent("lesions.csv"), encoding: .utf8)
            .split(whereSeparator: \.isNewline).map { $0.split(separator: ",", omittingEmptySubsequences: false).map(String.init) }
        let header = rows[0]
        guard let image = header.firstIndex(of: "image"), let mask = header.firstIndex(of: "mask"),
              let roi = header.firstIndex(of: "roi") else { return XCTFail("lesions.csv lacks image, mask or roi: \(header)") }
        var input = "Image,Mask,Label\n"
        for r in rows.dropFirst() {
            input += "\(cohort.appendingPathComponent(r[image]).path),\(cohort.appendingPathComponent(r[mask]).path),\(r[roi])\n"
        }
        let lesions = rows.count - 1  // one manifest row per lesion (its label in the patient's label map)
        let inputCSV = dir.appendingPathComponent("pyradiomics_input.csv")
        try input.write(to: inputCSV, atomically: true, encoding: .utf8)
        let params = dir.appendingPathComponent("pyradiomics_params.yaml")
        try """
            imageType:
              Original: {}
            setting:
              binWidth: 25
              resampledPixelSpacing: [1, 1, 1]
              interpolator: sitkLinear
              resegmentRange: [-1000, 3000]
            """.write(to: params, atomically: true, encoding: .utf8)

        print("cohort: \(patients) synthetic patients (seed 1), \(lesions) lesions; lesionmap \(lesionmap); pyradiomics \(pyradiomics)")
        func extract(jobs: Int) throws -> (String, Run) {
            let store = dir.appendingPathComponent("jobs\(jobs).h5")
            let r = try Self.run(lesionmap, ["extract", cohort.path, "--store", store.path, "--preset", "default",
                                             "--jobs", String(jobs), "--quiet"],
                                 stdout: dir.appendingPathComponent("jobs\(jobs).txt").path, tree: false)
            XCTAssertEqual(r.status, 0, "lesionmap extract --jobs \(jobs) failed")
            return ("lesionmap extract --jobs \(jobs)", r)
        }
        // --jobs 2 first, then PyRadiomics, then --jobs 1, so that a change of load over the run does not fall
        // on the two compared tools alone.
        let two = try extract(jobs: 2)
        let output = dir.appendingPathComponent("pyradiomics_output.csv")
        let py = try Self.run("/usr/bin/env", [pyradiomics, inputCSV.path, "--jobs", "2", "--param", params.path,
                                               "--format", "csv", "-o", output.path], stdout: "/dev/null", tree: true)
        XCTAssertEqual(py.status, 0, "pyradiomics batch failed (is it installed? set LESIONMAP_PYRADIOMICS)")
        let written = (try? String(contentsOf: output, encoding: .utf8))?.split(whereSeparator: \.isNewline).count ?? 0
        XCTAssertEqual(written - 1, lesions, "PyRadiomics wrote a row per lesion")
        let one = try extract(jobs: 1)
        let results = [two, ("PyRadiomics batch --jobs 2", py), one]

        for (name, r) in results {
            print(String(format: "%@: %.1f s, %.2f lesions/s, CPU %.1f s (%.3f s per lesion), peak RSS %.0f MB (load average %@)",
                         name, r.wall, Double(lesions) / r.wall, r.cpu, r.cpu / Double(lesions), Double(r.peakBytes) / 1e6, r.load))
        }
        print(String(format: "lesionmap --jobs 2 against PyRadiomics batch --jobs 2: %.1fx (wall), %.1fx (CPU); --jobs 2 against --jobs 1: %.2fx (wall)",
                     py.wall / two.1.wall, py.cpu / two.1.cpu, one.1.wall / two.1.wall))
    }

    /// The 1-, 5- and 15-minute load averages, as `uptime` prints them.
    static func loadAverage() -> String {
        var load = [Double](repeating: 0, count: 3)
        guard getloadavg(&load, 3) == 3 else { return "unknown" }
        return load.map { String(format: "%.2f", $0) }.joined(separator: " ")
    }

    /// Runs `path args` (standard output to `stdout`, standard error discarded) and times it. Peak memory: the
    /// child's `ru_maxrss`, or with `tree` the largest sampled sum of resident memory over it and its descendants.
    static func run(_ path: String, _ args: [String], stdout: String, tree: Bool) throws -> Run {
        let before = loadAverage()
        let start = DispatchTime.now().uptimeNanoseconds
        let pid = try spawn(path, args, stdout: stdout)
        let sampler = tree ? TreeMemorySampler(root: pid) : nil
        var status: Int32 = 0
        var usage = rusage()
        _ = wait4(pid, &status, 0, &usage)
        let wall = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
        let treePeak = sampler?.stop() ?? 0
        func seconds(_ t: timeval) -> Double { Double(t.tv_sec) + Double(t.tv_usec) / 1e6 }
        return Run(wall: wall, cpu: seconds(usage.ru_utime) + seconds(usage.ru_stime),
                   peakBytes: max(treePeak, usage.ru_maxrss * 1024), status: status,
                   load: "\(before) at the start, \(loadAverage()) at the end")
    }

    /// Starts `path args` with standard output to the file `stdout` and standard error discarded; its pid.
    static func spawn(_ path: String, _ args: [String], stdout: String) throws -> pid_t {
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 1, stdout, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        posix_spawn_file_actions_addopen(&actions, 2, "/dev/null", O_WRONLY, 0)
        let argv: [UnsafeMutablePointer<CChar>?] = ([path] + args).map { strdup($0) } + [nil]
        defer { argv.forEach { free($0) } }
        var pid = pid_t()
        let spawned = posix_spawn(&pid, path, &actions, nil, argv, environ)
        guard spawned == 0 else { throw XCTSkip("cannot start \(path): error \(spawned)") }
        return pid
    }
}

/// The largest sum of resident memory over a process and its descendants, sampled every 20 ms from `/proc`.
final class TreeMemorySampler: @unchecked Sendable {
    // @unchecked: `peak`, `running` and `finished` are read and written only with `lock` held.
    private let lock = NSLock()
    private var peak = 0
    private var running = true
    private var finished = false

    init(root: pid_t) {
        Thread { [self] in
            sample(root: root)
            lock.withLock { finished = true }
        }.start()
    }

    private func sample(root: pid_t) {
        let page = sysconf(Int32(_SC_PAGESIZE))
        while lock.withLock({ running }) {
            var parent: [pid_t: pid_t] = [:], resident: [pid_t: Int] = [:]
            for name in (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? [] {
                guard let pid = pid_t(name),
                      let stat = try? String(contentsOfFile: "/proc/\(name)/stat", encoding: .utf8),
                      let close = stat.lastIndex(of: ")") else { continue }
                // After "pid (comm) ": state, ppid, ...; the 24th field overall (index 21 after the ")") is rss in pages.
                let fields = stat[stat.index(after: close)...].split(separator: " ")
                guard fields.count > 21, let ppid = pid_t(fields[1]), let rss = Int(fields[21]) else { continue }
                parent[pid] = ppid
                resident[pid] = rss * page
            }
            var total = 0
            for (pid, rss) in resident {
                var p = pid
                while p != root, let up = parent[p], up > 1 { p = up }
                if p == root { total += rss }
            }
            lock.withLock { peak = max(peak, total) }
            usleep(20_000)
        }
    }

    /// Stops sampling; the peak seen.
    func stop() -> Int {
        lock.withLock { running = false }
        while !lock.withLock({ finished }) { usleep(1_000) }
        return lock.withLock { peak }
    }
}
