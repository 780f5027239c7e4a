import ArgumentParser
import Foundation
import Pipeline
import Harmonisation

struct HarmoniseCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "harmonise",
        abstract: "ComBat harmonisation of a store's features across batches (scanners, kernels, kVp); writes a new store.",
        discussion: """
        Batches and covariates are columns of the store's /lesions (kvp, manufacturer, kernel, modality, location, ...) or /patients (cov_* columns). Numeric covariates are continuous, others categorical. The batch model is recorded in the output store; --apply-model harmonises a new store of known batches with it.

        Examples:
          lesionmap harmonise features.h5 --batch kvp --covariates location,cov_age --out harmonised.h5
          lesionmap harmonise new.h5 --apply-model harmonised.h5 --out new-harmonised.h5
        """)

    @Argument(help: "Feature store to harmonise (left unchanged).") var store: String
    @Option(help: "Lesion or patient column whose values are the batches.") var batch: String?
    @Option(help: "Columns whose effects are kept, comma separated.") var covariates: String?
    @Flag(help: "Non-parametric empirical Bayes priors (default: parametric).") var nonparametric = false
    @Option(name: .customLong("apply-model"), help: "A harmonised store whose batch model to apply instead of fitting one.")
    var applyModel: String?
    @Option(help: "Harmonised store to write.") var out: String

    func run() throws {
        try runReportingErrors {
            let summary: StoreHarmonisation.Summary
            if let applyModel {
                guard batch == nil, covariates == nil, !nonparametric else {
                    throw ValidationError("--apply-model uses the model's batch column, covariates and method: leave out --batch, --covariates and --nonparametric")
                }
                summary = try CohortHarmonisation.apply(store: fileURL(store), model: fileURL(applyModel), out: fileURL(out))
            } else {
                guard let batch else { throw ValidationError("give --batch COLUMN (or --apply-model MODEL_STORE)") }
                let covs = (covariates ?? "").split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
                summary = try CohortHarmonisation.run(store: fileURL(store), out: fileURL(out), batchColumn: batch, covariates: covs,
                                                      method: nonparametric ? .nonparametric : .parametric)
            }
            print(CohortHarmonisation.text(summary, out: out))
        }
    }
}
