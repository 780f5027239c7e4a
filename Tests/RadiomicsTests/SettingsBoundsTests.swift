import XCTest
import Foundation
#if os(Linux)
/// glibc's `malloc_trim`: returns the heap memory freed so far to the system (not exported by the Glibc module).
@_silgen_name("malloc_trim") private func releaseFreeHeapMemory(_ pad: Int) -> Int32
#endif
import ImagingCore
import TestSupport
@testable import Radiomics

/// Issue 12, item 2: settings are bounded where they are made, with one message listing every problem.
final class SettingsBoundsTests: XCTestCase {
    private func problems(_ error: Error) -> String {
        guard case .invalidSettings(let text)? = error as? RadiomicsError else { return "not invalidSettings: \(error)" }
        return text
    }

    func testEveryPresetIsWithinTheBounds() throws {
        for name in ExtractionSettings.presetNames {
            let preset = try ExtractionSettings.preset(named: name)
            XCTAssertEqual(preset.problems(), [], name)
        }
    }

    func testOverridesOutOfRangeAreRefusedNamingTheOption() {
        let base = ExtractionSettings.clinicalDefault
        let cases: [(SettingsOverrides, [String])] = [
            (SettingsOverrides(binCount: 1_000_000_000), ["bin count 1000000000", "--bin-count", "1 to 4096"]),
            (SettingsOverrides(binCount: 100_000), ["bin count 100000", "--bin-count"]),
            (SettingsOverrides(binCount: 20_000), ["bin count 20000"]),
            (SettingsOverrides(binCount: 0), ["bin count 0"]),
            (SettingsOverrides(binWidth: -5), ["bin width -5", "--bin-width", "greater than 0"]),
            (SettingsOverrides(binWidth: .nan), ["bin width nan"]),
            (SettingsOverrides(binWidth: 0.001), ["bin width 0.001", "4000001 grey levels", "[-1000, 3000]"]),
            (SettingsOverrides(spacingMM: 0.01), ["resampling spacing 0.01 mm", "--spacing", "0.1 to 20 mm"]),
            (SettingsOverrides(spacingMM: 1e9), ["resampling spacing 1000000000 mm"]),
            (SettingsOverrides(spacingMM: -1), ["resampling spacing -1 mm"]),
            (SettingsOverrides(ringWidthMM: -2), ["ring width -2 mm", "--ring-mm"]),
            (SettingsOverrides(ringWidthMM: 500), ["ring width 500 mm", "at most 50 mm"]),
            (SettingsOverrides(ringWidthMM: .infinity), ["ring width inf mm"]),
            (SettingsOverrides(binWidth: 25, binCount: 32), ["--bin-width 25 and --bin-count 32", "not both"]),
        ]
        for (overrides, expected) in cases {
            XCTAssertThrowsError(try overrides.applied(to: base), "\(overrides)") { error in
                let text = problems(error)
                for part in expected { XCTAssertTrue(text.contains(part), "'\(part)' missing from: \(text)") }
                XCTAssertEqual(text.components(separatedBy: "\n").count, 1, "one problem, one line: \(text)")
            }
        }
        // In range: accepted unchanged.
        XCTAssertEqual(try SettingsOverrides(binCount: 4096).applied(to: base).discretisation, .fixedBinNumber(count: 4096))
        XCTAssertEqual(try SettingsOverrides(spacingMM: 0.1).applied(to: base).resampling?.spacing, [0.1, 0.1, 0.1])
        XCTAssertEqual(try SettingsOverrides(binWidth: 1).applied(to: base).discretisation, .fixedBinSize(width: 1))
    }

    func testEveryProblemIsListedInOneMessage() {
        XCTAssertThrowsError(try SettingsOverrides(binCount: 100_000, spacingMM: 0.01, ringWidthMM: -3).applied(to: .clinicalDefault)) { error in
            let text = problems(error)
            XCTAssertTrue(text.hasPrefix("3 problems:"), text)
            for part in ["bin count 100000", "resampling spacing 0.01 mm", "ring width -3 mm"] {
                XCTAssertTrue(text.contains(part), "'\(part)' missing from: \(text)")
            }
            XCTAssertFalse(text.contains("inner margin"), "no follow-on problem from the bad width: \(text)")
        }
    }

