import Foundation
import LinearAlgebra

/// ComBat harmonisation (Johnson, Li & Rabinovic, Biostatistics 2007), as neuroCombat implements it.
///
/// For feature g of lesion j in batch i, with biological covariates X_j (kept) and batch effects
/// (removed), the location/scale model is
///
///     Y_ijg = α_g + X_j β_g + γ_ig + δ_ig ε_ijg,   ε ~ N(0, σ_g²)
///
/// 1. Standardise per feature: least squares of Y on the design [batch one-hot | covariates] gives B̂;
///    the grand mean α̂_g = Σ_i (n_i/n) B̂_ig, the pooled variance σ̂_g² = (1/n) Σ_ij (Y − design·B̂)², and
///    Z_ijg = (Y_ijg − α̂_g − X_j β̂_g) / σ̂_g.
/// 2. Per batch, γ̂_ig = mean of Z over the batch's lesions, δ̂²_ig = their variance (n_i − 1 denominator).
/// 3. Empirical Bayes across the features of a batch: γ_ig ~ N(γ̄_i, τ²_i), δ²_ig ~ InverseGamma(λ_i, θ_i),
///    hyperparameters by the method of moments (γ̄, τ² = mean and variance of γ̂; λ = (2s² + m²)/s²,
///    θ = (m s² + m³)/s² with m, s² the mean and variance of δ̂²).
///    - parametric: the posterior means, iterated until no γ* or δ* changes by more than 1e-4 relative:
///      γ* = (n τ² γ̂ + δ*² γ̄) / (n τ² + δ*²),   δ*² = (θ + ½ Σ_j (Z − γ*)²) / (n/2 + λ − 1);
///    - non-parametric: Monte-Carlo integration over the other features of the batch (their γ̂, δ̂² are draws
///      from the prior): weights w_h = Π_j φ(Z_jg; γ̂_h, δ̂²_h), γ* = Σ w_h γ̂_h / Σ w_h, δ*² likewise.
/// 4. Adjust and back-transform, keeping the covariate effects:
///      Y*_ijg = σ̂_g (Z_ijg − γ*_ig) / δ*_ig + α̂_g + X_j β̂_g.
///
/// Deviations from neuroCombat, none of which changes a result neuroCombat computes:
/// - features that are constant, or whose residual variance is 0, or that hold a missing or non-finite value
///   are left unchanged and listed (neuroCombat gives them the median of a boolean array as variance, or NaN);
///   they take no part in the priors;
/// - the non-parametric likelihoods are summed in log space: neuroCombat multiplies densities, which
///   underflow to 0 (then NaN) once a batch has a few hundred lesions;
/// - a batch of one lesion has no variance and is refused (neuroCombat returns NaN for it).
public enum ComBat {
    /// Fits the batch model on `values` (row-major, one row per lesion, one column per feature) and returns
    /// it with the harmonised values (unchanged features keep their values).
    public static func fit(values: [Double], features: [String], batches: [String], covariates: [CovariateColumn],
                           method: ComBatMethod) throws -> (model: ComBatModel, harmonised: [Double]) {
        let n = batches.count, f = features.count
        guard values.count == n * f else {
            throw HarmonisationError("\(n) lesions of \(f) features need \(n * f) values, got \(values.count)")
        }
        let design = try ComBatDesign(batches: batches, covariates: covariates)
        return try fit(values: values, features: features, design: design, method: method,
                       status: featureStatus(values: values, rows: n, columns: f))
    }

