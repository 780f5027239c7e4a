import Foundation

/// The report's charts, each an inline SVG string.
enum Charts {
    /// A patient's lesion scores (coloured by category, labelled) over the cohort's lesion scores (grey),
    /// with the policy's category boundaries shaded and the signature's cut-offs dashed.
    static func scoreStrip(lesions: [LesionReportRow], cohort: [Double], cutoffs: [(name: String, value: Double)],
                           boundaries: [(name: String, value: Double)], width: Double = 720) -> String {
        let scored = lesions.filter { $0.score.isFinite }
        let range = paddedRange(cohort + scored.map(\.score) + cutoffs.map(\.value) + boundaries.map(\.value))
        // Lesion labels stack in rows above their points when they would overlap.
        var rows: [[(Double, Double)]] = []
        var labelRow: [Int] = []
        let probe = Axis(lo: range.0, hi: range.1, p0: 16, p1: width - 16)
        for l in scored {
            let x = probe.map(l.score), w = Double(l.lesionID.count) * 6.4 + 6
            let span = (x - w / 2, x + w / 2)
            var r = 0
            while r < rows.count && rows[r].contains(where: { span.0 < $0.1 && span.1 > $0.0 }) { r += 1 }
            if r == rows.count { rows.append([]) }
            rows[r].append(span)
            labelRow.append(r)
        }
        let labelRows = Double(max(rows.count, 1))
        let top = 30 + 13 * labelRows
        let height = top + 96
        var p = PlotFrame(width: width, height: height, margins: (16, 16, top, 34), x: range, y: (0, 1))
        if boundaries.count == 2 {
            let (b1, b2) = (p.x.map(boundaries[0].value), p.x.map(boundaries[1].value))
            p.canvas.rect(p.left, p.top, b1 - p.left, p.bottom - p.top, fill: categoryColours["ablative_sbrt"]!, opacity: 0.10)
            p.canvas.rect(b1, p.top, b2 - b1, p.bottom - p.top, fill: categoryColours["low_dose_rt"]!, opacity: 0.10)
            p.canvas.rect(b2, p.top, p.right - b2, p.bottom - p.top, fill: categoryColours["no_rt"]!, opacity: 0.10)
        }
        p.axes(xLabel: "lesion score (higher = more infiltrated)", yLabel: nil, yTicks: [], grid: false)
        for (n, v) in cohort.enumerated() where v.isFinite {
            let jitter = Double((n &* 7919) % 23) / 22
            p.canvas.circle(p.x.map(v), p.bottom - 12 - jitter * 30, r: 2, fill: "#9aa3a8", opacity: 0.7)
        }
        for b in boundaries where b.value.isFinite {
            p.canvas.line(p.x.map(b.value), p.top, p.x.map(b.value), p.bottom, stroke: "#777", width: 1)
        }
        if boundaries.count == 2 {
            let edges = [p.left, p.x.map(boundaries[0].value), p.x.map(boundaries[1].value)]
            for (edge, key) in zip(edges, categoryOrder) {
                p.canvas.text(edge + 3, p.bottom - 4, categoryShortLabels[key]!, size: 9, colour: categoryColours[key]!, bold: true)
            }
        }
        for c in cutoffs where c.value.isFinite && c.value >= range.0 && c.value <= range.1 {
            p.canvas.line(p.x.map(c.value), p.top - 4, p.x.map(c.value), p.bottom, stroke: "#222", dash: "4 3")
            p.canvas.text(p.x.map(c.value) + 3, p.top + 8, c.name, size: 9.5, colour: "#222")
        }
        let laneY = p.top + 26
        for (l, r) in zip(scored, labelRow) {
            let x = p.x.map(l.score)
            let ly = 26 + 13 * Double(r)
            p.canvas.line(x, ly + 2, x, laneY - 6, stroke: "#999", width: 0.6)
            p.canvas.text(x, ly, l.lesionID, size: 10.5, anchor: .middle, colour: l.colour, bold: true, halo: true)
            p.canvas.circle(x, laneY, r: 6, fill: l.colour, stroke: "#000", strokeWidth: 0.7,
                            title: "\(l.lesionID): score \(fmt(l.score)), cohort percentile \(fmt(l.percentile, 0))")
        }
        p.canvas.text(p.left + 2, 13, "This patient's lesions (coloured by category) over all \(cohort.filter(\.isFinite).count) cohort lesion scores (grey)", size: 10.5, colour: "#444")
        return p.canvas.svg(label: "strip plot of the patient's lesion scores over the cohort's lesion scores")
    }

    /// A 0–100 percentile bar with quartile ticks and a marker.
    static func percentileGauge(_ percentile: Double, width: Double = 150) -> String {
        var c = SVGCanvas(width: width, height: 16)
        c.rect(4, 6, width - 8, 4, fill: "#dfe3e6")
        for q in [25.0, 50, 75] { c.line(4 + (width - 8) * q / 100, 3, 4 + (width - 8) * q / 100, 13, stroke: "#aab2b7") }
        if percentile.isFinite {
            c.circle(4 + (width - 8) * min(max(percentile, 0), 100) / 100, 8, r: 4.5, fill: "#1d2327")
        }
        return c.svg(label: "cohort percentile \(fmt(percentile, 0))", cssClass: "gauge")
    }

