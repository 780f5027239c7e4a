import Foundation

/// An inline SVG drawing built element by element; every text goes through `htmlEscape`.
struct SVGCanvas {
    let width: Double
    let height: Double
    private(set) var body = ""

    init(width: Double, height: Double) {
        self.width = width
        self.height = height
    }

    mutating func line(_ x1: Double, _ y1: Double, _ x2: Double, _ y2: Double, stroke: String = "#333",
                       width w: Double = 1, dash: String? = nil, opacity: Double? = nil) {
        body += "<line x1=\(q(x1)) y1=\(q(y1)) x2=\(q(x2)) y2=\(q(y2)) stroke=\"\(stroke)\" stroke-width=\(q(w))"
            + (dash.map { " stroke-dasharray=\"\($0)\"" } ?? "") + (opacity.map { " stroke-opacity=\(q($0))" } ?? "") + "/>"
    }

    /// An open polyline through `points` (non-finite points break the line).
    mutating func polyline(_ points: [(Double, Double)], stroke: String, width w: Double = 1.5, dash: String? = nil) {
        var d = ""
        var pen = false
        for (x, y) in points {
            guard x.isFinite, y.isFinite else { pen = false; continue }
            d += (pen ? "L" : "M") + f1(x) + " " + f1(y)
            pen = true
        }
        guard !d.isEmpty else { return }
        path(d, stroke: stroke, width: w, dash: dash)
    }

    mutating func path(_ d: String, stroke: String = "none", fill: String = "none", width w: Double = 1,
                       dash: String? = nil, opacity: Double? = nil) {
        body += "<path d=\"\(d)\" fill=\"\(fill)\" stroke=\"\(stroke)\" stroke-width=\(q(w))"
            + (dash.map { " stroke-dasharray=\"\($0)\"" } ?? "") + (opacity.map { " fill-opacity=\(q($0))" } ?? "") + "/>"
    }

    mutating func circle(_ cx: Double, _ cy: Double, r: Double, fill: String, stroke: String? = nil,
                         strokeWidth: Double = 0.8, title: String? = nil, opacity: Double? = nil) {
        body += "<circle cx=\(q(cx)) cy=\(q(cy)) r=\(q(r)) fill=\"\(fill)\""
            + (stroke.map { " stroke=\"\($0)\" stroke-width=\(q(strokeWidth))" } ?? "")
            + (opacity.map { " fill-opacity=\(q($0))" } ?? "")
        body += title.map { "><title>\(htmlEscape($0))</title></circle>" } ?? "/>"
    }

    mutating func rect(_ x: Double, _ y: Double, _ w: Double, _ h: Double, fill: String, stroke: String? = nil,
                       opacity: Double? = nil, title: String? = nil) {
        body += "<rect x=\(q(x)) y=\(q(y)) width=\(q(max(w, 0))) height=\(q(max(h, 0))) fill=\"\(fill)\""
            + (stroke.map { " stroke=\"\($0)\"" } ?? "") + (opacity.map { " fill-opacity=\(q($0))" } ?? "")
        body += title.map { "><title>\(htmlEscape($0))</title></rect>" } ?? "/>"
    }

    /// Opens a `<g>` with a class and `data-*` attributes (values escaped), so that tests and scripts can find
    /// what a group of elements draws; close it with `endGroup`.
    mutating func beginGroup(cssClass: String, data: KeyValuePairs<String, String> = [:]) {
        body += "<g class=\"\(htmlEscape(cssClass))\"" + data.map { " data-\(htmlEscape($0.key))=\"\(htmlEscape($0.value))\"" }.joined() + ">"
    }

    mutating func endGroup() { body += "</g>" }

    enum Anchor: String { case start, middle, end }

    mutating func text(_ x: Double, _ y: Double, _ s: String, size: Double = 11, anchor: Anchor = .start,
                       colour: String = "#222", bold: Bool = false, rotate: Double? = nil, halo: Bool = false) {
        body += "<text x=\(q(x)) y=\(q(y)) font-size=\(q(size)) text-anchor=\"\(anchor.rawValue)\" fill=\"\(colour)\""
            + (bold ? " font-weight=\"bold\"" : "")
            + (rotate.map { " transform=\"rotate(\(f1($0)) \(f1(x)) \(f1(y)))\"" } ?? "")
            + (halo ? " stroke=\"#fff\" stroke-width=\"3\" paint-order=\"stroke\" stroke-linejoin=\"round\"" : "")
            + ">\(htmlEscape(s))</text>"
    }

    /// Raw SVG produced by this module (never user text).
    mutating func raw(_ s: String) { body += s }

    /// The finished element; `label` is its accessible description.
    func svg(label: String, cssClass: String = "plot") -> String {
        "<svg xmlns=\"http://www.w3.org/2000/svg\" class=\"\(cssClass)\" width=\"\(Int(width))\" height=\"\(Int(height))\" viewBox=\"0 0 \(Int(width)) \(Int(height))\" role=\"img\" aria-label=\"\(htmlEscape(label))\" font-family=\"Helvetica, Arial, sans-serif\">"
            + body + "</svg>"
    }
}

/// A linear or logarithmic mapping from data values to pixels.
struct Axis {
    var lo: Double
    var hi: Double
    var p0: Double
    var p1: Double
    var log = false

