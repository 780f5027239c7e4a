import Foundation
import FeatureStore
import Cohort
import Statistics

/// Lesion-level validation of a signature's scores against a lesion-level label, overall and per location.
public enum LesionLevelValidation {
    /// What the scores are checked against.
    public enum Label: Sendable {
        /// Binary: responding lesion (CR or PR in /lesions `lesion_response`) vs stable or progressive (SD or PD).
        case lesionResponse
        /// Binary: the same, but the category derived from the follow-up scans (`lesionmap response`: RECIST 1.1
        /// thresholds applied to the lesion at its patient's first follow-up) instead of typed labels.
        case followUpResponse
        /// Continuous: a column of a CSV with `patient_id` and `lesion_id` (e.g. CD8B expression of biopsied lesions).
        case continuous(file: URL, column: String)
        /// Binary: a 0/1 column of such a CSV.
        case binary(file: URL, column: String)
    }

    /// One row of the result table: a group of lesions ("all" or a location).
    public struct Row: Sendable {
        public var group: String
        public var n: Int
        /// Binary labels: ROC AUC with DeLong CI; continuous labels: nil.
        public var auc: Estimate?
        public var positives: Int?
        /// Continuous labels: Pearson and Spearman with Fisher-z CIs; binary labels: nil.
        public var pearson: CorrelationResult?
        public var spearman: CorrelationResult?
        /// Why a statistic is missing (too few lesions, one class only, ...).
        public var note: String?
    }

    public static func path(_ signatureName: String, label: String) -> String {
        "validation/" + pathComponent(signatureName) + "/" + pathComponent(label)
    }

    /// Computes the validation table, writes it into the store (`validation/<signature>/<label>`) and returns it.
    public static func run(store: URL, signatureName: String, label: Label, level: Double = 0.95) throws -> [Row] {
        var contents = try StoreContents.read(from: store)
        let lesions = try StoreLesions(contents)
        let (scores, _) = try CohortScoring.scores(contents, signatureName: signatureName)
        let (values, labelName, binary) = try labelValues(label, contents: contents, lesions: lesions)
        // The baseline rows (one per lesion); follow-up rows repeat lesion ids.
        let baseline = scores.indices.filter { lesions.isBaseline($0) }
        var groups: [(String, [Int])] = [("all", baseline)]
        for loc in Array(Set(baseline.map { lesions.locations[$0] })).sorted() {
            groups.append((loc, baseline.filter { lesions.locations[$0] == loc }))
        }
        var rows: [Row] = []
        for (name, idx) in groups {
            let usable = idx.filter { scores[$0].isFinite && values[$0].isFinite }
            var row = Row(group: name, n: usable.count)
            do {
                if binary {
                    let labels = usable.map { values[$0] == 1 }
                    let roc = try ROC.analyse(labels: labels, scores: usable.map { scores[$0] }, level: level)
                    row.auc = roc.estimate
                    row.positives = roc.positives
                } else {
                    let s = usable.map { scores[$0] }, v = usable.map { values[$0] }
                    row.pearson = try Correlation.pearson(s, v, level: level)
                    row.spearman = try Correlation.spearman(s, v, level: level)
                }
            } catch {
                row.note = "\(error)"
            }
            rows.append(row)
        }
        contents.tables[path(signatureName, label: labelName)] = StoreTable(table: try table(rows), attributes: [
            "signature_name": signatureName, "label": labelName, "kind": binary ? "binary" : "continuous",
            "method": binary ? "ROC AUC with DeLong CI" : "Pearson and Spearman with Fisher-z CIs",
        ])
        try contents.write(to: store)
        return rows
    }

