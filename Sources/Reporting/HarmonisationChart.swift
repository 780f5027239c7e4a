import Foundation

/// One feature's distribution by batch before and after ComBat harmonisation (`lesionmap harmonise`), for the
/// cohort report of a harmonised store.
public struct HarmonisationPicture: Sendable {
    /// Stable name `<region>.<family>.<feature>`.
    public var feature: String
    public var batchColumn: String
    public var method: String
    /// Per batch: its label and the lesions' values before and after harmonisation.
    public var batches: [(label: String, before: [Double], after: [Double])]
    /// Why this feature is shown, e.g. its share of variance explained by batch.
    public var note: String

    public init(feature: String, batchColumn: String, method: String,
                batches: [(label: String, before: [Double], after: [Double])], note: String) {
        self.feature = feature; self.batchColumn = batchColumn; self.method = method; self.batches = batches
        self.note = note
    }
}

extension Charts {
    /// Box plots per batch (box: quartiles, line: median, whiskers: the furthest values within 1.5 IQR of the box,
    /// points: every lesion) on a shared value axis, before and after harmonisation side by side.
    static func batchBoxes(_ picture: HarmonisationPicture, width: Double = 360, height: Double = 250) -> (before: String, after: String) {
        let all = picture.batches.flatMap { $0.before + $0.after }.filter(\.isFinite)
        let range = paddedRange(all)
        func panel(_ title: String, _ groups: [(String, [Double])]) -> String {
            var p = PlotFrame(width: width, height: height, margins: (60, 10, 24, 36), x: (0, Double(max(groups.count, 1))), y: range)
            p.axes(xLabel: nil, yLabel: picture.feature.count > 38 ? String(picture.feature.prefix(36)) + "…" : picture.feature, xTicks: [])
            p.canvas.text(p.left + 2, 14, title, size: 11, colour: "#333", bold: true)
            for (g, (label, values)) in groups.enumerated() {
                let cx = p.x.map(Double(g) + 0.5)
                let v = values.filter(\.isFinite).sorted()
                p.canvas.text(cx, p.bottom + 16, "\(label) (n = \(v.count))", size: 10.5, anchor: .middle)
                guard !v.isEmpty else { continue }
                func quantile(_ q: Double) -> Double {
                    let h = Double(v.count - 1) * q, lo = Int(h.rounded(.down)), hi = min(lo + 1, v.count - 1)
                    return v[lo] + (h - Double(lo)) * (v[hi] - v[lo])
                }
                let q1 = quantile(0.25), med = quantile(0.5), q3 = quantile(0.75), iqr = q3 - q1
                let lowW = v.first { $0 >= q1 - 1.5 * iqr } ?? v[0], highW = v.last { $0 <= q3 + 1.5 * iqr } ?? v[v.count - 1]
                for (n, x) in v.enumerated() {
                    let jitter = (Double((n &* 7919) % 21) / 20 - 0.5) * 30
                    p.canvas.circle(cx + jitter, p.y.map(x), r: 1.8, fill: "#7f8c8d", opacity: 0.55)
                }
                p.canvas.line(cx, p.y.map(lowW), cx, p.y.map(q1), stroke: "#222")
                p.canvas.line(cx, p.y.map(q3), cx, p.y.map(highW), stroke: "#222")
                p.canvas.rect(cx - 16, p.y.map(q3), 32, max(p.y.map(q1) - p.y.map(q3), 0.5), fill: "#2e86c1", stroke: "#1b4f72", opacity: 0.35)
                p.canvas.line(cx - 16, p.y.map(med), cx + 16, p.y.map(med), stroke: "#000", width: 2)
            }
            return p.canvas.svg(label: "\(title): \(picture.feature) by \(picture.batchColumn)")
        }
        return (panel("before harmonisation", picture.batches.map { ($0.label, $0.before) }),
                panel("after ComBat (\(picture.method))", picture.batches.map { ($0.label, $0.after) }))
    }
}
