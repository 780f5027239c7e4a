import Foundation

/// One patient's plan as a JSON document (`lesionmap-plan/1`): every lesion with the numbers behind
/// its category, the targets in rank order, and the policy that produced it.
public struct PatientPlanDocument: Codable, Sendable, Equatable {
    public static let schemaID = "lesionmap-plan/1"

    public struct Lesion: Codable, Sendable, Equatable {
        public var lesionID: String
        public var location: String
        /// Missing or non-finite numbers are nil and left out of the JSON.
        public var volumeML: Double?
        public var irradiated: Bool
        public var score: Double?
        public var percentile: Double?
        public var attention: Double?
        public var category: TargetCategory
        public var rank: Int
        public var rationale: String

        public init(lesionID: String, location: String, volumeML: Double?, irradiated: Bool, score: Double?,
                    percentile: Double?, attention: Double?, category: TargetCategory, rank: Int, rationale: String) {
            func finite(_ x: Double?) -> Double? { x.flatMap { $0.isFinite ? $0 : nil } }
            self.lesionID = lesionID; self.location = location; self.volumeML = finite(volumeML); self.irradiated = irradiated
            self.score = finite(score); self.percentile = finite(percentile); self.attention = finite(attention)
            self.category = category
            self.rank = rank; self.rationale = rationale
        }

        enum CodingKeys: String, CodingKey {
            case lesionID = "lesion_id", location, volumeML = "volume_ml", irradiated, score, percentile, attention
            case category, rank, rationale
        }
    }

    public var schema: String
    public var patientID: String
    public var signatureID: String
    public var policyName: String
    /// The policy as stored with the plans (sorted-key JSON text).
    public var policyJSON: String
    public var lesions: [Lesion]
    /// Lesion ids per category, in rank order.
    public var targets: [String: [String]]
    public var software: String

    public init(patientID: String, signatureID: String, policyName: String, policyJSON: String, lesions: [Lesion],
                software: String) {
        schema = Self.schemaID
        self.patientID = patientID; self.signatureID = signatureID; self.policyName = policyName
        self.policyJSON = policyJSON; self.lesions = lesions; self.software = software
        var t: [String: [String]] = [:]
        for c in TargetCategory.allCases {
            t[c.rawValue] = lesions.filter { $0.category == c }.sorted { $0.rank < $1.rank }.map(\.lesionID)
        }
        targets = t
    }

    enum CodingKeys: String, CodingKey {
        case schema, patientID = "patient_id", signatureID = "signature_id", policyName = "policy_name"
        case policyJSON = "policy_json", lesions, targets, software
    }

    /// Pretty, sorted-key JSON.
    public func jsonData() throws -> Data {
        let enc = JSONEncoder()
        enc.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        return try enc.encode(self)
    }
}
