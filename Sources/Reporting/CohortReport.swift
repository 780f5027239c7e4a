import Foundation

/// Renders the cohort report: one self-contained HTML file with the aggregation comparison, survival
/// curves, discrimination charts, lesion-level validation and every lesion's plan.
public enum CohortReport {
    public static func html(_ m: CohortReportModel) -> String {
        let lesions = m.patients.flatMap(\.lesions)
        var b = """
        <header class="top"><div><h1>\(htmlEscape(m.title))</h1>
        <div class="facts"><b>\(m.patients.count)</b> patients · <b>\(m.allScores.count)</b> scored lesions\(imaging(m)) · signature <b>\(htmlEscape(m.signature.id))</b> · policy <b>\(htmlEscape(m.policy.name))</b> · \(htmlEscape(m.provenance.software)) · \(htmlEscape(m.provenance.createdUTC))</div></div>
        <div class="ruo">RESEARCH USE ONLY<br>not for clinical decisions</div></header>
        <p class="disclaimer">\(htmlEscape(researchUseDisclaimer)) Signature status: \(htmlEscape(sentence(m.signature.validationStatus)))</p>

        """
        b += overview(m, lesions: lesions)
        b += harmonisation(m)
        if !m.failures.isEmpty {
            b += "<h2>Patients not analysed</h2><table id=\"failures\"><thead><tr><th>patient</th><th>reason</th></tr></thead><tbody>"
            for f in m.failures { b += "<tr><td class=\"id\">\(htmlEscape(f.patientID))</td><td>\(htmlEscape(f.message))</td></tr>" }
            b += "</tbody></table>\n"
        }
        b += outcomes(m)
        b += validation(m)
        if let r = m.robustness { b += robustness(r) }
        b += lesionPlans(m)
        b += methods(m)
        b += "<footer>\(htmlEscape(m.provenance.software)) · created \(htmlEscape(m.provenance.createdUTC)) · research use only</footer>"
        return htmlDocument(title: m.title, body: b)
    }

    /// " · <b>PET/CT</b> (90 lesions with CT and PET features)" for the header line; "" when the store does not say.
    static func imaging(_ m: CohortReportModel) -> String {
        guard let name = m.imagingName else { return "" }
        let parts = m.modalities.map { combination, n in
            let names = combination.split(separator: ",").map { $0 == "PT" ? "PET" : String($0) }
            return "\(n) lesion\(n == 1 ? "" : "s") with \(names.joined(separator: " and ")) features"
        }
        return " · <span id=\"imaging\"><b>\(htmlEscape(name))</b> (\(htmlEscape(parts.joined(separator: ", "))))</span>"
    }

    static func overview(_ m: CohortReportModel, lesions: [LesionReportRow]) -> String {
        var s = "<h2>Cohort overview</h2><div class=\"summary\">"
        for key in categoryOrder {
            let n = lesions.filter { $0.categoryKey == key }.count
            let patients = m.patients.filter { $0.lesions.contains { $0.categoryKey == key } }.count
            s += "<div class=\"card\" style=\"border-top-color:\(categoryColours[key]!)\"><h3>\(htmlEscape(categoryLabels[key]!))</h3><b>\(n)</b> lesion\(n == 1 ? "" : "s") in <b>\(patients)</b> patient\(patients == 1 ? "" : "s")</div>"
        }
        s += "</div><table id=\"patients\"><thead><tr><th>patient</th><th class=\"num\">lesions</th><th class=\"num\">SBRT</th><th class=\"num\">low-dose RT</th><th class=\"num\">no RT</th><th class=\"num\">min score</th><th class=\"num\">max score</th><th class=\"num\">kVp</th></tr></thead><tbody>"
        for p in m.patients {
            let scores = p.lesions.map(\.score).filter(\.isFinite)
            let id = htmlEscape(p.patientID)
            let name = p.reportLink.map { "<a href=\"\(htmlEscape($0))\">\(id)</a>" } ?? id
            s += "<tr><td class=\"id\">\(name)</td><td class=\"num\">\(p.lesions.count)</td>"
            for key in categoryOrder { s += "<td class=\"num\">\(p.lesions.filter { $0.categoryKey == key }.count)</td>" }
            s += "<td class=\"num\">\(fmt(scores.min() ?? .nan))</td><td class=\"num\">\(fmt(scores.max() ?? .nan))</td><td class=\"num\">\(p.kvp.map { fmt($0, 0) } ?? "—")</td></tr>"
        }
        return s + "</tbody></table>\n"
    }

