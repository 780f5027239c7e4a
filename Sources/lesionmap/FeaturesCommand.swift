import ArgumentParser
import Foundation
import Pipeline
import Radiomics

struct FeaturesCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "features",
        abstract: "IBSI features of one image and one region (and its peritumoral ring).",
        discussion: """
        IMAGE: a NIfTI/NRRD file or a DICOM series folder. MASK: a NIfTI/NRRD label
        map on the image grid, or a DICOM RTSTRUCT or SEG. --label picks the region
        (label value, ROI name or glob, segment number); without it the mask must
        hold exactly one region.

        The image's modality (a DICOM series' own, else --modality, default ct)
        picks its settings when --preset or --settings name one per modality
        (--preset ct=default,pt=pet-default); settings that make no sense for it
        (rounding PET values, a HU range on PET or MR) are refused.

        --format table and csv write the feature store's stable names
        <region>.<family>.<feature> for the tumour and its ring; --format ibsi
        writes tag;value lines with the tags of the IBSI reference values (the
        tumour's diagnostics, whole-image ones included, and every feature).
        Warnings go to standard error.

        Examples:
          lesionmap features ct.nii.gz labels.nii.gz --label 2 --ring-mm 10
          lesionmap features ct_dicom/ rtstruct.dcm --label GTV-1 --preset ibsi-c \\
            --format ibsi
        """)

    @Argument(help: "Image: NIfTI/NRRD file or DICOM series folder.") var image: String
    @Argument(help: "Mask: NIfTI/NRRD label map, DICOM RTSTRUCT or SEG file.") var mask: String
    @OptionGroup var extraction: SettingsOptions
    @Option(help: "Region: label value, RTSTRUCT ROI name (or glob), or SEG segment number.") var label: String?
    @Option(help: "Output: table, ibsi or csv.") var format = "table"
    @Option(help: "Modality of a NIfTI/NRRD image: ct, pt or mr (default ct; a DICOM series has its own, which this must match).")
    var modality: String?

    func run() throws {
        try runReportingErrors {
            guard let output = FeatureOutputFormat(rawValue: format.lowercased()) else {
                throw ValidationError("--format must be one of \(FeatureOutputFormat.allCases.map(\.rawValue).joined(separator: ", "))")
            }
            var s = try extraction.resolved()
            if output == .ibsi { s = s.map { $0.wholeImageDiagnostics = true } }
            let result = try SingleImageExtraction.run(image: fileURL(image), mask: fileURL(mask), label: label,
                                                       settings: s, modality: modality,
                                                       memoryLimit: try extraction.memoryLimit())
            for w in result.warnings { FileHandle.standardError.write(Data("warning: \(w)\n".utf8)) }
            print(result.text(output), terminator: "")
        }
    }
}

/// Extraction settings from the command line: a preset or a settings file, then `SettingsOverrides`,
/// checked against `SettingsBounds` (every problem listed); and the memory budget of the extraction.
/// (The options `extract` offers, plus resampling spacing and computation mode.) Numeric options take
/// the next argument even when it starts with '-', so that a negative value is refused by the bounds
/// instead of reading as a missing value.
struct SettingsOptions: ParsableArguments {
    @Option(help: "Settings preset for every modality (\(ExtractionSettings.presetNames.filter { !$0.hasPrefix("ibsi2-") }.joined(separator: ", ")) plus ibsi2-phase1-<config>, ibsi2-phase2-<n><a|b> (README)), or one per modality: ct=default,pt=pet-default (modalities ct, pt, mr).")
    var preset = "default"
    @Option(help: "Settings file (JSON), instead of a preset: one for every modality, a file of {\"modalities\": {\"CT\": ..., \"PT\": ...}}, or ct=FILE,pt=FILE.")
    var settings: String?
    @Option(parsing: .unconditional, help: "Fixed bin width, > 0 (overrides the preset).") var binWidth: Double?
    @Option(parsing: .unconditional,
            help: "Fixed bin count, \(SettingsBounds.greyLevels.lowerBound) to \(SettingsBounds.greyLevels.upperBound) (overrides the preset).")
    var binCount: Int?
    @Option(parsing: .unconditional,
            help: "Resampling spacing in mm, \(SettingsBounds.spacingMM.lowerBound) to \(SettingsBounds.spacingMM.upperBound) (isotropic in 3D, in-plane in 2D/2.5D).")
    var spacing: Double?
    @Option(parsing: .unconditional,
            help: "Peritumoral ring width in mm, up to \(Int(SettingsBounds.ringWidthMM.upperBound)); 0 = no ring (overrides the preset).")
    var ringMm: Double?
    @Option(help: "Regions to extract, comma-separated: tumour (always), ring, core (the lesion eroded by --core-mm), tumour_ring (tumour and ring together); default tumour,ring (overrides the preset).")
    var regions: String?
    @Option(parsing: .unconditional,
            help: "Intratumoral core margin in mm, up to \(Int(SettingsBounds.coreMarginMM.upperBound)) (default \(ExtractionSettings.text(ExtractionSettings.defaultCoreMarginMM))); switches the core region on.")
    var coreMm: Double?
    @Option(help: "Computation mode: 2d, 2.5d or 3d (sets the texture aggregations).") var mode: String?
    @Option(parsing: .unconditional,
            help: "Memory the lesions extracted at one time may use together, in GB (default: 80% of the memory available, less what is in use). A lesion estimated to need more fails alone, naming the setting responsible.")
    var maxMemoryGb: Double?

    func resolved() throws -> ModalitySettings {
        var computation: ExtractionSettings.ComputationMode?
        if let mode {
            guard let m = ExtractionSettings.ComputationMode(rawValue: mode.uppercased()) else {
                throw ValidationError("--mode must be 2d, 2.5d or 3d")
            }
            computation = m
        }
        // A settings file is read with plain messages by line and key, then checked against the bounds.
        let base = try settings.map { try SettingsFile.loadSpec($0) } ?? ModalitySettings.preset(preset)
        return try base.applying(SettingsOverrides(binWidth: binWidth, binCount: binCount, spacingMM: spacing,
                                                   ringWidthMM: ringMm, mode: computation,
                                                   regions: try regions.map { try SettingsOverrides.parseRegions($0) },
                                                   coreMarginMM: coreMm))
    }

    /// The memory budget: `--max-memory-gb`, or the automatic one.
    func memoryLimit() throws -> ExtractionMemoryLimit {
        guard let maxMemoryGb else { return .automatic }
        guard maxMemoryGb.isFinite, maxMemoryGb > 0 else {
            throw RadiomicsError.invalidSettings("--max-memory-gb \(ExtractionSettings.text(maxMemoryGb)): must be a number of gigabytes greater than 0")
        }
        return .bytes(maxMemoryGb * 1_073_741_824)
    }
}
