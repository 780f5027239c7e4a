import Foundation
import LinearAlgebra
import Statistics

/// Settings of attention-MIL training. Defaults suit a few hundred patients with up to ~20 lesions and
/// ~10 features per lesion.
public struct MILOptions: Sendable, Codable, Hashable {
    public var pooling: AttentionPooling
    /// Rows of V (and U): the size of the attention's hidden layer.
    public var hiddenSize: Int
    /// Adam step size.
    public var learningRate: Double
    /// Decoupled weight decay (AdamW) on V, U, w and β, per step and relative to the learning rate.
    public var weightDecay: Double
    public var maxEpochs: Int
    /// Stop after this many epochs without a better validation loss; the best epoch's parameters are kept.
    public var patience: Int
    /// Share of the training bags held out (stratified by event or label) for early stopping.
    public var validationFraction: Double
    /// Seeds the initialisation and the inner split: equal seeds give equal models.
    public var seed: UInt64

    public init(pooling: AttentionPooling = .gated, hiddenSize: Int = 8, learningRate: Double = 0.02,
                weightDecay: Double = 1e-3, maxEpochs: Int = 400, patience: Int = 40,
                validationFraction: Double = 0.2, seed: UInt64 = 1) {
        self.pooling = pooling
        self.hiddenSize = hiddenSize
        self.learningRate = learningRate
        self.weightDecay = weightDecay
        self.maxEpochs = maxEpochs
        self.patience = patience
        self.validationFraction = validationFraction
        self.seed = seed
    }
}

/// What happened during one training run.
public struct MILTrainingReport: Sendable, Hashable {
    public var epochs: Int
    /// Epoch whose parameters were kept (the best validation loss; the last epoch without a validation set).
    public var bestEpoch: Int
    public var trainingLoss: Double
    /// NaN when no validation bags could be held out.
    public var validationLoss: Double
    public var trainingBags: Int
    public var validationBags: Int
}

/// Trains attention-MIL models with Adam, full batch, on the Cox partial likelihood (Breslow ties,
/// divided by the number of events) or the mean logistic loss.
public enum AttentionMILTrainer {
    public static func train(_ bags: MILBags, target: MILTarget, options: MILOptions = MILOptions()) throws
        -> (model: AttentionMILModel, report: MILTrainingReport) {
        guard bags.count == target.count else {
            throw StatisticsError("MIL: \(bags.count) bags but \(target.count) labels")
        }
        guard bags.count >= 4 else { throw StatisticsError("MIL training needs at least 4 bags, got \(bags.count)") }
        try Loss.requireInformative(target, what: "the training bags")
        var rng = SeededGenerator(seed: options.seed, stream: 0)
        let (inner, validation) = stratifiedSplit(target.strata, fraction: options.validationFraction, rng: &rng)
        let useValidation = !validation.isEmpty && Loss.isInformative(target.subset(validation))
            && Loss.isInformative(target.subset(inner))
        let trainIndices = useValidation ? inner : Array(0..<bags.count)
        let (means, sds) = bags.subset(trainIndices).featureMoments()
        let standard = bags.standardised(means: means, sds: sds)
        let trainBags = standard.subset(trainIndices), trainTarget = target.subset(trainIndices)
        let validationBags = standard.subset(validation), validationTarget = target.subset(validation)

        let layout = ParameterLayout(dimension: bags.dimension, hidden: options.hiddenSize)
        var theta = initialParameters(layout, rng: &rng)
        let gated = options.pooling == .gated
        let isSurvival: Bool
        if case .survival = target { isSurvival = true } else { isSurvival = false }
        var adam = Adam(count: layout.count, learningRate: options.learningRate)
        var best = theta, bestLoss = Double.infinity, bestEpoch = 0, lastTrainingLoss = Double.nan
        var epoch = 0
        while epoch < options.maxEpochs {
            epoch += 1
            let pass = AttentionForward(parameters: theta, layout: layout, gated: gated, bags: trainBags)
            let (loss, dRisk) = Loss.evaluate(trainTarget, risk: pass.risk)
            lastTrainingLoss = loss
            var grad = pass.gradient(riskGradient: dRisk, parameters: theta, layout: layout, bags: trainBags)
            if isSurvival { grad[layout.intercept] = 0 }
            adam.step(&theta, gradient: grad, decay: options.weightDecay, decayed: layout.decayed)
            if useValidation {
                let v = AttentionForward(parameters: theta, layout: layout, gated: gated, bags: validationBags)
                let vLoss = Loss.evaluate(validationTarget, risk: v.risk).loss
                if vLoss < bestLoss - 1e-9 {
                    bestLoss = vLoss
                    best = theta
                    bestEpoch = epoch
                } else if epoch - bestEpoch >= options.patience {
                    break
                }
            } else {
                best = theta
                bestEpoch = epoch
            }
        }
        guard best.allSatisfy(\.isFinite) else {
            throw StatisticsError("MIL training diverged (non-finite parameters); lower the learning rate")
        }
        var model = AttentionMILModel(pooling: options.pooling, hiddenSize: options.hiddenSize, dimension: bags.dimension,
                                      featureMeans: means, featureSDs: sds, parameters: best,
                                      trainingRiskMean: 0, trainingRiskSD: 1)
        let trainingRisk = model.predict(bags.subset(trainIndices)).risk
        let mean = trainingRisk.reduce(0, +) / Double(trainingRisk.count)
        let sd = (trainingRisk.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / Double(trainingRisk.count)).squareRoot()
        model.trainingRiskMean = mean
        model.trainingRiskSD = sd > 1e-12 ? sd : 1
        return (model, MILTrainingReport(epochs: epoch, bestEpoch: bestEpoch, trainingLoss: lastTrainingLoss,
                                         validationLoss: useValidation ? bestLoss : .nan,
                                         trainingBags: trainIndices.count, validationBags: useValidation ? validation.count : 0))
    }

