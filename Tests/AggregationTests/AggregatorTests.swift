import XCTest
@testable import Aggregation

final class AggregatorTests: XCTestCase {
    let ctx = AggregationContext(entropyOrigin: 0, entropyBinWidth: 1, cutoff: 1.5)
    let lesions = [
        LesionValue(lesionID: "a", value: 0.2, volume: 10, irradiated: true),
        LesionValue(lesionID: "b", value: 1.4, volume: 30),
        LesionValue(lesionID: "c", value: 2.6, volume: 5),
        LesionValue(lesionID: "d", value: 3.0, volume: 1, irradiated: true),
    ]

    func testValuesWorkedByHand() {
        func v(_ a: Aggregator) -> Double { a.aggregate(lesions, context: ctx) }
        XCTAssertEqual(v(.mean), 1.8, accuracy: 1e-12)
        XCTAssertEqual(v(.min), 0.2)
        XCTAssertEqual(v(.max), 3.0)
        XCTAssertEqual(v(.range), 2.8, accuracy: 1e-12)
        // deviations -1.6, -0.4, 0.8, 1.2 -> squares 2.56 + 0.16 + 0.64 + 1.44 = 4.8; /4 = 1.2
        XCTAssertEqual(v(.sd), 1.2.squareRoot(), accuracy: 1e-12)
        // bins [0,1): a; [1,2): b; [2,3): c; [3,4): d -> four equal bins -> 2 bits
        XCTAssertEqual(v(.entropy), 2, accuracy: 1e-12)
        XCTAssertEqual(v(.volumeWeightedMean), (2 + 42 + 13 + 3) / 46.0, accuracy: 1e-12)
        XCTAssertEqual(v(.volumeWeightedMeanLargest3), (42 + 2 + 13) / 45.0, accuracy: 1e-12)
        XCTAssertEqual(v(.largestLesion), 1.4)
        XCTAssertEqual(v(.smallestLesion), 3.0)
        XCTAssertEqual(v(.lesionCount), 4)
        XCTAssertEqual(v(.totalVolume), 46)
        XCTAssertEqual(v(.fractionBelow), 0.5)
        XCTAssertEqual(v(.irradiatedMean), 1.6, accuracy: 1e-12)
    }

    /// Issue 12, item 13: one lesion has no spread; sd, range and entropy are undefined (NaN), not 0.
    func testOneLesionHasUndefinedSpreadAndEntropy() {
        let one = [LesionValue(lesionID: "x", value: 5, volume: 2)]
        for a in [Aggregator.sd, .range, .entropy] {
            XCTAssertTrue(a.aggregate(one, context: ctx).isNaN, "\(a.rawValue) of one lesion must be NaN")
            XCTAssertTrue(a.isSpread)
        }
        // One finite value among NaN lesions is still one value.
        let oneFinite = one + [LesionValue(lesionID: "y", value: .nan, volume: 3)]
        XCTAssertTrue(Aggregator.sd.aggregate(oneFinite, context: ctx).isNaN)
        // Location aggregators are defined for one lesion; two equal lesions have spread 0.
        XCTAssertEqual(Aggregator.mean.aggregate(one, context: ctx), 5)
        XCTAssertEqual(Aggregator.min.aggregate(one, context: ctx), 5)
        let twoEqual = one + [LesionValue(lesionID: "z", value: 5, volume: 1)]
        XCTAssertEqual(Aggregator.sd.aggregate(twoEqual, context: ctx), 0)
        XCTAssertEqual(Aggregator.range.aggregate(twoEqual, context: ctx), 0)
        XCTAssertEqual(Aggregator.entropy.aggregate(twoEqual, context: ctx), 0)
        XCTAssertTrue(Aggregator.irradiatedMean.aggregate(one, context: ctx).isNaN)
        XCTAssertFalse(Aggregator.mean.isSpread)
    }

    /// Histograms with many occupied bins of different counts: the order of the terms −p log2 p matters in the
    /// last bit, so a sum over a Dictionary (ordered by a per-process hash seed) differs between processes.
    static let entropyProbeContext = AggregationContext(entropyOrigin: 0, entropyBinWidth: 1, cutoff: 0)
    static func entropyProbeHistograms() -> [[LesionValue]] {
        var out: [[LesionValue]] = []
        var state: UInt64 = 0x5EED
        for h in 0..<200 {
            var values: [Double] = []
            for bin in 0..<(3 + h % 9) {
                state = state &* 6364136223846793005 &+ 1442695040888963407
                for _ in 0..<(1 + Int(state >> 60)) { values.append(Double(bin) + 0.5) }
            }
            out.append(values.enumerated().map { LesionValue(lesionID: "L\($0.offset)", value: $0.element, volume: 1) })
        }
        return out
    }

