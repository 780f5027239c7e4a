import Foundation

/// A fitted ComBat batch model: everything needed to harmonise further lesions of the same batches the same
/// way (neuroCombat's `estimates`), and to undo the harmonisation.
///
/// Per feature: the grand mean α̂, the pooled variance σ̂², the covariate coefficients β̂; per batch and
/// feature: γ̂, δ̂² (the batch's own location and scale) and γ*, δ*² (their empirical Bayes estimates, applied);
/// per batch: the priors. Values of features that were not harmonised are NaN.
public struct ComBatModel: Codable, Sendable, Equatable {
    public var method: ComBatMethod
    /// Batch labels in sorted order, with their lesion counts in the fit.
    public var batches: [String]
    public var batchCounts: [Int]
    public var covariates: [CovariateSpec]
    public var features: [String]
    public var status: [FeatureStatus]
    public var grandMean: [Double]
    public var pooledVariance: [Double]
    /// [covariate term][feature], terms in the order of `terms`.
    public var coefficients: [[Double]]
    /// [batch][feature].
    public var gammaHat: [[Double]]
    public var deltaHat: [[Double]]
    public var gammaStar: [[Double]]
    public var deltaStar: [[Double]]
    public var priors: [BatchPrior]

    /// Design columns of the covariates: `name` for a continuous one, `name=level` per non-reference level.
    public var terms: [String] { covariates.flatMap(\.terms) }

    /// Whether this is the model of a region left unharmonised (`FeatureStatus.regionUnharmonised`): its batches
    /// and counts are recorded, no estimates, and its values are copied unchanged.
    public var isUnharmonisedRegion: Bool { !status.isEmpty && status.allSatisfy { $0 == .regionUnharmonised } }

    /// The features left unchanged, with the reason.
    public var unchanged: [(feature: String, status: FeatureStatus)] {
        features.indices.filter { status[$0] != .harmonised }.map { (features[$0], status[$0]) }
    }

    public init(method: ComBatMethod, batches: [String], batchCounts: [Int], covariates: [CovariateSpec],
                features: [String], status: [FeatureStatus]) {
        self.method = method; self.batches = batches; self.batchCounts = batchCounts; self.covariates = covariates
        self.features = features; self.status = status
        let f = features.count, k = batches.count
        let nan = [Double](repeating: .nan, count: f)
        grandMean = nan; pooledVariance = nan
        coefficients = [[Double]](repeating: nan, count: covariates.flatMap(\.terms).count)
        gammaHat = [[Double]](repeating: nan, count: k); deltaHat = gammaHat; gammaStar = gammaHat; deltaStar = gammaHat
        priors = [BatchPrior](repeating: BatchPrior(gammaBar: .nan, tau2: .nan, lambda: .nan, theta: .nan), count: k)
    }

    mutating func store(used: [Int], grandMean gm: [Double], pooledVariance vp: [Double], coefficients co: [[Double]],
                        estimates e: BatchEstimates) {
        for (c, j) in used.enumerated() {
            grandMean[j] = gm[c]; pooledVariance[j] = vp[c]
            for t in co.indices { coefficients[t][j] = co[t][c] }
            for i in batches.indices {
                gammaHat[i][j] = e.gammaHat[i][c]; deltaHat[i][j] = e.deltaHat[i][c]
                gammaStar[i][j] = e.gammaStar[i][c]; deltaStar[i][j] = e.deltaStar[i][c]
            }
        }
        priors = e.priors
    }

    public static func == (a: ComBatModel, b: ComBatModel) -> Bool {
        func same(_ x: [Double], _ y: [Double]) -> Bool {
            x.count == y.count && zip(x, y).allSatisfy { $0 == $1 || ($0.isNaN && $1.isNaN) }
        }
        func same2(_ x: [[Double]], _ y: [[Double]]) -> Bool { x.count == y.count && zip(x, y).allSatisfy { same($0, $1) } }
        func samePriors(_ x: [BatchPrior], _ y: [BatchPrior]) -> Bool {
            same(x.flatMap { [$0.gammaBar, $0.tau2, $0.lambda, $0.theta] }, y.flatMap { [$0.gammaBar, $0.tau2, $0.lambda, $0.theta] })
        }
        return a.method == b.method && a.batches == b.batches && a.batchCounts == b.batchCounts
            && a.covariates == b.covariates && a.features == b.features && a.status == b.status
            && same(a.grandMean, b.grandMean) && same(a.pooledVariance, b.pooledVariance)
            && same2(a.coefficients, b.coefficients) && same2(a.gammaHat, b.gammaHat) && same2(a.deltaHat, b.deltaHat)
            && same2(a.gammaStar, b.gammaStar) && same2(a.deltaStar, b.deltaStar) && samePriors(a.priors, b.priors)
    }

