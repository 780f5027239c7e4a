import ArgumentParser
import Foundation
import Pipeline
import Signatures

struct ValidateLesionsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "validate-lesions",
        abstract: "Check a lesion score against a lesion-level label, overall and per location.",
        discussion: """
        Binary labels give ROC AUC with a DeLong 95% CI (default: responding CR/PR vs SD/PD lesions, from the
        manifest's lesion_response); continuous labels give Pearson and Spearman correlation with Fisher-z CIs.
        Example: lesionmap validate-lesions features.h5 --targets cd8.csv --target-column cd8b --csv validation.csv
        """)

    @Argument(help: "Feature store with scores.") var store: String
    @Option(help: "Signature whose scores to check.") var signatureName = ReferenceSignature.name
    @Option(help: "CSV with patient_id, lesion_id and the label column (default: lesion_response in the store).")
    var targets: String?
    @Option(help: "Label column of --targets.") var targetColumn = "infiltration"
    @Flag(help: "The --targets column is binary (0/1): report AUC instead of correlation.") var binary = false
    @Option(help: "Also write the table as CSV.") var csv: String?
    @Flag(help: "Label: the lesion's category at its first follow-up derived from the follow-up scans (as `lesionmap response`), CR/PR vs SD/PD, instead of the typed lesion_response.")
    var responseFromFollowup = false

    func run() throws {
        try runReportingErrors {
            let label: LesionLevelValidation.Label
            if responseFromFollowup {
                guard targets == nil else { throw ValidationError("--response-from-followup and --targets are alternatives") }
                label = .followUpResponse
            } else if let targets {
                label = binary ? .binary(file: fileURL(targets), column: targetColumn)
                               : .continuous(file: fileURL(targets), column: targetColumn)
            } else {
                label = .lesionResponse
            }
            let rows = try LesionLevelValidation.run(store: fileURL(store), signatureName: signatureName, label: label)
            for r in rows {
                var line = "\(r.group.padding(toLength: 12, withPad: " ", startingAt: 0)) n=\(r.n)"
                if let a = r.auc {
                    line += String(format: "  AUC %.3f (95%% CI %.3f-%.3f), %d responding", a.value, a.interval.lower,
                                   a.interval.upper, r.positives ?? 0)
                }
                if let p = r.pearson, let s = r.spearman {
                    line += String(format: "  Pearson r %.3f (%.3f-%.3f)  Spearman rho %.3f (%.3f-%.3f)", p.coefficient,
                                   p.interval.lower, p.interval.upper, s.coefficient, s.interval.lower, s.interval.upper)
                }
                if let n = r.note { line += "  (\(n))" }
                print(line)
            }
            if let csv {
                try Data(try LesionLevelValidation.csv(rows).utf8).write(to: fileURL(csv), options: .atomic)
                print("wrote \(csv)")
            }
        }
    }
}
