import Foundation

/// Radiotherapy intent suggested for a lesion (Sun et al., J Immunother Cancer 2022, figure 2).
public enum TargetCategory: String, Codable, Sendable, CaseIterable {
    /// Predicted immune-refractory (least infiltrated): candidate for focal destruction with ablative SBRT.
    case ablativeSBRT = "ablative_sbrt"
    /// Intermediate infiltration: candidate for immunogenic low-dose RT that may help a systemic response.
    case lowDoseRT = "low_dose_rt"
    /// Likely to respond to immunotherapy alone, or not eligible: spare radiation and observe.
    case noRT = "no_rt"

    public var label: String {
        switch self {
        case .ablativeSBRT: return "Ablative SBRT candidate"
        case .lowDoseRT: return "Low-dose RT candidate"
        case .noRT: return "No RT / observe"
        }
    }
}

/// A boundary between categories: a percentile of the reference cohort's lesion scores, or a named
/// cut-off of the signature file (a score value).
public enum PlanningThreshold: Hashable, Sendable {
    case percentile(Double)
    case cutoff(String)
}

/// How lesions are ordered within a category (rank 1 first). Lesions without the value come last;
/// ties keep manifest order.
public enum RankOrder: String, Codable, Sendable, CaseIterable {
    case scoreAscending = "score_ascending"
    case scoreDescending = "score_descending"
    case volumeAscending = "volume_ascending"
    case volumeDescending = "volume_descending"
    case attentionDescending = "attention_descending"
}

/// Ranking within each category. The SBRT order also decides which candidates the target cap keeps.
public struct PlanningRanking: Codable, Sendable, Hashable {
    public var ablativeSBRT: RankOrder
    public var lowDoseRT: RankOrder
    public var noRT: RankOrder

    /// Coldest SBRT candidate first; for low-dose RT and no RT the highest score first.
    public static let standard = PlanningRanking(ablativeSBRT: .scoreAscending, lowDoseRT: .scoreDescending,
                                                 noRT: .scoreDescending)

    public init(ablativeSBRT: RankOrder, lowDoseRT: RankOrder, noRT: RankOrder) {
        self.ablativeSBRT = ablativeSBRT; self.lowDoseRT = lowDoseRT; self.noRT = noRT
    }

    public func order(for c: TargetCategory) -> RankOrder {
        switch c {
        case .ablativeSBRT: return ablativeSBRT
        case .lowDoseRT: return lowDoseRT
        case .noRT: return noRT
        }
    }

    enum CodingKeys: String, CodingKey {
        case ablativeSBRT = "ablative_sbrt", lowDoseRT = "low_dose_rt", noRT = "no_rt"
    }

    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        let d = PlanningRanking.standard
        ablativeSBRT = try c.decodeIfPresent(RankOrder.self, forKey: .ablativeSBRT) ?? d.ablativeSBRT
        lowDoseRT = try c.decodeIfPresent(RankOrder.self, forKey: .lowDoseRT) ?? d.lowDoseRT
        noRT = try c.decodeIfPresent(RankOrder.self, forKey: .noRT) ?? d.noRT
    }
}

/// Use of multiple-instance-learning attention weights (0–1 per lesion, summing to 1 per patient).
public struct AttentionRule: Codable, Sendable, Hashable {
    /// An SBRT candidate whose attention weight is below this becomes a low-dose RT candidate:
    /// the patient-level model did not single it out. Nil: attention does not move lesions.
    public var minSBRTWeight: Double?

    public init(minSBRTWeight: Double?) { self.minSBRTWeight = minSBRTWeight }

    enum CodingKeys: String, CodingKey { case minSBRTWeight = "min_sbrt_weight" }
}

/// Rules that map lesion scores to radiotherapy categories (JSON, documented in the README).
///
/// A lesion at or below the ablative boundary (a cohort percentile or a signature cut-off) is
/// immune-cold and an SBRT candidate; at or above the spare boundary it is a likely responder and
/// spared; in between it is a low-dose RT candidate. Constraints then move lesions: no score,
/// already irradiated (when excluded) or an excluded location -> no RT; SBRT candidates outside the
/// size window or below the attention minimum -> low-dose RT; SBRT candidates beyond the
/// per-patient cap (kept in SBRT rank order) -> low-dose RT.
public struct PlanningPolicy: Codable, Sendable, Hashable {
    public var name: String
    public var description: String?
    /// Ablative boundary: give exactly one of a percentile (0–100) and a signature cut-off name.
    public var ablativeMaxPercentile: Double?
    public var ablativeMaxCutoff: String?
    /// Spare boundary: give exactly one of a percentile (0–100) and a signature cut-off name.
    public var spareMinPercentile: Double?
    public var spareMinCutoff: String?
    public var maxSBRTTargets: Int
    /// SBRT size window, in mL (nil = no bound).
    public var minSBRTVolumeML: Double?
    public var maxSBRTVolumeML: Double?
    /// Locations never recommended for RT by this policy.
    public var excludedLocations: [String]
    /// Whether already irradiated lesions are excluded from new RT.
    public var excludeIrradiated: Bool
    public var attention: AttentionRule?
    public var ranking: PlanningRanking

