import Foundation

/// Escapes text for HTML element content and attribute values: every manifest string goes through it.
public func htmlEscape(_ s: String) -> String {
    var out = ""
    out.reserveCapacity(s.count)
    for c in s.unicodeScalars {
        switch c {
        case "&": out += "&amp;"
        case "<": out += "&lt;"
        case ">": out += "&gt;"
        case "\"": out += "&quot;"
        case "'": out += "&#39;"
        default: out.unicodeScalars.append(c)
        }
    }
    return out
}

/// Fixed-precision number for tables; an em dash for NaN.
func fmt(_ x: Double, _ digits: Int = 2) -> String {
    x.isFinite ? String(format: "%.\(digits)f", x) : "—"
}

/// Colours of the radiotherapy categories, shared by tables and plots.
let categoryColours: [String: String] = [
    "ablative_sbrt": "#c0392b", "low_dose_rt": "#d68910", "no_rt": "#2471a3",
]

/// The research-use statement carried by every report.
public let researchUseDisclaimer = """
For research use only. LesionMap is not a medical device; its scores and radiotherapy categories are \
hypotheses for discussion by a tumour board, not treatment recommendations.
"""
