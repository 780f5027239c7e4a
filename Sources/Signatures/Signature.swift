import Foundation

/// A linear lesion signature such as the CD8 radiomics score (Sun et al., Lancet Oncol 2018):
///
///     score = intercept + Σ_t β_t (x_t − μ_t) / σ_t + Σ_c contribution_c
///
/// over radiomic features `x_t` named by their stable store names (`tumour.glrlm.rlnu`,
/// `ring.glcm.joint_max`, ...), standardised with the training set's mean μ and SD σ, plus
/// categorical or continuous covariates (lesion location, the scan's kVp).
///
/// Files are JSON with schema `lesionmap-signature/1` (documented in README). A signature also
/// records the preprocessing its features must be extracted with, so scoring refuses features
/// extracted any other way.
public struct Signature: Codable, Sendable, Hashable {
    public static let schemaID = "lesionmap-signature/1"

    public var schema: String
    public var name: String
    public var version: String
    /// What the score estimates, e.g. "CD8 T-cell infiltration of the lesion".
    public var estimates: String
    /// How to read it, e.g. "higher = more infiltrated".
    public var direction: String
    /// Stated validation status, shown in every report that uses the signature.
    public var validationStatus: String
    public var intercept: Double
    public var terms: [Term]
    public var covariates: [Covariate]
    public var cutoffs: [Cutoff]
    /// Extraction settings the features must match (a subset of the store's `settings_json`).
    public var preprocessing: JSONValue
    /// Where the coefficients come from.
    public var provenance: String
    /// Set when the signature was trained on ComBat-harmonised features (`lesionmap harmonise`): only stores
    /// harmonised with the same batch model can be scored with it. Absent: trained on unharmonised features.
    public var harmonisation: Harmonisation?

    /// The ComBat harmonisation of the training store's features.
    public struct Harmonisation: Codable, Sendable, Hashable {
        /// `parametric` or `nonparametric`.
        public var method: String
        /// The lesion or patient column whose values were the batches, e.g. `kvp`.
        public var batchColumn: String
        /// Columns whose effects ComBat kept.
        public var covariates: [String]
        /// SHA-256 identifying the batch model (the store's `/harmonisation/features` attribute `model_id`).
        public var modelID: String
        public init(method: String, batchColumn: String, covariates: [String], modelID: String) {
            self.method = method; self.batchColumn = batchColumn; self.covariates = covariates; self.modelID = modelID
        }
        enum CodingKeys: String, CodingKey {
            case method, covariates
            case batchColumn = "batch_column"
            case modelID = "model_id"
        }
        /// For messages, e.g. "ComBat (parametric) over batch column 'kvp', model 0123456789ab".
        public var summary: String {
            "ComBat (\(method)) over batch column '\(batchColumn)'\(covariates.isEmpty ? "" : " keeping \(covariates.joined(separator: ", "))"), model \(modelID.prefix(12))"
        }
    }

    /// The robustness restriction the candidate features passed, when training had one
    /// (`train-signature --min-icc`); absent otherwise.
    public var featureFilter: FeatureFilter?

    /// Candidate features restricted to those robust under perturbation: ICC(1,1) at or above `minICC` in the
    /// ICC table of `lesionmap robustness`.
    public struct FeatureFilter: Codable, Sendable, Hashable {
        public var minICC: Double
        /// The ICC table's file name and the FNV-1a 64 hash of its bytes.
        public var iccTable: String
        public var iccTableHash: String
        /// Candidate features of the store before and after the restriction.
        public var candidatesBefore: Int
        public var candidatesKept: Int
        public init(minICC: Double, iccTable: String, iccTableHash: String, candidatesBefore: Int, candidatesKept: Int) {
            self.minICC = minICC; self.iccTable = iccTable; self.iccTableHash = iccTableHash
            self.candidatesBefore = candidatesBefore; self.candidatesKept = candidatesKept
        }
        enum CodingKeys: String, CodingKey {
            case minICC = "min_icc", iccTable = "icc_table", iccTableHash = "icc_table_hash"
            case candidatesBefore = "candidates_before", candidatesKept = "candidates_kept"
        }
    }