    /// Locations a policy may exclude (the manifest's location vocabulary).
    public static let knownLocations = ["lung", "liver", "lymph_node", "head_neck", "bone", "adrenal", "brain",
                                        "soft_tissue", "other"]

    enum CodingKeys: String, CodingKey, CaseIterable {
        case name, description
        case ablativeMaxPercentile = "ablative_max_percentile"
        case ablativeMaxCutoff = "ablative_max_cutoff"
        case spareMinPercentile = "spare_min_percentile"
        case spareMinCutoff = "spare_min_cutoff"
        case maxSBRTTargets = "max_sbrt_targets"
        case minSBRTVolumeML = "min_sbrt_volume_ml"
        case maxSBRTVolumeML = "max_sbrt_volume_ml"
        case excludedLocations = "excluded_locations"
        case excludeIrradiated = "exclude_irradiated"
        case attention, ranking
    }

    public init(name: String, description: String? = nil, ablativeMaxPercentile: Double? = nil,
                ablativeMaxCutoff: String? = nil, spareMinPercentile: Double? = nil, spareMinCutoff: String? = nil,
                maxSBRTTargets: Int, minSBRTVolumeML: Double? = nil, maxSBRTVolumeML: Double? = nil,
                excludedLocations: [String] = [], excludeIrradiated: Bool = true, attention: AttentionRule? = nil,
                ranking: PlanningRanking = .standard) {
        self.name = name
        self.description = description
        self.ablativeMaxPercentile = ablativeMaxPercentile
        self.ablativeMaxCutoff = ablativeMaxCutoff
        self.spareMinPercentile = spareMinPercentile
        self.spareMinCutoff = spareMinCutoff
        self.maxSBRTTargets = maxSBRTTargets
        self.minSBRTVolumeML = minSBRTVolumeML
        self.maxSBRTVolumeML = maxSBRTVolumeML
        self.excludedLocations = excludedLocations
        self.excludeIrradiated = excludeIrradiated
        self.attention = attention
        self.ranking = ranking
    }

    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        name = try c.decode(String.self, forKey: .name)
        description = try c.decodeIfPresent(String.self, forKey: .description)
        ablativeMaxPercentile = try c.decodeIfPresent(Double.self, forKey: .ablativeMaxPercentile)
        ablativeMaxCutoff = try c.decodeIfPresent(String.self, forKey: .ablativeMaxCutoff)
        spareMinPercentile = try c.decodeIfPresent(Double.self, forKey: .spareMinPercentile)
        spareMinCutoff = try c.decodeIfPresent(String.self, forKey: .spareMinCutoff)
        maxSBRTTargets = try c.decode(Int.self, forKey: .maxSBRTTargets)
        minSBRTVolumeML = try c.decodeIfPresent(Double.self, forKey: .minSBRTVolumeML)
        maxSBRTVolumeML = try c.decodeIfPresent(Double.self, forKey: .maxSBRTVolumeML)
        excludedLocations = try c.decodeIfPresent([String].self, forKey: .excludedLocations) ?? []
        excludeIrradiated = try c.decodeIfPresent(Bool.self, forKey: .excludeIrradiated) ?? true
        attention = try c.decodeIfPresent(AttentionRule.self, forKey: .attention)
        ranking = try c.decodeIfPresent(PlanningRanking.self, forKey: .ranking) ?? .standard
    }

    /// The shipped default (`Resources/default-policy.json`): quartiles of the reference cohort,
    /// at most 3 SBRT targets of 0.1–150 mL, already irradiated lesions excluded.
    public static let standard = PlanningPolicy(
        name: "lesionmap-default-quartiles",
        description: "Quartiles of the reference cohort's lesion scores: the coldest quarter are ablative SBRT candidates (at most 3 per patient, 0.1-150 mL), the warmest quarter are spared, the rest are low-dose RT candidates.",
        ablativeMaxPercentile: 25, spareMinPercentile: 75, maxSBRTTargets: 3, minSBRTVolumeML: 0.1,
        maxSBRTVolumeML: 150, excludedLocations: [], excludeIrradiated: true)

    /// The location of the shipped default policy file.
    public static var shippedDefaultURL: URL? {
        Bundle.module.url(forResource: "default-policy", withExtension: "json")
    }

    /// The ablative boundary, when exactly one form is given.
    public var ablativeThreshold: PlanningThreshold? {
        switch (ablativeMaxPercentile, ablativeMaxCutoff) {
        case (let p?, nil): return .percentile(p)
        case (nil, let c?): return .cutoff(c)
        default: return nil
        }
    }

    /// The spare boundary, when exactly one form is given.
    public var spareThreshold: PlanningThreshold? {
        switch (spareMinPercentile, spareMinCutoff) {
        case (let p?, nil): return .percentile(p)
        case (nil, let c?): return .cutoff(c)
        default: return nil
        }
    }

    /// Signature cut-offs the policy refers to by name.
    public var cutoffNames: [String] { [ablativeMaxCutoff, spareMinCutoff].compactMap { $0 } }

    /// Whether the policy uses MIL attention weights (and so needs them for every lesion).
    public var usesAttention: Bool {
        attention?.minSBRTWeight != nil || [ranking.ablativeSBRT, ranking.lowDoseRT, ranking.noRT].contains(.attentionDescending)
    }

    /// Every problem with the policy's values, for one clear refusal.
    public func validate() -> [String] {
        var p: [String] = []
        if name.trimmingCharacters(in: .whitespaces).isEmpty { p.append("name must not be empty") }
        for (what, pct, cut) in [("ablative_max", ablativeMaxPercentile, ablativeMaxCutoff),
                                 ("spare_min", spareMinPercentile, spareMinCutoff)] {
            switch (pct, cut) {
            case (nil, nil): p.append("give \(what)_percentile or \(what)_cutoff")
            case (.some, .some): p.append("give either \(what)_percentile or \(what)_cutoff, not both")
            case (let v?, nil) where !(v.isFinite && (0...100).contains(v)):
                p.append("\(what)_percentile must be within 0...100 (got \(v))")
            case (nil, let c?) where c.trimmingCharacters(in: .whitespaces).isEmpty:
                p.append("\(what)_cutoff must name a cut-off of the signature file")
            default: break
            }
        }
        if let a = ablativeMaxPercentile, let s = spareMinPercentile, a > s {
            p.append("ablative_max_percentile (\(a)) must not exceed spare_min_percentile (\(s))")
        }
        if maxSBRTTargets < 0 { p.append("max_sbrt_targets must not be negative (got \(maxSBRTTargets))") }
        for (key, v) in [("min_sbrt_volume_ml", minSBRTVolumeML), ("max_sbrt_volume_ml", maxSBRTVolumeML)] {
            if let v, !(v.isFinite && v >= 0) { p.append("\(key) must be a non-negative number (got \(v))") }
        }
        if let lo = minSBRTVolumeML, let hi = maxSBRTVolumeML, lo > hi {
            p.append("min_sbrt_volume_ml (\(lo)) exceeds max_sbrt_volume_ml (\(hi))")
        }
        for l in excludedLocations where !Self.knownLocations.contains(l) {
            p.append("excluded_locations: unknown location '\(l)' (known: \(Self.knownLocations.joined(separator: ", ")))")
        }
        if let w = attention?.minSBRTWeight, !(w.isFinite && (0...1).contains(w)) {
            p.append("attention.min_sbrt_weight must be within 0...1 (got \(w))")
        }
        return p
    }

    /// Reads and validates a policy file, refusing unknown keys, wrong types and invalid values
    /// with one message that lists every problem.
    public static func load(_ url: URL) throws -> PlanningPolicy {
        let data: Data
        do { data = try Data(contentsOf: url) } catch {
            throw PolicyError(source: url.path, problems: ["cannot read the file: \(error.localizedDescription)"])
        }
        return try parse(data, source: url.path)
    }

    /// Parses and validates policy JSON; `source` names it in errors.
    public static func parse(_ data: Data, source: String) throws -> PlanningPolicy {
        let value: PolicyShape.Value
        do { value = try JSONDecoder().decode(PolicyShape.Value.self, from: data) } catch {
            throw PolicyError(source: source, problems: ["not valid JSON: \(PolicyShape.describe(error))"])
        }
        guard case .object(let dict) = value else {
            throw PolicyError(source: source, problems: ["the policy must be a JSON object"])
        }
        let problems = PolicyShape.problems(dict)
        guard problems.isEmpty else { throw PolicyError(source: source, problems: problems) }
        let policy: PlanningPolicy
        do { policy = try JSONDecoder().decode(PlanningPolicy.self, from: data) } catch {
            throw PolicyError(source: source, problems: ["cannot decode: \(PolicyShape.describe(error))"])
        }
        let invalid = policy.validate()
        guard invalid.isEmpty else { throw PolicyError(source: source, problems: invalid) }
        return policy
    }

    /// The policy as sorted-key JSON (as stored with plans and shown in reports).
    public func json(pretty: Bool = false) -> String {
        let enc = JSONEncoder()
        enc.outputFormatting = pretty ? [.sortedKeys, .prettyPrinted, .withoutEscapingSlashes] : [.sortedKeys, .withoutEscapingSlashes]
        return String(decoding: (try? enc.encode(self)) ?? Data(), as: UTF8.self)
    }
}