    private static func fit(values: [Double], features: [String], design: ComBatDesign, method: ComBatMethod,
                            status: [FeatureStatus]) throws -> (model: ComBatModel, harmonised: [Double]) {
        let n = design.batchIndex.count, f = features.count
        let used = status.indices.filter { status[$0] == .harmonised }
        var model = ComBatModel(method: method, batches: design.batchLevels, batchCounts: design.batchCounts,
                                covariates: design.covariateSpecs, features: features, status: status)
        var harmonised = values
        guard !used.isEmpty else { return (model, harmonised) }

        // Step 1: least squares over the full design, all features at once (B̂ = (XᵀX)⁻¹ XᵀY).
        let g = used.count, p = design.columnCount, k = design.batchLevels.count
        var y = [Double](repeating: 0, count: n * g)
        for r in 0..<n { for (c, j) in used.enumerated() { y[r * g + c] = values[r * f + j] } }
        let x = Matrix(rows: n, cols: p, values: design.matrix)
        let xtx = x.multiplied(by: x, transposingSelf: true)
        let b: Matrix
        do {
            b = try xtx.solve(x.multiplied(by: Matrix(rows: n, cols: g, values: y), transposingSelf: true))
        } catch {
            throw HarmonisationError("the covariates \(design.covariateSpecs.map { "'\($0.name)'" }.joined(separator: ", ")) are confounded with the batches (the design matrix is singular): a covariate that coincides with the batch, or is constant, cannot be kept; drop it from --covariates")
        }
        let coefficients = b.values
        // The covariate part X_j β̂ of lesion r (the design with its batch columns set to 0), into `effect`.
        func covariateEffect(_ r: Int, _ effect: inout [Double]) {
            for c in 0..<g { effect[c] = 0 }
            for t in k..<p where design.matrix[r * p + t] != 0 {
                let v = design.matrix[r * p + t]
                for c in 0..<g { effect[c] += v * coefficients[t * g + c] }
            }
        }
        var grand = [Double](repeating: 0, count: g), pooled = [Double](repeating: 0, count: g)
        for i in 0..<k {
            let w = Double(design.batchCounts[i]) / Double(n)
            for c in 0..<g { grand[c] += w * coefficients[i * g + c] }
        }
        // Residuals of the full fit, row by row (design rows are one batch indicator plus the covariates).
        var effect = [Double](repeating: 0, count: g), size = [Double](repeating: 0, count: g)
        for r in 0..<n {
            covariateEffect(r, &effect)
            let i = design.batchIndex[r]
            for c in 0..<g {
                let e = y[r * g + c] - coefficients[i * g + c] - effect[c]
                pooled[c] += e * e
                size[c] = max(size[c], abs(y[r * g + c]))
            }
        }
        for c in 0..<g { pooled[c] /= Double(n) }
        // No variance left after the fit (e.g. constant within every batch): cannot be standardised.
        let degenerate = (0..<g).filter { !(pooled[$0].squareRoot() > 1e-12 * max(size[$0], Double.leastNormalMagnitude)) }
        if !degenerate.isEmpty {
            var s = status
            for c in degenerate { s[used[c]] = .zeroResidualVariance }
            return try fit(values: values, features: features, design: design, method: method, status: s)
        }
        let scale = pooled.map { $0.squareRoot() }
        // Standardised residuals Z, in place of Y.
        var z = y
        y = []
        for r in 0..<n {
            covariateEffect(r, &effect)
            for c in 0..<g { z[r * g + c] = (z[r * g + c] - grand[c] - effect[c]) / scale[c] }
        }

        // Steps 2-3 per batch.
        var estimates = BatchEstimates(batches: k, features: g)
        for i in 0..<k {
            let rows = design.batchIndex.indices.filter { design.batchIndex[$0] == i }, m = Double(rows.count)
            var mean = [Double](repeating: 0, count: g), ss = [Double](repeating: 0, count: g)
            for r in rows { for c in 0..<g { mean[c] += z[r * g + c] } }
            for c in 0..<g { mean[c] /= m }
            for r in rows { for c in 0..<g { let d = z[r * g + c] - mean[c]; ss[c] += d * d } }
            let deltaHat = ss.map { $0 == 0 ? 1 : $0 / (m - 1) }
            let prior = BatchPrior(gammaHat: mean, deltaHat: deltaHat)
            let (gammaStar, deltaStar) = method == .parametric
                ? parametric(gammaHat: mean, deltaHat: deltaHat, sumOfSquares: ss, n: m, prior: prior)
                : nonParametric(gammaHat: mean, deltaHat: deltaHat, sumOfSquares: ss, n: m)
            estimates.set(batch: i, gammaHat: mean, deltaHat: deltaHat, gammaStar: gammaStar, deltaStar: deltaStar,
                          prior: prior)
        }

        // Step 4.
        let deltaRoot = estimates.deltaStar.map { $0.map { $0.squareRoot() } }
        for r in 0..<n {
            let i = design.batchIndex[r]
            covariateEffect(r, &effect)
            for (c, j) in used.enumerated() {
                let adjusted = (z[r * g + c] - estimates.gammaStar[i][c]) / deltaRoot[i][c]
                harmonised[r * f + j] = adjusted * scale[c] + grand[c] + effect[c]
            }
        }
        model.store(used: used, grandMean: grand, pooledVariance: pooled,
                    coefficients: (k..<p).map { t in (0..<g).map { coefficients[t * g + $0] } }, estimates: estimates)
        return (model, harmonised)
    }

