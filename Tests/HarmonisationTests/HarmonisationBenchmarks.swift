import XCTest
import Foundation
@testable import Harmonisation

/// Harmonising 10,000 lesions x 1,000 features, parametric and non-parametric: seconds and peak memory, next to
/// neuroCombat's parametric fit of the same data in the same run (when python3 with neuroCombat is installed).
/// Runs only with `LESIONMAP_BENCHMARK=1` (release build: see README "Benchmarks").
final class HarmonisationBenchmarks: XCTestCase {
    func testComBatTenThousandLesionsThousandFeatures() throws {
        guard ProcessInfo.processInfo.environment["LESIONMAP_BENCHMARK"] == "1" else {
            throw XCTSkip("benchmark: set LESIONMAP_BENCHMARK=1")
        }
        let n = 10_000, f = 1_000
        var rng = SplitMix(2007)
        let labels = ["GE", "Philips", "Siemens", "Toshiba", "Canon"]
        let batches = (0..<n).map { _ in labels[Int(rng.next() % 5)] }
        let age = (0..<n).map { _ in 40 + 40 * rng.uniform() }
        let shift = labels.map { _ in (0..<f).map { _ in rng.normal() } }
        let scale = labels.map { _ in (0..<f).map { _ in 0.5 + rng.uniform() } }
        var values = [Double](repeating: 0, count: n * f)
        for r in 0..<n {
            let b = labels.firstIndex(of: batches[r])!
            for g in 0..<f { values[r * f + g] = Double(g) + 0.02 * age[r] + shift[b][g] + scale[b][g] * rng.normal() }
        }
        let names = (0..<f).map { "f\($0)" }
        let covariates = [CovariateColumn(name: "age", values: .continuous(age))]
        for method in ComBatMethod.allCases {
            var seconds = 0.0
            let peak = Self.peakIncrease {
                let start = Date()
                _ = try? ComBat.fit(values: values, features: names, batches: batches, covariates: covariates, method: method)
                seconds = Date().timeIntervalSince(start)
            }
            print("ComBat \(method), \(n) lesions x \(f) features, 5 batches, 1 covariate: \(String(format: "%.2f", seconds)) s, peak memory above the input \(peak.map { String(format: "%.0f MB", $0 / 1_048_576) } ?? "not measurable") (input \(n * f * 8 / 1_048_576) MB)")
        }
        // The reference: neuroCombat (parametric) on the same values, timed inside Python.
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("combat-bench-\(getpid())")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        try values.withUnsafeBytes { Data($0) }.write(to: dir.appendingPathComponent("x.bin"))
        try age.withUnsafeBytes { Data($0) }.write(to: dir.appendingPathComponent("age.bin"))
        try batches.joined(separator: "\n").write(to: dir.appendingPathComponent("batch.txt"), atomically: true, encoding: .utf8)
        let script = """
        import numpy as np, pandas as pd, time, resource
        from neuroCombat import neuroCombat
        d = "\(dir.path)/"
        x = np.fromfile(d + "x.bin").reshape(\(n), \(f)).T.copy()
        age = np.fromfile(d + "age.bin").astype(np.float32).astype(float)
        batch = open(d + "batch.txt").read().split("\\n")
        t = time.perf_counter()
        neuroCombat(dat=x, covars=pd.DataFrame({"batch": batch, "age": age}), batch_col="batch", continuous_cols=["age"])
        print("%.2f" % (time.perf_counter() - t))
        """
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        p.arguments = ["python3", "-c", script]
        let pipe = Pipe()
        p.standardOutput = pipe
        p.standardError = FileHandle.nullDevice
        try p.run()
        let out = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        p.waitUntilExit()
        if p.terminationStatus == 0, let line = out.split(separator: "\n").last {
            print("neuroCombat 0.2.12 parametric on the same data: \(line) s")
        } else {
            print("neuroCombat reference not run (python3 with neuroCombat and pandas not available)")
        }
    }

    /// Peak resident memory of `body` above what the process holds when it starts (Linux: the high-water mark is
    /// reset through /proc/self/clear_refs), in bytes; nil where unavailable.
    static func peakIncrease(_ body: () -> Void) -> Double? {
        func status(_ key: String) -> Double? {
            guard let text = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8) else { return nil }
            for line in text.split(separator: "\n") where line.hasPrefix(key + ":") {
                return Double(line.dropFirst(key.count + 1).trimmingCharacters(in: .whitespaces).split(separator: " ")[0]).map { $0 * 1024 }
            }
            return nil
        }
        guard FileManager.default.isWritableFile(atPath: "/proc/self/clear_refs") else { body(); return nil }
        try? "5".write(toFile: "/proc/self/clear_refs", atomically: false, encoding: .utf8)
        guard let before = status("VmRSS") else { body(); return nil }
        body()
        guard let peak = status("VmHWM") else { return nil }
        return peak - before
    }
}