    public struct Term: Codable, Sendable, Hashable {
        /// Stable feature name `<modality>.<region>.<family>.<feature>`, or
        /// `<modality>.<region>.<filter>.<family>.<feature>` for a filtered image's feature
        /// (`ct.tumour.log_s1.5.intensity.mean`; the token may hold dots). Signatures written before stores
        /// kept modalities name features `<region>.…` (`tumour.glcm.…`), which means CT, or the modality
        /// whose settings are the signature's preprocessing.
        public var feature: String
        public var coefficient: Double
        public var mean: Double
        public var sd: Double
        public init(feature: String, coefficient: Double, mean: Double, sd: Double) {
            self.feature = feature; self.coefficient = coefficient; self.mean = mean; self.sd = sd
        }
    }

    /// A lesion- or scan-level covariate: `location` or `kvp`.
    public struct Covariate: Codable, Sendable, Hashable {
        /// `location` or `kvp`.
        public var name: String
        /// For categorical use: coefficient per level (levels not listed are the reference, 0).
        public var levels: [String: Double]?
        /// For continuous use: coefficient per SD, with the training mean and SD.
        public var coefficient: Double?
        public var mean: Double?
        public var sd: Double?
        public init(name: String, levels: [String: Double]? = nil, coefficient: Double? = nil,
                    mean: Double? = nil, sd: Double? = nil) {
            self.name = name; self.levels = levels; self.coefficient = coefficient; self.mean = mean; self.sd = sd
        }
    }

    /// A named threshold on the score and where it came from (e.g. "training-cohort 25th percentile").
    public struct Cutoff: Codable, Sendable, Hashable {
        public var name: String
        public var value: Double
        public var source: String
        public init(name: String, value: Double, source: String) { self.name = name; self.value = value; self.source = source }
    }

    public init(name: String, version: String, estimates: String, direction: String, validationStatus: String,
                intercept: Double, terms: [Term], covariates: [Covariate], cutoffs: [Cutoff],
                preprocessing: JSONValue, provenance: String, harmonisation: Harmonisation? = nil) {
        self.schema = Signature.schemaID
        self.name = name; self.version = version; self.estimates = estimates; self.direction = direction
        self.validationStatus = validationStatus; self.intercept = intercept; self.terms = terms
        self.covariates = covariates; self.cutoffs = cutoffs; self.preprocessing = preprocessing
        self.provenance = provenance
        self.harmonisation = harmonisation
    }

    enum CodingKeys: String, CodingKey {
        case schema, name, version, estimates, direction, intercept, terms, covariates, cutoffs, preprocessing, provenance
        case harmonisation
        case validationStatus = "validation_status"
        case featureFilter = "feature_filter"
    }

    /// Identifier used in stores: `<name>@<version>`.
    public var id: String { "\(name)@\(version)" }

    public func cutoff(named n: String) -> Cutoff? { cutoffs.first { $0.name == n } }
}

/// Known levels of the location covariate (mirrors the manifest's locations).
public let knownLocations: Set<String> = ["lung", "liver", "lymph_node", "head_neck", "bone", "adrenal",
                                          "brain", "soft_tissue", "other"]

/// Every problem found in a signature file or against a store, reported together.
public struct SignatureError: Error, Sendable, CustomStringConvertible {
    public var source: String
    public var problems: [String]
    public var description: String {
        "signature \(source) cannot be used (\(problems.count) problem\(problems.count == 1 ? "" : "s")):\n"
            + problems.map { "  - \($0)" }.joined(separator: "\n")
    }
}

