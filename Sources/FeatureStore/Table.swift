/// One column of a `Table`: text or numbers, one value per row.
///
/// Missing numbers are NaN and missing text is the empty string. For
/// equality, NaN equals NaN (both mean "missing").
public enum Column: Equatable, Sendable {
    case text([String])
    case number([Double])

    /// Number of rows.
    public var count: Int {
        switch self {
        case .text(let values): return values.count
        case .number(let values): return values.count
        }
    }

    /// "text" or "number", for messages.
    public var kindName: String {
        switch self {
        case .text: return "text"
        case .number: return "number"
        }
    }

    /// The values of a text column, otherwise nil.
    public var texts: [String]? {
        if case .text(let values) = self { return values }
        return nil
    }

    /// The values of a number column, otherwise nil.
    public var numbers: [Double]? {
        if case .number(let values) = self { return values }
        return nil
    }

    /// The rows at `indices`, in that order.
    public func rows(_ indices: [Int]) -> Column {
        switch self {
        case .text(let values): return .text(indices.map { values[$0] })
        case .number(let values): return .number(indices.map { values[$0] })
        }
    }

    /// A column of the same kind holding `count` missing values.
    func missing(count: Int) -> Column {
        switch self {
        case .text: return .text([String](repeating: "", count: count))
        case .number: return .number([Double](repeating: .nan, count: count))
        }
    }

    func sameKind(as other: Column) -> Bool { kindName == other.kindName }

    public static func == (lhs: Column, rhs: Column) -> Bool {
        switch (lhs, rhs) {
        case (.text(let a), .text(let b)): return a == b
        case (.number(let a), .number(let b)): return sameNumbers(a, b)
        default: return false
        }
    }
}

/// Element-wise equality in which NaN equals NaN.
func sameNumbers(_ a: [Double], _ b: [Double]) -> Bool {
    a.count == b.count && zip(a, b).allSatisfy { $0 == $1 || ($0.isNaN && $1.isNaN) }
}

/// Ordered, named, equal-length columns: a table such as the lesion table of a store.
///
/// Column names must be non-empty, unique and free of "/" (each column becomes
/// an HDF5 dataset of that name).
public struct Table: Equatable, Sendable {
    /// Column names in order.
    public private(set) var columnNames: [String] = []
    private var columnsByName: [String: Column] = [:]
    /// Number of rows (0 for a table without columns).
    public private(set) var rowCount = 0

    /// A table without columns or rows.
    public init() {}

    /// A table of `columns` in the given order; all must have the same length.
    public init(_ columns: KeyValuePairs<String, Column>) throws {
        for (name, column) in columns { try append(name, column) }
    }

    /// A table of `columns` in the given order; all must have the same length.
    public init(columns: [(name: String, column: Column)]) throws {
        for (name, column) in columns { try append(name, column) }
    }

    /// The column called `name`, if any.
    public subscript(name: String) -> Column? { columnsByName[name] }

    /// The columns in order.
    public var columns: [(name: String, column: Column)] {
        columnNames.map { ($0, columnsByName[$0]!) }
    }

    public var isEmpty: Bool { columnNames.isEmpty }

    /// Adds a column after the existing ones.
    public mutating func append(_ name: String, _ column: Column) throws {
        try Table.checkName(name)
        try Table.checkText(name, column)
        guard columnsByName[name] == nil else { throw FeatureStoreError.invalidTable("duplicate column '\(name)'") }
        if !columnNames.isEmpty && column.count != rowCount {
            throw FeatureStoreError.invalidTable(
                "column '\(name)' has \(column.count) rows but the table has \(rowCount)")
        }
        if columnNames.isEmpty { rowCount = column.count }
        columnNames.append(name)
        columnsByName[name] = column
    }

    /// Replaces the values of an existing column, or appends a new one.
    public mutating func set(_ name: String, _ column: Column) throws {
        guard columnsByName[name] != nil else { return try append(name, column) }
        try Table.checkText(name, column)
        guard columnNames.count == 1 || column.count == rowCount else {
            throw FeatureStoreError.invalidTable(
                "column '\(name)' has \(column.count) rows but the table has \(rowCount)")
        }
        rowCount = column.count
        columnsByName[name] = column
    }

    /// The values of text column `name`; throws when missing or numeric.
    public func texts(_ name: String) throws -> [String] {
        guard let column = columnsByName[name] else { throw FeatureStoreError.invalidTable("no column '\(name)'") }
        guard let values = column.texts else {
            throw FeatureStoreError.invalidTable("column '\(name)' holds numbers, not text")
        }
        return values
    }

    /// The values of number column `name`; throws when missing or text.
    public func numbers(_ name: String) throws -> [Double] {
        guard let column = columnsByName[name] else { throw FeatureStoreError.invalidTable("no column '\(name)'") }
        guard let values = column.numbers else {
            throw FeatureStoreError.invalidTable("column '\(name)' holds text, not numbers")
        }
        return values
    }

    /// The rows at `indices`, in that order, with all columns.
    public func rows(_ indices: [Int]) -> Table {
        var table = Table()
        table.columnNames = columnNames
        table.columnsByName = columnsByName.mapValues { $0.rows(indices) }
        table.rowCount = columnNames.isEmpty ? 0 : indices.count
        return table
    }

    /// The same table with the named columns (those present) moved to the front, in that order.
    public func movingToFront(_ names: [String]) -> Table {
        var table = self
        let front = names.filter { columnsByName[$0] != nil }
        table.columnNames = front + columnNames.filter { !front.contains($0) }
        return table
    }

    /// The rows of `tables` one after another. Columns are the union of all
    /// tables' columns in first-seen order; rows lacking a column get missing
    /// values (NaN or ""). A column must have the same kind in every table.
    public static func concatenating(_ tables: [Table]) throws -> Table {
        var order: [String] = []
        var prototypes: [String: Column] = [:]
        for table in tables {
            for (name, column) in table.columns {
                if let seen = prototypes[name] {
                    guard seen.sameKind(as: column) else {
                        throw FeatureStoreError.invalidTable(
                            "column '\(name)' holds \(seen.kindName) in one table and \(column.kindName) in another")
                    }
                } else {
                    prototypes[name] = column
                    order.append(name)
                }
            }
        }
        var result = Table()
        for name in order {
            var texts: [String] = []
            var numbers: [Double] = []
            for table in tables {
                switch table[name] ?? prototypes[name]!.missing(count: table.rowCount) {
                case .text(let values): texts += values
                case .number(let values): numbers += values
                }
            }
            try result.append(name, prototypes[name]!.texts != nil ? .text(texts) : .number(numbers))
        }
        return result
    }

    /// Text holding a NUL is refused: HDF5 text ends at the first NUL, so "P\0X" and "P\0Y" would both be
    /// stored as "P".
    static func checkText(_ name: String, _ column: Column) throws {
        guard let values = column.texts, let row = values.firstIndex(where: { $0.utf8.contains(0) }) else { return }
        throw FeatureStoreError.invalidTable(
            "column '\(name)' row \(row + 1) holds a NUL character, which the store's text cannot hold (it would be cut there)")
    }

    static func checkName(_ name: String) throws {
        guard !name.isEmpty, !name.contains("/"), name != "." else {
            throw FeatureStoreError.invalidTable("column name '\(name)' must be non-empty, not '.', and free of '/'")
        }
    }

    public static func == (lhs: Table, rhs: Table) -> Bool {
        lhs.columnNames == rhs.columnNames && lhs.rowCount == rhs.rowCount && lhs.columnsByName == rhs.columnsByName
    }
}
