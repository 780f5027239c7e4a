import Foundation
import ImagingCore

/// NRRD images (`.nrrd` with attached data, `.nhdr` with a separate data file), as written by
/// 3D Slicer, ITK and teem.
///
/// Three-dimensional scalar volumes with raw or gzip encoding are read; world coordinates
/// are converted to LPS as ITK/SimpleITK report them (RAS and LAS spaces are flipped,
/// LPS and unnamed spaces are taken as they are).
public enum NRRD {
    /// The image as floating-point values.
    public static func readImage(_ url: URL) throws -> Volume<Float> {
        let (grid, voxels) = try load(url)
        return Volume(grid: grid, voxels: voxels.floats())
    }

    /// The image as integer labels (0 = background); throws when a value is not a whole
    /// number in the `Int32` range.
    public static func readLabelMap(_ url: URL) throws -> LabelMap {
        let (grid, voxels) = try load(url)
        return LabelMap(grid: grid, voxels: try voxels.integers(file: url))
    }

    private static func load(_ url: URL) throws -> (ImageGrid, RawVoxels) {
        let file = try readFileBytes(url)
        let header = try NRRDHeader(file: file, url: url)
        return (header.grid, try header.voxels(headerFile: file, url: url))
    }
}

/// The fields of a NRRD header needed to read a 3D scalar volume.
struct NRRDHeader {
    enum Encoding { case raw, gzip }

    var type: ScalarType
    var bigEndian: Bool
    var encoding: Encoding
    var grid: ImageGrid
    /// Where the data starts in the header file itself, when it is attached.
    var attachedDataOffset: Int?
    /// The separate data file of a detached header.
    var dataFile: URL?
    var lineSkip: Int
    var byteSkip: Int

    init(file: Data, url: URL) throws {
        func fail(_ reason: String) -> ImageIOError { ImageIOError(file: url, reason: reason) }
        let (fields, dataOffset) = try Self.fields(of: file, url: url)
        func field(_ names: String...) -> String? { names.lazy.compactMap { fields[$0] }.first }
        func integer(_ name: String, _ text: String) throws -> Int {
            guard let v = Int(text) else { throw fail("has a malformed \"\(name)\" field: \(text)") }
            return v
        }

        guard let typeName = field("type") else { throw fail("has no \"type\" field") }
        guard let type = Self.scalarType(typeName) else {
            throw fail("has unsupported voxel type \"\(typeName)\"; supported: signed and unsigned 8 to 64-bit "
                       + "integers, float and double")
        }
        self.type = type
        guard let dimensionText = field("dimension") else { throw fail("has no \"dimension\" field") }
        let dimension = try integer("dimension", dimensionText)
        guard let sizesText = field("sizes") else { throw fail("has no \"sizes\" field") }
        let sizes = try Self.words(sizesText).map { try integer("sizes", $0) }
        guard sizes.count == dimension, sizes.allSatisfy({ $0 >= 1 }) else {
            throw fail("has \"sizes: \(sizesText)\", which does not give \(dimension) positive sizes")
        }
        if let kindsText = field("kinds") {
            let kinds = Self.words(kindsText)
            guard kinds.count == dimension else {
                throw fail("has \(kinds.count) \"kinds\" for \(dimension) axes")
            }
            for (axis, kind) in kinds.enumerated() where !["domain", "space", "???", "none"].contains(kind.lowercased()) {
                throw fail("axis \(axis) has kind \"\(kind)\" (\(sizes[axis]) entries); only scalar volumes "
                           + "with three spatial (domain) axes are supported")
            }
        }
        guard dimension == 3 else {
            throw fail("has dimension \(dimension); only 3D volumes are supported")
        }
        let size = Size3(sizes[0], sizes[1], sizes[2])
        let product = sizes.reduce((1, false)) { acc, n in
            let (v, overflow) = acc.0.multipliedReportingOverflow(by: n)
            return (v, acc.1 || overflow)
        }
        guard !product.1, product.0 <= Int.max / 8 else {
            throw fail("has sizes \(sizesText), too large to hold in memory")
        }

        switch field("endian")?.lowercased() {
        case nil, "little": bigEndian = false
        case "big": bigEndian = true
        case let other?: throw fail("has unknown endian \"\(other)\"")
        }
        switch field("encoding")?.lowercased() {
        case "raw": encoding = .raw
        case "gzip", "gz": encoding = .gzip
        case nil: throw fail("has no \"encoding\" field")
        case let other?: throw fail("has encoding \"\(other)\"; only raw and gzip are supported")
        }
        lineSkip = try field("line skip", "lineskip").map { try integer("line skip", $0) } ?? 0
        byteSkip = try field("byte skip", "byteskip").map { try integer("byte skip", $0) } ?? 0
        guard lineSkip >= 0, byteSkip >= -1 else { throw fail("has a negative line or byte skip") }
        if byteSkip == -1 && encoding != .raw {
            throw fail("has \"byte skip: -1\", which only raw encoding allows")
        }

        if let name = field("data file", "datafile") {
            guard !name.hasPrefix("LIST"), Self.words(name).count == 1 else {
                throw fail("spreads its data over several files (\"data file: \(name)\"), which is not supported")
            }
            dataFile = name.hasPrefix("/") ? URL(fileURLWithPath: name)
                : url.deletingLastPathComponent().appendingPathComponent(name)
            attachedDataOffset = nil
        } else {
            guard let offset = dataOffset else {
                throw fail("has neither attached data (after a blank line) nor a \"data file\" field")
            }
            dataFile = nil
            attachedDataOffset = offset
        }

        grid = try Self.grid(size: size, fields: fields, url: url)
    }