    /// Hazard ratios with confidence intervals on a log axis, one row per label, with a column of p values.
    static func forest(_ rows: [(label: String, estimate: Double, low: Double, high: Double, note: String)],
                       xLabel: String, width: Double = 640) -> String {
        let values = rows.flatMap { [$0.estimate, $0.low, $0.high] }.filter { $0.isFinite && $0 > 0 } + [1]
        let lo = (values.min() ?? 0.5) / 1.15, hi = (values.max() ?? 2) * 1.15
        let rowH = 22.0
        let height = 44 + rowH * Double(rows.count)
        var p = PlotFrame(width: width, height: height, margins: (205, 90, 10, 34), x: (lo, hi), y: (0, Double(rows.count)),
                          xLog: true)
        p.axes(xLabel: xLabel, yLabel: nil, yTicks: [], grid: false, xFormat: { String(format: $0 < 1 ? "%.2g" : "%.3g", $0) })
        p.canvas.line(p.x.map(1), p.top, p.x.map(1), p.bottom, stroke: "#888", dash: "3 3")
        p.canvas.text(p.right + 8, p.top + 4, "p", size: 10, colour: "#555", bold: true)
        for (n, r) in rows.enumerated() {
            let y = p.top + rowH * (Double(n) + 0.5) + 4
            p.canvas.text(p.left - 10, y + 4, r.label, size: 11, anchor: .end)
            p.canvas.text(p.right + 8, y + 4, r.note, size: 10.5, colour: "#333")
            guard r.estimate.isFinite, r.estimate > 0 else {
                p.canvas.text(p.left + 6, y + 4, "not estimable", size: 10, colour: "#999")
                continue
            }
            if r.low.isFinite, r.high.isFinite, r.low > 0 {
                p.canvas.line(p.x.map(max(r.low, lo)), y, p.x.map(min(r.high, hi)), y, stroke: "#1d2327", width: 1.6)
            }
            p.canvas.rect(p.x.map(r.estimate) - 4.5, y - 4.5, 9, 9, fill: "#1d2327")
        }
        return p.canvas.svg(label: "forest plot of hazard ratios")
    }

    /// Kaplan-Meier curves with censoring ticks, numbers and the log-rank p.
    static func survival(_ panel: SurvivalPanel, width: Double = 330, height: Double = 230) -> String {
        let tMax = panel.curves.flatMap { $0.steps.map(\.time) + $0.censored.map(\.time) }.max() ?? 1
        var p = PlotFrame(width: width, height: height, margins: (48, 12, 40, 40), x: (0, max(tMax, 1e-9)), y: (0, 1))
        p.axes(xLabel: "months", yLabel: "\(panel.endpoint.uppercased()) probability", yTicks: [0, 0.25, 0.5, 0.75, 1],
               yFormat: { String(format: "%.2g", $0) })
        for c in panel.curves {
            var pts: [(Double, Double)] = []
            var last = 1.0
            for s in c.steps {
                pts.append((p.x.map(s.time), p.y.map(last)))
                pts.append((p.x.map(s.time), p.y.map(s.survival)))
                last = s.survival
            }
            let end = max(c.censored.map(\.time).max() ?? 0, c.steps.last?.time ?? 0)
            pts.append((p.x.map(end), p.y.map(last)))
            p.canvas.polyline(pts, stroke: c.colour, width: 2)
            for m in c.censored {
                p.canvas.line(p.x.map(m.time), p.y.map(m.survival) - 4, p.x.map(m.time), p.y.map(m.survival) + 4, stroke: c.colour, width: 1.2)
            }
        }
        p.canvas.text(p.left, 13, panel.aggregator, size: 12, bold: true)
        p.canvas.text(p.right, 13, "log-rank p = \(fmtP(panel.logRankP))", size: 11, anchor: .end, colour: "#333")
        for (n, c) in panel.curves.enumerated() {
            let x = p.left + Double(n) * (p.right - p.left) / 2
            p.canvas.line(x, 24, x + 12, 24, stroke: c.colour, width: 2.5)
            p.canvas.text(x + 15, 28, "\(c.label) (\(c.events)/\(c.subjects))", size: 9.5, colour: "#333")
        }
        return p.canvas.svg(label: "Kaplan-Meier curves of \(panel.endpoint) by \(panel.aggregator)")
    }

