import Foundation

/// The facts about one lesion that a signature reads.
public struct LesionInputs: Sendable {
    public var features: [String: Double]
    public var location: String
    public var kvp: Double?
    public init(features: [String: Double], location: String, kvp: Double?) {
        self.features = features; self.location = location; self.kvp = kvp
    }
}

/// Applies a signature to many lesions after checking, once, that the inputs fit it.
public struct SignatureScorer: Sendable {
    public let signature: Signature
    /// Column of each term in the feature matrix.
    private let columns: [Int]

    /// Prepares scoring over a feature matrix with `featureNames` extracted with `settings`.
    /// `harmonisation` is the store's ComBat harmonisation (nil: unharmonised features); it must be the one
    /// the signature was trained with (the same batch model), or absent on both sides.
    /// `resolve` maps a term's feature name to the store's name for it (a store names features
    /// `<modality>.<region>.…`; a signature written before modalities were stored names them `<region>.…`,
    /// meaning CT or the modality scored). Throws one `SignatureError` listing every missing feature and
    /// every preprocessing difference.
    public init(signature: Signature, featureNames: [String], settings: JSONValue, source: String,
                harmonisation: Signature.Harmonisation? = nil, resolve: (String) -> String = { $0 }) throws {
        var problems: [String] = []
        var index: [String: Int] = [:]
        for (i, n) in featureNames.enumerated() where index[n] == nil { index[n] = i }
        var cols: [Int] = []
        for t in signature.terms {
            if let c = index[t.feature] ?? index[resolve(t.feature)] { cols.append(c) } else {
                problems.append("feature '\(t.feature)' is not in the store")
            }
        }
        problems += signature.preprocessing.differences(from: settings).map { "preprocessing differs: \($0)" }
        if let problem = SignatureScorer.harmonisationProblem(signature: signature, store: harmonisation) { problems.append(problem) }
        guard problems.isEmpty else { throw SignatureError(source: source, problems: problems) }
        self.signature = signature
        self.columns = cols
    }

    /// Why a store's features cannot be scored with a signature because of harmonisation, or nil.
    public static func harmonisationProblem(signature: Signature, store: Signature.Harmonisation?) -> String? {
        switch (signature.harmonisation, store) {
        case (nil, nil):
            return nil
        case (let trained?, nil):
            return "the signature was trained on harmonised features (\(trained.summary)) but the store's features are not harmonised: harmonise the store with the training store's batch model first (lesionmap harmonise STORE --apply-model TRAINING_HARMONISED.h5 --out NEW.h5)"
        case (nil, let store?):
            return "the store's features are harmonised (\(store.summary)) but the signature was trained on unharmonised features, whose means and scales differ: score the unharmonised store, or train a signature on the harmonised one"
        case (let trained?, let store?):
            return trained.modelID == store.modelID ? nil
                : "the store was harmonised with another batch model (\(store.summary)) than the signature's training store (\(trained.summary)): harmonise the unharmonised store with the training store's model (--apply-model)"
        }
    }

    /// Scores one lesion given its feature row (aligned with the store's feature names).
    /// NaN when a needed feature is NaN or a needed covariate is missing.
    public func score(row: [Double], location: String, kvp: Double?) -> Double {
        var s = signature.intercept
        for (t, c) in zip(signature.terms, columns) {
            s += t.coefficient * (row[c] - t.mean) / t.sd
        }
        for cov in signature.covariates {
            switch cov.name {
            case "location":
                s += cov.levels?[location] ?? 0
            case "kvp":
                guard let kvp else { return .nan }
                if let levels = cov.levels {
                    // Nearest listed level: scanners report e.g. 119.9 for 120 kV. The levels are a Dictionary, whose
                    // order changes per process: a kVp halfway between two levels takes the lower one, and of keys
                    // naming the same number ("120", "120.0") the first in sorted order, so scores are reproducible.
                    let numeric = levels.compactMap { key, value in Double(key).map { (kv: $0, key: key, value: value) } }
                        .sorted { ($0.kv, $0.key) < ($1.kv, $1.key) }
                    guard let nearest = numeric.min(by: { abs($0.kv - kvp) < abs($1.kv - kvp) }),
                          abs(nearest.kv - kvp) <= 5 else { return .nan }
                    s += nearest.value
                } else if let b = cov.coefficient, let m = cov.mean, let sd = cov.sd {
                    s += b * (kvp - m) / sd
                }
            default:
                break
            }
        }
        return s
    }
}