    /// Constant features and features with a missing or non-finite value are not harmonised.
    static func featureStatus(values: [Double], rows n: Int, columns f: Int) -> [FeatureStatus] {
        (0..<f).map { j in
            var first = Double.nan, constant = true
            for r in 0..<n {
                let v = values[r * f + j]
                guard v.isFinite else { return .nonFinite }
                if r == 0 { first = v } else if v != first { constant = false }
            }
            return constant ? .constant : .harmonised
        }
    }

    /// Parametric empirical Bayes: the posterior means, iterated jointly over the batch's features until the
    /// largest relative change of any γ* or δ*² is at most 1e-4 (neuroCombat's `it_sol`).
    static func parametric(gammaHat: [Double], deltaHat: [Double], sumOfSquares: [Double], n: Double,
                           prior: BatchPrior) -> ([Double], [Double]) {
        var gOld = gammaHat, dOld = deltaHat
        let g = gammaHat.count
        var gNew = gOld, dNew = dOld
        for _ in 0..<10_000 {
            var change = 0.0, sawNaN = false
            for c in 0..<g {
                gNew[c] = (prior.tau2 * n * gammaHat[c] + dOld[c] * prior.gammaBar) / (prior.tau2 * n + dOld[c])
                // Σ_j (Z_j − γ*)² = Σ_j (Z_j − γ̂)² + n (γ̂ − γ*)²
                let d = gammaHat[c] - gNew[c]
                let sum2 = sumOfSquares[c] + n * d * d
                dNew[c] = (0.5 * sum2 + prior.theta) / (n / 2 + prior.lambda - 1)
                let r1 = abs(gNew[c] - gOld[c]) / gOld[c], r2 = abs(dNew[c] - dOld[c]) / dOld[c]
                if r1.isNaN || r2.isNaN { sawNaN = true }
                change = max(change, r1, r2)
            }
            gOld = gNew; dOld = dNew
            // numpy's max propagates NaN and `NaN > conv` is false: neuroCombat stops there too.
            if sawNaN || !(change > 1e-4) { break }
        }
        return (gNew, dNew)
    }

    /// Non-parametric empirical Bayes (neuroCombat's `int_eprior`): for each feature, the average of the other
    /// features' (γ̂, δ̂²) weighted by the likelihood of this feature's standardised values under each.
    /// Σ_j (Z_j − γ̂_h)² = Σ_j (Z_j − γ̂)² + n (γ̂ − γ̂_h)², so each pair costs O(1); logs avoid underflow.
    static func nonParametric(gammaHat: [Double], deltaHat: [Double], sumOfSquares: [Double], n: Double)
        -> ([Double], [Double]) {
        let g = gammaHat.count
        var gammaStar = [Double](repeating: 0, count: g), deltaStar = [Double](repeating: 0, count: g)
        let logNorm = deltaHat.map { -(n / 2) * Foundation.log(2 * Double.pi * $0) }
        let half = deltaHat.map { 1 / (2 * $0) }
        var logL = [Double](repeating: 0, count: g)
        for c in 0..<g {
            var top = -Double.infinity
            for h in 0..<g where h != c {
                let d = gammaHat[c] - gammaHat[h]
                let l = logNorm[h] - (sumOfSquares[c] + n * d * d) * half[h]
                logL[h] = l
                if l > top { top = l }
            }
            var sw = 0.0, sg = 0.0, sd = 0.0
            for h in 0..<g where h != c {
                let w = Foundation.exp(logL[h] - top)
                sw += w; sg += w * gammaHat[h]; sd += w * deltaHat[h]
            }
            gammaStar[c] = sg / sw
            deltaStar[c] = sd / sw
        }
        return (gammaStar, deltaStar)
    }
}

