import Foundation

/// Renders the cohort report: one self-contained HTML file (inline CSS and SVG, print stylesheet).
public enum CohortReport {
    public static func html(_ m: CohortReportModel) -> String {
        let cohort = m.allScores
        var h = """
        <!DOCTYPE html>
        <html lang="en"><head><meta charset="utf-8">
        <title>\(htmlEscape(m.title))</title>
        <style>
        body{font-family:-apple-system,Segoe UI,Helvetica,Arial,sans-serif;margin:24px;color:#222;max-width:1100px}
        h1{font-size:22px;margin-bottom:4px} h2{font-size:17px;margin-top:28px;border-bottom:1px solid #ddd}
        .disclaimer{background:#fff4e5;border:1px solid #f0b866;padding:8px 12px;border-radius:4px}
        table{border-collapse:collapse;margin:8px 0;font-size:13px} th,td{border:1px solid #ccc;padding:3px 7px;text-align:left}
        th{background:#f3f3f3} td.num{text-align:right;font-variant-numeric:tabular-nums}
        .cat{display:inline-block;width:10px;height:10px;border-radius:5px;margin-right:5px;vertical-align:middle}
        .patient{page-break-inside:avoid} .warn{color:#a04000} .meta{color:#555;font-size:13px}
        pre{background:#f7f7f7;padding:8px;font-size:11px;white-space:pre-wrap;word-break:break-all}
        @media print{body{margin:10mm} .patient{page-break-inside:avoid}}
        </style></head><body>
        <h1>\(htmlEscape(m.title))</h1>
        <p class="meta">LesionMap \(htmlEscape(m.softwareVersion)) · created \(htmlEscape(m.createdUTC)) · \(m.patients.count) patients · \(cohort.count) scored lesions</p>
        <p class="disclaimer">\(htmlEscape(researchUseDisclaimer))</p>
        <p>Signature <b>\(htmlEscape(m.signatureID))</b> (\(htmlEscape(m.signatureDirection))). Status: \(htmlEscape(m.signatureStatus))</p>
        <p>Categories (policy <code>\(htmlEscape(m.policyName))</code>):
        """
        for key in ["ablative_sbrt", "low_dose_rt", "no_rt"] {
            let label = ["ablative_sbrt": "Ablative SBRT candidate", "low_dose_rt": "Low-dose RT candidate", "no_rt": "No RT / observe"][key]!
            h += " <span class=\"cat\" style=\"background:\(categoryColours[key]!)\"></span>\(label)"
        }
        h += "</p>\n"
        if !m.failures.isEmpty {
            h += "<h2>Patients not analysed</h2><table><tr><th>patient</th><th>reason</th></tr>"
            for f in m.failures { h += "<tr><td>\(htmlEscape(f.patientID))</td><td>\(htmlEscape(f.message))</td></tr>" }
            h += "</table>\n"
        }
        h += "<h2>Patients</h2>\n"
        for p in m.patients {
            h += "<section class=\"patient\" id=\"patient-\(htmlEscape(p.patientID))\">"
            h += "<h3>\(htmlEscape(p.patientID))</h3><p class=\"meta\">\(p.lesions.count) lesion\(p.lesions.count == 1 ? "" : "s") · kVp \(p.kvp.map { fmt($0, 0) } ?? "unknown")</p>"
            for w in p.warnings { h += "<p class=\"warn\">⚠ \(htmlEscape(w))</p>" }
            h += StripPlot.svg(patient: p.lesions, cohort: cohort, cutoffs: m.cutoffs)
            h += "<table><tr><th>lesion</th><th>location</th><th>volume (mL)</th><th>score</th><th>cohort pct</th><th>category</th><th>rank</th><th>rationale</th></tr>"
            for l in p.lesions {
                let colour = categoryColours[l.categoryKey] ?? "#000"
                h += "<tr class=\"lesion-row\"><td>\(htmlEscape(l.lesionID))</td><td>\(htmlEscape(l.location))</td>"
                h += "<td class=\"num\">\(fmt(l.volumeML))</td><td class=\"num\">\(fmt(l.score))</td><td class=\"num\">\(fmt(l.percentile, 0))</td>"
                h += "<td><span class=\"cat\" style=\"background:\(colour)\"></span>\(htmlEscape(l.category))</td><td class=\"num\">\(l.rank)</td><td>\(htmlEscape(l.rationale))</td></tr>"
            }
            h += "</table><table><tr><th>patient metric</th>" + p.aggregates.map { "<th>\(htmlEscape($0.name))</th>" }.joined() + "</tr>"
            h += "<tr><td>value</td>" + p.aggregates.map { "<td class=\"num\">\(fmt($0.value))</td>" }.joined() + "</tr>"
            h += "<tr><td>cohort percentile</td>" + p.aggregates.map { "<td class=\"num\">\(fmt($0.percentile, 0))</td>" }.joined() + "</tr></table>"
            h += "</section>\n"
        }
        h += "<h2>Methods and provenance</h2><p>Features were extracted for every lesion and its peritumoral ring with these settings:</p>"
        h += "<pre>\(htmlEscape(m.settingsJSON))</pre>"
        h += "<p class=\"disclaimer\">\(htmlEscape(researchUseDisclaimer))</p></body></html>\n"
        return h
    }
}