    /// The voxel values, read from the attached data or the data file.
    func voxels(headerFile: Data, url: URL) throws -> RawVoxels {
        let source = dataFile ?? url
        var stored: Data
        if let dataFile {
            if let kind = nonRegularFileKind(dataFile) {
                throw ImageIOError(file: url, reason: "names the data file \(dataFile.path), which is \(kind), "
                                   + "not a regular file")
            }
            guard let contents = try? Data(contentsOf: dataFile, options: .mappedIfSafe) else {
                throw ImageIOError(file: url, reason: "names the data file \(dataFile.path), which cannot be read")
            }
            stored = contents
        } else {
            stored = headerFile[(headerFile.startIndex + attachedDataOffset!)...]
        }
        for _ in 0..<lineSkip {
            guard let newline = stored.firstIndex(of: 0x0a) else {
                throw ImageIOError(file: source, reason: "has fewer lines than \"line skip: \(lineSkip)\"")
            }
            stored = stored[(newline + 1)...]
        }
        let count = grid.voxelCount
        let needed = count * type.byteCount
        if encoding == .gzip {
            // No more is decompressed than the header describes (byte skip, then the voxels).
            let described = max(0, byteSkip).addingReportingOverflow(needed)
            stored = try gunzip(stored, file: source, describedBytes: described.overflow ? .max : described.partialValue,
                                what: "the NRRD header (\(grid.size) \(type.rawValue) voxels after a byte skip of "
                                    + "\(max(0, byteSkip))) describes")
        }
        let start: Int
        if byteSkip == -1 {
            start = max(0, stored.count - needed)
        } else {
            start = byteSkip
        }
        guard stored.count - start >= needed else {
            throw ImageIOError(file: source, reason: "data size mismatch: \(grid.size) \(type.rawValue) voxels need "
                               + "\(needed) bytes of data, but only \(max(0, stored.count - start)) are present")
        }
        return RawVoxels(bytes: stored, offset: start, count: count, type: type, bigEndian: bigEndian)
    }

    // MARK: - Header text

