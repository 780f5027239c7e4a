/// Feature values of one region for a set of lesions: one row per lesion,
/// one column per named feature, stored row-major.
///
/// Missing values are NaN; for equality, NaN equals NaN.
public struct FeatureMatrix: Equatable, Sendable {
    /// Feature names, one per column; unique.
    public private(set) var names: [String]
    /// Values row by row: (row r, feature c) is `values[r * names.count + c]`.
    public private(set) var values: [Double]
    /// Number of rows (lesions).
    public let rowCount: Int

    /// A matrix of `rowCount` rows over `names`, from row-major `values`.
    public init(names: [String], rowCount: Int, values: [Double]) throws {
        guard Set(names).count == names.count else {
            let duplicates = Dictionary(grouping: names, by: { $0 }).filter { $0.value.count > 1 }.keys.sorted()
            throw FeatureStoreError.invalidTable("duplicate feature names: \(duplicates.joined(separator: ", "))")
        }
        guard rowCount >= 0, values.count == rowCount * names.count else {
            throw FeatureStoreError.invalidTable(
                "\(rowCount) rows of \(names.count) features need \(rowCount * names.count) values, got \(values.count)")
        }
        self.names = names
        self.rowCount = rowCount
        self.values = values
    }

    /// A matrix from its rows, each holding one value per name.
    public init(names: [String], rows: [[Double]]) throws {
        if let bad = rows.firstIndex(where: { $0.count != names.count }) {
            throw FeatureStoreError.invalidTable(
                "row \(bad) has \(rows[bad].count) values but there are \(names.count) feature names")
        }
        try self.init(names: names, rowCount: rows.count, values: rows.flatMap { $0 })
    }

    /// The checks were made by the caller.
    private init(checkedNames names: [String], rowCount: Int, values: [Double]) {
        self.names = names
        self.rowCount = rowCount
        self.values = values
    }

    /// `rowCount` rows without features.
    public init(rowCount: Int) {
        self.names = []
        self.rowCount = rowCount
        self.values = []
    }

    public var columnCount: Int { names.count }

    public subscript(row: Int, column: Int) -> Double { values[row * names.count + column] }

    /// The values of row `index`.
    public func row(_ index: Int) -> [Double] {
        Array(values[(index * names.count)..<((index + 1) * names.count)])
    }

    /// The values of feature `name` for every row, or nil when absent.
    public func column(named name: String) -> [Double]? {
        guard let c = names.firstIndex(of: name) else { return nil }
        return (0..<rowCount).map { values[$0 * names.count + c] }
    }

    /// The rows at `indices`, in that order.
    public func rows(_ indices: [Int]) -> FeatureMatrix {
        var picked: [Double] = []
        picked.reserveCapacity(indices.count * names.count)
        for index in indices { picked += values[(index * names.count)..<((index + 1) * names.count)] }
        return FeatureMatrix(checkedNames: names, rowCount: indices.count, values: picked)
    }

    /// The rows of `matrices` one after another. Columns are the union of all
    /// names in first-seen order; rows lacking a feature hold NaN.
    public static func concatenating(_ matrices: [FeatureMatrix]) -> FeatureMatrix {
        // Consecutive matrices usually share their names; their column mapping is then reused.
        var names: [String] = []
        var position: [String: Int] = [:]
        var previousNames: [String]? = nil
        for matrix in matrices where matrix.names != previousNames {
            for name in matrix.names where position[name] == nil {
                position[name] = names.count
                names.append(name)
            }
            previousNames = matrix.names
        }
        let total = matrices.reduce(0) { $0 + $1.rowCount }
        var values = [Double](repeating: .nan, count: total * names.count)
        var rowOffset = 0
        previousNames = nil
        var targets: [Int] = []
        for matrix in matrices {
            if matrix.names != previousNames {
                targets = matrix.names.map { position[$0]! }
                previousNames = matrix.names
            }
            for r in 0..<matrix.rowCount {
                let destination = (rowOffset + r) * names.count
                let source = r * matrix.names.count
                for (c, target) in targets.enumerated() { values[destination + target] = matrix.values[source + c] }
            }
            rowOffset += matrix.rowCount
        }
        return FeatureMatrix(checkedNames: names, rowCount: total, values: values)
    }

    public static func == (lhs: FeatureMatrix, rhs: FeatureMatrix) -> Bool {
        lhs.names == rhs.names && lhs.rowCount == rhs.rowCount && sameNumbers(lhs.values, rhs.values)
    }
}
