import Foundation
import FeatureStore
import Cohort

/// A store table written as CSV, the form every `--csv` option of the pipeline's stages shares (delta,
/// response, compare, lesion subsets): one column per table column, numbers in Swift's shortest round-trip form
/// (whole numbers without a decimal point), non-finite numbers as empty cells.
enum TableCSV {
    /// Writes `table` to `url` atomically, creating its folder when missing.
    static func write(_ table: Table, to url: URL) throws {
        func cell(_ x: Double) -> String {
            guard x.isFinite else { return "" }
            return x == x.rounded() && abs(x) < 1e15 ? String(Int(x)) : String(x)
        }
        let columns = table.columns.map { $0.column.texts ?? ($0.column.numbers ?? []).map(cell) }
        let rows = (0..<table.rowCount).map { r in columns.map { $0[r] } }
        do {
            try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
            try Data(CSVTable.render(header: table.columnNames, rows: rows).utf8).write(to: url, options: .atomic)
        } catch {
            throw PipelineError("cannot write \(url.path): \(ErrorText.plain(error))")
        }
    }
}
