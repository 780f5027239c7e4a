import Foundation
import FeatureStore
import Cohort

/// CSV export of a store: one row per lesion.
public enum StoreExport {
    /// Columns: every lesion-table column (ids, lesion and scan metadata), then one `score.<signature>` column per
    /// scored signature, `plan.<signature>.category` and `.rank` per plan, then `<region>.<family>.<feature>`.
    @discardableResult
    public static func csv(store: URL, to output: URL) throws -> (rows: Int, columns: Int) {
        let contents = try StoreContents.read(from: store)
        let lesions = contents.lesions
        let n = lesions.rowCount
        var header: [String] = []
        var columns: [[String]] = []
        func add(_ name: String, _ values: [String]) { header.append(name); columns.append(values) }
        func num(_ x: Double) -> String { x.isFinite ? String(x) : "" }
        for (name, column) in lesions.columns {
            add(name, column.texts ?? (column.numbers ?? []).map(num))
        }
        for path in contents.tables.keys.sorted() where path.hasPrefix("scores/") {
            add("score." + path.dropFirst("scores/".count), try contents.tables[path]!.table.numbers("score").map(num))
        }
        for path in contents.tables.keys.sorted() where path.hasPrefix("plans/") {
            let t = contents.tables[path]!.table
            let sig = path.dropFirst("plans/".count)
            add("plan.\(sig).category", try t.texts("category"))
            add("plan.\(sig).rank", try t.numbers("rank").map(num))
        }
        for region in contents.features.keys.sorted() {
            let m = contents.features[region]!
            for (j, name) in m.names.enumerated() {
                add(region + "." + name, (0..<n).map { num(m[$0, j]) })
            }
        }
        let rows = (0..<n).map { i in columns.map { $0[i] } }
        let text = CSVTable.render(header: header, rows: rows)
        try FileManager.default.createDirectory(at: output.deletingLastPathComponent(), withIntermediateDirectories: true)
        try Data(text.utf8).write(to: output, options: .atomic)
        return (n, header.count)
    }
}