    func map(_ v: Double) -> Double {
        let (a, b, x) = log ? (Foundation.log(lo), Foundation.log(hi), Foundation.log(v)) : (lo, hi, v)
        guard b != a else { return (p0 + p1) / 2 }
        return p0 + (x - a) / (b - a) * (p1 - p0)
    }

    /// Tick values inside the range: "nice" steps (1, 2, 5 x 10^k), or for log axes 1-2-5 decades.
    func ticks(_ target: Int = 5) -> [Double] {
        if log {
            var out: [Double] = []
            var decade = pow(10, floor(log10(lo)))
            while decade <= hi * 1.0001 {
                for m in [1.0, 2, 5] where decade * m >= lo * 0.9999 && decade * m <= hi * 1.0001 { out.append(decade * m) }
                decade *= 10
            }
            return out
        }
        return niceTicks(lo, hi, target)
    }
}

/// Evenly spaced "nice" values covering [lo, hi].
func niceTicks(_ lo: Double, _ hi: Double, _ target: Int) -> [Double] {
    guard lo.isFinite, hi.isFinite, hi > lo else { return lo.isFinite ? [lo] : [] }
    let raw = (hi - lo) / Double(max(target, 1))
    let mag = pow(10, floor(log10(raw)))
    let step = [1.0, 2, 2.5, 5, 10].map { $0 * mag }.first { $0 >= 0.7 * raw } ?? 10 * mag
    var out: [Double] = []
    var v = (lo / step).rounded(.up) * step
    while v <= hi + step * 1e-9 {
        out.append(abs(v) < step * 1e-9 ? 0 : v)
        v += step
    }
    return out
}

/// A tick label with as many decimals as the step needs.
func tickLabel(_ v: Double, ticks: [Double]) -> String {
    let step = ticks.count > 1 ? abs(ticks[1] - ticks[0]) : abs(v)
    // The fewest decimals that show the step exactly (0.25 -> 2, 0.2 -> 1, 5 -> 0).
    let decimals = (0...4).first { d in
        let scaled = step * pow(10, Double(d))
        return abs(scaled - scaled.rounded()) < 1e-6 * max(1, scaled)
    } ?? 4
    return String(format: "%.\(decimals)f", v)
}

/// Padded range of finite values, never empty.
func paddedRange(_ values: [Double], pad: Double = 0.05) -> (Double, Double) {
    let finite = values.filter(\.isFinite)
    guard let lo = finite.min(), let hi = finite.max() else { return (0, 1) }
    let span = hi - lo
    let p = span > 0 ? span * pad : max(abs(lo) * 0.1, 0.5)
    return (lo - p, hi + p)
}

/// A plotting frame: axes, grid lines, tick labels and titles around a data area.
struct PlotFrame {
    var canvas: SVGCanvas
    var x: Axis
    var y: Axis

    init(width: Double, height: Double, margins: (left: Double, right: Double, top: Double, bottom: Double),
         x: (Double, Double), y: (Double, Double), xLog: Bool = false, yLog: Bool = false) {
        canvas = SVGCanvas(width: width, height: height)
        self.x = Axis(lo: x.0, hi: x.1, p0: margins.left, p1: width - margins.right, log: xLog)
        self.y = Axis(lo: y.0, hi: y.1, p0: height - margins.bottom, p1: margins.top, log: yLog)
    }

    var left: Double { x.p0 }
    var right: Double { x.p1 }
    var top: Double { y.p1 }
    var bottom: Double { y.p0 }

    mutating func axes(xLabel: String?, yLabel: String?, xTicks: [Double]? = nil, yTicks: [Double]? = nil,
                       grid: Bool = true, xFormat: ((Double) -> String)? = nil, yFormat: ((Double) -> String)? = nil) {
        let xt = xTicks ?? x.ticks(), yt = yTicks ?? y.ticks(4)
        if grid {
            for t in yt { canvas.line(left, y.map(t), right, y.map(t), stroke: "#e6e6e6") }
        }
        canvas.line(left, bottom, right, bottom, stroke: "#555")
        canvas.line(left, top, left, bottom, stroke: "#555")
        for t in xt {
            canvas.line(x.map(t), bottom, x.map(t), bottom + 4, stroke: "#555")
            canvas.text(x.map(t), bottom + 15, xFormat?(t) ?? tickLabel(t, ticks: xt), size: 10, anchor: .middle, colour: "#444")
        }
        for t in yt {
            canvas.line(left - 4, y.map(t), left, y.map(t), stroke: "#555")
            canvas.text(left - 6, y.map(t) + 3.5, yFormat?(t) ?? tickLabel(t, ticks: yt), size: 10, anchor: .end, colour: "#444")
        }
        if let xLabel { canvas.text((left + right) / 2, bottom + 30, xLabel, size: 11, anchor: .middle, colour: "#333") }
        if let yLabel {
            canvas.text(12, (top + bottom) / 2, yLabel, size: 11, anchor: .middle, colour: "#333", rotate: -90)
        }
    }
}

private func q(_ v: Double) -> String { "\"" + f1(v) + "\"" }
/// One decimal, no trailing ".0" noise for integers.
func f1(_ v: Double) -> String {
    guard v.isFinite else { return "0" }
    let r = (v * 10).rounded() / 10
    return r == r.rounded() ? String(Int(r)) : String(format: "%.1f", r)
}
