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

/// Rules that map lesion scores to radiotherapy categories, read from JSON.
///
/// A lesion whose score percentile in the reference cohort is at most `ablativeMaxPercentile`
/// is an SBRT candidate; at least `spareMinPercentile`, it is spared; in between, low-dose RT.
/// Constraints then move lesions: already irradiated or excluded locations -> no RT; SBRT
/// candidates outside the size window -> low-dose RT; SBRT candidates beyond the per-patient
/// cap (coldest kept) -> low-dose RT.
public struct PlanningPolicy: Codable, Sendable, Hashable {
    public var name: String
    public var ablativeMaxPercentile: Double
    public var spareMinPercentile: Double
    public var maxSBRTTargets: Int
    /// SBRT size window, in mL (nil = no bound).
    public var minSBRTVolumeML: Double?
    public var maxSBRTVolumeML: Double?
    /// Locations never recommended for RT by this policy.
    public var excludedLocations: [String]
    /// Whether already irradiated lesions are excluded from new RT.
    public var excludeIrradiated: Bool

    enum CodingKeys: String, CodingKey {
        case name
        case ablativeMaxPercentile = "ablative_max_percentile"
        case spareMinPercentile = "spare_min_percentile"
        case maxSBRTTargets = "max_sbrt_targets"
        case minSBRTVolumeML = "min_sbrt_volume_ml"
        case maxSBRTVolumeML = "max_sbrt_volume_ml"
        case excludedLocations = "excluded_locations"
        case excludeIrradiated = "exclude_irradiated"
    }

    public init(name: String, ablativeMaxPercentile: Double, spareMinPercentile: Double, maxSBRTTargets: Int,
                minSBRTVolumeML: Double?, maxSBRTVolumeML: Double?, excludedLocations: [String], excludeIrradiated: Bool) {
        self.name = name
        self.ablativeMaxPercentile = ablativeMaxPercentile
        self.spareMinPercentile = spareMinPercentile
        self.maxSBRTTargets = maxSBRTTargets
        self.minSBRTVolumeML = minSBRTVolumeML
        self.maxSBRTVolumeML = maxSBRTVolumeML
        self.excludedLocations = excludedLocations
        self.excludeIrradiated = excludeIrradiated
    }

    /// The shipped default: quartiles of the reference cohort, at most 3 SBRT targets of 0.1–150 mL.
    public static let standard = PlanningPolicy(
        name: "lesionmap-default-quartiles", ablativeMaxPercentile: 25, spareMinPercentile: 75, maxSBRTTargets: 3,
        minSBRTVolumeML: 0.1, maxSBRTVolumeML: 150, excludedLocations: [], excludeIrradiated: true)

    /// Every problem with the policy, for one clear refusal.
    public func validate() -> [String] {
        var p: [String] = []
        if !(0...100).contains(ablativeMaxPercentile) { p.append("ablative_max_percentile must be within 0...100") }
        if !(0...100).contains(spareMinPercentile) { p.append("spare_min_percentile must be within 0...100") }
        if ablativeMaxPercentile > spareMinPercentile { p.append("ablative_max_percentile must not exceed spare_min_percentile") }
        if maxSBRTTargets < 0 { p.append("max_sbrt_targets must not be negative") }
        if let lo = minSBRTVolumeML, let hi = maxSBRTVolumeML, lo > hi { p.append("min_sbrt_volume_ml exceeds max_sbrt_volume_ml") }
        return p
    }

    public static func load(_ url: URL) throws -> PlanningPolicy {
        let policy: PlanningPolicy
        do { policy = try JSONDecoder().decode(PlanningPolicy.self, from: Data(contentsOf: url)) } catch {
            throw PolicyError(source: url.path, problems: ["not a valid policy JSON: \(error)"])
        }
        let problems = policy.validate()
        guard problems.isEmpty else { throw PolicyError(source: url.path, problems: problems) }
        return policy
    }
}

public struct PolicyError: Error, CustomStringConvertible, Sendable {
    public var source: String
    public var problems: [String]
    public var description: String { "policy \(source) is invalid:\n" + problems.map { "  - \($0)" }.joined(separator: "\n") }
}