    /// Label per store lesion (NaN where unknown), its name, and whether it is binary.
    static func labelValues(_ label: Label, contents: StoreContents, lesions: StoreLesions) throws
        -> (values: [Double], name: String, binary: Bool) {
        switch label {
        case .lesionResponse:
            let responses = try contents.lesions.texts("lesion_response")
            let v = responses.map { r -> Double in
                guard let c = ResponseCategory(rawValue: r) else { return .nan }
                return c.isResponse ? 1 : 0
            }
            guard v.contains(where: \.isFinite) else {
                throw PipelineError("no lesion has a lesion_response (CR/PR/SD/PD) in the store")
            }
            return (v, "lesion_response", true)
        case .followUpResponse:
            // Labels from the whole store (every time point), by lesion, onto the rows the scores belong to.
            let labels = try CohortResponse.firstFollowUpResponse(contents)
            let rowTimes = contents.lesions.rowCount == lesions.patientIDs.count
                ? (contents.lesions["timepoint"] != nil ? try contents.lesions.numbers("timepoint") : nil) : nil
            let v = lesions.patientIDs.indices.map { i -> Double in
                if let rowTimes, rowTimes[i] != 0 { return .nan }
                return labels[.init(patientID: lesions.patientIDs[i], lesionID: lesions.lesionIDs[i])] ?? .nan
            }
            guard v.contains(where: \.isFinite) else {
                throw PipelineError("no baseline lesion of the store has a follow-up measurement: the store needs follow-up time points (manifest column timepoint)")
            }
            return (v, "followup_response", true)
        case .continuous(let file, let column), .binary(let file, let column):
            let text = try InputFile.utf8Text(file, what: "label table (CSV)")
            let t = try CSVTable.parse(text, file: file.lastPathComponent)
            guard let pi = t.header.firstIndex(of: "patient_id"), let li = t.header.firstIndex(of: "lesion_id"),
                  let ci = t.header.firstIndex(of: column) else {
                throw PipelineError("\(file.path) needs the columns patient_id, lesion_id and \(column)")
            }
            var byKey: [String: Double] = [:]
            var problems: [String] = []
            for r in t.rows where r.fields.count > max(pi, li, ci) {
                let cell = r.fields[ci].trimmingCharacters(in: .whitespaces)
                if cell.isEmpty { continue }
                guard let x = Double(cell), x.isFinite else { problems.append("row \(r.number): '\(cell)' is not a number"); continue }
                if case .binary = label, x != 0 && x != 1 { problems.append("row \(r.number): '\(cell)' is not 0 or 1"); continue }
                byKey[r.fields[pi] + "\u{1}" + r.fields[li]] = x
            }
            guard problems.isEmpty else {
                throw PipelineError("the label table \(file.path) has problems:\n" + problems.map { "  - \($0)" }.joined(separator: "\n"))
            }
            let v = lesions.patientIDs.indices.map { byKey[lesions.patientIDs[$0] + "\u{1}" + lesions.lesionIDs[$0]] ?? .nan }
            guard v.contains(where: \.isFinite) else {
                throw PipelineError("no lesion of the store has a label in \(file.path): check patient_id and lesion_id")
            }
            if case .binary = label { return (v, column, true) }
            return (v, column, false)
        }
    }

    static func table(_ rows: [Row]) throws -> Table {
        func col(_ f: (Row) -> Double?) -> Column { .number(rows.map { f($0) ?? .nan }) }
        var t = Table()
        try t.append("group", .text(rows.map(\.group)))
        try t.append("n", col { Double($0.n) })
        try t.append("positives", col { $0.positives.map(Double.init) })
        try t.append("auc", col { $0.auc?.value })
        try t.append("auc_low", col { $0.auc?.interval.lower })
        try t.append("auc_high", col { $0.auc?.interval.upper })
        try t.append("pearson_r", col { $0.pearson?.coefficient })
        try t.append("pearson_low", col { $0.pearson?.interval.lower })
        try t.append("pearson_high", col { $0.pearson?.interval.upper })
        try t.append("pearson_p", col { $0.pearson?.pValue })
        try t.append("spearman_rho", col { $0.spearman?.coefficient })
        try t.append("spearman_low", col { $0.spearman?.interval.lower })
        try t.append("spearman_high", col { $0.spearman?.interval.upper })
        try t.append("spearman_p", col { $0.spearman?.pValue })
        try t.append("note", .text(rows.map { $0.note ?? "" }))
        return t
    }

    /// The table as CSV text.
    public static func csv(_ rows: [Row]) throws -> String {
        let t = try table(rows)
        let cols = t.columns
        let body = (0..<t.rowCount).map { i in
            cols.map { c -> String in
                if let s = c.column.texts { return s[i] }
                let x = c.column.numbers![i]
                return x.isFinite ? String(format: "%.6g", x) : ""
            }
        }
        return CSVTable.render(header: cols.map(\.name), rows: body)
    }
}
