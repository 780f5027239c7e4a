import Foundation

/// A parsed CSV file: a header and rows of fields (RFC 4180: quoted fields may hold commas,
/// doubled quotes and line breaks). Row numbers are the 1-based line numbers a spreadsheet shows,
/// header = row 1, so error messages point where a researcher will look.
public struct CSVTable: Sendable {
    public var header: [String]
    /// Data rows with the spreadsheet row number of each.
    public var rows: [(number: Int, fields: [String])]

    public init(header: [String], rows: [(number: Int, fields: [String])]) {
        self.header = header
        self.rows = rows
    }

    /// Parses CSV text. Throws when a quoted field never closes.
    ///
    /// Line endings may be LF, CRLF or a lone CR (old Mac OS and some spreadsheet exports); inside a
    /// quoted field they are kept as written. A leading UTF-8 byte-order mark is skipped.
    public static func parse(_ text: String, file: String = "") throws -> CSVTable {
        var records: [(Int, [String])] = []
        var field = ""
        var record: [String] = []
        var inQuotes = false
        var line = 1
        var recordStart = 1
        var chars = Array(text.unicodeScalars)
        if chars.first == "\u{FEFF}" { chars.removeFirst() }  // byte-order mark from spreadsheet exports
        var i = 0
        var fieldWasQuoted = false
        func endRecord() {
            record.append(field)
            // Skip lines that are entirely empty.
            if !(record.count == 1 && record[0].isEmpty && !fieldWasQuoted) {
                records.append((recordStart, record))
            }
            record = []
            field = ""
            fieldWasQuoted = false
        }
        while i < chars.count {
            let c = chars[i]
            if inQuotes {
                if c == "\"" {
                    if i + 1 < chars.count && chars[i + 1] == "\"" {
                        field.unicodeScalars.append("\"")
                        i += 1
                    } else {
                        inQuotes = false
                    }
                } else {
                    // A line break inside quotes: CRLF counts once, a lone CR or LF once each.
                    if c == "\n" || (c == "\r" && !(i + 1 < chars.count && chars[i + 1] == "\n")) { line += 1 }
                    field.unicodeScalars.append(c)
                }
            } else {
                switch c {
                case "\"":
                    inQuotes = true
                    fieldWasQuoted = true
                case ",":
                    record.append(field)
                    field = ""
                case "\r", "\n":
                    if c == "\r" && i + 1 < chars.count && chars[i + 1] == "\n" { i += 1 }  // CRLF
                    endRecord()
                    line += 1
                    recordStart = line
                default:
                    field.unicodeScalars.append(c)
                }
            }
            i += 1
        }
        if inQuotes {
            throw ManifestError(problems: [ManifestProblem(file: file, row: recordStart, column: nil,
                                                           message: "a quoted field starting here is never closed")])
        }
        if !field.isEmpty || !record.isEmpty || fieldWasQuoted { endRecord() }
        guard let first = records.first else { return CSVTable(header: [], rows: []) }
        return CSVTable(header: first.1.map { $0.trimmingCharacters(in: .whitespaces) },
                        rows: records.dropFirst().map { (number: $0.0, fields: $0.1) })
    }

    /// Writes rows as CSV, quoting only where needed.
    public static func render(header: [String], rows: [[String]]) -> String {
        func quote(_ s: String) -> String {
            guard s.contains(where: { $0 == "," || $0 == "\"" || $0 == "\n" || $0 == "\r" }) else { return s }
            return "\"" + s.replacingOccurrences(of: "\"", with: "\"\"") + "\""
        }
        var out = header.map(quote).joined(separator: ",") + "\n"
        for r in rows { out += r.map(quote).joined(separator: ",") + "\n" }
        return out
    }
}