    func testSettingsBuiltInCodeAreCheckedByValidated() {
        var s = ExtractionSettings.clinicalDefault
        s.resegmentation = .init(lowerBound: 400, upperBound: -500, outlierSigma: -1)
        s.resampling?.maskThreshold = 0
        s.ring?.innerMarginMM = 12
        s.ivhDiscretisation = .fixedBinNumber(count: 0)
        s.resampling?.spacing = [1, .infinity, 1]
        XCTAssertThrowsError(try s.validated()) { error in
            let text = problems(error)
            for part in ["re-segmentation range [400, -500]", "outlierSigma", "mask threshold 0", "ring inner margin 12 mm",
                         "intensity-volume histogram bin count 0", "resampling spacing y inf mm"] {
                XCTAssertTrue(text.contains(part), "'\(part)' missing from: \(text)")
            }
        }
        s = .clinicalDefault
        s.resegmentation.lowerBound = -.infinity
        XCTAssertTrue(s.problems().joined().contains("re-segmentation lower bound -inf"), "\(s.problems())")
    }

    func testSettingsFromAFileAreCheckedNamingTheFile() throws {
        let good = try JSONDecoder().decode(ExtractionSettings.self, from: JSONEncoder().encode(ExtractionSettings.ibsiC))
        XCTAssertEqual(try good.validated(in: "settings file s.json"), .ibsiC)
        var bad = ExtractionSettings.ibsiC
        bad.discretisation = .fixedBinNumber(count: 1_000_000_000)
        bad.resampling = .isotropic(0.01)
        let decoded = try JSONDecoder().decode(ExtractionSettings.self, from: JSONEncoder().encode(bad))
        XCTAssertThrowsError(try decoded.validated(in: "settings file /x/bad.json")) { error in
            let text = problems(error)
            XCTAssertTrue(text.hasPrefix("settings file /x/bad.json: 2 problems"), text)
            XCTAssertTrue(text.contains("discretisation.fixedBinNumber.count") && text.contains("resampling.spacing"), text)
        }
    }

    func testAResamplingCountBeyondAnIndexIsRefusedNotConverted() {
        let grid = ImageGrid(size: Size3(10, 10, 10), spacing: Vector3(1, 1, 1))
        XCTAssertThrowsError(try Resampler.axisMaps(for: grid, resampling: .isotropic(1e-12))) { error in
            XCTAssertTrue(problems(error).contains("resampling spacing"), problems(error))
        }
    }
}

/// Issue 12, item 2: the per-lesion memory estimate refuses what cannot fit before allocating anything,
/// and is close to what extraction really uses.
final class ExtractionMemoryTests: XCTestCase {
    /// A 96 x 96 x 48 image of 1 x 1 x 1.5 mm with noise and a spherical lesion of radius 14 mm.
    static func phantom(radiusMM: Double = 14) -> (image: Volume<Float>, mask: Mask) {
        let size = Size3(96, 96, 48)
        let grid = ImageGrid(size: size, spacing: Vector3(1, 1, 1.5))
        var state: UInt64 = 12345
        func noise() -> Float {
            state = state &* 6364136223846793005 &+ 1442695040888963407
            return Float(Int(state >> 33) % 200) - 100
        }
        var voxels = [Float](repeating: 0, count: size.count), inside = [Bool](repeating: false, count: size.count)
        for k in 0..<size.nz {
            for j in 0..<size.ny {
                for i in 0..<size.nx {
                    let n = (k * size.ny + j) * size.nx + i
                    let d = ((Double(i) - 48) * (Double(i) - 48) + (Double(j) - 48) * (Double(j) - 48)
                             + (Double(k) - 24) * 1.5 * (Double(k) - 24) * 1.5).squareRoot()
                    inside[n] = d <= radiusMM
                    voxels[n] = (inside[n] ? 60 : 10) + noise()
                }
            }
        }
        return (Volume(grid: grid, voxels: voxels), Mask(grid: grid, voxels: inside))
    }

