import XCTest
import Foundation
import Statistics
import Synthesis
@testable import MultipleInstance

/// Bags from latent synthetic patients (no images): per lesion a noisy infiltration read-out
/// (u + N(0, 0.05²)), two pure-noise features and log volume.
struct LatentCohort {
    var bags: MILBags
    var survival: SurvivalData
    var infiltration: [[Double]]

    init(patients: Int, seed: UInt64, driver: SyntheticOutcomeDriver) throws {
        let cohort = try SyntheticPlanner.cohort(SynthesisOptions(patients: patients, seed: seed, outcomeDriver: driver))
        var rng = SeededGenerator(seed: seed)
        bags = try MILBags(cohort.map { p in
            p.lesions.map { l in
                [l.infiltration + 0.05 * rng.normal(), rng.normal(), rng.normal(), Foundation.log(l.shape.nominalVolume / 1000)]
            }
        }, names: cohort.map(\.id))
        survival = try SurvivalData(times: cohort.map(\.outcome.pfsMonths), events: cohort.map(\.outcome.pfsEvent))
        infiltration = cohort.map { $0.lesions.map(\.infiltration) }
    }

    /// Over patients with two or more lesions: the mean attention on the least-infiltrated lesion, the share
    /// of patients whose most-attended lesion is that one, and the mean 1/n a uniform weighting would give.
    func driverShare(_ attention: [[Double]]) -> (meanWeight: Double, topShare: Double, uniform: Double) {
        var weight = 0.0, top = 0.0, uniform = 0.0, n = 0.0
        for (a, u) in zip(attention, infiltration) where u.count >= 2 {
            let driver = u.indices.min { u[$0] < u[$1] }!
            weight += a[driver]
            top += a.indices.max { a[$0] < a[$1] }! == driver ? 1 : 0
            uniform += 1 / Double(u.count)
            n += 1
        }
        return (weight / n, top / n, uniform / n)
    }
}

final class SyntheticAttentionTests: XCTestCase {
    /// Outcomes driven by the least-infiltrated lesion: attention should find it.
    func testGatedAttentionPutsMostWeightOnTheLeastInfiltratedLesion() throws {
        let cohort = try LatentCohort(patients: 300, seed: 21, driver: .minimum)
        let (model, report) = try AttentionMILTrainer.train(cohort.bags, target: .survival(cohort.survival),
                                                            options: MILOptions(pooling: .gated, seed: 4))
        let p = model.predict(cohort.bags)
        let share = cohort.driverShare(p.attention)
        print("MIL gated (300 patients, minimum driver): attention on the least-infiltrated lesion \(share.meanWeight) vs uniform \(share.uniform); most attended in \(share.topShare) of patients; \(report.epochs) epochs, best \(report.bestEpoch)")
        XCTAssertGreaterThan(share.meanWeight, 1.6 * share.uniform)
        XCTAssertGreaterThan(share.topShare, 0.6)
        // The pooled infiltration read-out carries the risk: lower infiltration, higher hazard.
        XCTAssertLessThan(model.poolCoefficients[0], -0.5)
        XCTAssertGreaterThan(try Concordance.harrell(cohort.survival, risk: p.risk).index, 0.7)
        // Deterministic from the seed.
        let again = try AttentionMILTrainer.train(cohort.bags, target: .survival(cohort.survival),
                                                  options: MILOptions(pooling: .gated, seed: 4)).model
        XCTAssertEqual(again.predict(cohort.bags).risk, p.risk)
    }

    func testCrossValidatedPredictionsAreOutOfSampleAndStillFindTheDriver() throws {
        let cohort = try LatentCohort(patients: 150, seed: 8, driver: .minimum)
        let cv = try MILCrossValidation.run(cohort.bags, target: .survival(cohort.survival), folds: 5, repeats: 1,
                                            options: MILOptions(pooling: .attention, seed: 2))
        XCTAssertEqual(cv.reports.count, 5)
        XCTAssertTrue(cv.reports.allSatisfy { $0.trainingBags + $0.validationBags == 120 })
        XCTAssertTrue(cv.risk.allSatisfy(\.isFinite))
        for a in cv.attention { XCTAssertEqual(a.reduce(0, +), 1, accuracy: 1e-9) }
        let c = try Concordance.harrell(cohort.survival, risk: cv.risk).index
        let share = cohort.driverShare(cv.attention)
        print("MIL attention 5-fold CV (150 patients): out-of-sample C \(c); attention on the least-infiltrated lesion \(share.meanWeight) vs uniform \(share.uniform), most attended in \(share.topShare)")
        XCTAssertGreaterThan(c, 0.62)
        XCTAssertGreaterThan(share.meanWeight, 1.3 * share.uniform)
        // Fold assignment: stratified by event, reproducible from the seed.
        var r1 = SeededGenerator(seed: 9), r2 = SeededGenerator(seed: 9)
        let folds = stratifiedFolds(cohort.survival.events, folds: 5, rng: &r1)
        XCTAssertEqual(folds, stratifiedFolds(cohort.survival.events, folds: 5, rng: &r2))
        for f in 0..<5 {
            let events = folds.indices.filter { folds[$0] == f && cohort.survival.events[$0] }.count
            XCTAssertLessThanOrEqual(abs(events - cohort.survival.eventCount / 5), 1)
        }
    }

    func testBinaryTargetTrainsWithTheLogisticLoss() throws {
        let cohort = try LatentCohort(patients: 200, seed: 5, driver: .minimum)
        // Label: progression within 6 months (events only), a binary outcome driven like PFS.
        let labels = zip(cohort.survival.times, cohort.survival.events).map { $0.1 && $0.0 < 6 }
        let (model, _) = try AttentionMILTrainer.train(cohort.bags, target: .binary(labels), options: MILOptions(seed: 3))
        let auc = try ROC.analyse(labels: labels, scores: model.predict(cohort.bags).risk).auc
        XCTAssertGreaterThan(auc, 0.7)
    }
}
