import Foundation

/// Training data for a lesion signature: one row per lesion with a measured target
/// (e.g. CD8B expression of the biopsied lesion, or a synthetic cohort's hidden infiltration).
public struct SignatureTrainingData: Sendable {
    /// Candidate radiomic features by stable name (`tumour.…`, `ring.…`), one array per feature.
    public var featureNames: [String]
    public var featureColumns: [[Double]]
    public var locations: [String]
    public var kvps: [Double]
    public var target: [Double]
    /// Patient of each lesion: cross-validation keeps a patient's lesions in one fold.
    public var groups: [String]

    public init(featureNames: [String], featureColumns: [[Double]], locations: [String], kvps: [Double],
                target: [Double], groups: [String]) {
        self.featureNames = featureNames; self.featureColumns = featureColumns; self.locations = locations
        self.kvps = kvps; self.target = target; self.groups = groups
    }
}

/// How to train, mirroring the published CD8 design (elastic net over lesion and ring features,
/// location indicators and kVp; Sun et al., Lancet Oncol 2018).
public struct SignatureTrainingOptions: Codable, Sendable, Hashable {
    public var name: String
    public var version: String
    public var estimates: String
    public var alpha: Double
    public var folds: Int
    public var seed: UInt64
    /// Keep at most this many radiomic features (the published signature has five); nil = λ-1se.
    public var maxFeatures: Int?
    /// Locations given an unpenalised indicator each (the published signature has two).
    public var locationIndicators: [String]
    /// Include the scan's kVp as an unpenalised continuous covariate.
    public var useKVP: Bool
    public var validationStatus: String
    public var provenance: String

    public init(name: String, version: String, estimates: String, alpha: Double = 0.5, folds: Int = 5, seed: UInt64 = 1,
                maxFeatures: Int? = 5, locationIndicators: [String] = ["lung", "liver"], useKVP: Bool = true,
                validationStatus: String, provenance: String) {
        self.name = name; self.version = version; self.estimates = estimates; self.alpha = alpha; self.folds = folds
        self.seed = seed; self.maxFeatures = maxFeatures; self.locationIndicators = locationIndicators
        self.useKVP = useKVP; self.validationStatus = validationStatus; self.provenance = provenance
    }
}

/// The trained signature and the cross-validation behind it.
public struct TrainedSignature: Sendable {
    public var signature: Signature
    public var crossValidation: CrossValidatedElasticNet
    public var chosenIndex: Int
    /// Lesions used (rows with a finite target and finite features).
    public var lesionCount: Int
    /// What the caller should know about the candidates (e.g. features left out for a modality some lesions lack).
    public var warnings: [String] = []
}

