import Foundation
import FeatureStore
import Harmonisation
import Cohort
import Signatures

/// `lesionmap harmonise`: ComBat over a store into a new store, or a recorded batch model applied to a new store.
public enum CohortHarmonisation {
    /// Fits ComBat on `store` and writes the harmonised store, with its batch model, to `out` (atomically).
    @discardableResult
    public static func run(store: URL, out: URL, batchColumn: String, covariates: [String], method: ComBatMethod) throws
        -> StoreHarmonisation.Summary {
        try requireDistinct(store, out)
        let contents = try StoreContents.read(from: store)
        let (harmonised, summary) = try explained(store) {
            try StoreHarmonisation.harmonise(contents, batchColumn: batchColumn, covariates: covariates, method: method)
        }
        try harmonised.write(to: out)
        return summary
    }

    /// Harmonises `store` with the batch model recorded in the harmonised store `model` and writes it to `out`.
    @discardableResult
    public static func apply(store: URL, model: URL, out: URL) throws -> StoreHarmonisation.Summary {
        try requireDistinct(store, out)
        try InputFile.requireRegularFile(model, what: "batch model (a store written by lesionmap harmonise)")
        let modelStore = try StoreContents.read(from: model)
        let contents = try StoreContents.read(from: store)
        let (harmonised, summary) = try explained(store) {
            try StoreHarmonisation.apply(modelFrom: modelStore, to: contents, modelSource: model.lastPathComponent)
        }
        try harmonised.write(to: out)
        return summary
    }

    /// The store's harmonisation as a signature records it (nil for an unharmonised store).
    public static func signatureStamp(_ contents: StoreContents) -> Signature.Harmonisation? {
        StoreHarmonisation.stamp(contents).map {
            Signature.Harmonisation(method: $0.method, batchColumn: $0.batchColumn, covariates: $0.covariates, modelID: $0.modelID)
        }
    }

    static func requireDistinct(_ store: URL, _ out: URL) throws {
        guard store.standardizedFileURL.resolvingSymlinksInPath() != out.standardizedFileURL.resolvingSymlinksInPath() else {
            throw PipelineError("--out must name a new file: the unharmonised store \(store.path) is kept as it is")
        }
    }

    static func explained<T>(_ store: URL, _ body: () throws -> T) throws -> T {
        do { return try body() } catch let e as HarmonisationError {
            throw PipelineError("cannot harmonise \(store.path): \(e.message)")
        }
    }

    /// The summary as printed by the command: what was harmonised, what was left unchanged and why.
    public static func text(_ s: StoreHarmonisation.Summary, out: String) -> String {
        let skipped = Set(s.unharmonisedRegions.map(\.region))
        var lines = ["harmonised \(s.harmonisedFeatures) features of \(s.lesions) lesions (regions \(s.regions.filter { !skipped.contains($0) }.joined(separator: ", "))) across \(s.batches.count) batches of '\(s.stamp.batchColumn)': "
            + s.batches.map { "\($0.label) (\($0.lesions) lesions)" }.joined(separator: ", ")
            + "; \(s.stamp.method) ComBat" + (s.stamp.covariates.isEmpty ? "" : ", keeping \(s.stamp.covariates.joined(separator: ", "))")
            + "; model \(s.stamp.modelID.prefix(12))"]
        if s.regionLesions.contains(where: { $0.lesions < s.lesions }) {
            // Each matrix is fitted on the lesions that have it (StoreHarmonisation.fitRows).
            lines.append("lesions per region: " + s.regionLesions.map { "\($0.region) \($0.lesions)" }.joined(separator: ", ")
                         + " of \(s.lesions); the others have no such values (no image of that modality, or an empty region) and stay NaN")
        }
        for (region, reason) in s.unharmonisedRegions {
            lines.append("warning: region \(region) left unharmonised, its values copied unchanged (ComBat needs at least 2 batches with at least 2 lesions each): \(reason)")
        }
        if !s.unchanged.isEmpty {
            let reasons: [(FeatureStatus, String)] = [(.constant, "constant"), (.zeroResidualVariance, "no variance within batches"),
                                                      (.nonFinite, "missing or non-finite values")]
            lines.append("warning: \(s.unchanged.count) feature\(s.unchanged.count == 1 ? "" : "s") left unchanged:")
            for (status, why) in reasons {
                let names = s.unchanged.filter { $0.status == status }.map { "\($0.region).\($0.feature)" }
                guard !names.isEmpty else { continue }
                let shown = names.prefix(12).joined(separator: ", ")
                lines.append("  \(why) (\(names.count)): \(shown)"
                             + (names.count > 12 ? ", ... (all \(names.count) have status \(status.rawValue) in /\(StoreHarmonisation.featuresPath))" : ""))
            }
        }
        if !s.droppedTables.isEmpty {
            lines.append("not carried over (computed from the unharmonised features): \(s.droppedTables.joined(separator: ", ")); run lesionmap score on \(out)")
        }
        lines.append("wrote \(out)")
        return lines.joined(separator: "\n")
    }
}
