import Foundation

/// The patient report's "Response over time" section (issue 15 item 4): for a patient with follow-up scans,
/// every lesion's RECIST diameter and signature score over days (one labelled line per lesion; irradiated
/// lesions drawn thick with square markers, new lesions dashed from the time point they were first seen), the
/// patient's RECIST 1.1 / iRECIST / abscopal response per time point, and each lesion's category with its
/// change from baseline and nadir. Rendering only: the assessment is `lesionmap response`'s (`ResponseTimeline`).
enum ResponseSection {
    /// Lesion line colours, in lesion order (the same lesion has the same colour in both plots).
    static let lineColours = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f",
                              "#bcbd22", "#17becf"]
    /// Per-lesion and patient response colours.
    static let responseColours = ["CR": "#1e8449", "PR": "#52be80", "SD": "#d68910", "PD": "#c0392b", "NEW": "#7d3c98",
                                  "NON-CR/NON-PD": "#7f8c8d", "NE": "#95a5a6"]

    /// The section, or "" when the patient has no follow-up (no heading, no placeholder).
    static func html(_ m: PatientReportModel) -> String {
        guard let t = m.timeline, !t.visits.isEmpty else { return "" }
        let colours = Dictionary(t.lesions.enumerated().map { ($0.element.lesionID, lineColours[$0.offset % lineColours.count]) },
                                 uniquingKeysWith: { a, _ in a })
        var s = "<section id=\"response-over-time\"><h2 class=\"pagebreak\">Response over time</h2>"
        s += "<p class=\"muted\">\(t.visits.count) follow-up\(t.visits.count == 1 ? "" : "s") after the baseline scan; \(t.lesions.count) lesion\(t.lesions.count == 1 ? "" : "s") followed, \(t.lesions.filter(\.isNew).count) new. Assessment: \(htmlEscape(t.source)).</p>"
        s += "<h3>Lesion diameters</h3><div class=\"keep\" id=\"diameter-plot\">"
        s += trajectories(t, colours: colours, value: { $0.diameterMM }, yLabel: "RECIST diameter (mm)", fromZero: true,
                          references: [], what: "diameter", unit: "mm")
        s += "<p class=\"legend muted\">\(styleLegend) Diameter: the longest axial diameter, the short axis for lymph nodes (RECIST 1.1); a lesion without a contour at a follow-up is drawn at 0 mm with a hollow marker.</p></div>"
        s += "<h3>Signature score</h3><div class=\"keep\" id=\"score-plot\">"
        let cutoffs = m.signature.cutoffs.map { (name: $0.name, value: $0.value) }
        s += trajectories(t, colours: colours, value: { $0.present ? $0.score : .nan }, yLabel: "lesion score",
                          fromZero: false, references: cutoffs, what: "score", unit: "")
        s += "<p class=\"legend muted\">\(styleLegend) Score: \(htmlEscape(m.signature.id)) (\(htmlEscape(m.signature.direction))) applied to the lesion's features at each time point\(cutoffs.isEmpty ? "" : "; dashed lines: the signature's cut-offs"). The radiotherapy categories above use the baseline scores only.</p></div>"
        s += visitTable(t)
        s += lesionTable(t, colours: colours)
        s += "<p class=\"muted\">RECIST 1.1 (Eisenhauer 2009): targets at most 5 (2 per organ) measurable baseline lesions; PR −30% of the target sum from baseline, PD +20% and +5 mm from the nadir, or a new lesion. Per-lesion categories apply the same thresholds to each lesion alone. iRECIST (Seymour 2017): a first PD is unconfirmed (iUPD) until the next assessment confirms it (iCPD). Abscopal response (Sun 2022), only for patients with an irradiated lesion: any non-irradiated lesion at least 30% smaller than at baseline, and RECIST 1.1 applied to the non-irradiated lesions alone (CR or PR); the two definitions can disagree.</p></section>\n"
        return s
    }

    static let styleLegend = "One line per lesion, labelled at its last time point. Thick line, square markers: irradiated lesion (RT); thin line, round markers: not irradiated; dashed: new lesion, from the time point it was first seen."

    /// One labelled line per lesion of `value` over days; the lesion's colour from `colours`.
    static func trajectories(_ t: ResponseTimeline, colours: [String: String], value: (TimelinePoint) -> Double,
                             yLabel: String, fromZero: Bool, references: [(name: String, value: Double)],
                             what: String, unit: String, width: Double = 720, height: Double = 270) -> String {
        let days = t.days
        let values = t.lesions.flatMap { $0.points.map(value) }.filter(\.isFinite)
        let (d0, d1) = (days.first ?? 0, days.last ?? 1)
        let xPad = max((d1 - d0) * 0.04, 1)
        var yRange = paddedRange(values + references.map(\.value).filter(\.isFinite), pad: 0.08)
        if fromZero { yRange = (0, max(values.max() ?? 1, 1) * 1.08) }
        var p = PlotFrame(width: width, height: height, margins: (56, 130, 12, 40), x: (d0 - xPad, d1 + xPad), y: yRange)
        p.axes(xLabel: "days from baseline", yLabel: yLabel, xTicks: days.count <= 8 ? days : nil,
               xFormat: { dayLabel($0) })
        for r in references where r.value.isFinite && r.value >= yRange.0 && r.value <= yRange.1 {
            p.canvas.line(p.left, p.y.map(r.value), p.right, p.y.map(r.value), stroke: "#555", dash: "4 3")
            p.canvas.text(p.left + 4, p.y.map(r.value) - 3, r.name, size: 9.5, colour: "#444")
        }
        var ends: [(y: Double, text: String, colour: String)] = []
        for l in t.lesions {
            let colour = colours[l.lesionID] ?? "#555"
            let pts = l.points.filter { value($0).isFinite }
            p.canvas.beginGroup(cssClass: "trajectory", data: ["lesion": l.lesionID, "irradiated": l.irradiated ? "1" : "0",
                                                               "new": l.isNew ? "1" : "0", "points": String(pts.count)])
            if pts.count > 1 {
                p.canvas.polyline(l.points.map { (p.x.map($0.day), p.y.map(value($0))) }, stroke: colour,
                                  width: l.irradiated ? 2.8 : 1.6, dash: l.isNew ? "5 4" : nil)
            }
            for q in pts {
                let (x, y) = (p.x.map(q.day), p.y.map(value(q)))
                var title = "\(l.lesionID) · \(dayLabel(q.day, long: true)): \(fmt(value(q), unit.isEmpty ? 2 : 1))\(unit.isEmpty ? "" : " " + unit)"
                if what == "diameter", q.changeFromBaselinePct.isFinite { title += " (\(signedPct(q.changeFromBaselinePct)) from baseline)" }
                if !q.category.isEmpty { title += ", \(q.category)" }
                if !q.present { title += ", no contour" }
                let fill = q.present ? colour : "#fff"
                if l.irradiated {
                    p.canvas.rect(x - 4, y - 4, 8, 8, fill: fill, stroke: colour, title: title)
                } else {
                    p.canvas.circle(x, y, r: 3.6, fill: fill, stroke: colour, strokeWidth: 1.2, title: title)
                }
            }
            p.canvas.endGroup()
            if let last = pts.last {
                ends.append((p.y.map(value(last)), l.lesionID + (l.irradiated ? " · RT" : "") + (l.isNew ? " · new" : ""), colour))
            }
        }
        // End labels stacked at least 12 px apart, in the plot's height.
        ends.sort { $0.y < $1.y }
        var placed: [Double] = []
        for e in ends { placed.append(max(e.y + 3.5, (placed.last ?? -Double.infinity) + 12)) }
        let overflow = (placed.last ?? 0) - (p.bottom + 4)
        if overflow > 0 { placed = placed.map { max($0 - overflow, p.top + 8) } }
        for (e, y) in zip(ends, placed) {
            p.canvas.text(p.right + 8, y, e.text, size: 10.5, colour: e.colour, bold: true)
        }
        return p.canvas.svg(label: "\(what) of each lesion over days from baseline")
    }

    /// The patient's response per time point, baseline first.
    static func visitTable(_ t: ResponseTimeline) -> String {
        var s = "<div class=\"keep\"><h3>Patient response by time point</h3><table id=\"response-visits\"><thead><tr><th>time point</th><th class=\"num\">sum of target<br>diameters, mm</th><th class=\"num\">vs<br>baseline</th><th class=\"num\">vs<br>nadir</th><th>RECIST 1.1</th><th>iRECIST</th><th>new lesions</th><th>abscopal: any non-irradiated<br>lesion −30%</th><th>abscopal: RECIST 1.1 on<br>non-irradiated lesions</th><th>notes</th></tr></thead><tbody>"
        s += "<tr class=\"visit-baseline\" data-timepoint=\"0\"><td>\(dayLabel(0, long: true)) (baseline)</td><td class=\"num\">\(fmt(t.baselineSumMM, 1))</td><td class=\"num\">—</td><td class=\"num\">—</td><td colspan=\"6\" class=\"muted\">baseline: \(t.lesions.filter { $0.role == "target" }.count) target lesion(s)</td></tr>"
        for v in t.visits {
            var notes: [String] = []
            if v.dissociated { notes.append("dissociated response") }
            if v.pseudoprogression { notes.append("pseudoprogression candidate") }
            if v.hyperprogression == true { notes.append("hyperprogression") }
            s += "<tr class=\"visit\" data-timepoint=\"\(htmlEscape(ResponseSection.dayValue(v.day)))\" data-recist=\"\(htmlEscape(v.recist))\" data-irecist=\"\(htmlEscape(v.irecist))\" data-abscopal-any=\"\(flag(v.abscopalAnyLesion))\" data-abscopal-recist=\"\(flag(v.abscopalRecist))\">"
            s += "<td>\(dayLabel(v.day, long: true))</td><td class=\"num\">\(fmt(v.sumDiametersMM, 1))</td><td class=\"num\">\(signedPct(v.sumChangePct))</td><td class=\"num\">\(signedPct(v.sumChangeFromNadirPct))</td>"
            s += "<td>\(responseBadge(v.recist))</td><td>\(htmlEscape(v.irecist))</td>"
            s += "<td>\(v.newLesions.isEmpty ? "none" : v.newLesions.map { "<b>\(htmlEscape($0))</b>" }.joined(separator: ", "))</td>"
            s += "<td>\(yesNo(v.abscopalAnyLesion))</td><td>\(yesNo(v.abscopalRecist))\(v.outOfFieldRecist.isEmpty ? "" : " (\(htmlEscape(v.outOfFieldRecist)))")</td>"
            s += "<td>\(htmlEscape(notes.joined(separator: "; ")))</td></tr>"
        }
        return s + "</tbody></table></div>"
    }

    /// Each lesion (rows) at each time point (columns): RECIST diameter, category, change from baseline and nadir.
    static func lesionTable(_ t: ResponseTimeline, colours: [String: String]) -> String {
        let days = t.days
        // The heading stays with the table's first rows in print (a long table may still break between rows).
        var s = "<h3 class=\"with-next\">Lesions by time point</h3><table id=\"response-lesions\"><thead><tr><th>lesion</th><th>location</th><th>RECIST role</th>"
        s += days.map { "<th>\(dayLabel($0, long: true))\($0 == 0 ? "<br>baseline" : "")</th>" }.joined() + "</tr></thead><tbody>"
        for l in t.lesions {
            let role = l.isNew ? "<span class=\"badge\" style=\"background:\(responseColours["NEW"]!)\">new</span>" : htmlEscape(l.role.replacingOccurrences(of: "_", with: "-"))
            s += "<tr class=\"response-lesion\" data-lesion=\"\(htmlEscape(l.lesionID))\"><td class=\"id\" style=\"border-left:5px solid \(colours[l.lesionID] ?? "#555")\">\(htmlEscape(l.lesionID))</td>"
            s += "<td class=\"loc\">\(htmlEscape(l.location))\(l.irradiated ? "<br><span class=\"tag\">irradiated</span>" : "")</td><td>\(role)</td>"
            for d in days {
                guard let q = l.point(at: d) else {
                    s += "<td class=\"muted\">\(l.isNew && d < (l.points.first?.day ?? 0) ? "not seen" : "—")</td>"
                    continue
                }
                let size = q.present ? "\(fmt(q.diameterMM, 1)) mm" : "no contour"
                if q.category.isEmpty {
                    s += "<td class=\"num\">\(size)</td>"
                    continue
                }
                var change: [String] = []
                if q.changeFromBaselinePct.isFinite { change.append("\(signedPct(q.changeFromBaselinePct)) vs baseline") }
                if q.changeFromNadirPct.isFinite { change.append("\(signedPct(q.changeFromNadirPct)) vs nadir") }
                s += "<td class=\"lesion-cat\" data-lesion=\"\(htmlEscape(l.lesionID))\" data-timepoint=\"\(htmlEscape(dayValue(d)))\" data-category=\"\(htmlEscape(q.category))\">\(responseBadge(q.category)) \(size)"
                s += change.isEmpty ? "</td>" : "<br><span class=\"muted\">\(change.joined(separator: ", "))</span></td>"
            }
            s += "</tr>"
        }
        return s + "</tbody></table>"
    }

    static func responseBadge(_ r: String) -> String {
        "<span class=\"badge\" style=\"background:\(responseColours[r] ?? "#555")\">\(htmlEscape(r.isEmpty ? "—" : r))</span>"
    }

    static func flag(_ b: Bool?) -> String { b.map { $0 ? "1" : "0" } ?? "" }
    static func yesNo(_ b: Bool?) -> String { b.map { $0 ? "<b>yes</b>" : "no" } ?? "<span class=\"muted\">not assessed</span>" }

    /// "+12%", "-50%", "—" for NaN.
    static func signedPct(_ x: Double) -> String {
        guard x.isFinite else { return "—" }
        let r = x.rounded()
        return r == 0 ? "0%" : String(format: "%+.0f%%", r)
    }

    /// A day as a number without noise ("60", "60.5").
    static func dayValue(_ d: Double) -> String { d == d.rounded() ? String(Int(d)) : String(format: "%g", d) }

    /// "60" on axes, "day 60" in tables.
    static func dayLabel(_ d: Double, long: Bool = false) -> String { long ? "day " + dayValue(d) : dayValue(d) }
}