public enum SignatureTrainer {
    public static func train(_ data: SignatureTrainingData, options: SignatureTrainingOptions,
                             preprocessing: JSONValue) throws -> TrainedSignature {
        // Candidates: finite for every lesion, and one texture variant per feature (the merged-matrix
        // `_comb` variant when the averaged `_avg` one is also present: they are near-duplicates).
        let names = Set(data.featureNames)
        let usableFeatures = data.featureColumns.indices.filter { j in
            let n = data.featureNames[j]
            if n.hasSuffix("_avg"), names.contains(String(n.dropLast(4)) + "_comb") { return false }
            return data.featureColumns[j].allSatisfy(\.isFinite)
        }
        let rows = data.target.indices.filter { i in
            data.target[i].isFinite && (!options.useKVP || data.kvps[i].isFinite)
        }
        var problems: [String] = []
        if rows.count < 10 { problems.append("only \(rows.count) lesions have a finite target; at least 10 are needed") }
        if usableFeatures.isEmpty { problems.append("no candidate feature is finite for every lesion") }
        if Set(rows.map { data.groups[$0] }).count < options.folds {
            problems.append("fewer patients than cross-validation folds (\(options.folds))")
        }
        guard problems.isEmpty else { throw SignatureError(source: "training data", problems: problems) }

        var columns: [[Double]] = usableFeatures.map { j in rows.map { data.featureColumns[j][$0] } }
        var penalty = [Double](repeating: 1, count: columns.count)
        for loc in options.locationIndicators {
            columns.append(rows.map { data.locations[$0] == loc ? 1 : 0 })
            penalty.append(0)
        }
        if options.useKVP {
            columns.append(rows.map { data.kvps[$0] })
            penalty.append(0)
        }
        let y = rows.map { data.target[$0] }
        let std = ElasticNet.Standardisation(columns: columns)
        let z = std.apply(columns)
        let net = ElasticNet(alpha: options.alpha)
        let cv = CrossValidatedElasticNet(net: net, columns: z, y: y, penalty: penalty,
                                          groups: rows.map { data.groups[$0] }, folds: options.folds, seed: options.seed)
        let radiomic = usableFeatures.count
        let chosen: Int
        if let k = options.maxFeatures {
            let allowed = cv.fits.indices.filter { idx in
                cv.fits[idx].beta[0..<radiomic].filter { $0 != 0 }.count <= k
            }
            chosen = allowed.min { cv.meanError[$0] < cv.meanError[$1] } ?? 0
        } else {
            chosen = cv.lambda1SEIndex
        }
        // Relaxed elastic net: the selected variables refitted without penalty, so that the kept
        // coefficients are not shrunk (selection by the penalised path, estimation by least squares).
        let selected = (0..<radiomic).filter { cv.fits[chosen].beta[$0] != 0 } + Array(radiomic..<columns.count)
        let refit = net.path(columns: selected.map { z[$0] }, y: y, penalty: [Double](repeating: 0, count: selected.count),
                             lambdas: [0]).last!
        var fullBeta = [Double](repeating: 0, count: columns.count)
        for (k, j) in selected.enumerated() { fullBeta[j] = refit.beta[k] }
        let fit = ElasticNet.Fit(lambda: cv.fits[chosen].lambda, intercept: refit.intercept, beta: fullBeta)

        var intercept = fit.intercept
        var terms: [Signature.Term] = []
        for j in 0..<radiomic where fit.beta[j] != 0 && std.sds[j] > 0 {
            terms.append(.init(feature: data.featureNames[usableFeatures[j]], coefficient: fit.beta[j],
                               mean: std.means[j], sd: std.sds[j]))
        }
        var covariates: [Signature.Covariate] = []
        var levels: [String: Double] = [:]
        for (n, loc) in options.locationIndicators.enumerated() {
            let j = radiomic + n
            guard std.sds[j] > 0 else { continue }
            // β (I − m)/s = β/s · I − β m/s: a level coefficient plus a shift of the intercept.
            levels[loc] = fit.beta[j] / std.sds[j]
            intercept -= fit.beta[j] * std.means[j] / std.sds[j]
        }
        if !levels.isEmpty { covariates.append(.init(name: "location", levels: levels)) }
        if options.useKVP {
            let j = columns.count - 1
            if std.sds[j] > 0 {
                covariates.append(.init(name: "kvp", coefficient: fit.beta[j], mean: std.means[j], sd: std.sds[j]))
            }
        }
        // Training-cohort quartiles of the fitted score, as cut-offs.
        var scores: [Double] = []
        for i in y.indices {
            var s = fit.intercept
            for j in z.indices { s += fit.beta[j] * z[j][i] }
            scores.append(s)
        }
        let sorted = scores.sorted()
        func q(_ p: Double) -> Double {
            let h = Double(sorted.count - 1) * p
            let lo = Int(h), hi = min(lo + 1, sorted.count - 1)
            return sorted[lo] + (h - Double(lo)) * (sorted[hi] - sorted[lo])
        }
        let cutoffs = [
            Signature.Cutoff(name: "q25", value: q(0.25), source: "training-cohort 25th percentile of the score (\(y.count) lesions)"),
            Signature.Cutoff(name: "median", value: q(0.5), source: "training-cohort median of the score"),
            Signature.Cutoff(name: "q75", value: q(0.75), source: "training-cohort 75th percentile of the score"),
        ]
        let provenance = options.provenance + String(
            format: " Elastic net alpha %.2f, %d-fold CV grouped by patient (seed %llu), lambda %.6g (index %d of %d; lambda-min %.6g, lambda-1se %.6g), CV MSE %.6g, %d lesions, %d candidate features (one texture variant each); the selected variables refitted without penalty (relaxed elastic net).",
            options.alpha, options.folds, options.seed, fit.lambda, chosen, cv.lambdas.count, cv.lambdas[cv.lambdaMinIndex],
            cv.lambdas[cv.lambda1SEIndex], cv.meanError[chosen], y.count, radiomic)
        let signature = Signature(
            name: options.name, version: options.version, estimates: options.estimates,
            direction: "higher = more infiltrated", validationStatus: options.validationStatus, intercept: intercept,
            terms: terms, covariates: covariates, cutoffs: cutoffs, preprocessing: preprocessing, provenance: provenance)
        return TrainedSignature(signature: signature, crossValidation: cv, chosenIndex: chosen, lesionCount: y.count)
    }
}

/// The shipped reference CD8-style signature (a resource of this module).
public enum ReferenceSignature {
    public static let name = "cd8-reference-synthetic"
    public static let fileName = "cd8-reference-synthetic.json"

    /// Loads the shipped file: (signature, file hash).
    public static func load() throws -> (Signature, String) {
        guard let url = Bundle.module.url(forResource: "cd8-reference-synthetic", withExtension: "json") else {
            throw SignatureError(source: fileName, problems: ["the shipped reference signature is missing from the installation"])
        }
        return try Signature.load(url)
    }
}