/// Key and type checks of a policy object before decoding, so that typos are refused by name.
enum PolicyShape {
    /// A JSON value with booleans kept apart from numbers.
    enum Value: Decodable {
        case bool(Bool), number(Double), text(String), list([Value]), object([String: Value]), null

        init(from decoder: Decoder) throws {
            let c = try decoder.singleValueContainer()
            if c.decodeNil() { self = .null }
            else if let v = try? c.decode(Bool.self) { self = .bool(v) }
            else if let v = try? c.decode(Double.self) { self = .number(v) }
            else if let v = try? c.decode(String.self) { self = .text(v) }
            else if let v = try? c.decode([Value].self) { self = .list(v) }
            else { self = .object(try c.decode([String: Value].self)) }
        }
    }

    enum Kind { case string, number, integer, bool, stringArray, object }

    static let keys: [String: Kind] = [
        "name": .string, "description": .string,
        "ablative_max_percentile": .number, "ablative_max_cutoff": .string,
        "spare_min_percentile": .number, "spare_min_cutoff": .string,
        "max_sbrt_targets": .integer, "min_sbrt_volume_ml": .number, "max_sbrt_volume_ml": .number,
        "excluded_locations": .stringArray, "exclude_irradiated": .bool, "attention": .object, "ranking": .object,
    ]