    func testHugeGreyLevelCountsAndFineSpacingAreRefusedBeforeAnyAllocation() throws {
        let (image, mask) = Self.phantom()
        var settings = ExtractionSettings.clinicalDefault
        let budget = MemoryBudget(bytes: 8 * 1_073_741_824, origin: "test budget")
        for (change, expected) in [
            ({ (s: inout ExtractionSettings) in s.discretisation = .fixedBinNumber(count: 1_000_000_000) }, "bin count 1000000000"),
            ({ (s: inout ExtractionSettings) in s.discretisation = .fixedBinNumber(count: 100_000) }, "bin count 100000"),
            ({ (s: inout ExtractionSettings) in s.discretisation = .fixedBinSize(width: 1e-6) }, "bin width 1e-06"),
            ({ (s: inout ExtractionSettings) in s.resampling = .isotropic(0.01) }, "resampling spacing 0.01 mm"),
            ({ (s: inout ExtractionSettings) in s.ring?.widthMM = 1000; s.resampling = .isotropic(0.1) }, "ring width 1000 mm"),
        ] {
            settings = .clinicalDefault
            change(&settings)
            XCTAssertThrowsError(try LesionFeatureExtractor.extract(image: image, lesions: [mask], labels: ["patient P, lesion L1 (m.nii.gz label 1)"],
                                                                    settings: settings, budget: budget)) { error in
                guard case .overMemoryBudget(let text)? = error as? RadiomicsError else { return XCTFail("\(error)") }
                for part in ["patient P, lesion L1 (m.nii.gz label 1)", "more than the budget of 8.0 GB (test budget)", expected] {
                    XCTAssertTrue(text.contains(part), "'\(part)' missing from: \(text)")
                }
            }
        }
    }