    /// Comparison tables, forest plots, C-index charts, Kaplan-Meier curves and the how-many-lesions curve.
    static func outcomes(_ m: CohortReportModel) -> String {
        var s = "<h2 class=\"pagebreak\">Which aggregation of lesion scores predicts outcome?</h2>"
        if let note = m.statisticsNote { s += "<p class=\"muted\" id=\"statistics-note\">\(htmlEscape(note))</p>" }
        for t in m.comparisons {
            let survival = t.columns.contains("c_index")
            let ratio = survival ? "hr" : "or"
            s += "<h3>\(htmlEscape(t.endpoint.uppercased())): aggregation comparison</h3>"
            s += comparisonTable(t)
            if t.columns.contains(ratio + "_per_sd") {
                s += "<div class=\"keep\">" + Charts.forest(t.rows.map { ($0.aggregator, $0[ratio + "_per_sd"], $0[ratio + "_per_sd_low"], $0[ratio + "_per_sd_high"], fmtP($0["p"])) },
                                                           xLabel: (survival ? "hazard" : "odds") + " ratio per SD of the patient value (95% CI, log scale)") + "</div>"
            }
            let d = survival ? "c" : "auc"
            if t.columns.contains(survival ? "c_index" : "auc") {
                s += "<div class=\"keep\">" + Charts.intervals(t.rows.map { ($0.aggregator, $0[survival ? "c_index" : "auc"], $0[d + "_low"], $0[d + "_high"]) },
                                                              reference: 0.5, xLabel: survival ? "Harrell's C-index (95% bootstrap CI)" : "ROC AUC (95% CI)") + "</div>"
            }
        }
        var endpoints: [String] = []
        for p in m.survival where !endpoints.contains(p.endpoint) { endpoints.append(p.endpoint) }
        for e in endpoints {
            s += "<h3>\(htmlEscape(e.uppercased())): Kaplan-Meier curves, patients split at each aggregator's median</h3><p class=\"muted\">In brackets: events / patients per group. Red: at or below the median; blue: above it.</p><div class=\"figrow\">"
            for p in m.survival where p.endpoint == e { s += "<div class=\"keep\">" + Charts.survival(p) + "</div>" }
            s += "</div>"
        }
        s += "<h3>How many lesions need to be analysed?</h3>"
        if m.lesionCountCurves.isEmpty {
            s += "<p class=\"muted\" id=\"lesion-count-note\">Not computed yet: run lesionmap compare with --lesion-subsets.</p>"
        }
        for c in m.lesionCountCurves {
            s += "<p><b>\(htmlEscape(c.endpoint.uppercased()))</b></p><div class=\"keep\">" + Charts.lines(c) + "</div>"
            s += "<p class=\"muted\">\(htmlEscape(c.note))</p>"
        }
        return s + "\n"
    }

