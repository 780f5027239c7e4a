import ImagingCore

/// Which summary of the lesions' infiltration drives the simulated patient outcomes.
///
/// `.minimum` follows the multi-lesion CD8 radiomics findings (Sun et al. 2020/2022): the least
/// infiltrated lesion and the spread of infiltration across lesions set the progression hazard.
/// `.mean` and `.maximum` exist so that tools comparing aggregators can be checked against a
/// cohort whose true driver is known.
public enum SyntheticOutcomeDriver: String, Codable, CaseIterable, Sendable {
    case minimum, mean, maximum
}

/// Anatomical site of a synthetic lesion; raw values are the manifest's `location` words.
public enum SyntheticLocation: String, Codable, CaseIterable, Sendable {
    case lung, liver
    case lymphNode = "lymph_node"
    case softTissue = "soft_tissue"
    case bone, adrenal
}

/// RECIST-style response category.
public enum SyntheticResponse: String, Codable, CaseIterable, Sendable {
    case CR, PR, SD, PD

    /// The category of a latent response score (higher = better): CR > 1.5, PR > 0.4, SD > -0.6, else PD.
    public init(score s: Double) {
        if s > 1.5 { self = .CR } else if s > 0.4 { self = .PR } else if s > -0.6 { self = .SD } else { self = .PD }
    }
}

/// Everything that determines a synthetic cohort. Equal options give byte-identical files.
public struct SynthesisOptions: Codable, Equatable, Sendable {
    /// Number of patients (ids SYN001, SYN002, ...).
    public var patients: Int
    /// Master seed; every patient, lesion and noise field draws from a stream derived from it.
    public var seed: UInt64
    /// Which infiltration summary drives outcomes.
    public var outcomeDriver: SyntheticOutcomeDriver
    /// Voxels per axis. The field of view is fixed (`SyntheticAnatomy.fieldOfView`, 264 x 216 x 192 mm),
    /// so this sets the sampling: the default 176 x 144 x 48 gives 1.5 x 1.5 x 4 mm voxels (1.22 M voxels,
    /// the size of a thick-slice thorax/upper-abdomen CT cropped to the body, small enough for a fast demo).
    /// Smaller grids sample the same patients more coarsely (used by tests).
    public var gridSize: [Int]
    /// true: also a PET in SUV per patient (`SyntheticPETModel`); nil when not asked, so the options
    /// (recorded in `synthesis.json`) of a CT-only cohort encode as before PET existed.
    public var pet: Bool?

    /// Number of follow-up scans per patient after the baseline (`synth --timepoints N`), one every
    /// `SyntheticFollowUp.intervalDays` days; nil = baseline only. Stored as nil rather than 0 so that
    /// `synthesis.json` of a baseline-only cohort stays byte-identical to cohorts written before follow-ups existed
    /// (the synthesised Codable omits a nil optional).
    public var timepoints: Int?

    public static let defaultGridSize = [176, 144, 48]

    public init(patients: Int = 20, seed: UInt64 = 1, outcomeDriver: SyntheticOutcomeDriver = .minimum,
                gridSize: [Int] = SynthesisOptions.defaultGridSize, timepoints: Int = 0, pet: Bool = false) {
        self.patients = patients
        self.seed = seed
        self.outcomeDriver = outcomeDriver
        self.gridSize = gridSize
        self.timepoints = timepoints == 0 ? nil : timepoints
        self.pet = pet ? true : nil
    }

    /// Number of follow-up scans (0 when baseline only).
    public var followUps: Int { timepoints ?? 0 }

    /// Whether a PET is written per patient.
    public var withPET: Bool { pet == true }

    /// Throws unless the options describe a cohort that can be generated.
    public func validate() throws {
        guard patients >= 1, patients <= 999 else {
            throw SynthesisError.invalidOptions("patients must be between 1 and 999, got \(patients)")
        }
        guard gridSize.count == 3, gridSize.allSatisfy({ $0 >= 16 && $0 <= 1024 }) else {
            throw SynthesisError.invalidOptions("grid size must be three axis lengths in 16...1024, got \(gridSize)")
        }
        guard (0...SyntheticFollowUp.maximumFollowUps).contains(followUps) else {
            throw SynthesisError.invalidOptions("timepoints (follow-up scans) must be between 0 and "
                                                + "\(SyntheticFollowUp.maximumFollowUps), got \(followUps)")
        }
        guard !(withPET && followUps > 0) else {
            throw SynthesisError.invalidOptions("PET (--pet) is written for the baseline scan only and follow-up scans "
                                                + "(--timepoints \(followUps)) have none yet; ask for one or the other")
        }
    }

    /// The image grid every patient is sampled on (LPS, identity direction, body centred in x and y).
    public var grid: ImageGrid {
        let fov = SyntheticAnatomy.fieldOfView
        let size = Size3(gridSize[0], gridSize[1], gridSize[2])
        let spacing = Vector3(fov.x / Double(size.nx), fov.y / Double(size.ny), fov.z / Double(size.nz))
        let origin = Vector3(-fov.x / 2 + spacing.x / 2, -fov.y / 2 + spacing.y / 2, spacing.z / 2)
        return ImageGrid(size: size, spacing: spacing, origin: origin)
    }

    /// Identifier of the `index`-th patient (0-based): SYN001, SYN002, ...
    public static func patientID(_ index: Int) -> String {
        let n = String(index + 1)
        return "SYN" + String(repeating: "0", count: max(0, 3 - n.count)) + n
    }
}

/// Errors of cohort synthesis; each names the folder, file or patient involved.
public enum SynthesisError: Error, CustomStringConvertible, Equatable {
    case invalidOptions(String)
    case conflictingCohort(String)
    case writeFailed(String)

    public var description: String {
        switch self {
        case .invalidOptions(let s): return "invalid synthesis options: \(s)"
        case .conflictingCohort(let s): return "existing cohort conflicts: \(s)"
        case .writeFailed(let s): return "cannot write synthetic cohort: \(s)"
        }
    }
}
