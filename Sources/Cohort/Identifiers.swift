/// The rule for patient and lesion identifiers, applied to the manifest and to ids made by expansion.
///
/// Ids become HDF5 text (where a NUL ends the string, so `P\0X` and `P\0Y` would both be stored as `P`),
/// table cells, HTML, file names and DICOM ROI names. An id may hold any printable Unicode text; refused are:
/// - control characters (Unicode category Cc: C0 U+0000-U+001F including tab and line breaks, DEL U+007F,
///   C1 U+0080-U+009F);
/// - format characters (Cf: bidirectional overrides and isolates U+202A-U+202E, U+2066-U+2069, marks U+200E,
///   U+200F, U+061C, zero-width spaces and joiners U+200B-U+200D, soft hyphen U+00AD, byte-order mark U+FEFF,
///   ...), which make two different ids look the same or reorder the text around them;
/// - line and paragraph separators (U+2028, U+2029);
/// - the empty id.
/// Leading and trailing spaces are trimmed from manifest cells before the check.
public enum Identifier {
    /// Why `id` cannot be an identifier, or nil when it can. The message shows the offending character
    /// as `U+XXXX` and its position (1-based, in characters), never the raw character.
    public static func problem(_ id: String) -> String? {
        if id.isEmpty { return "is empty" }
        for (n, scalar) in id.unicodeScalars.enumerated() {
            if let kind = refusedKind(scalar) {
                return "contains \(kind) \(codePoint(scalar)) at position \(n + 1); ids may not hold control, format or line-separator characters"
            }
        }
        return nil
    }

    /// What kind of refused character `s` is ("the control character", ...), or nil when allowed.
    static func refusedKind(_ s: Unicode.Scalar) -> String? {
        switch s.properties.generalCategory {
        case .control: return s.value == 0 ? "a NUL character" : "the control character"
        case .format: return "the invisible format character"
        case .lineSeparator, .paragraphSeparator: return "the line separator"
        default: return nil
        }
    }

    /// `U+0000` style code point of a scalar.
    public static func codePoint(_ s: Unicode.Scalar) -> String {
        let hex = String(s.value, radix: 16, uppercase: true)
        return "U+" + String(repeating: "0", count: max(0, 4 - hex.count)) + hex
    }

    /// `text` with every refused character replaced by `<U+XXXX>`, so it can be shown in a message.
    public static func printable(_ text: String) -> String {
        var out = ""
        for s in text.unicodeScalars {
            if refusedKind(s) != nil { out += "<\(codePoint(s))>" } else { out.unicodeScalars.append(s) }
        }
        return out
    }
}
