import Foundation
import Statistics

/// Out-of-sample predictions of attention MIL from repeated stratified k-fold cross-validation, so that
/// a learned pooling can be compared fairly with fixed aggregators: every bag's risk and attention weights
/// come from models that never saw it.
public struct MILCrossValidation: Sendable {
    /// Per bag: the held-out risk, standardised by the fold model's training-risk mean and SD, averaged over repeats.
    public var risk: [Double]
    /// risks[r][b]: the standardised held-out risk of bag b in repeat r.
    public var repeatRisks: [[Double]]
    /// Per bag, per instance: the held-out attention weight averaged over repeats (each bag's weights sum to 1).
    public var attention: [[Double]]
    public var folds: Int
    public var repeats: Int
    /// One report per (repeat, fold), repeat-major.
    public var reports: [MILTrainingReport]

    /// Runs `repeats` x `folds` trainings (in parallel; the result does not depend on the number of cores).
    /// Fold assignment is stratified by event indicator or label and seeded by `options.seed` and the repeat.
    public static func run(_ bags: MILBags, target: MILTarget, folds: Int = 5, repeats: Int = 3,
                           options: MILOptions = MILOptions()) throws -> MILCrossValidation {
        guard folds >= 2 else { throw StatisticsError("cross-validation needs at least 2 folds, got \(folds)") }
        guard repeats >= 1 else { throw StatisticsError("cross-validation needs at least 1 repeat, got \(repeats)") }
        guard bags.count == target.count else { throw StatisticsError("MIL: \(bags.count) bags but \(target.count) labels") }
        guard bags.count >= 2 * folds else {
            throw StatisticsError("\(folds)-fold cross-validation needs at least \(2 * folds) bags, got \(bags.count)")
        }
        let assignments = (0..<repeats).map { r -> [Int] in
            var rng = SeededGenerator(seed: options.seed, stream: 1_000_000 + UInt64(r))
            return stratifiedFolds(target.strata, folds: folds, rng: &rng)
        }
        let tasks = repeats * folds
        var outcomes = [Result<(model: AttentionMILModel, report: MILTrainingReport), Error>?](repeating: nil, count: tasks)
        outcomes.withUnsafeMutableBufferPointer { slots in
            let base = slots
            DispatchQueue.concurrentPerform(iterations: tasks) { task in
                let r = task / folds, f = task % folds
                let train = assignments[r].indices.filter { assignments[r][$0] != f }
                var o = options
                o.seed = options.seed &+ UInt64(task + 1) &* 0x9E37_79B9
                base[task] = Result { try AttentionMILTrainer.train(bags.subset(train), target: target.subset(train), options: o) }
            }
        }
        var repeatRisks = [[Double]](repeating: [Double](repeating: .nan, count: bags.count), count: repeats)
        var attention = (0..<bags.count).map { [Double](repeating: 0, count: bags.rows(of: $0).count) }
        var reports: [MILTrainingReport] = []
        for task in 0..<tasks {
            let r = task / folds, f = task % folds
            let trained: (model: AttentionMILModel, report: MILTrainingReport)
            do {
                trained = try outcomes[task]!.get()
            } catch {
                throw StatisticsError("MIL training failed in repeat \(r + 1), fold \(f + 1): \(error)")
            }
            reports.append(trained.report)
            let test = assignments[r].indices.filter { assignments[r][$0] == f }
            let held = bags.subset(test)
            let prediction = trained.model.predict(held)
            for (k, b) in test.enumerated() {
                repeatRisks[r][b] = (prediction.risk[k] - trained.model.trainingRiskMean) / trained.model.trainingRiskSD
                for (i, a) in prediction.attention[k].enumerated() { attention[b][i] += a / Double(repeats) }
            }
        }
        let risk = (0..<bags.count).map { b in repeatRisks.reduce(0) { $0 + $1[b] } / Double(repeats) }
        return MILCrossValidation(risk: risk, repeatRisks: repeatRisks, attention: attention, folds: folds,
                                  repeats: repeats, reports: reports)
    }
}

/// A fold number per index: each stratum shuffled and dealt round-robin, continuing where the last stratum ended.
func stratifiedFolds(_ strata: [Bool], folds: Int, rng: inout SeededGenerator) -> [Int] {
    var fold = [Int](repeating: 0, count: strata.count)
    var next = 0
    for value in [true, false] {
        let members = rng.shuffled(strata.indices.filter { strata[$0] == value })
        for i in members {
            fold[i] = next % folds
            next += 1
        }
    }
    return fold
}