    /// Peak resident memory of `body` above what the process holds when it starts (Linux: the
    /// high-water mark is reset through /proc/self/clear_refs), in bytes; nil where unavailable.
    static func peakIncrease(_ body: () throws -> Void) rethrows -> Double? {
        func status(_ key: String) -> Double? {
            guard let text = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8) else { return nil }
            for line in text.split(separator: "\n") where line.hasPrefix(key + ":") {
                return Double(line.dropFirst(key.count + 1).trimmingCharacters(in: .whitespaces).split(separator: " ")[0]).map { $0 * 1024 }
            }
            return nil
        }
        guard FileManager.default.isWritableFile(atPath: "/proc/self/clear_refs") else { try body(); return nil }
        // Freed memory the allocator keeps would be reused without raising the resident size: give it back first.
        #if os(Linux)
        _ = releaseFreeHeapMemory(0)
        #endif
        try? "5".write(toFile: "/proc/self/clear_refs", atomically: false, encoding: .utf8)
        guard let before = status("VmRSS") else { try body(); return nil }
        try body()
        guard let peak = status("VmHWM") else { return nil }
        return peak - before
    }

    /// The estimate against the measured peak of one lesion, on settings where different terms dominate
    /// (texture matrices of many grey levels; resampled voxels with the Moran/Geary FFT store): the
    /// estimate must cover the measured peak and stay within 3 times it. Kept small for debug builds;
    /// `ExtractionMemoryBenchmarks` measures larger cases in release builds.
    func testEstimateIsWithinAFactorOfMeasuredPeakMemory() throws {
        let (image, mask) = Self.phantom(radiusMM: 8)
        let box = try XCTUnwrap(mask.boundingBox)
        for (name, settings, factor) in Self.measuredCases(debug: true) {
            let estimate = try ExtractionMemory.estimate(image: image, lesionBox: box, settings: settings)
            let budget = MemoryBudget(bytes: 64 * 1_073_741_824, origin: "test")
            guard let measured = try Self.peakIncrease({
                _ = try LesionFeatureExtractor.extract(image: image, lesions: [mask], settings: settings, budget: budget)
            }) else { throw XCTSkip("peak resident memory is not measurable here") }
            let ratio = estimate.bytes / measured
            print("memory estimate \(name): estimated \(ExtractionMemory.format(estimate.bytes)), measured peak \(ExtractionMemory.format(measured)), ratio \(String(format: "%.2f", ratio)); \(estimate)")
            XCTAssertGreaterThanOrEqual(ratio, 1, "\(name): the estimate must cover the measured peak")
            XCTAssertLessThanOrEqual(ratio, factor, "\(name): the estimate must stay within \(factor)x the measured peak")
        }
    }

    /// Settings whose memory is dominated by different terms, with the factor the estimate must stay within.
    static func measuredCases(debug: Bool) -> [(String, ExtractionSettings, Double)] {
        var cases: [(String, ExtractionSettings, Double)] = []
        var s = ExtractionSettings.clinicalDefault
        s.resampling = nil
        s.ring?.widthMM = 6
        s.discretisation = .fixedBinNumber(count: 2048)
        cases.append(("2048 bins, no resampling, 6 mm ring (GLCM 13 directions)", s, 3))
        s = .clinicalDefault
        s.resampling = .isotropic(0.25)
        s.ring = nil
        s.families = [.morphology, .intensity, .glcm]
        cases.append(("0.25 mm spacing, no ring, no local intensity (resampling, Moran/Geary FFT)", s, 3))
        if !debug {
            cases.append(("default preset (1 mm, 25 HU, 10 mm ring)", .clinicalDefault, 3))
            s = .clinicalDefault
            s.resampling = .isotropic(0.4)
            cases.append(("0.4 mm spacing, 10 mm ring", s, 3))
            s = .clinicalDefault
            s.mode = .slice2D
            s.textureAggregations = SettingsOverrides.aggregations(for: .slice2D)
            s.resampling = .inPlane(0.5)
            s.discretisation = .fixedBinNumber(count: 1024)
            cases.append(("2D, 0.5 mm in-plane, 1024 bins", s, 3.5))
        }
        return cases
    }
}

/// The memory estimate against the measured peak on larger cases than the unit test can afford in debug
/// builds (default preset, 0.4 mm spacing with the ring, 2D at 0.5 mm with 1024 bins). Figures only;
/// run with `LESIONMAP_BENCHMARK=1` in a release build (see README, Benchmarks).
final class ExtractionMemoryBenchmarks: XCTestCase {
    func testEstimateAgainstMeasuredPeakOnLargerCases() throws {
        guard ProcessInfo.processInfo.environment["LESIONMAP_BENCHMARK"] == "1" else {
            throw XCTSkip("benchmark: set LESIONMAP_BENCHMARK=1 (release build)")
        }
        let (image, mask) = ExtractionMemoryTests.phantom(radiusMM: 14)
        let box = try XCTUnwrap(mask.boundingBox)
        let budget = MemoryBudget(bytes: 64 * 1_073_741_824, origin: "benchmark")
        for (name, settings, _) in ExtractionMemoryTests.measuredCases(debug: false) {
            let estimate = try ExtractionMemory.estimate(image: image, lesionBox: box, settings: settings)
            let start = Date()
            guard let measured = try ExtractionMemoryTests.peakIncrease({
                _ = try LesionFeatureExtractor.extract(image: image, lesions: [mask], settings: settings, budget: budget)
            }) else { throw XCTSkip("peak resident memory is not measurable here") }
            print("memory benchmark \(name): estimated \(ExtractionMemory.format(estimate.bytes)), measured peak \(ExtractionMemory.format(measured)), ratio \(String(format: "%.2f", estimate.bytes / measured)), \(String(format: "%.1f", Date().timeIntervalSince(start))) s; \(estimate)")
        }
    }
}