    /// Glorot-uniform weights, zero biases.
    static func initialParameters(_ layout: ParameterLayout, rng: inout SeededGenerator) -> [Double] {
        var theta = [Double](repeating: 0, count: layout.count)
        func fill(_ range: Range<Int>, fanIn: Int, fanOut: Int) {
            let limit = (6 / Double(fanIn + fanOut)).squareRoot()
            for i in range { theta[i] = limit * (2 * rng.uniform() - 1) }
        }
        fill(layout.v, fanIn: layout.dimension, fanOut: layout.hidden)
        fill(layout.u, fanIn: layout.dimension, fanOut: layout.hidden)
        fill(layout.w, fanIn: layout.hidden, fanOut: 1)
        fill(layout.beta, fanIn: layout.dimension, fanOut: 1)
        return theta
    }
}

/// Indices split into (kept, held out), holding out `fraction` of each stratum (at least one from a stratum
/// of two or more), in random order.
func stratifiedSplit(_ strata: [Bool], fraction: Double, rng: inout SeededGenerator) -> ([Int], [Int]) {
    var kept: [Int] = [], held: [Int] = []
    for value in [true, false] {
        let members = rng.shuffled(strata.indices.filter { strata[$0] == value })
        let take = members.count >= 2 ? Swift.max(1, Int((Double(members.count) * fraction).rounded())) : 0
        held += members.prefix(take)
        kept += members.dropFirst(take)
    }
    return (kept.sorted(), held.sorted())
}

/// Training losses and their gradients with respect to the bag risks.
enum Loss {
    static func isInformative(_ target: MILTarget) -> Bool {
        switch target {
        case .survival(let d): return d.eventCount > 0 && d.count >= 2
        case .binary(let y): return y.contains(true) && y.contains(false)
        }
    }

    static func requireInformative(_ target: MILTarget, what: String) throws {
        guard isInformative(target) else {
            switch target {
            case .survival: throw StatisticsError("MIL: \(what) have no event")
            case .binary: throw StatisticsError("MIL: \(what) have only one outcome class")
            }
        }
    }