    /// The header's fields (lower-cased names) and the offset just past the blank line that ends
    /// an attached header, if there is one. Comments and key/value pairs are skipped.
    private static func fields(of file: Data, url: URL) throws -> ([String: String], Int?) {
        var fields = [String: String]()
        var lineStart = file.startIndex
        var isFirst = true
        var lineNumber = 0
        while lineStart < file.endIndex {
            lineNumber += 1
            let newline = file[lineStart...].firstIndex(of: 0x0a)
            let lineEnd = newline ?? file.endIndex
            var line = String(decoding: file[lineStart..<lineEnd], as: UTF8.self)
            if line.hasSuffix("\r") { line.removeLast() }
            let next = newline.map { $0 + 1 } ?? file.endIndex
            if isFirst {
                guard line.hasPrefix("NRRD000") else {
                    throw ImageIOError(file: url, reason: "is not a NRRD file: it does not start with \"NRRD000x\"")
                }
                isFirst = false
            } else if line.isEmpty {
                return (fields, next - file.startIndex)
            } else if !line.hasPrefix("#") {
                let keyValue = line.range(of: ":=")
                guard let colon = line.range(of: ": ") else {
                    if keyValue != nil { lineStart = next; continue }
                    throw ImageIOError(file: url, reason: "has a malformed header line \(lineNumber): "
                                       + Self.shown(line))
                }
                if let kv = keyValue, kv.lowerBound < colon.lowerBound { lineStart = next; continue }
                let name = line[..<colon.lowerBound].trimmingCharacters(in: .whitespaces).lowercased()
                fields[name] = line[colon.upperBound...].trimmingCharacters(in: .whitespaces)
            }
            lineStart = next
        }
        if isFirst {
            throw ImageIOError(file: url, reason: "is empty, not a NRRD file")
        }
        return (fields, nil)
    }

    /// A header line as an error message shows it: at most 80 characters, and binary bytes (voxel data
    /// read as text when the blank line ending an attached header is missing) described, not echoed.
    static func shown(_ line: String) -> String {
        let binary = line.unicodeScalars.contains { ($0.value < 0x20 && $0 != "\t") || $0.value == 0x7F || $0 == "\u{FFFD}" }
        if binary {
            return "binary bytes, not text (is the blank line that ends an attached header missing?)"
        }
        return line.count > 80 ? "\"\(line.prefix(80))...\"" : "\"\(line)\""
    }

    private static func words(_ text: String) -> [String] {
        text.split(whereSeparator: { $0 == " " || $0 == "\t" }).map(String.init)
    }

    /// teem's type names and their aliases.
    static func scalarType(_ name: String) -> ScalarType? {
        switch words(name.lowercased()).joined(separator: " ") {
        case "signed char", "int8", "int8_t": return .int8
        case "uchar", "unsigned char", "uint8", "uint8_t": return .uint8
        case "short", "short int", "signed short", "signed short int", "int16", "int16_t": return .int16
        case "ushort", "unsigned short", "unsigned short int", "uint16", "uint16_t": return .uint16
        case "int", "signed int", "int32", "int32_t": return .int32
        case "uint", "unsigned int", "uint32", "uint32_t": return .uint32
        case "longlong", "long long", "long long int", "signed long long", "signed long long int", "int64",
             "int64_t":
            return .int64
        case "ulonglong", "unsigned long long", "unsigned long long int", "uint64", "uint64_t": return .uint64
        case "float": return .float32
        case "double": return .float64
        default: return nil
        }
    }

    // MARK: - Geometry

    /// How a NRRD space maps to LPS: the signs applied to x and y.
    private static func lpsSigns(space: String, url: URL) throws -> (x: Double, y: Double) {
        switch space.lowercased() {
        case "left-posterior-superior", "lps": return (1, 1)
        case "right-anterior-superior", "ras": return (-1, -1)
        case "left-anterior-superior", "las": return (1, -1)
        case "scanner-xyz", "3d-right-handed", "3d-left-handed": return (1, 1)
        case "right-anterior-superior-time", "rast", "left-anterior-superior-time", "last",
             "left-posterior-superior-time", "lpst", "scanner-xyz-time", "3d-right-handed-time",
             "3d-left-handed-time":
            throw ImageIOError(file: url, reason: "has a space with a time axis (\"\(space)\"); only 3D volumes are supported")
        default:
            throw ImageIOError(file: url, reason: "has unknown or non-3D space \"\(space)\"")
        }
    }

