import ArgumentParser
import Foundation
import Pipeline
import Cohort
import Perturbation

struct RobustnessCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "robustness",
        abstract: "Feature robustness under image and mask perturbations: ICC(1,1) with 95% CI per feature.",
        discussion: """
        Every lesion's tumour and ring features are computed under each perturbation (Zwanenburg et al.,
        Sci Rep 2019); ICC.csv has feature, icc, icc_low, icc_high; VALUES.csv has patient_id, lesion_id,
        perturbation, feature, value. A kind alone stands for its four default instances:
          growth (mask dilated/eroded by -2,-1,1,2 mm), noise (the image's own noise level, realisations 1-4),
          translate (sub-voxel shifts), rotate (-10,-5,5,10 degrees about z), contour (supervoxel randomisation).
        One instance: original, growth:MM, noise:SEED, translate:FX:FY:FZ, rotate:DEG, contour:SEED[:CELLMM].
        Example: lesionmap robustness cohorts/mycohort --csv icc.csv --values-csv values.csv --perturbations noise,rotate,growth:1.5
        """)

    @Argument(help: "Cohort manifest folder (holding lesions.csv and patients.csv).") var manifest: String
    @Option(help: "ICC table to write (feature, icc, icc_low, icc_high).") var csv: String
    @Option(help: "Long table of every value to write (patient_id, lesion_id, perturbation, feature, value).")
    var valuesCsv: String
    @Option(help: "Perturbations, comma separated (default: all five kinds, 20 in all).")
    var perturbations = "growth,noise,translate,rotate,contour"
    @Option(help: "Seed of the random perturbations (noise, contour): the same seed gives the same values.")
    var seed: UInt64 = 1
    @OptionGroup var extraction: SettingsOptions
    @Flag(help: "No progress output.") var quiet = false

    func run() throws {
        try runReportingErrors {
            let list = try Perturbation.parseList(perturbations)
            let s = try extraction.resolved()
            let memoryLimit = try extraction.memoryLimit()
            let cohort = try CohortManifest.load(fileURL(manifest))
            let bar = ProgressBar(label: "robustness", total: cohort.patients.count, quiet: quiet)
            let (summary, _) = try CohortRobustness.run(cohort: cohort, settings: s, perturbations: list, seed: seed,
                                                        values: fileURL(valuesCsv), icc: fileURL(csv),
                                                        memoryLimit: memoryLimit, progress: bar)
            print(summary.text)
            print("wrote \(csv) and \(valuesCsv)")
            if !summary.succeeded { throw ExitCode.failure }
        }
    }
}
