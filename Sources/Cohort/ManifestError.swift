/// One problem found in a cohort manifest, located by file, row and column.
public struct ManifestProblem: Sendable, Hashable, CustomStringConvertible {
    public var file: String
    /// Spreadsheet row number (header = 1), or nil for file-level problems.
    public var row: Int?
    public var column: String?
    public var message: String

    public init(file: String, row: Int?, column: String?, message: String) {
        self.file = file
        self.row = row
        self.column = column
        self.message = message
    }

    public var description: String {
        var where_ = file
        if let row { where_ += " row \(row)" }
        if let column { where_ += " column '\(column)'" }
        return "\(where_): \(message)"
    }
}

/// Every problem found in a manifest, reported together before any work starts,
/// so a researcher fixes the spreadsheet once rather than once per error.
public struct ManifestError: Error, Sendable, CustomStringConvertible {
    public var problems: [ManifestProblem]

    public init(problems: [ManifestProblem]) { self.problems = problems }

    public var description: String {
        let n = problems.count
        return "the cohort manifest has \(n) problem\(n == 1 ? "" : "s"):\n"
            + problems.map { "  - \($0)" }.joined(separator: "\n")
    }
}
