import ArgumentParser
import Foundation
import Pipeline
import Cohort

struct LesionMapCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "lesionmap",
        abstract: "Lesion-by-lesion radiomics for the whole disease of a cancer patient (research use only).",
        discussion: """
        Data flows one way: images -> lesions -> features -> scores -> patient aggregates -> plans -> reports.

        Example (the whole chain on the built-in synthetic demo cohort):
          lesionmap demo --out reports/
        """,
        version: LesionMapVersion.version,
        subcommands: [DemoCommand.self, SynthCommand.self, ExtractCommand.self, ScoreCommand.self, PlanCommand.self,
                      ReportCommand.self, ExportTargetsCommand.self, ExportCommand.self, TrainSignatureCommand.self,
                      ValidateLesionsCommand.self, FeaturesCommand.self, FilterCommand.self, CompareCommand.self,
                      HarmoniseCommand.self, RobustnessCommand.self, ShardCommand.self, MergeCommand.self,
                      ResponseCommand.self, DeltaCommand.self])
}

/// Runs a command body, printing a clear error and exiting non-zero on failure. Errors are printed as plain
/// sentences (`ErrorText.plain`): Foundation file errors and decoding errors are translated, never dumped.
func runReportingErrors(_ body: () throws -> Void) throws {
    do {
        try body()
    } catch let e as ExitCode {
        throw e
    } catch {
        FileHandle.standardError.write(Data("error: \(ErrorText.plain(error))\n".utf8))
        throw ExitCode.failure
    }
}

/// Prints the patients of a batch that failed (to standard error) and fails the command after the summary.
func finishBatch(_ failures: [PatientFailure], what: String) throws {
    guard !failures.isEmpty else { return }
    var text = "\(failures.count) patient\(failures.count == 1 ? "" : "s") failed (\(what)); each is listed, every other patient was done:\n"
    for f in failures { text += "  FAILED \(f.patientID): \(f.message)\n" }
    FileHandle.standardError.write(Data(text.utf8))
    throw ExitCode.failure
}

func fileURL(_ path: String) -> URL { URL(fileURLWithPath: path).standardizedFileURL }
