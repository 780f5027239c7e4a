import ArgumentParser
import Foundation
import Pipeline

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
                      ValidateLesionsCommand.self, FeaturesCommand.self, CompareCommand.self])
}

/// Runs a command body, printing a clear error and exiting non-zero on failure.
func runReportingErrors(_ body: () throws -> Void) throws {
    do {
        try body()
    } catch let e as ExitCode {
        throw e
    } catch {
        FileHandle.standardError.write(Data("error: \(error)\n".utf8))
        throw ExitCode.failure
    }
}

func fileURL(_ path: String) -> URL { URL(fileURLWithPath: path).standardizedFileURL }
