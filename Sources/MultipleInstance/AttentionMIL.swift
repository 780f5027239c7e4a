import Foundation
import LinearAlgebra

/// How instance weights are computed (Ilse, Tomczak & Welling 2018, "Attention-based deep multiple
/// instance learning").
public enum AttentionPooling: String, Codable, Sendable, CaseIterable {
    /// a_k = softmax_k(wᵀ tanh(V h_k + b_V)).
    case attention
    /// a_k = softmax_k(wᵀ (tanh(V h_k + b_V) ⊙ sigm(U h_k + b_U))): the gate lets the model switch
    /// instances off where tanh alone is nearly linear.
    case gated
}

/// An attention-pooling model over standardised instance features:
/// bag risk r = βᵀ Σ_k a_k h_k (+ c for binary targets), with attention weights a_k as in `AttentionPooling`.
///
/// The risk is linear in the attention-weighted mean instance, so β reads like the coefficients of a
/// patient-level model and a_k says which lesions the patient's risk is drawn from.
public struct AttentionMILModel: Sendable, Codable {
    public var pooling: AttentionPooling
    public var hiddenSize: Int
    public var dimension: Int
    /// Input standardisation fitted on the training bags' instances.
    public var featureMeans: [Double]
    public var featureSDs: [Double]
    /// All parameters, laid out as `ParameterLayout` says.
    var parameters: [Double]
    /// Mean and SD of the training bags' risks, so that risks of models fitted on different folds share a scale.
    public var trainingRiskMean: Double
    public var trainingRiskSD: Double

    var layout: ParameterLayout { ParameterLayout(dimension: dimension, hidden: hiddenSize) }

    /// The risk (higher = worse outcome for survival, higher = more likely positive for binary) and the
    /// attention weights of every bag. `bags` are on the original feature scale.
    public func predict(_ bags: MILBags) -> (risk: [Double], attention: [[Double]]) {
        let pass = AttentionForward(model: self, bags: bags.standardised(means: featureMeans, sds: featureSDs))
        return (pass.risk, (0..<bags.count).map { Array(pass.attention[bags.rows(of: $0)]) })
    }

    /// Risks standardised with the training bags' risk mean and SD.
    public func standardisedRisk(_ bags: MILBags) -> [Double] {
        predict(bags).risk.map { ($0 - trainingRiskMean) / trainingRiskSD }
    }

    /// β, the weights of the attention-pooled standardised features.
    public var poolCoefficients: [Double] { Array(parameters[layout.beta]) }
}

/// Where each parameter block lives in the flat parameter vector.
struct ParameterLayout {
    let dimension: Int
    let hidden: Int
    var v: Range<Int> { 0..<(hidden * dimension) }
    var bv: Range<Int> { v.upperBound..<(v.upperBound + hidden) }
    var u: Range<Int> { bv.upperBound..<(bv.upperBound + hidden * dimension) }
    var bu: Range<Int> { u.upperBound..<(u.upperBound + hidden) }
    var w: Range<Int> { bu.upperBound..<(bu.upperBound + hidden) }
    var beta: Range<Int> { w.upperBound..<(w.upperBound + dimension) }
    var intercept: Int { beta.upperBound }
    var count: Int { intercept + 1 }
    /// Blocks that weight decay shrinks (weights, not biases or the intercept).
    var decayed: [Range<Int>] { [v, u, w, beta] }
}

/// One forward pass of the model over standardised bags, keeping what the backward pass needs.
struct AttentionForward {
    let gated: Bool
    let hidden: Int
    /// tanh(V h + b_V), N x L.
    var t: [Double]
    /// sigm(U h + b_U), N x L (gated only).
    var s: [Double]
    /// Attention scores before the softmax, the weights, and q_k = βᵀ h_k.
    var score: [Double]
    var attention: [Double]
    var q: [Double]
    /// Bag risks (including the intercept).
    var risk: [Double]

    init(model: AttentionMILModel, bags: MILBags) {
        self.init(parameters: model.parameters, layout: model.layout, gated: model.pooling == .gated, bags: bags)
    }