    /// Point estimates with intervals, one row per label, against a reference line.
    static func intervals(_ rows: [(label: String, estimate: Double, low: Double, high: Double)], reference: Double,
                          xLabel: String, width: Double = 640) -> String {
        let values = rows.flatMap { [$0.estimate, $0.low, $0.high] } + [reference]
        let r = paddedRange(values, pad: 0.08)
        let rowH = 22.0
        let height = 44 + rowH * Double(rows.count)
        var p = PlotFrame(width: width, height: height, margins: (205, 60, 10, 34), x: r, y: (0, Double(rows.count)))
        p.axes(xLabel: xLabel, yLabel: nil, yTicks: [], grid: false)
        p.canvas.line(p.x.map(reference), p.top, p.x.map(reference), p.bottom, stroke: "#888", dash: "3 3")
        for (n, row) in rows.enumerated() {
            let y = p.top + rowH * (Double(n) + 0.5) + 4
            p.canvas.text(p.left - 10, y + 4, row.label, size: 11, anchor: .end)
            guard row.estimate.isFinite else { continue }
            if row.low.isFinite, row.high.isFinite {
                p.canvas.line(p.x.map(row.low), y, p.x.map(row.high), y, stroke: "#1d2327", width: 1.6)
            }
            p.canvas.circle(p.x.map(row.estimate), y, r: 4.5, fill: "#1d2327")
            p.canvas.text(p.right + 8, y + 4, fmt(row.estimate), size: 10.5, colour: "#333")
        }
        return p.canvas.svg(label: "\(xLabel) with confidence intervals")
    }

    /// Lines with shaded intervals (the how-many-lesions curve).
    static func lines(_ curve: LesionCountCurve, reference: Double? = 0.5, width: Double = 640, height: Double = 260) -> String {
        let xs = curve.series.flatMap { $0.points.map(\.x) }
        let ys = curve.series.flatMap { $0.points.flatMap { [$0.y, $0.low, $0.high] } } + (reference.map { [$0] } ?? [])
        var p = PlotFrame(width: width, height: height, margins: (52, 175, 12, 40),
                          x: (xs.min() ?? 0, max(xs.max() ?? 1, (xs.min() ?? 0) + 1)), y: paddedRange(ys, pad: 0.06))
        let integers = xs.allSatisfy { $0 == $0.rounded() }
        p.axes(xLabel: curve.xLabel, yLabel: curve.yLabel,
               xTicks: integers ? Array(Set(xs)).sorted() : nil)
        if let reference { p.canvas.line(p.left, p.y.map(reference), p.right, p.y.map(reference), stroke: "#888", dash: "3 3") }
        for s in curve.series {
            let band = s.points.filter { $0.low.isFinite && $0.high.isFinite }
            if band.count > 1 {
                var d = "M" + band.map { "\(f1(p.x.map($0.x))) \(f1(p.y.map($0.high)))" }.joined(separator: "L")
                d += "L" + band.reversed().map { "\(f1(p.x.map($0.x))) \(f1(p.y.map($0.low)))" }.joined(separator: "L") + "Z"
                p.canvas.path(d, fill: s.colour, opacity: curve.series.count > 3 ? 0.06 : 0.12)
            }
            p.canvas.polyline(s.points.map { (p.x.map($0.x), p.y.map($0.y)) }, stroke: s.colour, width: 2)
            for pt in s.points where pt.y.isFinite { p.canvas.circle(p.x.map(pt.x), p.y.map(pt.y), r: 2.6, fill: s.colour) }
        }
        for (n, s) in curve.series.enumerated() {
            let y = p.top + 10 + 15 * Double(n)
            p.canvas.line(p.right + 10, y - 4, p.right + 26, y - 4, stroke: s.colour, width: 2.5)
            p.canvas.text(p.right + 30, y, s.label, size: 10.5)
        }
        return p.canvas.svg(label: "\(curve.yLabel) against \(curve.xLabel)")
    }

    /// Scores per group as jittered points with the median marked.
    static func groupedStrip(_ groups: [(label: String, scores: [Double])], yLabel: String, width: Double = 460,
                             height: Double = 240) -> String {
        let all = groups.flatMap(\.scores)
        var p = PlotFrame(width: width, height: height, margins: (56, 12, 12, 40), x: (0, Double(max(groups.count, 1))),
                          y: paddedRange(all))
        p.axes(xLabel: nil, yLabel: yLabel, xTicks: [])
        let colours = ["CR": "#1e8449", "PR": "#52be80", "SD": "#d68910", "PD": "#c0392b"]
        for (g, group) in groups.enumerated() {
            let cx = p.x.map(Double(g) + 0.5)
            let colour = colours[group.label] ?? "#555"
            for (n, v) in group.scores.enumerated() where v.isFinite {
                let jitter = (Double((n &* 7919) % 21) / 20 - 0.5) * 36
                p.canvas.circle(cx + jitter, p.y.map(v), r: 2.6, fill: colour, opacity: 0.75)
            }
            let sorted = group.scores.filter(\.isFinite).sorted()
            if !sorted.isEmpty {
                let m = sorted.count % 2 == 1 ? sorted[sorted.count / 2] : (sorted[sorted.count / 2 - 1] + sorted[sorted.count / 2]) / 2
                p.canvas.line(cx - 26, p.y.map(m), cx + 26, p.y.map(m), stroke: "#000", width: 2.2)
            }
            p.canvas.text(cx, p.bottom + 16, "\(group.label) (n = \(sorted.count))", size: 11, anchor: .middle)
        }
        return p.canvas.svg(label: "lesion scores by lesion response")
    }
}
