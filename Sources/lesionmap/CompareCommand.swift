import ArgumentParser
import Foundation
import Pipeline
import Cohort
import Signatures
import Aggregation

struct CompareCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "compare",
        abstract: "Compare patient-level aggregators (and attention MIL) against an endpoint: HR, C-index, AUC with CIs, ranked.",
        discussion: """
        Writes the table comparison/<signature>/<endpoint> into the store (and <endpoint>_attention for MIL,
        <endpoint>_lesion_subsets with --lesion-subsets). Survival endpoints (pfs, os): Cox hazard ratios and
        Harrell's C with bootstrap CIs; binary endpoints (response = CR/PR, abscopal): odds ratios and ROC AUC
        with DeLong CIs. Learned methods (mil_*) are evaluated out of sample by repeated k-fold cross-validation.
        Because many methods are ranked on the same patients, the table adds Holm-adjusted p-values, an
        optimism-corrected C (or AUC) for the fixed aggregators and a permutation p-value that allows for choosing
        the direction and the best fixed aggregator; the text under the table says what the ranking can show.
        Example: lesionmap compare features.h5 --endpoint pfs --csv reports/compare-pfs.csv --lesion-subsets
        """)

    @Argument(help: "Feature store with scores (run `lesionmap score` first).") var store: String
    @Option(help: "Endpoint: pfs, os, response or abscopal.") var endpoint: String
    @Option(help: "CSV file for the table (one row per aggregator).") var csv: String?
    @Option(help: "Name of the signature whose lesion scores to aggregate.") var signatureName = ReferenceSignature.name
    @Option(help: "Compare aggregators of this lesion feature (<region>.<family>.<feature>) instead of a signature's scores; adds Chang's rule.")
    var feature: String?
    @Option(help: "Methods, comma separated (default: every aggregator, mil_attention, mil_gated_attention).")
    var methods: String?
    @Option(help: "Bootstrap resamples for C-index intervals, paired differences and the optimism correction.") var bootstrap = 1000
    @Option(help: "Outcome permutations for the selection-adjusted permutation p-values (0 = none).") var permutations = 1000
    @Option(help: "Seed of the bootstrap, the lesion draws and MIL.") var seed: UInt64 = 1
    @Option(help: "MIL cross-validation folds.") var milFolds = 5
    @Option(help: "MIL cross-validation repeats.") var milRepeats = 3
    @Option(help: "MIL input: 'signature' (the signature's terms; needs the shipped signature or --signature) or 'pca'.")
    var milFeatures = "auto"
    @Option(help: "Signature file whose terms are the MIL features (with --mil-features signature).") var signature: String?
    @Option(help: "Principal components kept for --mil-features pca.") var milComponents = 8
    @Flag(help: "Also run the lesion-subset analysis (C-index with k random lesions per patient).") var lesionSubsets = false
    @Option(help: "Repeats per k for --lesion-subsets.") var subsetRepeats = 50
    @Option(help: "CSV file for the lesion-subset table.") var subsetsCsv: String?
    @Flag(help: "Endpoints response and abscopal derived from the follow-up scans (best RECIST 1.1 response; RECIST 1.1 on the non-irradiated lesions CR/PR) instead of patients.csv; stored as <endpoint>_followup.")
    var responseFromFollowup = false

    func run() throws {
        try runReportingErrors {
            guard let end = ComparisonEndpoint(rawValue: endpoint) else {
                throw ValidationError("--endpoint must be one of \(ComparisonEndpoint.allCases.map(\.rawValue).joined(separator: ", "))")
            }
            if responseFromFollowup && lesionSubsets {
                throw ValidationError("--lesion-subsets uses the endpoints of patients.csv; run it without --response-from-followup")
            }
            let source: ComparisonSource = feature.map { .feature($0) } ?? .signature(signatureName)
            var chosen = ComparisonMethod.standard
            if feature != nil { chosen += [.chang(.unweighted), .chang(.volumeWeighted)] }
            if let methods {
                chosen = try methods.split(separator: ",").map { word in
                    let name = word.trimmingCharacters(in: .whitespaces)
                    guard let m = ComparisonMethod(name: name) else {
                        throw ValidationError("unknown method '\(name)'; known: \(ComparisonMethod.standard.map(\.name).joined(separator: ", ")), chang_unweighted, chang_volume_weighted")
                    }
                    return m
                }
            }
            guard bootstrap >= 0, permutations >= 0 else {
                throw ValidationError("--bootstrap and --permutations must be 0 or more")
            }
            let options = ComparisonOptions(methods: chosen, bootstrapResamples: bootstrap, permutations: permutations,
                                            seed: seed, milFolds: milFolds, milRepeats: milRepeats)
            let outcome = try CohortComparison.run(
                store: fileURL(store), source: source, endpoint: end, options: options,
                milFeatures: try milSelection(), csv: csv.map(fileURL), responseFromFollowUp: responseFromFollowup)
            print(outcome.result.text)
            if let input = outcome.milInput { print("MIL input: \(input)") }
            print("stored: \(outcome.tablePath)" + (csv.map { "; CSV: \($0)" } ?? ""))
            if lesionSubsets {
                let aggregators = chosen.compactMap { m -> Aggregator? in
                    if case .aggregator(let a) = m { return a } else { return nil }
                }
                let subsets = try CohortComparison.runLesionSubsets(
                    store: fileURL(store), source: source, endpoint: end, aggregators: aggregators,
                    repeats: subsetRepeats, seed: seed, csv: subsetsCsv.map(fileURL))
                print(subsets.text)
                print("stored: \(outcome.tablePath)_lesion_subsets" + (subsetsCsv.map { "; CSV: \($0)" } ?? ""))
            }
        }
    }

    /// Signature terms when a signature is at hand (the file given, or the shipped one when its scores are
    /// compared), principal components otherwise.
    func milSelection() throws -> MILFeatureSelection {
        switch milFeatures {
        case "pca": return .principalComponents(milComponents)
        case "signature", "auto":
            if let signature {
                try InputFile.requireRegularFile(fileURL(signature), what: "signature file")
                return .features(try Signature.load(fileURL(signature)).0.terms.map(\.feature))
            }
            if feature == nil && signatureName == ReferenceSignature.name {
                return .features(try ReferenceSignature.load().0.terms.map(\.feature))
            }
            if milFeatures == "signature" {
                throw ValidationError("--mil-features signature needs --signature FILE for '\(signatureName)'")
            }
            return .principalComponents(milComponents)
        default:
            throw ValidationError("--mil-features must be signature, pca or auto")
        }
    }
}