    static func evaluate(_ target: MILTarget, risk: [Double]) -> (loss: Double, gradient: [Double]) {
        switch target {
        case .survival(let d): return cox(d, risk: risk)
        case .binary(let y): return logistic(y, risk: risk)
        }
    }

    /// Negative log partial likelihood (Breslow ties) / number of events, and its gradient:
    /// ∂/∂r_i = (e^{r_i} Σ_{events j: t_j ≤ t_i} 1/S₀(t_j) − δ_i) / events, S₀(t) = Σ_{t_k ≥ t} e^{r_k}.
    static func cox(_ data: SurvivalData, risk: [Double]) -> (loss: Double, gradient: [Double]) {
        let n = data.count
        let order = data.times.indices.sorted { data.times[$0] < data.times[$1] }
        let shift = risk.max() ?? 0
        let e = risk.map { Foundation.exp($0 - shift) }
        // S₀ at each block of equal times, scanning from the latest time down.
        var s0 = [Double](repeating: 0, count: n)
        var running = 0.0
        var k = n - 1
        while k >= 0 {
            var j = k
            while j > 0 && data.times[order[j - 1]] == data.times[order[k]] { j -= 1 }
            for m in j...k { running += e[order[m]] }
            for m in j...k { s0[order[m]] = running }
            k = j - 1
        }
        let events = Double(data.eventCount)
        var loss = 0.0
        var gradient = [Double](repeating: 0, count: n)
        var hazard = 0.0
        var i = 0
        while i < n {
            var j = i
            while j + 1 < n && data.times[order[j + 1]] == data.times[order[i]] { j += 1 }
            let deaths = (i...j).filter { data.events[order[$0]] }.count
            let denominator = s0[order[i]]
            for m in i...j where data.events[order[m]] {
                loss -= (risk[order[m]] - shift) - Foundation.log(denominator)
            }
            hazard += Double(deaths) / denominator
            for m in i...j {
                let s = order[m]
                gradient[s] = (e[s] * hazard - (data.events[s] ? 1 : 0)) / events
            }
            i = j + 1
        }
        return (loss / events, gradient)
    }

    /// Mean binary cross-entropy of logistic(risk) and its gradient (p − y) / n.
    static func logistic(_ y: [Bool], risk: [Double]) -> (loss: Double, gradient: [Double]) {
        let n = Double(y.count)
        var loss = 0.0
        var gradient = [Double](repeating: 0, count: y.count)
        for i in y.indices {
            let r = risk[i]
            let softplus = r > 0 ? r + Foundation.log1p(Foundation.exp(-r)) : Foundation.log1p(Foundation.exp(r))
            loss += softplus - (y[i] ? r : 0)
            gradient[i] = (1 / (1 + Foundation.exp(-r)) - (y[i] ? 1 : 0)) / n
        }
        return (loss / n, gradient)
    }
}

/// Adam (Kingma & Ba 2015) with decoupled weight decay (Loshchilov & Hutter 2019).
struct Adam {
    var m: [Double]
    var v: [Double]
    var t = 0
    let learningRate: Double
    let beta1 = 0.9, beta2 = 0.999, epsilon = 1e-8

    init(count: Int, learningRate: Double) {
        m = [Double](repeating: 0, count: count)
        v = [Double](repeating: 0, count: count)
        self.learningRate = learningRate
    }

    mutating func step(_ theta: inout [Double], gradient g: [Double], decay: Double, decayed: [Range<Int>]) {
        t += 1
        let c1 = 1 - Foundation.pow(beta1, Double(t)), c2 = 1 - Foundation.pow(beta2, Double(t))
        for block in decayed { for i in block { theta[i] -= learningRate * decay * theta[i] } }
        for i in theta.indices {
            m[i] = beta1 * m[i] + (1 - beta1) * g[i]
            v[i] = beta2 * v[i] + (1 - beta2) * g[i] * g[i]
            theta[i] -= learningRate * (m[i] / c1) / ((v[i] / c2).squareRoot() + epsilon)
        }
    }
}