    init(parameters p: [Double], layout: ParameterLayout, gated: Bool, bags: MILBags) {
        let x = bags.instances
        let n = x.rows, l = layout.hidden, d = layout.dimension
        self.gated = gated
        hidden = l
        let vMatrix = Matrix(rows: l, cols: d, values: Array(p[layout.v]))
        var tanhV = x.multiplied(by: vMatrix, transposingOther: true).values
        var gate: [Double] = []
        let w = Array(p[layout.w]), bv = Array(p[layout.bv])
        var score = [Double](repeating: 0, count: n)
        if gated {
            let uMatrix = Matrix(rows: l, cols: d, values: Array(p[layout.u]))
            gate = x.multiplied(by: uMatrix, transposingOther: true).values
            let bu = Array(p[layout.bu])
            tanhV.withUnsafeMutableBufferPointer { t in
                gate.withUnsafeMutableBufferPointer { s in
                    for i in 0..<n {
                        var acc = 0.0
                        for j in 0..<l {
                            let a = Foundation.tanh(t[i * l + j] + bv[j])
                            let g = 1 / (1 + Foundation.exp(-(s[i * l + j] + bu[j])))
                            t[i * l + j] = a
                            s[i * l + j] = g
                            acc += w[j] * a * g
                        }
                        score[i] = acc
                    }
                }
            }
        } else {
            tanhV.withUnsafeMutableBufferPointer { t in
                for i in 0..<n {
                    var acc = 0.0
                    for j in 0..<l {
                        let a = Foundation.tanh(t[i * l + j] + bv[j])
                        t[i * l + j] = a
                        acc += w[j] * a
                    }
                    score[i] = acc
                }
            }
        }
        t = tanhV
        s = gate
        self.score = score
        q = x.multiplied(by: Array(p[layout.beta]))
        var attention = [Double](repeating: 0, count: n)
        var risk = [Double](repeating: 0, count: bags.count)
        let c = p[layout.intercept]
        for b in 0..<bags.count {
            let r = bags.rows(of: b)
            let top = r.reduce(-Double.infinity) { Swift.max($0, score[$1]) }
            var total = 0.0
            for k in r {
                attention[k] = Foundation.exp(score[k] - top)
                total += attention[k]
            }
            var acc = 0.0
            for k in r {
                attention[k] /= total
                acc += attention[k] * q[k]
            }
            risk[b] = acc + c
        }
        self.attention = attention
        self.risk = risk
    }

    /// ∂loss/∂parameters given ∂loss/∂risk of every bag.
    func gradient(riskGradient g: [Double], parameters p: [Double], layout: ParameterLayout, bags: MILBags) -> [Double] {
        let x = bags.instances
        let n = x.rows, l = hidden
        var grad = [Double](repeating: 0, count: layout.count)
        let c = p[layout.intercept]
        // ∂r_b/∂s_k = a_k (q_k − (r_b − c)); ∂r_b/∂β = Σ_k a_k h_k.
        var ds = [Double](repeating: 0, count: n)
        var pooled = [Double](repeating: 0, count: n)
        for b in 0..<bags.count {
            for k in bags.rows(of: b) {
                ds[k] = g[b] * attention[k] * (q[k] - (risk[b] - c))
                pooled[k] = g[b] * attention[k]
            }
            grad[layout.intercept] += g[b]
        }
        let dBeta = x.multiplied(by: pooled, transposingSelf: true)
        for (j, v) in dBeta.enumerated() { grad[layout.beta.lowerBound + j] = v }
        let w = Array(p[layout.w])
        // Pre-activation gradients of the tanh branch (and the gate).
        var dPV = [Double](repeating: 0, count: n * l)
        var dPU = gated ? [Double](repeating: 0, count: n * l) : []
        var dw = [Double](repeating: 0, count: l)
        t.withUnsafeBufferPointer { t in
            s.withUnsafeBufferPointer { s in
                for i in 0..<n where ds[i] != 0 {
                    for j in 0..<l {
                        let a = t[i * l + j]
                        if gated {
                            let gate = s[i * l + j]
                            dw[j] += ds[i] * a * gate
                            let dG = ds[i] * w[j]
                            dPV[i * l + j] = dG * gate * (1 - a * a)
                            dPU[i * l + j] = dG * a * gate * (1 - gate)
                        } else {
                            dw[j] += ds[i] * a
                            dPV[i * l + j] = ds[i] * w[j] * (1 - a * a)
                        }
                    }
                }
            }
        }
        for j in 0..<l { grad[layout.w.lowerBound + j] = dw[j] }
        let dV = Matrix(rows: n, cols: l, values: dPV).multiplied(by: x, transposingSelf: true)
        for (k, v) in dV.values.enumerated() { grad[layout.v.lowerBound + k] = v }
        for i in 0..<n { for j in 0..<l { grad[layout.bv.lowerBound + j] += dPV[i * l + j] } }
        if gated {
            let dU = Matrix(rows: n, cols: l, values: dPU).multiplied(by: x, transposingSelf: true)
            for (k, v) in dU.values.enumerated() { grad[layout.u.lowerBound + k] = v }
            for i in 0..<n { for j in 0..<l { grad[layout.bu.lowerBound + j] += dPU[i * l + j] } }
        }
        return grad
    }
}
