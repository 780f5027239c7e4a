import XCTest
import Foundation
import TestSupport
#if canImport(Glibc)
import Glibc
#endif

/// Whole-process `lesionmap features IMAGE MASK` (start-up, reading, label discovery, extraction, output),
/// the binary built beside the tests against a baseline binary, in paired runs (figures printed, never
/// asserted).
///
/// Three cases: a lesion of the synthetic cohort (`lesionmap synth --patients 1 --seed 1`, patient SYN001, label 1 of
/// its label map: a 176 x 144 x 48 image with a lesion of a few thousand voxels, the kind of ROI a cohort has and the
/// case issue 17's profile of "a single `lesionmap features` run" describes: start-up, gzip, decoding and label
/// discovery around a small extraction), STS_001 and the IBSI 1 CT phantom (large ROIs, mostly feature arithmetic).
///
/// Runs only with `LESIONMAP_BENCHMARK=1` and `LESIONMAP_BASELINE_BIN` naming the baseline `lesionmap`
/// (e.g. main before a change, built in a temporary checkout with `swift build -c release --product lesionmap`);
/// `LESIONMAP_BENCHMARK_RUNS` pairs (default 21). Each pair runs both binaries back to back, alternating
/// which goes first, so that load on a shared machine falls on both alike; the medians of wall and CPU
/// time (user + system of the child, from `wait4`) and the ratio of medians are printed. Both binaries
/// must print the same feature values (checked once per case), so the comparison is of equal work.
///
///     swift build -c release --static-swift-stdlib --product lesionmap && swift build --build-tests
///     LESIONMAP_BENCHMARK=1 LESIONMAP_BIN=.build/release/lesionmap \
///       LESIONMAP_BASELINE_BIN=/tmp/old/.build/release/lesionmap swift test --skip-build --filter WholeProcessBenchmarks
///
/// (`LESIONMAP_BIN`: the release binary as the README builds it; without it, the binary built beside the tests.)
final class WholeProcessBenchmarks: XCTestCase {
    struct Sample { var wall: Double; var cpu: Double }

    override func setUpWithError() throws {
        guard ProcessInfo.processInfo.environment["LESIONMAP_BENCHMARK"] == "1" else {
            throw XCTSkip("benchmark: set LESIONMAP_BENCHMARK=1 (and use -c release)")
        }
    }

    func testSingleROIFeaturesAgainstBaseline() throws {
        guard let baselinePath = ProcessInfo.processInfo.environment["LESIONMAP_BASELINE_BIN"],
              FileManager.default.isExecutableFile(atPath: baselinePath) else {
            throw XCTSkip("benchmark: set LESIONMAP_BASELINE_BIN to the lesionmap binary to compare with")
        }
        let current = try lesionmapExecutable().path
        let runs = Int(ProcessInfo.processInfo.environment["LESIONMAP_BENCHMARK_RUNS"] ?? "") ?? 21
        let dir = try SharedData.temporaryDirectory(for: self)
        // One synthetic patient, written by the binary under test.
        let cohort = dir.appendingPathComponent("synthetic")
        _ = try run(current, ["synth", "--out", cohort.path, "--patients", "1", "--seed", "1"], stdout: "/dev/null")
        let cases = [
            ("synthetic lesion (SYN001 label 1, NIfTI 176x144x48 int16)",
             [cohort.appendingPathComponent("images/SYN001_ct.nii.gz").path,
              cohort.appendingPathComponent("masks/SYN001_lesions.nii.gz").path, "--label", "1"]),
            ("STS_001 (NIfTI, 198x202x59 int16)",
             [try SharedData.url("sts_001/nifti/image.nii.gz").path, try SharedData.url("sts_001/nifti/mask.nii.gz").path]),
            ("IBSI 1 CT phantom (NIfTI)",
             [try SharedData.url("ibsi1/ct_phantom/nifti/image.nii.gz").path,
              try SharedData.url("ibsi1/ct_phantom/nifti/mask.nii.gz").path]),
        ]
        print("whole-process `lesionmap features IMAGE MASK`, \(runs) paired runs, baseline \(baselinePath)")
        for (name, inputs) in cases {
            let args = ["features"] + inputs
            let outOld = dir.appendingPathComponent("old.txt").path, outNew = dir.appendingPathComponent("new.txt").path
            _ = try run(baselinePath, args, stdout: outOld)
            _ = try run(current, args, stdout: outNew)
            let same = try Data(contentsOf: URL(fileURLWithPath: outOld)) == Data(contentsOf: URL(fileURLWithPath: outNew))
            XCTAssertTrue(same, "\(name): the two binaries print different features")
            var old = [Sample](), new = [Sample]()
            for pair in 0..<runs {
                if pair % 2 == 0 {
                    old.append(try run(baselinePath, args, stdout: "/dev/null"))
                    new.append(try run(current, args, stdout: "/dev/null"))
                } else {
                    new.append(try run(current, args, stdout: "/dev/null"))
                    old.append(try run(baselinePath, args, stdout: "/dev/null"))
                }
            }
            let wallOld = median(old.map(\.wall)), wallNew = median(new.map(\.wall))
            let cpuOld = median(old.map(\.cpu)), cpuNew = median(new.map(\.cpu))
            let pairedWall = median(zip(old, new).map { $0.wall / $1.wall })
            print(String(format: "%@: wall median %.1f ms -> %.1f ms (%.2fx; median of paired ratios %.2fx), "
                         + "CPU median %.1f ms -> %.1f ms (%.2fx); output identical: %@",
                         name, wallOld * 1000, wallNew * 1000, wallOld / wallNew, pairedWall,
                         cpuOld * 1000, cpuNew * 1000, cpuOld / cpuNew, same ? "yes" : "NO"))
        }
    }

    private func median(_ values: [Double]) -> Double {
        let s = values.sorted()
        return s.count % 2 == 1 ? s[s.count / 2] : (s[s.count / 2 - 1] + s[s.count / 2]) / 2
    }

    /// Runs `path` with `args`, standard output to `stdout`, standard error discarded; wall time and the
    /// child's own CPU time (user + system, all its threads).
    private func run(_ path: String, _ args: [String], stdout: String) throws -> Sample {
        var start = timespec(), end = timespec()
        clock_gettime(CLOCK_MONOTONIC, &start)
        let pid = try CohortThroughputBenchmarks.spawn(path, args, stdout: stdout)
        var status: Int32 = 0
        var usage = rusage()
        _ = wait4(pid, &status, 0, &usage)
        clock_gettime(CLOCK_MONOTONIC, &end)
        XCTAssertEqual(status, 0, "\(path) \(args.joined(separator: " ")) failed (status \(status))")
        func seconds(_ t: timeval) -> Double { Double(t.tv_sec) + Double(t.tv_usec) / 1e6 }
        let wall = Double(end.tv_sec - start.tv_sec) + Double(end.tv_nsec - start.tv_nsec) / 1e9
        return Sample(wall: wall, cpu: seconds(usage.ru_utime) + seconds(usage.ru_stime))
    }
}
