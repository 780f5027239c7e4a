import Foundation
import ImagingCore

/// One synthetic lesion: where it is, its shape, its hidden immune infiltration and its fate.
public struct SyntheticLesion: Sendable {
    /// Identifier within the patient: L01, L02, ...
    public var id: String
    /// Value of the lesion in the label map (1...n).
    public var label: Int32
    public var location: SyntheticLocation
    public var shape: LesionShape
    /// Hidden immune infiltration u in (0, 1): 0 = immune desert, 1 = richly infiltrated.
    public var infiltration: Double
    public var irradiated: Bool
    public var response: SyntheticResponse
    /// The latent response score s behind `response` (higher = better; see `SyntheticOutcomeModel`);
    /// it also sets the lesion's growth rate at follow-up (`SyntheticFollowUp`).
    public var responseScore: Double = 0
    /// Lesion-level nuisance of the texture model (see `SyntheticScanModel`): a HU offset and
    /// multipliers of the fine and coarse texture amplitudes.
    public var intensityOffset: Double
    public var fineScale: Double
    public var coarseScale: Double
    /// Seed of the lesion's texture fields.
    public var textureSeed: UInt64
}

/// Simulated follow-up of one patient.
public struct SyntheticOutcome: Sendable {
    public var pfsMonths: Double
    public var pfsEvent: Bool
    public var osMonths: Double
    public var osEvent: Bool
    public var bestResponse: SyntheticResponse
    /// Response of a non-irradiated lesion; nil when every lesion was irradiated.
    public var abscopalResponse: Bool?
    /// η, the log hazard ratio of progression (see `SyntheticOutcomeModel`).
    public var linearPredictor: Double
}

/// One synthetic patient: scan settings, body, lesions and outcome. Rendering it gives the CT and labels.
public struct SyntheticPatient: Sendable {
    /// SYN001, SYN002, ...
    public var id: String
    /// Seed from which everything about the patient is derived.
    public var seed: UInt64
    /// Tube voltage of the scan: 100, 120 or 140 kV.
    public var kvp: Int
    public var anatomy: SyntheticAnatomy
    /// Patient-level centre μ ~ Beta(2, 2) (the median of the lesions' u) and lesion-to-lesion spread τ (logit scale).
    public var infiltrationCenter: Double
    public var infiltrationSpread: Double
    public var lesions: [SyntheticLesion]
    public var outcome: SyntheticOutcome

    public var infiltrations: [Double] { lesions.map(\.infiltration) }
    public var minInfiltration: Double { infiltrations.min() ?? 0 }
    public var maxInfiltration: Double { infiltrations.max() ?? 0 }
    public var meanInfiltration: Double { infiltrations.reduce(0, +) / Double(max(1, lesions.count)) }
    /// Population standard deviation (divides by n; 0 for a single lesion).
    public var sdInfiltration: Double {
        let m = meanInfiltration
        let v = infiltrations.reduce(0) { $0 + ($1 - m) * ($1 - m) } / Double(max(1, lesions.count))
        return v.squareRoot()
    }
    /// Sum of the lesions' nominal (ellipsoid) volumes, ml.
    public var tumourBurdenML: Double { lesions.reduce(0) { $0 + $1.shape.nominalVolume } / 1000 }
}
