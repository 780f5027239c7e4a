import Foundation
import Cohort
import Radiomics

/// A JSON input file (extraction settings) that cannot be used: the file and what is wrong, by line or key.
public struct JSONFileError: Error, Sendable, CustomStringConvertible {
    public var path: String
    public var message: String
    public var description: String { "\(path): \(message)" }
}

/// Extraction settings files (`--settings FILE`): the JSON form of `ExtractionSettings`.
public enum SettingsFile {
    /// Reads and decodes a settings file. Errors are one plain line naming the file: not a regular file,
    /// not UTF-8, a JSON syntax error with its line and column, or the key that is missing or has the wrong type.
    public static func load(_ url: URL) throws -> ExtractionSettings {
        try JSONFile.decode(ExtractionSettings.self, from: url, what: "settings file")
    }

    /// Reads a settings file that may give settings per modality: either one settings object (every
    /// modality), or `{"modalities": {"CT": {...}, "PT": {...}}}`, the form a store records in
    /// `settings_json` for per-modality settings. Errors as for `load`, the key path starting at `modalities`.
    public static func loadModalities(_ url: URL) throws -> ModalitySettings {
        try JSONFile.decode(from: url, what: "settings file") { try ModalitySettings.decode($0) }
    }

    /// `--settings` as written: one settings file for every modality, or comma-separated
    /// `modality=file` pairs (`ct=ct.json,pt=pet.json`; modalities case-insensitive, each named once;
    /// each file one plain settings object). A value naming an existing file is always read as one file.
    public static func loadSpec(_ spec: String, relativeTo base: URL? = nil) throws -> ModalitySettings {
        func url(_ path: String) -> URL { URL(fileURLWithPath: path, relativeTo: base).standardizedFileURL }
        if !spec.contains("=") || FileManager.default.fileExists(atPath: url(spec).path) {
            let u = url(spec)
            return try loadModalities(u).validated(in: "settings file \(u.path)")
        }
        var map: [String: ExtractionSettings] = [:]
        for (code, path) in try ModalitySettings.pairs(spec, option: "--settings", what: "file") {
            let u = url(path)
            map[code] = try load(u).validated(in: "settings file \(u.path) (for \(code))")
        }
        return .perModality(map)
    }
}

/// Decoding JSON files with messages that point at the line or key.
enum JSONFile {
    static func decode<T: Decodable>(_ type: T.Type, from url: URL, what: String) throws -> T {
        try decode(from: url, what: what) { try JSONDecoder().decode(T.self, from: $0) }
    }

    /// The file's text checked as JSON (syntax errors by line and column), then `decoder` applied;
    /// decoding errors name the key.
    static func decode<T>(from url: URL, what: String, _ decoder: (Data) throws -> T) throws -> T {
        let text = try InputFile.utf8Text(url, what: what)
        if let e = JSONSyntax.firstError(in: text) {
            throw JSONFileError(path: url.path, message: "not valid JSON: \(e.message) at line \(e.line), column \(e.column)")
        }
        do {
            return try decoder(Data(text.utf8))
        } catch let e as DecodingError {
            throw JSONFileError(path: url.path, message: ErrorText.decoding(e))
        } catch RadiomicsError.invalidSettings(let message) {
            throw JSONFileError(path: url.path, message: message)
        } catch {
            throw JSONFileError(path: url.path, message: ErrorText.plain(error))
        }
    }
}

/// A small JSON (RFC 8259) syntax checker that says where the first error is; Foundation's decoder only
/// says "The given data was not valid JSON".
enum JSONSyntax {
    struct Failure: Error { var message: String; var line: Int; var column: Int }

    /// The first syntax error of `text`, or nil when it is valid JSON.
    static func firstError(in text: String) -> Failure? {
        var p = Parser(Array(text.unicodeScalars))
        do {
            p.skipSpace()
            guard !p.atEnd else { throw p.fail("the file is empty; expected a JSON object") }
            try p.value(depth: 0)
            p.skipSpace()
            guard p.atEnd else { throw p.fail("unexpected text after the end of the JSON value") }
            return nil
        } catch let f as Failure {
            return f
        } catch {
            return Failure(message: "\(error)", line: 1, column: 1)
        }
    }

    struct Parser {
        let s: [Unicode.Scalar]
        var i = 0
        init(_ s: [Unicode.Scalar]) { self.s = s }
        var atEnd: Bool { i >= s.count }

