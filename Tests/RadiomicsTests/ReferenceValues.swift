import Foundation
import Radiomics

/// IBSI reference values (`reference value;tolerance;tag`) and the comparison rule of the data README:
/// round the computed value to three significant digits, then require |value - reference| <= tolerance.
/// A few references carry more digits (e.g. voxel counts such as 125256); the unrounded value is
/// accepted against those too.
struct ReferenceValues {
    struct Entry {
        var tag: String
        var value: Double
        var tolerance: Double
    }

    /// Entries with a reference value (empty cells, no consensus, are left out).
    var entries: [Entry]

    init(url: URL) throws {
        let text = try String(contentsOf: url, encoding: .utf8)
        entries = []
        for line in text.split(whereSeparator: \.isNewline).dropFirst() {
            let cells = line.split(separator: ";", omittingEmptySubsequences: false).map {
                $0.trimmingCharacters(in: .whitespaces)
            }
            guard cells.count >= 3, let v = Double(cells[0]), let tol = Double(cells[1]) else { continue }
            entries.append(Entry(tag: cells[2], value: v, tolerance: tol))
        }
    }

    static func roundedToThreeDigits(_ x: Double) -> Double {
        guard x != 0, x.isFinite else { return x }
        let e = Foundation.floor(Foundation.log10(Swift.abs(x)))
        let scale = Foundation.pow(10, e - 2)
        return (x / scale).rounded() * scale
    }

    struct Outcome {
        var matched = 0
        var total = 0
        var failures: [String] = []
    }

    /// Compares the entries whose tag starts with one of `prefixes` (and none of `excluding`) against `lookup`.
    func compare(prefixes: [String], excluding: [String] = [], lookup: (String) -> Double?) -> Outcome {
        var out = Outcome()
        for e in entries where prefixes.contains(where: { e.tag.hasPrefix($0) })
            && !excluding.contains(where: { e.tag.hasPrefix($0) }) {
            out.total += 1
            guard let v = lookup(e.tag) else {
                out.failures.append("\(e.tag): missing (reference \(e.value))")
                continue
            }
            let r = ReferenceValues.roundedToThreeDigits(v)
            let slack = 1e-9 * Swift.max(1, Swift.abs(e.value))
            if Swift.abs(r - e.value) <= e.tolerance + slack || Swift.abs(v - e.value) <= e.tolerance + slack {
                out.matched += 1
            } else {
                out.failures.append("\(e.tag): \(v) vs reference \(e.value) ± \(e.tolerance)")
            }
        }
        return out
    }
}
