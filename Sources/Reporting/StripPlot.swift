import Foundation

/// An inline SVG strip plot: one patient's lesion scores (coloured by category) over the cohort's
/// score distribution (grey), with the signature cut-offs as dashed lines.
enum StripPlot {
    static func svg(patient: [LesionReportRow], cohort: [Double], cutoffs: [(name: String, value: Double)],
                    width: Double = 560, height: Double = 90) -> String {
        let finite = cohort.filter(\.isFinite) + patient.map(\.score).filter(\.isFinite)
        guard let lo0 = finite.min(), let hi0 = finite.max() else { return "" }
        let pad = max((hi0 - lo0) * 0.05, 1e-6)
        let lo = lo0 - pad, hi = hi0 + pad
        let left = 10.0, right = width - 10
        func x(_ v: Double) -> Double { left + (v - lo) / (hi - lo) * (right - left) }
        var s = "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"\(Int(width))\" height=\"\(Int(height))\" viewBox=\"0 0 \(Int(width)) \(Int(height))\" role=\"img\" aria-label=\"lesion scores over the cohort distribution\">"
        s += "<line x1=\"\(left)\" y1=\"\(height - 22)\" x2=\"\(right)\" y2=\"\(height - 22)\" stroke=\"#888\"/>"
        // Deterministic jitter for the cohort points.
        for (n, v) in cohort.enumerated() where v.isFinite {
            let jitter = Double((n * 7919) % 17) - 8
            s += "<circle cx=\(q(x(v))) cy=\(q(30 + jitter)) r=\"2\" fill=\"#bbb\"/>"
        }
        for c in cutoffs where c.value.isFinite && c.value >= lo && c.value <= hi {
            s += "<line x1=\(q(x(c.value))) y1=\"8\" x2=\(q(x(c.value))) y2=\"\(height - 22)\" stroke=\"#555\" stroke-dasharray=\"4 3\"/>"
            s += "<text x=\(q(x(c.value) + 3)) y=\"14\" font-size=\"10\" fill=\"#555\">\(htmlEscape(c.name))</text>"
        }
        for l in patient where l.score.isFinite {
            let colour = categoryColours[l.categoryKey] ?? "#000"
            s += "<circle cx=\(q(x(l.score))) cy=\"55\" r=\"6\" fill=\"\(colour)\" stroke=\"#000\" stroke-width=\"0.6\"><title>\(htmlEscape(l.lesionID)): \(fmt(l.score))</title></circle>"
        }
        let ticks = 5
        for t in 0...ticks {
            let v = lo + (hi - lo) * Double(t) / Double(ticks)
            s += "<text x=\(q(x(v))) y=\"\(height - 8)\" font-size=\"10\" text-anchor=\"middle\" fill=\"#333\">\(fmt(v))</text>"
        }
        return s + "</svg>"
    }

    private static func q(_ v: Double) -> String { "\"" + String(format: "%.1f", v) + "\"" }
}