        func fail(_ message: String) -> Failure {
            var line = 1, column = 1
            for c in s[..<min(i, s.count)] {
                if c == "\n" { line += 1; column = 1 } else { column += 1 }
            }
            return Failure(message: message, line: line, column: column)
        }

        func found() -> String {
            guard !atEnd else { return "the end of the file" }
            let c = s[i]
            return c.properties.generalCategory == .control ? "a control character" : "'\(Character(c))'"
        }

        mutating func skipSpace() {
            while !atEnd, [" ", "\t", "\n", "\r"].contains(s[i]) { i += 1 }
        }

        mutating func expect(_ c: Unicode.Scalar, _ what: String) throws {
            skipSpace()
            guard !atEnd, s[i] == c else { throw fail("expected \(what), found \(found())") }
            i += 1
        }

        mutating func value(depth: Int) throws {
            guard depth < 512 else { throw fail("nested too deeply") }
            skipSpace()
            guard !atEnd else { throw fail("expected a value, found the end of the file") }
            switch s[i] {
            case "{":
                i += 1
                skipSpace()
                if !atEnd, s[i] == "}" { i += 1; return }
                while true {
                    skipSpace()
                    guard !atEnd, s[i] == "\"" else {
                        throw fail(!atEnd && s[i] == "}" ? "a comma before '}' (trailing commas are not JSON)" : "expected a key in double quotes, found \(found())")
                    }
                    try string()
                    try expect(":", "':' after the key")
                    try value(depth: depth + 1)
                    skipSpace()
                    guard !atEnd else { throw fail("expected ',' or '}', found the end of the file") }
                    if s[i] == "," { i += 1; continue }
                    if s[i] == "}" { i += 1; return }
                    throw fail("expected ',' or '}', found \(found())")
                }
            case "[":
                i += 1
                skipSpace()
                if !atEnd, s[i] == "]" { i += 1; return }
                while true {
                    skipSpace()
                    if !atEnd, s[i] == "]" { throw fail("a comma before ']' (trailing commas are not JSON)") }
                    try value(depth: depth + 1)
                    skipSpace()
                    guard !atEnd else { throw fail("expected ',' or ']', found the end of the file") }
                    if s[i] == "," { i += 1; continue }
                    if s[i] == "]" { i += 1; return }
                    throw fail("expected ',' or ']', found \(found())")
                }
            case "\"":
                try string()
            case "-", "0"..."9":
                try number()
            default:
                for word in ["true", "false", "null"] where s[i...].starts(with: word.unicodeScalars) {
                    i += word.unicodeScalars.count
                    return
                }
                throw fail("expected a value (object, list, text in double quotes, number, true, false or null), found \(found())")
            }
        }

        mutating func string() throws {
            i += 1  // opening quote
            while true {
                guard !atEnd else { throw fail("a text value is never closed (missing '\"')") }
                let c = s[i]
                if c == "\"" { i += 1; return }
                if c.value < 0x20 { throw fail("a line break or control character inside a text value") }
                if c == "\\" {
                    i += 1
                    guard !atEnd else { throw fail("a text value is never closed (missing '\"')") }
                    switch s[i] {
                    case "\"", "\\", "/", "b", "f", "n", "r", "t": i += 1
                    case "u":
                        i += 1
                        for _ in 0..<4 {
                            guard !atEnd, s[i].properties.isASCIIHexDigit else { throw fail("\\u must be followed by four hex digits") }
                            i += 1
                        }
                    default: throw fail("unknown escape '\\\(Character(s[i]))' in a text value")
                    }
                    continue
                }
                i += 1
            }
        }

        mutating func number() throws {
            func digits() -> Int {
                let start = i
                while !atEnd, ("0"..."9").contains(s[i]) { i += 1 }
                return i - start
            }
            if s[i] == "-" { i += 1 }
            guard !atEnd, ("0"..."9").contains(s[i]) else { throw fail("expected a digit after '-'") }
            if s[i] == "0" { i += 1 } else { _ = digits() }
            if !atEnd, s[i] == "." {
                i += 1
                guard digits() > 0 else { throw fail("expected digits after the decimal point") }
            }
            if !atEnd, s[i] == "e" || s[i] == "E" {
                i += 1
                if !atEnd, s[i] == "+" || s[i] == "-" { i += 1 }
                guard digits() > 0 else { throw fail("expected digits in the exponent") }
            }
        }
    }
}