    static func problems(_ dict: [String: Value]) -> [String] {
        var p: [String] = []
        for key in dict.keys.sorted() where keys[key] == nil {
            p.append("unknown key '\(key)' (known: \(keys.keys.sorted().joined(separator: ", ")))")
        }
        for key in ["name", "max_sbrt_targets"] where dict[key] == nil { p.append("missing required key '\(key)'") }
        for (key, kind) in keys.sorted(by: { $0.key < $1.key }) {
            guard let v = dict[key] else { continue }
            if let problem = check(v, kind) { p.append("\(key) \(problem)") }
        }
        if case .object(let a)? = dict["attention"] {
            for k in a.keys.sorted() where k != "min_sbrt_weight" {
                p.append("attention: unknown key '\(k)' (known: min_sbrt_weight)")
            }
            if let v = a["min_sbrt_weight"], let problem = check(v, .number) {
                p.append("attention.min_sbrt_weight \(problem)")
            }
        }
        if case .object(let r)? = dict["ranking"] {
            let categories = TargetCategory.allCases.map(\.rawValue)
            let orders = RankOrder.allCases.map(\.rawValue)
            for (k, v) in r.sorted(by: { $0.key < $1.key }) {
                if !categories.contains(k) {
                    p.append("ranking: unknown category '\(k)' (known: \(categories.joined(separator: ", ")))")
                } else if case .text(let s) = v, orders.contains(s) {
                    continue
                } else {
                    p.append("ranking.\(k) must be one of \(orders.joined(separator: ", "))")
                }
            }
        }
        return p
    }

    private static func check(_ v: Value, _ kind: Kind) -> String? {
        switch (kind, v) {
        case (_, .null): return nil
        case (.string, .text), (.number, .number), (.bool, .bool), (.object, .object): return nil
        case (.integer, .number(let n)) where n == n.rounded(): return nil
        case (.stringArray, .list(let items)) where items.allSatisfy({ if case .text = $0 { return true } else { return false } }):
            return nil
        case (.string, _): return "must be text"
        case (.number, _): return "must be a number"
        case (.integer, _): return "must be a whole number"
        case (.bool, _): return "must be true or false"
        case (.stringArray, _): return "must be a list of text values"
        case (.object, _): return "must be an object"
        }
    }

    /// A decoding error in one line.
    static func describe(_ error: Error) -> String {
        switch error {
        case DecodingError.dataCorrupted(let c), DecodingError.typeMismatch(_, let c), DecodingError.valueNotFound(_, let c),
             DecodingError.keyNotFound(_, let c):
            let path = c.codingPath.map(\.stringValue).joined(separator: ".")
            return (path.isEmpty ? "" : path + ": ") + c.debugDescription
        default:
            return "\(error)"
        }
    }
}

public struct PolicyError: Error, CustomStringConvertible, Sendable {
    public var source: String
    public var problems: [String]
    public init(source: String, problems: [String]) { self.source = source; self.problems = problems }
    public var description: String { "policy \(source) is invalid:\n" + problems.map { "  - \($0)" }.joined(separator: "\n") }
}
