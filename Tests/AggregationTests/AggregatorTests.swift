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

    func testOneLesionHasZeroSpreadAndEntropy() {
        let one = [LesionValue(lesionID: "x", value: 5, volume: 2)]
        XCTAssertEqual(Aggregator.sd.aggregate(one, context: ctx), 0)
        XCTAssertEqual(Aggregator.entropy.aggregate(one, context: ctx), 0)
        XCTAssertTrue(Aggregator.irradiatedMean.aggregate(one, context: ctx).isNaN)
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
