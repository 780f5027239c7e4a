import ArgumentParser
import Foundation
import Pipeline
import Radiomics

struct FilterCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "filter",
        abstract: "The response map of one filter over an image, written as NIfTI.",
        discussion: """
        IMAGE: a NIfTI/NRRD file or a DICOM series folder. The preset or settings
        file names exactly one filter (filtering.filters); the response map is on
        the image's grid, or on the resampled grid when the settings resample
        (IBSI 2: the interpolated image is filtered).

        Examples:
          lesionmap filter checkerboard.nii.gz --preset ibsi2-phase1-2b --out log.nii.gz
          lesionmap filter ct.nii.gz --settings log15.json --out ct_log_s1.5.nii.gz
        """)

    @Argument(help: "Image: NIfTI/NRRD file or DICOM series folder.") var image: String
    @Option(help: "Settings preset naming one filter (ibsi2-phase1-<config>, ibsi2-phase2-<n><a|b>).") var preset: String?
    @Option(help: "Settings file (JSON) naming one filter, instead of a preset.") var settings: String?
    @Option(help: "Output NIfTI file (.nii or .nii.gz).") var out: String

    func run() throws {
        try runReportingErrors {
            let s: ExtractionSettings
            switch (preset, settings) {
            case (let p?, nil): s = try ExtractionSettings.preset(named: p)
            case (nil, let f?):
                let url = fileURL(f)
                s = try SettingsFile.load(url).validated(in: "settings file \(url.path)")
            case (nil, nil): throw ValidationError("give --preset or --settings (naming one filter)")
            default: throw ValidationError("give --preset or --settings, not both")
            }
            let written = try ResponseMapExport.write(image: fileURL(image), settings: s, to: fileURL(out))
            print("wrote \(out): response map \(written.token), \(written.grid.size) voxels")
        }
    }
}