/// Parametric or non-parametric empirical Bayes priors.
public enum ComBatMethod: String, Codable, Sendable, CaseIterable {
    case parametric
    case nonparametric
}

/// Whether ComBat changed a feature, and if not why.
public enum FeatureStatus: String, Codable, Sendable {
    case harmonised
    /// The same value in every lesion: nothing to harmonise.
    case constant
    /// No variance left after the batch and covariate fit (e.g. constant within each batch).
    case zeroResidualVariance = "zero_residual_variance"
    /// A missing (NaN) or infinite value in some lesion.
    case nonFinite = "non_finite"
    /// Every feature of a region whose lesions ComBat cannot harmonise (one batch, or a batch with one lesion
    /// there, e.g. every PET from one scanner): the region's values are copied unchanged, by the fit and by
    /// `--apply-model` (`StoreHarmonisation`).
    case regionUnharmonised = "region_unharmonised"
}

/// A biological covariate whose effect ComBat keeps: continuous (one design column) or categorical
/// (one indicator per level except the first in sorted order, as neuroCombat encodes them).
public struct CovariateColumn: Sendable {
    public var name: String
    public var values: Values
    public enum Values: Sendable {
        case continuous([Double])
        case categorical([String])
    }
    public init(name: String, values: Values) { self.name = name; self.values = values }
}

/// How a covariate enters the design, as recorded in the model.
public struct CovariateSpec: Codable, Sendable, Equatable {
    public var name: String
    /// "continuous" or "categorical".
    public var kind: String
    /// Categorical levels in sorted order; the first is the reference (no column).
    public var levels: [String]?
    /// Names of this covariate's design columns: the name, or `name=level` per non-reference level.
    public var terms: [String] {
        guard let levels else { return [name] }
        return levels.dropFirst().map { "\(name)=\($0)" }
    }
}

/// A lesion-level failure to harmonise, said in one sentence.
public struct HarmonisationError: Error, CustomStringConvertible, Sendable {
    public var message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}

/// The design matrix [batch one-hot | covariates] over the lesions.
struct ComBatDesign {
    var batchLevels: [String]
    var batchCounts: [Int]
    var batchIndex: [Int]
    var covariateSpecs: [CovariateSpec]
    /// Row-major, n × columnCount.
    var matrix: [Double]
    var columnCount: Int

    /// Why lesions of these batches (sorted levels and their lesion counts) cannot be harmonised, or nil: ComBat
    /// needs at least 2 batches with at least 2 lesions each (a batch's scale is its lesions' variance).
    static func batchProblem(levels: [String], counts: [Int]) -> String? {
        guard levels.count >= 2 else {
            return "all \(counts.reduce(0, +)) lesions are in one batch ('\(levels.first ?? "")'): there is nothing to harmonise"
        }
        let single = levels.indices.filter { counts[$0] < 2 }
        guard single.isEmpty else {
            return "batch\(single.count == 1 ? "" : "es") " + single.map { "'\(levels[$0])'" }.joined(separator: ", ")
                + " \(single.count == 1 ? "has" : "have") only one lesion: its scale (variance) cannot be estimated; merge it with a similar batch or leave its patients out"
        }
        return nil
    }

