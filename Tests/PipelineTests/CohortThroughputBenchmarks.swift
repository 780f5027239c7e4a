import XCTest
import Foundation
import TestSupport
import Radiomics
import FeatureStore
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
/// - LesionMap with comparable settings: the same `extract` with `--settings comparable.json` (`comparableSettings`):
///   the tumour only (no ring), the families PyRadiomics computes (intensity statistics and the intensity
///   histogram for `firstorder`, morphology for `shape`, GLCM, GLRLM, GLSZM, NGLDM for `gldm`, NGTDM), one
///   aggregation (`3D_avg`: GLCM and GLRLM per direction, averaged, as PyRadiomics does; one 3D matrix for the
///   others), the same resampling, re-segmentation and bins as above. No local intensity, intensity-volume
///   histogram or GLDZM. Morphology still includes Moran's I and Geary's C over every voxel pair (no settings
///   field leaves them out), which PyRadiomics' `shape` lacks.
///
/// Both LesionMap lines are printed, each with its ratio to PyRadiomics and its number of features per lesion.
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

        let comparable = dir.appendingPathComponent("comparable.json")
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        try encoder.encode(try Self.comparableSettings.validated()).write(to: comparable)

        print("cohort: \(patients) synthetic patients (seed 1), \(lesions) lesions; lesionmap \(lesionmap); pyradiomics \(pyradiomics)")
        print("comparable settings (\(comparable.path)): \(String(decoding: try Data(contentsOf: comparable), as: UTF8.self))")
        /// One `extract` into a fresh store; its features per lesion (every region of the store together).
        func extract(_ label: String, _ settings: [String], jobs: Int) throws -> (String, Run, Int) {
            let store = dir.appendingPathComponent("\(label)-jobs\(jobs).h5")
            let r = try Self.run(lesionmap, ["extract", cohort.path, "--store", store.path] + settings
                                    + ["--jobs", String(jobs), "--quiet"],
                                 stdout: dir.appendingPathComponent("\(label)-jobs\(jobs).txt").path, tree: false)
            XCTAssertEqual(r.status, 0, "lesionmap extract (\(label)) --jobs \(jobs) failed")
            let contents = try StoreContents.read(from: store)
            XCTAssertEqual(contents.lesions.rowCount, lesions, "a store row per lesion (\(label))")
            let features = contents.features.values.reduce(0) { $0 + $1.columnCount }
            return ("lesionmap extract \(label) --jobs \(jobs)", r, features)
        }
        let preset = ["--preset", "default"], settingsFile = ["--settings", comparable.path]
        // LesionMap --jobs 2 first, then PyRadiomics, then --jobs 1 (the reverse order), so that a change of
        // load over the run does not fall on the two compared tools alone.
        let two = try extract("--preset default", preset, jobs: 2)
        let comparableTwo = try extract("--settings comparable.json", settingsFile, jobs: 2)
        let output = dir.appendingPathComponent("pyradiomics_output.csv")
        let py = try Self.run("/usr/bin/env", [pyradiomics, inputCSV.path, "--jobs", "2", "--param", params.path,
                                               "--format", "csv", "-o", output.path], stdout: "/dev/null", tree: true)
        XCTAssertEqual(py.status, 0, "pyradiomics batch failed (is it installed? set LESIONMAP_PYRADIOMICS)")
        let table = (try? String(contentsOf: output, encoding: .utf8))?.split(whereSeparator: \.isNewline) ?? []
        XCTAssertEqual(table.count - 1, lesions, "PyRadiomics wrote a row per lesion")
        // Its feature columns: original_<class>_<feature> (the others are inputs and diagnostics_*).
        let pyFeatures = table.first?.split(separator: ",").filter { $0.hasPrefix("original_") }.count ?? 0
        let comparableOne = try extract("--settings comparable.json", settingsFile, jobs: 1)
        let one = try extract("--preset default", preset, jobs: 1)
        let results = [two, comparableTwo, ("PyRadiomics batch --jobs 2", py, pyFeatures), comparableOne, one]

        for (name, r, features) in results {
            print(String(format: "%@: %.1f s, %.2f lesions/s, CPU %.1f s (%.3f s per lesion), peak RSS %.0f MB, %d features per lesion (load average %@)",
                         name, r.wall, Double(lesions) / r.wall, r.cpu, r.cpu / Double(lesions), Double(r.peakBytes) / 1e6,
                         features, r.load))
        }
        for (name, lm, lmOne) in [("--preset default (tumour and ring, every family)", two, one),
                                  ("--settings comparable.json (tumour, PyRadiomics' families)", comparableTwo, comparableOne)] {
            print(String(format: "lesionmap %@ --jobs 2 against PyRadiomics batch --jobs 2: %.1fx (wall), %.1fx (CPU), %d against %d features per lesion; --jobs 2 against --jobs 1: %.2fx (wall)",
                         name, py.wall / lm.1.wall, py.cpu / lm.1.cpu, lm.2, pyFeatures, lmOne.1.wall / lm.1.wall))
        }
    }

    /// LesionMap's settings closest to the PyRadiomics parameters above (see the type's documentation): the
    /// default preset's resampling, re-segmentation and bins; no ring; PyRadiomics' families; `3D_avg` only.
    static let comparableSettings: ExtractionSettings = {
        var s = ExtractionSettings.clinicalDefault
        s.ring = nil
        s.families = [.morphology, .intensity, .histogram, .glcm, .glrlm, .glszm, .ngtdm, .ngldm]
        s.textureAggregations = [.volume3DAverage]
        return s
    }()

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