    /// Harmonises lesions with this model: for each lesion of batch i and harmonised feature g,
    ///     Y* = σ̂ ((Y − α̂ − Xβ̂)/σ̂ − γ*_i) / δ*_i + α̂ + Xβ̂,
    /// which gives back exactly what the fit gave for the lesions it was fitted on. Unlike neuroCombat's
    /// `neuroCombatFromTraining`, which uses the training lesions' mean covariate effect, each lesion's own
    /// covariates are used. `rowName` names a lesion in messages.
    ///
    /// - Parameters:
    ///   - values: row-major, one row per lesion, columns named `features` (the model's features, any order).
    public func apply(values: [Double], features names: [String], batches labels: [String],
                      covariates: [CovariateColumn], rowName: (Int) -> String) throws -> [Double] {
        try transform(values: values, features: names, batches: labels, covariates: covariates, rowName: rowName,
                      inverse: false)
    }

    /// The values before harmonisation, from harmonised ones (the inverse of `apply`, used to draw the
    /// before/after picture from a harmonised store alone).
    public func unapply(values: [Double], features names: [String], batches labels: [String],
                        covariates: [CovariateColumn], rowName: (Int) -> String) throws -> [Double] {
        try transform(values: values, features: names, batches: labels, covariates: covariates, rowName: rowName,
                      inverse: true)
    }

    private func transform(values: [Double], features names: [String], batches labels: [String],
                           covariates: [CovariateColumn], rowName: (Int) -> String, inverse: Bool) throws -> [Double] {
        let n = labels.count, f = names.count
        guard values.count == n * f else {
            throw HarmonisationError("\(n) lesions of \(f) features need \(n * f) values, got \(values.count)")
        }
        let position = Dictionary(features.enumerated().map { ($1, $0) }, uniquingKeysWith: { a, _ in a })
        let missing = names.filter { position[$0] == nil }, absent = Set(features).subtracting(names).sorted()
        guard missing.isEmpty && absent.isEmpty else {
            var parts: [String] = []
            if !missing.isEmpty { parts.append("\(missing.count) feature\(missing.count == 1 ? "" : "s") not in the model (\(Self.list(missing)))") }
            if !absent.isEmpty { parts.append("\(absent.count) feature\(absent.count == 1 ? "" : "s") of the model missing (\(Self.list(absent)))") }
            throw HarmonisationError("the features differ from the batch model's: " + parts.joined(separator: "; ")
                                     + "; extract the new lesions with the settings of the harmonised cohort")
        }
        let batchIndex = Dictionary(uniqueKeysWithValues: batches.enumerated().map { ($1, $0) })
        var unknown: [String: [Int]] = [:]
        for (r, l) in labels.enumerated() where batchIndex[l] == nil { unknown[l, default: []].append(r) }
        guard unknown.isEmpty else {
            throw HarmonisationError(unknown.keys.sorted().map { l in
                "batch '\(l)' (\(unknown[l]!.prefix(3).map(rowName).joined(separator: ", "))\(unknown[l]!.count > 3 ? ", ..." : "")) is not one of the model's batches (\(batches.map { "'\($0)'" }.joined(separator: ", "))): ComBat estimates a batch's effect from its own lesions; harmonise a cohort holding it instead"
            }.joined(separator: "; "))
        }
        // The covariates' design rows.
        guard covariates.map(\.name) == self.covariates.map(\.name) else {
            throw HarmonisationError("the model keeps the covariates \(self.covariates.map(\.name)) but \(covariates.map(\.name)) were given")
        }
        let terms = self.terms.count
        var design = [Double](repeating: 0, count: n * terms)
        var t0 = 0
        for (spec, cov) in zip(self.covariates, covariates) {
            switch cov.values {
            case .continuous(let v):
                guard spec.levels == nil else { throw HarmonisationError("covariate '\(spec.name)' is categorical in the model but continuous here") }
                for r in 0..<n { design[r * terms + t0] = v[r] }
                t0 += 1
            case .categorical(let v):
                guard let levels = spec.levels else { throw HarmonisationError("covariate '\(spec.name)' is continuous in the model but categorical here") }
                for r in 0..<n {
                    guard let li = levels.firstIndex(of: v[r]) else {
                        throw HarmonisationError("\(rowName(r)): covariate '\(spec.name)' is '\(v[r])', a level the model never saw (\(levels.map { "'\($0)'" }.joined(separator: ", ")))")
                    }
                    if li > 0 { design[r * terms + t0 + li - 1] = 1 }
                }
                t0 += levels.count - 1
            }
        }
        let columns = names.map { position[$0]! }
        var out = values
        for r in 0..<n {
            let i = batchIndex[labels[r]]!
            for (c, j) in columns.enumerated() where status[j] == .harmonised {
                var effect = 0.0
                for t in 0..<terms where design[r * terms + t] != 0 { effect += design[r * terms + t] * coefficients[t][j] }
                let base = grandMean[j] + effect, sd = pooledVariance[j].squareRoot(), d = deltaStar[i][j].squareRoot()
                let z = (values[r * f + c] - base) / sd
                out[r * f + c] = (inverse ? z * d + gammaStar[i][j] : (z - gammaStar[i][j]) / d) * sd + base
            }
        }
        return out
    }

    static func list(_ names: [String]) -> String {
        names.prefix(5).joined(separator: ", ") + (names.count > 5 ? ", ... (\(names.count - 5) more)" : "")
    }
}