    /// Parses "(x,y,z)" vectors and "none" entries.
    private static func vectors(_ text: String, url: URL) throws -> [[Double]?] {
        var result = [[Double]?]()
        var rest = Substring(text)
        while let first = rest.first(where: { !$0.isWhitespace }) {
            rest = rest.drop(while: { $0.isWhitespace })
            if first == "(" {
                guard let close = rest.firstIndex(of: ")") else {
                    throw ImageIOError(file: url, reason: "has an unterminated vector in \"\(text)\"")
                }
                let parts = rest[rest.index(after: rest.startIndex)..<close].split(separator: ",")
                let numbers = parts.compactMap { Double($0.trimmingCharacters(in: .whitespaces)) }
                guard numbers.count == parts.count, numbers.count == 3 else {
                    throw ImageIOError(file: url, reason: "has a malformed 3D vector in \"\(text)\"")
                }
                result.append(numbers)
                rest = rest[rest.index(after: close)...]
            } else {
                let word = rest.prefix(while: { !$0.isWhitespace })
                guard word.lowercased() == "none" else {
                    throw ImageIOError(file: url, reason: "has a malformed vector list \"\(text)\"")
                }
                result.append(nil)
                rest = rest.dropFirst(word.count)
            }
        }
        return result
    }

    private static func grid(size: Size3, fields: [String: String], url: URL) throws -> ImageGrid {
        func fail(_ reason: String) -> ImageIOError { ImageIOError(file: url, reason: reason) }
        var signs = (x: 1.0, y: 1.0)
        if let space = fields["space"] {
            signs = try lpsSigns(space: space, url: url)
        } else if let spaceDimension = fields["space dimension"], spaceDimension != "3" {
            throw fail("has \"space dimension: \(spaceDimension)\"; only 3D spaces are supported")
        }

        var spacing = Vector3(1, 1, 1)
        var direction = Matrix3.identity
        if let text = fields["space directions"] {
            let axes = try vectors(text, url: url)
            guard axes.count == 3 else { throw fail("has \(axes.count) \"space directions\" for 3 axes") }
            var columns = [Vector3]()
            for (axis, vector) in axes.enumerated() {
                guard let v = vector else { throw fail("has no space direction for spatial axis \(axis)") }
                let world = Vector3(signs.x * v[0], signs.y * v[1], v[2])
                let length = world.length
                guard length.isFinite, length > 0 else {
                    throw fail("has invalid voxel spacing along axis \(axis): space direction \(text) "
                               + "must be non-zero and finite")
                }
                spacing[axis] = length
                columns.append((1 / length) * world)
            }
            direction = Matrix3(columns: columns[0], columns[1], columns[2])
        } else if let text = fields["spacings"] {
            let values = words(text).map { Double($0) }
            guard values.count == 3, values.allSatisfy({ $0 != nil }) else {
                throw fail("has malformed \"spacings: \(text)\"")
            }
            for axis in 0..<3 {
                let s = values[axis]!
                guard s.isFinite, s > 0 else {
                    throw fail("has invalid voxel spacing \(s) along axis \(axis) (must be positive and finite)")
                }
                spacing[axis] = s
            }
        }

        var origin = Vector3.zero
        if let text = fields["space origin"] {
            let parsed = try vectors(text, url: url)
            guard parsed.count == 1, let o = parsed[0], o.allSatisfy({ $0.isFinite }) else {
                throw fail("has malformed \"space origin: \(text)\"")
            }
            origin = Vector3(signs.x * o[0], signs.y * o[1], o[2])
        }
        let grid = ImageGrid(size: size, spacing: spacing, origin: origin, direction: direction)
        do {
            try grid.validate()
        } catch {
            throw fail("has unusable geometry: \(error)")
        }
        return grid
    }
}
