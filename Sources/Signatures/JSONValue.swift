import Foundation

/// Any JSON value, for settings that are compared key by key rather than interpreted.
public enum JSONValue: Codable, Sendable, Hashable, CustomStringConvertible {
    case null
    case bool(Bool)
    case number(Double)
    case string(String)
    case array([JSONValue])
    case object([String: JSONValue])

    public init(from decoder: Decoder) throws {
        let c = try decoder.singleValueContainer()
        if c.decodeNil() { self = .null }
        else if let b = try? c.decode(Bool.self) { self = .bool(b) }
        else if let n = try? c.decode(Double.self) { self = .number(n) }
        else if let s = try? c.decode(String.self) { self = .string(s) }
        else if let a = try? c.decode([JSONValue].self) { self = .array(a) }
        else { self = .object(try c.decode([String: JSONValue].self)) }
    }

    public func encode(to encoder: Encoder) throws {
        var c = encoder.singleValueContainer()
        switch self {
        case .null: try c.encodeNil()
        case .bool(let b): try c.encode(b)
        case .number(let n): try c.encode(n)
        case .string(let s): try c.encode(s)
        case .array(let a): try c.encode(a)
        case .object(let o): try c.encode(o)
        }
    }

    /// Parses JSON text.
    public static func parse(_ text: String) throws -> JSONValue {
        try JSONDecoder().decode(JSONValue.self, from: Data(text.utf8))
    }

    public var description: String {
        let enc = JSONEncoder()
        enc.outputFormatting = [.sortedKeys]
        return (try? String(decoding: enc.encode(self), as: UTF8.self)) ?? "?"
    }

    /// Paths where `self` (the required subset) differs from `actual`: every key of `self` must be present
    /// in `actual` with an equal value; numbers compare with a relative tolerance of 1e-9.
    public func differences(from actual: JSONValue, path: String = "") -> [String] {
        switch (self, actual) {
        case let (.object(want), .object(have)):
            return want.keys.sorted().flatMap { key -> [String] in
                let p = path.isEmpty ? key : path + "." + key
                guard let h = have[key] else { return ["\(p): required \(want[key]!), not recorded in the store"] }
                return want[key]!.differences(from: h, path: p)
            }
        case let (.number(a), .number(b)):
            return abs(a - b) <= 1e-9 * max(1, abs(a), abs(b)) ? [] : ["\(path): signature needs \(a), store has \(b)"]
        case let (.array(a), .array(b)) where a.count == b.count:
            return zip(a, b).enumerated().flatMap { $0.element.0.differences(from: $0.element.1, path: "\(path)[\($0.offset)]") }
        default:
            return self == actual ? [] : ["\(path): signature needs \(self), store has \(actual)"]
        }
    }
}
