import XCTest
import Foundation
import LinearAlgebra
@testable import Signatures

/// Prints how long scoring 10,000 lesions takes, next to the same arithmetic done as one BLAS
/// matrix-vector product in the same run. Run with `LESIONMAP_BENCHMARK=1 swift test -c release
/// -Xswiftc -enable-testing --filter ScoringBenchmarks`; skipped otherwise (no timed unit tests).
final class ScoringBenchmarks: XCTestCase {
    func testScoreTenThousandLesions() throws {
        guard ProcessInfo.processInfo.environment["LESIONMAP_BENCHMARK"] == "1" else {
            throw XCTSkip("benchmark: set LESIONMAP_BENCHMARK=1")
        }
        let lesions = 10_000, features = 430
        let names = (0..<features).map { "tumour.f.x\($0)" }
        var state: UInt64 = 42
        func next() -> Double {
            state = state &* 6364136223846793005 &+ 1442695040888963407
            return Double(state >> 11) / Double(1 << 53)
        }
        let rows = (0..<lesions).map { _ in (0..<features).map { _ in next() } }
        let locations = (0..<lesions).map { ["lung", "liver", "bone"][$0 % 3] }
        let terms = stride(from: 0, to: features, by: 86).map {
            Signature.Term(feature: names[$0], coefficient: next() - 0.5, mean: 0.5, sd: 0.29)
        }
        let signature = Signature(name: "bench", version: "1", estimates: "x", direction: "higher", validationStatus: "benchmark",
                                  intercept: 0.1, terms: terms,
                                  covariates: [.init(name: "location", levels: ["lung": 0.2]),
                                               .init(name: "kvp", coefficient: 0.1, mean: 120, sd: 15)],
                                  cutoffs: [], preprocessing: .object([:]), provenance: "benchmark")
        let settings = JSONValue.object([:])

        let t0 = Date()
        let scorer = try SignatureScorer(signature: signature, featureNames: names, settings: settings, source: "bench")
        var scores = [Double](repeating: 0, count: lesions)
        for i in 0..<lesions { scores[i] = scorer.score(row: rows[i], location: locations[i], kvp: 120) }
        let lesionMapSeconds = Date().timeIntervalSince(t0)

        // Reference: the full feature matrix times a dense coefficient vector with dgemv.
        let matrix = Matrix(rows: lesions, cols: features, values: rows.flatMap { $0 })
        var dense = [Double](repeating: 0, count: features)
        for t in terms { dense[names.firstIndex(of: t.feature)!] = t.coefficient / t.sd }
        let t1 = Date()
        let reference = matrix.multiplied(by: dense)
        let blasSeconds = Date().timeIntervalSince(t1)

        XCTAssertEqual(reference.count, lesions)
        XCTAssertTrue(scores.allSatisfy(\.isFinite))
        print(String(format: "scoring %d lesions (%d terms + location + kVp): LesionMap %.4f s (%.0f lesions/s); BLAS dgemv over all %d features %.4f s; ratio %.2f",
                     lesions, terms.count, lesionMapSeconds, Double(lesions) / lesionMapSeconds, features, blasSeconds,
                     lesionMapSeconds / max(blasSeconds, 1e-9)))
    }
}
