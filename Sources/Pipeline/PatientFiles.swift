import Foundation
import FeatureStore

/// One patient of a batch (plans, reports) that failed; the batch went on without it.
public struct PatientFailure: Sendable, Equatable, CustomStringConvertible {
    public var patientID: String
    public var message: String

    public init(patientID: String, message: String) {
        self.patientID = patientID
        self.message = message
    }

    public var description: String { "patient \(patientID): \(message)" }
}

/// File names made from patient ids (`<name>.html`, `<name>.pdf`, `<name>.plan.json`, exported targets).
///
/// The rule, stable for a given id (and a given store, for rule 4), and safe on Linux, macOS and Windows
/// file systems:
/// 1. ASCII letters, digits, `-` and `_` are kept; `.` is kept except as the first or last character;
///    everything else (path separators, spaces, non-ASCII letters, control characters) becomes `_`.
///    No name can therefore hold a path separator, start with a dot, or be `.` or `..`.
/// 2. When nothing was replaced, the name has 1 to 100 characters and is not a Windows device name
///    (`CON`, `PRN`, `AUX`, `NUL`, `COM1`-`COM9`, `LPT1`-`LPT9`, also before a dot), the id is the name.
/// 3. Otherwise the name is the first 64 characters of rule 1's result, `-`, and the first 12 hex digits of
///    the SHA-256 of the id's UTF-8 bytes: `../../x` gives `_._.._x-<12 hex>`, a 300-character id
///    64 characters and its hash. Different ids thus never share a name, and every name is ASCII of at most
///    77 characters (far below the 255-byte limit of a file name, with room for suffixes and temporary names).
/// 4. Ids that differ only in letter case (`P1`, `p1`) would share a file on case-insensitive file systems
///    (macOS, Windows): among a store's patients, every such id after the first (store order) takes the
///    hashed name of rule 3. A name still clashing (an id that happens to equal another's hashed name) gets
///    `-2`, `-3`, ... .
public enum PatientFileNames {
    /// Longest name kept as the id itself.
    public static let maxPlainLength = 100
    /// Characters of the readable prefix in a hashed name.
    public static let prefixLength = 64

    static let deviceNames: Set<String> = Set(["CON", "PRN", "AUX", "NUL"] + (1...9).flatMap { ["COM\($0)", "LPT\($0)"] })

    /// The name of one id on its own (rules 1-3).
    public static func name(_ id: String) -> String {
        let (safe, lossless) = sanitised(id)
        let stem = safe.split(separator: ".", maxSplits: 1, omittingEmptySubsequences: false).first.map(String.init) ?? safe
        if lossless, !safe.isEmpty, safe.count <= maxPlainLength, !deviceNames.contains(stem.uppercased()) { return safe }
        return hashed(id, safe: safe)
    }

    /// Names for the ids of a store, in order, with rule 4 applied; equal ids get equal names.
    public static func names(_ ids: [String]) -> [String] {
        var byID: [String: String] = [:]
        var used: Set<String> = []
        return ids.map { id in
            if let known = byID[id] { return known }
            var name = Self.name(id)
            if used.contains(name.lowercased()) { name = hashed(id, safe: sanitised(id).safe) }
            let base = name
            var n = 2
            while used.contains(name.lowercased()) { name = "\(base)-\(n)"; n += 1 }
            used.insert(name.lowercased())
            byID[id] = name
            return name
        }
    }

    /// Rule 1, and whether nothing was replaced.
    static func sanitised(_ id: String) -> (safe: String, lossless: Bool) {
        let scalars = Array(id.unicodeScalars)
        var out = ""
        var lossless = true
        for (i, s) in scalars.enumerated() {
            let ok: Bool
            switch s {
            case "a"..."z", "A"..."Z", "0"..."9", "-", "_": ok = true
            case ".": ok = i != 0 && i != scalars.count - 1
            default: ok = false
            }
            if ok { out.unicodeScalars.append(s) } else { out += "_"; lossless = false }
        }
        return (out, lossless)
    }

    static func hashed(_ id: String, safe: String) -> String {
        var prefix = String(safe.prefix(prefixLength))
        if prefix.hasSuffix(".") { prefix = String(prefix.dropLast()) + "_" }
        if prefix.isEmpty { prefix = "patient" }
        return prefix + "-" + String(SHA256.hex(of: id).prefix(12))
    }
}
