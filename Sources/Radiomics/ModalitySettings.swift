import Foundation
import ImagingCore

/// The extraction settings of each modality: the same settings for every modality (a plain preset or
/// settings file, LesionMap's meaning before modalities), or one set per modality
/// (`--preset ct=default,pt=pet-default`).
///
/// The store records them as `settings_json`: for `everyModality`, exactly the JSON of the settings
/// (so stores and signatures made before modalities compare equal); per modality, the object
/// `{"modalities":{"CT":{...},"PT":{...}}}` (sorted keys), which is also a valid settings file.
public enum ModalitySettings: Hashable, Sendable {
    case everyModality(ExtractionSettings)
    /// Keys are modality codes of `Modality.known` (upper case).
    case perModality([String: ExtractionSettings])

    /// The key of the per-modality JSON form.
    public static let modalitiesKey = "modalities"

    /// The settings for a scan of `modality`, nil when none are given for it.
    public func settings(for modality: String) -> ExtractionSettings? {
        switch self {
        case .everyModality(let s): return s
        case .perModality(let map): return map[modality.uppercased()]
        }
    }

    /// Every settings set with the modality it is for (nil: every modality), modalities in `Modality.known` order.
    public var all: [(modality: String?, settings: ExtractionSettings)] {
        switch self {
        case .everyModality(let s): return [(nil, s)]
        case .perModality(let map):
            return map.keys.sorted { (Modality.known.firstIndex(of: $0) ?? 99, $0) < (Modality.known.firstIndex(of: $1) ?? 99, $1) }
                .map { ($0, map[$0]!) }
        }
    }

    /// The settings of a `--preset` value: a preset name for every modality (`default`), or
    /// comma-separated `modality=preset` pairs (`ct=default,pt=pet-default`), modalities
    /// case-insensitive and each named once. Errors name the option, the value and what is wrong.
    public static func preset(_ spec: String, option: String = "--preset") throws -> ModalitySettings {
        guard spec.contains("=") else { return .everyModality(try ExtractionSettings.preset(named: spec.trimmingCharacters(in: .whitespaces))) }
        var map: [String: ExtractionSettings] = [:]
        for (key, value) in try pairs(spec, option: option, what: "preset") {
            do {
                map[key] = try ExtractionSettings.preset(named: value)
            } catch let e as RadiomicsError {
                throw RadiomicsError.invalidSettings("\(option) '\(spec)': \(key.lowercased())=\(value): \(e)")
            }
        }
        return .perModality(map)
    }

    /// The `modality=value` pairs of `spec` (modality codes upper case), in order; refuses an empty
    /// pair, a pair without '=', an unknown modality, an empty value and a modality named twice.
    public static func pairs(_ spec: String, option: String, what: String) throws -> [(String, String)] {
        let known = Modality.known.map { $0.lowercased() }.joined(separator: ", ")
        func fail(_ message: String) -> RadiomicsError {
            RadiomicsError.invalidSettings("\(option) '\(spec)': \(message); write one \(what) for every modality (\(option) NAME) or modality=\(what) pairs separated by commas, e.g. ct=default,pt=pet-default (modalities: \(known))")
        }
        var out: [(String, String)] = []
        for part in spec.split(separator: ",", omittingEmptySubsequences: false).map({ $0.trimmingCharacters(in: .whitespaces) }) {
            guard !part.isEmpty else { throw fail("an empty item (two commas, or a comma at an end)") }
            guard let eq = part.firstIndex(of: "=") else { throw fail("'\(part)' has no modality (modality=\(what))") }
            let name = part[..<eq].trimmingCharacters(in: .whitespaces)
            let value = part[part.index(after: eq)...].trimmingCharacters(in: .whitespaces)
            guard let code = Modality.code(name) else {
                throw fail("unknown modality '\(name)'")
            }
            guard !value.isEmpty else { throw fail("no \(what) after '\(name)='") }
            if out.contains(where: { $0.0 == code }) { throw fail("modality \(name.lowercased()) is named twice") }
            out.append((code, value))
        }
        return out
    }

    /// These settings with `change` made to every modality's settings.
    public func map(_ change: (inout ExtractionSettings) -> Void) -> ModalitySettings {
        switch self {
        case .everyModality(var s): change(&s); return .everyModality(s)
        case .perModality(var map):
            for k in map.keys { change(&map[k]!) }
            return .perModality(map)
        }
    }

    /// These settings with the command-line changes applied to every modality's settings; problems
    /// name the modality they belong to.
    public func applying(_ overrides: SettingsOverrides) throws -> ModalitySettings {
        switch self {
        case .everyModality(let s): return .everyModality(try overrides.applied(to: s))
        case .perModality:
            var out: [String: ExtractionSettings] = [:]
            for (m, s) in all {
                do {
                    out[m!] = try overrides.applied(to: s)
                } catch RadiomicsError.invalidSettings(let text) {
                    throw RadiomicsError.invalidSettings("settings for \(m!): \(text)")
                }
            }
            return .perModality(out)
        }
    }

    /// The JSON recorded in stores and compared by signatures (sorted keys, stable): for
    /// `everyModality` the settings' own JSON, unchanged from before modalities existed.
    public func json() throws -> String {
        let enc = JSONEncoder()
        enc.outputFormatting = [.sortedKeys]
        switch self {
        case .everyModality(let s): return String(decoding: try enc.encode(s), as: UTF8.self)
        case .perModality(let map): return String(decoding: try enc.encode([Self.modalitiesKey: map]), as: UTF8.self)
        }
    }

    /// Settings from their JSON (a store's `settings_json` or a settings file): the per-modality object
    /// when it has the key `modalities`, else one settings object for every modality. Throws the
    /// decoder's error (callers turn it into a message by key); an unknown or repeated modality key,
    /// or an empty `modalities`, is `RadiomicsError.invalidSettings`.
    public static func decode(_ data: Data) throws -> ModalitySettings {
        let top = try? JSONSerialization.jsonObject(with: data) as? [String: Any]
        guard top?[modalitiesKey] != nil else {
            return .everyModality(try JSONDecoder().decode(ExtractionSettings.self, from: data))
        }
        let raw = try JSONDecoder().decode([String: [String: ExtractionSettings]].self, from: data)
        if let extra = raw.keys.first(where: { $0 != modalitiesKey }) {
            throw RadiomicsError.invalidSettings("key '\(extra)' beside '\(modalitiesKey)': a per-modality settings file holds only {\"\(modalitiesKey)\": {\"CT\": {...}, \"PT\": {...}}}")
        }
        var map: [String: ExtractionSettings] = [:]
        for (key, s) in raw[modalitiesKey]!.sorted(by: { $0.key < $1.key }) {
            guard let code = Modality.code(key) else {
                throw RadiomicsError.invalidSettings("\(modalitiesKey).\(key): unknown modality; known: \(Modality.known.joined(separator: ", "))")
            }
            guard map[code] == nil else { throw RadiomicsError.invalidSettings("\(modalitiesKey): modality \(code) is given twice") }
            map[code] = s
        }
        guard !map.isEmpty else { throw RadiomicsError.invalidSettings("\(modalitiesKey): no modality is given") }
        return .perModality(map)
    }

    /// Each modality's settings checked against `SettingsBounds` (`ExtractionSettings.validated(in:)`),
    /// problems prefixed with `source` and the modality.
    public func validated(in source: String? = nil) throws -> ModalitySettings {
        for (m, s) in all {
            let place = [source, m.map { "settings for \($0)" }].compactMap { $0 }.joined(separator: ", ")
            _ = try s.validated(in: place.isEmpty ? nil : place)
        }
        return self
    }
}