    init(batches: [String], covariates: [CovariateColumn]) throws {
        let n = batches.count
        let levels = Array(Set(batches)).sorted()
        let index = Dictionary(uniqueKeysWithValues: levels.enumerated().map { ($1, $0) })
        let rowBatch = batches.map { index[$0]! }
        var counts = [Int](repeating: 0, count: levels.count)
        for i in rowBatch { counts[i] += 1 }
        if let problem = Self.batchProblem(levels: levels, counts: counts) { throw HarmonisationError(problem) }
        batchLevels = levels; batchIndex = rowBatch; batchCounts = counts
        var columns: [[Double]] = levels.indices.map { i in rowBatch.map { $0 == i ? 1 : 0 } }
        var specs: [CovariateSpec] = []
        for cov in covariates {
            switch cov.values {
            case .continuous(let v):
                guard v.count == n else { throw HarmonisationError("covariate '\(cov.name)' has \(v.count) values for \(n) lesions") }
                columns.append(v)
                specs.append(CovariateSpec(name: cov.name, kind: "continuous", levels: nil))
            case .categorical(let v):
                guard v.count == n else { throw HarmonisationError("covariate '\(cov.name)' has \(v.count) values for \(n) lesions") }
                let levels = Array(Set(v)).sorted()
                for level in levels.dropFirst() { columns.append(v.map { $0 == level ? 1 : 0 }) }
                specs.append(CovariateSpec(name: cov.name, kind: "categorical", levels: levels))
            }
        }
        covariateSpecs = specs
        columnCount = columns.count
        matrix = [Double](repeating: 0, count: n * columns.count)
        for (c, col) in columns.enumerated() { for r in 0..<n { matrix[r * columns.count + c] = col[r] } }
    }
}

/// The empirical Bayes hyperparameters of one batch, by the method of moments over its features.
public struct BatchPrior: Codable, Sendable, Equatable {
    /// Mean and variance (n − 1) of γ̂ over features: the normal prior of the location.
    public var gammaBar: Double
    public var tau2: Double
    /// Inverse-gamma shape λ and scale θ of the prior of δ².
    public var lambda: Double
    public var theta: Double

    public init(gammaBar: Double, tau2: Double, lambda: Double, theta: Double) {
        self.gammaBar = gammaBar; self.tau2 = tau2; self.lambda = lambda; self.theta = theta
    }

    init(gammaHat: [Double], deltaHat: [Double]) {
        func meanVar(_ x: [Double]) -> (Double, Double) {
            let m = x.reduce(0, +) / Double(x.count)
            return (m, x.reduce(0) { $0 + ($1 - m) * ($1 - m) } / Double(x.count - 1))
        }
        let (gb, t2) = meanVar(gammaHat), (m, s2) = meanVar(deltaHat)
        self.init(gammaBar: gb, tau2: t2, lambda: (2 * s2 + m * m) / s2, theta: (m * s2 + m * m * m) / s2)
    }
}

/// Per batch and feature: γ̂, δ̂², γ*, δ*², and the batch's priors.
struct BatchEstimates {
    var gammaHat: [[Double]], deltaHat: [[Double]], gammaStar: [[Double]], deltaStar: [[Double]]
    var priors: [BatchPrior]
    init(batches k: Int, features g: Int) {
        let empty = [[Double]](repeating: [Double](repeating: .nan, count: g), count: k)
        gammaHat = empty; deltaHat = empty; gammaStar = empty; deltaStar = empty
        priors = [BatchPrior](repeating: BatchPrior(gammaBar: .nan, tau2: .nan, lambda: .nan, theta: .nan), count: k)
    }
    mutating func set(batch i: Int, gammaHat gh: [Double], deltaHat dh: [Double], gammaStar gs: [Double],
                      deltaStar ds: [Double], prior: BatchPrior) {
        gammaHat[i] = gh; deltaHat[i] = dh; gammaStar[i] = gs; deltaStar[i] = ds; priors[i] = prior
    }
}
