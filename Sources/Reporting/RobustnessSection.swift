import Foundation

/// The ICC(1,1) of every feature under perturbation (`lesionmap robustness`), grouped by feature family.
public struct RobustnessPanel: Sendable {
    /// `<region>.<family>` (e.g. `tumour.glcm`) and the ICCs of its features (NaN: undefined).
    public var families: [(family: String, iccs: [Double])]
    /// The ICC table's file name, for the caption.
    public var source: String
    /// The bound the methods use (e.g. `train-signature --min-icc`), drawn as a reference line.
    public var bound: Double

    public init(families: [(family: String, iccs: [Double])], source: String, bound: Double = 0.9) {
        self.families = families; self.source = source; self.bound = bound
    }

    /// Groups an ICC table's rows (`<modality>.<region>.[<filter>.]<family>.<feature>` -> ICC) by everything
    /// but the feature (modality, region, filter and family), families in order of their median ICC, most
    /// robust first.
    public init(icc: [String: Double], source: String, bound: Double = 0.9) {
        var groups: [String: [Double]] = [:]
        for (name, value) in icc {
            let family = name.lastIndex(of: ".").map { String(name[..<$0]) } ?? name
            groups[family, default: []].append(value)
        }
        let ordered = groups.map { ($0.key, $0.value) }.sorted {
            let a = median($0.1), b = median($1.1)
            return a != b ? (a.isNaN ? false : (b.isNaN ? true : a > b)) : $0.0 < $1.0
        }
        self.init(families: ordered, source: source, bound: bound)
    }
}

/// Median of the finite values (NaN when none).
func median(_ values: [Double]) -> Double {
    let s = values.filter(\.isFinite).sorted()
    guard !s.isEmpty else { return .nan }
    return s.count % 2 == 1 ? s[s.count / 2] : (s[s.count / 2 - 1] + s[s.count / 2]) / 2
}

extension CohortReport {
    static func robustness(_ r: RobustnessPanel) -> String {
        let total = r.families.reduce(0) { $0 + $1.iccs.count }
        let robust = r.families.reduce(0) { $0 + $1.iccs.filter { $0 >= r.bound }.count }
        var s = "<h2>Feature robustness under perturbation</h2>"
        s += "<p>ICC(1,1) of each feature over the lesions, with image and mask perturbations (growth, noise, translation, rotation, contour randomisation) as repeated measurements (\(htmlEscape(r.source))). \(robust) of \(total) features reach ICC \(fmt(r.bound, 2)). One point per feature; black bar: the family's median.</p>"
        s += "<div class=\"keep\" id=\"icc-by-family\">" + Charts.iccByFamily(r) + "</div>\n"
        return s
    }
}

extension Charts {
    /// Horizontal strips: one row per family, one point per feature's ICC, the median marked, the bound dashed.
    static func iccByFamily(_ r: RobustnessPanel, width: Double = 640) -> String {
        let rowHeight = 20.0
        let height = 50 + rowHeight * Double(max(r.families.count, 1))
        let finite = r.families.flatMap(\.iccs).filter(\.isFinite)
        let lo = min(0, (finite.min() ?? 0))
        var p = PlotFrame(width: width, height: height, margins: (130, 120, 8, 38), x: (lo, 1),
                          y: (0, Double(max(r.families.count, 1))))
        p.axes(xLabel: "ICC(1,1) under perturbation", yLabel: nil, yTicks: [])
        p.canvas.line(p.x.map(r.bound), p.top, p.x.map(r.bound), p.bottom, stroke: "#1e8449", width: 1.2, dash: "4 3")
        for (row, f) in r.families.enumerated() {
            let cy = p.y.map(Double(r.families.count - row) - 0.5)
            p.canvas.text(p.left - 6, cy + 3.5, f.family, size: 10.5, anchor: .end)
            for (n, v) in f.iccs.enumerated() where v.isFinite {
                let jitter = (Double((n &* 7919) % 11) / 10 - 0.5) * rowHeight * 0.6
                p.canvas.circle(p.x.map(v), cy + jitter, r: 2.2, fill: v >= r.bound ? "#1e8449" : "#c0392b", opacity: 0.6)
            }
            let m = median(f.iccs)
            if m.isFinite { p.canvas.line(p.x.map(m), cy - 8, p.x.map(m), cy + 8, stroke: "#000", width: 2.2) }
            let n = f.iccs.filter(\.isFinite).count
            p.canvas.text(p.right + 8, cy + 3.5, "median \(m.isFinite ? fmt(m, 2) : "—") (n = \(n))", size: 10, colour: "#444")
        }
        return p.canvas.svg(label: "ICC under perturbation by feature family")
    }
}