extension Signature {
    /// Reads and validates a signature file; the returned hash identifies the exact file bytes.
    public static func load(_ url: URL) throws -> (signature: Signature, fileHash: String) {
        let data: Data
        do { data = try Data(contentsOf: url) } catch {
            throw SignatureError(source: url.path, problems: ["cannot read the file: \(error.localizedDescription)"])
        }
        let sig: Signature
        do { sig = try JSONDecoder().decode(Signature.self, from: data) } catch {
            throw SignatureError(source: url.path, problems: ["not a valid signature JSON: \(describe(error))"])
        }
        let problems = sig.validate()
        guard problems.isEmpty else { throw SignatureError(source: url.path, problems: problems) }
        return (sig, fnv1a64Hex(data))
    }

    /// Internal consistency: schema, finite numbers, positive SDs, known covariates and levels, unique features.
    public func validate() -> [String] {
        var p: [String] = []
        if schema != Signature.schemaID { p.append("schema is '\(schema)', expected '\(Signature.schemaID)'") }
        if name.isEmpty { p.append("name is empty") }
        if !intercept.isFinite { p.append("intercept is not finite") }
        var seen = Set<String>()
        for t in terms {
            if !seen.insert(t.feature).inserted { p.append("feature '\(t.feature)' appears twice") }
            let parts = t.feature.split(separator: ".", omittingEmptySubsequences: false)
            if parts.count < 3 || parts.contains(where: \.isEmpty) {
                p.append("feature '\(t.feature)' is not a stable name <modality>.<region>.[<filter>.]<family>.<feature>")
            }
            if !t.coefficient.isFinite || !t.mean.isFinite { p.append("feature '\(t.feature)': coefficient and mean must be finite") }
            if !(t.sd > 0) || !t.sd.isFinite { p.append("feature '\(t.feature)': sd must be positive, got \(t.sd)") }
        }
        for c in covariates {
            switch c.name {
            case "location":
                guard let levels = c.levels, !levels.isEmpty else {
                    p.append("covariate 'location' needs 'levels' with a coefficient per level"); continue
                }
                for l in levels.keys.sorted() where !knownLocations.contains(l) {
                    p.append("covariate 'location': unknown level '\(l)'; known: \(knownLocations.sorted().joined(separator: ", "))")
                }
            case "kvp":
                if let levels = c.levels {
                    if levels.isEmpty { p.append("covariate 'kvp' has an empty 'levels'") }
                    for l in levels.keys.sorted() where Double(l) == nil { p.append("covariate 'kvp': level '\(l)' is not a number") }
                } else if c.coefficient == nil || c.mean == nil || !(c.sd ?? 0 > 0) {
                    p.append("covariate 'kvp' needs either 'levels' or 'coefficient', 'mean' and a positive 'sd'")
                }
            default:
                p.append("unknown covariate '\(c.name)' (known: location, kvp)")
            }
        }
        for c in cutoffs where !c.value.isFinite { p.append("cut-off '\(c.name)' is not finite") }
        return p
    }
}

func describe(_ error: Error) -> String {
    switch error {
    case DecodingError.keyNotFound(let key, let ctx):
        return "missing key '\((ctx.codingPath + [key]).map(\.stringValue).joined(separator: "."))'"
    case DecodingError.typeMismatch(_, let ctx), DecodingError.valueNotFound(_, let ctx):
        return "wrong type at '\(ctx.codingPath.map(\.stringValue).joined(separator: "."))': \(ctx.debugDescription)"
    case DecodingError.dataCorrupted(let ctx):
        return ctx.debugDescription
    default:
        return "\(error)"
    }
}

/// 64-bit FNV-1a of bytes, as 16 hex digits: identifies a signature file in stores and reports.
public func fnv1a64Hex(_ data: Data) -> String {
    var h: UInt64 = 0xcbf29ce484222325
    for b in data {
        h ^= UInt64(b)
        h = h &* 0x100000001b3
    }
    let s = String(h, radix: 16)
    return String(repeating: "0", count: 16 - s.count) + s
}