    /// The main columns of a stored comparison: counts, ratio per SD, p values, discrimination, rank; notes below.
    static func comparisonTable(_ t: ComparisonTable) -> String {
        let survival = t.columns.contains("c_index")
        let ratio = survival ? "hr" : "or", d = survival ? "c" : "auc", disc = survival ? "c_index" : "auc"
        func ci(_ r: ComparisonRow, _ v: String, _ lo: String, _ hi: String, _ digits: Int) -> String {
            guard r[v].isFinite else { return "—" }
            return "\(fmt(r[v], digits)) <span class=\"muted\">(\(fmt(r[lo], digits))–\(fmt(r[hi], digits)))</span>"
        }
        // Columns added by later versions of `lesionmap compare` are shown only when the stored table has them.
        let hasHolm = t.columns.contains("p_holm")
        let corrected = survival ? "c_index_corrected" : "auc_corrected", perm = d + "_perm_p"
        let hasCorrected = t.columns.contains(corrected), hasPerm = t.columns.contains(perm)
        var head = ["aggregator", "n", survival ? "events" : "positives", (survival ? "HR" : "OR") + " per SD (95% CI)", "p"]
        if hasHolm { head.append("p Holm") }
        if survival { head.append("log-rank p<br>median split") }
        head += [survival ? "worse when" : "positive when", survival ? "C-index (95% CI)" : "AUC (95% CI)"]
        if hasCorrected { head.append("optimism-<br>corrected") }
        if hasPerm { head.append("permutation p<br>(selection-adjusted)") }
        head += ["p vs best", "rank"]
        var s = "<table class=\"comparison\" data-endpoint=\"\(htmlEscape(t.endpoint))\"><thead><tr>"
        s += head.enumerated().map { $0 == 0 || $1.hasSuffix(" when") ? "<th>\($1)</th>" : "<th class=\"num\">\($1)</th>" }.joined() + "</tr></thead><tbody>"
        let best = t.rows.map { $0[disc] }.filter(\.isFinite).max()
        var notes: [String] = []
        for r in t.rows {
            let isBest = r[disc] == best
            s += "<tr><td class=\"id\">\(htmlEscape(r.aggregator))\(r.texts["kind"] == "learned_out_of_sample" ? " <span class=\"tag\">out of sample</span>" : "")</td>"
            s += "<td class=\"num\">\(fmt(r["n"], 0))</td><td class=\"num\">\(fmt(r[survival ? "events" : "positives"], 0))</td>"
            s += "<td class=\"num\">\(ci(r, ratio + "_per_sd", ratio + "_per_sd_low", ratio + "_per_sd_high", 2))</td><td class=\"num\">\(fmtP(r["p"]))</td>"
            if hasHolm { s += "<td class=\"num\">\(fmtP(r["p_holm"]))</td>" }
            if survival { s += "<td class=\"num\">\(fmtP(r["logrank_p_median_split"]))</td>" }
            s += "<td>\(htmlEscape(r.texts["worse_when"] ?? r.texts["positive_when"] ?? ""))</td>"
            let c = ci(r, disc, d + "_low", d + "_high", 3)
            s += "<td class=\"num\">\(isBest ? "<b>\(c)</b>" : c)</td>"
            if hasCorrected { s += "<td class=\"num\">\(fmt(r[corrected], 3))</td>" }
            if hasPerm { s += "<td class=\"num\">\(fmtP(r[perm]))</td>" }
            s += "<td class=\"num\">\(fmtP(r[d + "_diff_p"]))</td><td class=\"num\">\(fmt(r["rank"], 0))</td></tr>"
            if let n = r.texts["note"], !n.isEmpty { notes.append("\(r.aggregator): \(n)") }
        }
        s += "</tbody></table>"
        if !notes.isEmpty { s += "<p class=\"muted\">Notes: " + notes.map(htmlEscape).joined(separator: "; ") + "</p>" }
        if let text = t.interpretation, !text.isEmpty {
            s += "<p class=\"interpretation\" data-endpoint=\"\(htmlEscape(t.endpoint))\">\(htmlEscape(text))</p>"
        }
        return s
    }

    static func validation(_ m: CohortReportModel) -> String {
        var s = "<h2>Lesion-level validation</h2>"
        guard let v = m.lesionValidation else {
            return s + "<p class=\"muted\">No lesion responses are recorded in the manifest (lesion_response), so lesion scores cannot be checked against them.</p>\n"
        }
        s += "<div class=\"figrow\"><div class=\"keep\">" + Charts.groupedStrip(v.groups, yLabel: "lesion score") + "</div><div>"
        s += "<p>Lesion scores against each lesion's own recorded response. If the score measures immune infiltration, responding lesions (CR, PR) should score higher than stable or progressing ones.</p><ul>"
        for line in v.summary { s += "<li>\(htmlEscape(line))</li>" }
        return s + "</ul></div></div>\n"
    }

    static func lesionPlans(_ m: CohortReportModel) -> String {
        var s = "<h2 class=\"pagebreak\">Every lesion's plan</h2><table id=\"lesion-plans\"><thead><tr><th>patient</th><th>lesion</th><th>location</th><th class=\"num\">volume (mL)</th><th class=\"num\">score</th><th class=\"num\">pct</th><th>category</th><th class=\"num\">rank</th><th>rationale</th></tr></thead><tbody>"
        for p in m.patients {
            for l in p.lesions {
                s += "<tr class=\"lesion-row\" style=\"--rowcat:\(l.colour)\"><td class=\"id\">\(htmlEscape(p.patientID))</td><td>\(htmlEscape(l.lesionID))</td><td>\(htmlEscape(l.location))</td>"
                s += "<td class=\"num\">\(fmt(l.volumeML))</td><td class=\"num\">\(fmt(l.score))</td><td class=\"num\">\(fmt(l.percentile, 0))</td>"
                s += "<td>\(categoryBadge(l.categoryKey, short: true))</td><td class=\"num\">\(l.rank)</td><td class=\"why\">\(htmlEscape(l.rationale))</td></tr>"
            }
        }
        return s + "</tbody></table>\n"
    }

    /// The before/after picture of a harmonised store: one feature's distribution per batch.
    static func harmonisation(_ m: CohortReportModel) -> String {
        guard let h = m.harmonisation else { return "" }
        let (before, after) = Charts.batchBoxes(h)
        return "<h2>Scanner harmonisation</h2><p>Features harmonised across batches of <b>\(htmlEscape(h.batchColumn))</b> with ComBat (\(htmlEscape(h.method)) empirical Bayes; Johnson, Li &amp; Rabinovic 2007). \(htmlEscape(h.note))</p>"
            + "<div class=\"figrow\" id=\"harmonisation\"><div class=\"keep\">\(before)</div><div class=\"keep\">\(after)</div></div>\n"
    }

    static func methods(_ m: CohortReportModel) -> String {
        "<h2>Methods and provenance</h2>" + provenanceList(m.provenance, signature: m.signature, policy: m.policy)
            + "<p class=\"muted\">Extraction settings:</p><pre>\(htmlEscape(m.provenance.settingsJSON))</pre>"
    }
}