    /// Issue 12, item 7: the entropy is a function of the multiset of bin counts, so two patients whose
    /// histograms are permutations of each other tie exactly.
    func testEntropyOfPermutedHistogramsIsBitIdentical() {
        // Counts 1, 2, 3, 4, 5, 6, 7 in bins 0...6 against the reversed assignment and a shuffled one.
        let counts = [1, 2, 3, 4, 5, 6, 7]
        func patient(_ c: [Int]) -> [LesionValue] {
            c.enumerated().flatMap { bin, k in (0..<k).map { LesionValue(lesionID: "\(bin).\($0)", value: Double(bin) + 0.5, volume: 1) } }
        }
        let ctx = Self.entropyProbeContext
        let a = Aggregator.entropy.aggregate(patient(counts), context: ctx)
        for other in [counts.reversed(), [4, 7, 1, 6, 2, 5, 3], [7, 1, 6, 2, 5, 3, 4]] {
            let b = Aggregator.entropy.aggregate(patient(Array(other)), context: ctx)
            XCTAssertEqual(a.bitPattern, b.bitPattern, "\(a) vs \(b) for counts \(Array(other))")
        }
        // And it is the entropy: −Σ p log2 p with p = k/28.
        let exact = -counts.map { Double($0) / 28 }.reduce(0) { $0 + $1 * log2($1) }
        XCTAssertEqual(a, exact, accuracy: 1e-12)
    }

    /// Prints the bit patterns of the probe histograms' entropies; run as a child process by
    /// `testEntropyIsIdenticalAcrossProcesses` (skipped otherwise).
    func testEntropyProbe() throws {
        guard ProcessInfo.processInfo.environment["LESIONMAP_ENTROPY_PROBE"] == "1" else {
            throw XCTSkip("child-process probe of testEntropyIsIdenticalAcrossProcesses")
        }
        let bits = Self.entropyProbeHistograms().map {
            String(Aggregator.entropy.aggregate($0, context: Self.entropyProbeContext).bitPattern, radix: 16)
        }
        print("ENTROPY-PROBE " + bits.joined(separator: ","))
    }

    /// Issue 12, item 7: the same entropies, bit for bit, in separate processes with random hash seeds
    /// (SWIFT_DETERMINISTIC_HASHING removed from the children's environment).
    func testEntropyIsIdenticalAcrossProcesses() throws {
        let binary = URL(fileURLWithPath: CommandLine.arguments[0])
        guard FileManager.default.isExecutableFile(atPath: binary.path), binary.path.hasSuffix(".xctest") else {
            throw XCTSkip("the test bundle is not an executable here (\(binary.path))")
        }
        var environment = ProcessInfo.processInfo.environment
        environment["SWIFT_DETERMINISTIC_HASHING"] = nil
        environment["LESIONMAP_ENTROPY_PROBE"] = "1"
        var outputs: [String] = []
        for _ in 0..<6 {
            let p = Process()
            p.executableURL = binary
            p.arguments = ["AggregationTests.AggregatorTests/testEntropyProbe"]
            p.environment = environment
            let out = Pipe()
            p.standardOutput = out
            p.standardError = FileHandle.nullDevice
            try p.run()
            let text = String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
            p.waitUntilExit()
            XCTAssertEqual(p.terminationStatus, 0, text)
            let line = try XCTUnwrap(text.split(separator: "\n").first { $0.hasPrefix("ENTROPY-PROBE ") }, text)
            outputs.append(String(line))
        }
        XCTAssertEqual(Set(outputs).count, 1, "entropies differ between processes: \(Set(outputs).count) distinct outputs")
        // And they equal this process's values.
        let here = Self.entropyProbeHistograms().map {
            String(Aggregator.entropy.aggregate($0, context: Self.entropyProbeContext).bitPattern, radix: 16)
        }
        XCTAssertEqual(outputs[0], "ENTROPY-PROBE " + here.joined(separator: ","))
    }

    func testEntropyUsesCohortBinsNotPatientRange() {
        // Two values in the same cohort bin: entropy 0 although they differ.
        let close = [LesionValue(lesionID: "a", value: 0.1, volume: 1), LesionValue(lesionID: "b", value: 0.9, volume: 1)]
        XCTAssertEqual(Aggregator.entropy.aggregate(close, context: ctx), 0)
        let apart = [LesionValue(lesionID: "a", value: 0.1, volume: 1), LesionValue(lesionID: "b", value: 1.1, volume: 1)]
        XCTAssertEqual(Aggregator.entropy.aggregate(apart, context: ctx), 1, accuracy: 1e-12)
    }

    func testNaNLesionsAreIgnored() {
        let withNaN = lesions + [LesionValue(lesionID: "e", value: .nan, volume: 100)]
        XCTAssertEqual(Aggregator.mean.aggregate(withNaN, context: ctx), 1.8, accuracy: 1e-12)
        XCTAssertEqual(Aggregator.lesionCount.aggregate(withNaN, context: ctx), 5)
        XCTAssertTrue(Aggregator.mean.aggregate([LesionValue(lesionID: "z", value: .nan, volume: 1)], context: ctx).isNaN)
    }

    func testContextFittedToCohort() {
        let c = AggregationContext.fitted(toCohortValues: [0, 1, 2, 3, 4, .nan], binCount: 4)
        XCTAssertEqual(c.entropyOrigin, 0)
        XCTAssertEqual(c.entropyBinWidth, 1, accuracy: 1e-6)
        XCTAssertEqual(c.cutoff, 1)
        XCTAssertEqual(quantile([1, 2, 3, 4], 0.5), 2.5)
    }
}
