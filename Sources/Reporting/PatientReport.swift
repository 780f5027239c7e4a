import Foundation

/// Renders the per-patient tumour-board report: one self-contained HTML file (inline CSS, SVG plots
/// and PNG images; print stylesheet), ordered so that the recommendation is read first.
public enum PatientReport {
    public static func html(_ m: PatientReportModel) -> String {
        var b = header(m)
        b += "<p class=\"disclaimer\">\(htmlEscape(researchUseDisclaimer))</p>\n"
        for w in m.warnings { b += "<p class=\"warn\">⚠ \(htmlEscape(w))</p>\n" }
        b += summary(m)
        b += lesionMap(m)
        b += lesionTable(m)
        b += scoresAndMetrics(m)
        b += ResponseSection.html(m)
        b += lesionImages(m)
        b += methods(m)
        b += "<footer>\(htmlEscape(m.provenance.software)) · report created \(htmlEscape(m.provenance.createdUTC)) · patient \(htmlEscape(m.patientID)) · research use only</footer>"
        return htmlDocument(title: "LesionMap report · \(m.patientID)", body: b)
    }

    static func header(_ m: PatientReportModel) -> String {
        var facts = ["Scan date <b>\(htmlEscape(m.scanDate.map(displayDate) ?? "not recorded"))</b>",
                     "kVp <b>\(m.kvp.map { fmt($0, 0) } ?? "not recorded")</b>",
                     "<b>\(m.lesions.count)</b> lesion\(m.lesions.count == 1 ? "" : "s")"]
        if let s = m.scanner, !s.isEmpty { facts.append("Scanner \(htmlEscape(s))") }
        facts.append("Signature <b>\(htmlEscape(m.signature.id))</b>")
        facts.append("Policy <b>\(htmlEscape(m.policy.name))</b>")
        return """
        <header class="top"><div><h1>Lesion map · patient <span id="patient-id">\(htmlEscape(m.patientID))</span></h1>
        <div class="facts">\(facts.joined(separator: " · "))</div></div>
        <div class="ruo">RESEARCH USE ONLY<br>not for clinical decisions</div></header>

        """
    }

    /// The recommendation: one card per category listing its lesions in rank order.
    static func summary(_ m: PatientReportModel) -> String {
        var s = "<h2>Recommendation summary</h2><div class=\"summary\">"
        for key in categoryOrder {
            let members = m.lesions.filter { $0.categoryKey == key }.sorted { $0.rank < $1.rank }
            s += "<div class=\"card\" style=\"border-top-color:\(categoryColours[key]!)\"><h3>\(htmlEscape(categoryLabels[key]!)) · \(members.count)</h3>"
            if members.isEmpty {
                s += "<div class=\"none\">none</div>"
            } else {
                s += "<ol>"
                for l in members {
                    s += "<li><b>\(htmlEscape(l.lesionID))</b> \(htmlEscape(l.location)), \(fmt(l.volumeML, 1)) mL, score \(fmt(l.score)) (P\(fmt(l.percentile, 0)))</li>"
                }
                s += "</ol>"
            }
            s += "</div>"
        }
        s += "</div>"
        let get = { (k: String) in m.metrics.first { $0.key == k } }
        var key: [String] = []
        if let lo = get("min") { key.append("least infiltrated lesion score \(fmt(lo.value)) (cohort P\(fmt(lo.percentile, 0)) of patients)") }
        if let sd = get("sd") {
            // sd, range and entropy are undefined (NaN) for a patient with a single scored lesion.
            key.append(sd.value.isFinite ? "spread between lesions (SD) \(fmt(sd.value)) (P\(fmt(sd.percentile, 0)))"
                                         : "spread between lesions undefined (one scored lesion)")
        }
        if !key.isEmpty { s += "<p class=\"keyline\">Patient level: \(key.joined(separator: "; ")).</p>" }
        return s + "\n"
    }

    static func lesionMap(_ m: PatientReportModel) -> String {
        var s = "<h2>Lesion map</h2>"
        guard let v = m.views else {
            return s + "<p class=\"muted\">Images not shown: \(htmlEscape(m.imageNote ?? "no image available")).</p>\n"
        }
        s += "<div class=\"figrow map keep\">" + v.coronal.html(displayWidth: 380) + v.axial.html(displayWidth: 320) + "</div>"
        if let pet = v.pet {
            s += "<div class=\"figrow map keep\" id=\"pet-map\">" + pet.coronal.html(displayWidth: 380) + pet.axial.html(displayWidth: 320) + "</div>"
        }
        s += "<p class=\"legend muted\">" + categoryOrder.map { "<span><i style=\"background:\(categoryColours[$0]!)\"></i>\(htmlEscape(categoryLabels[$0]!))</span>" }.joined() + "</p>\n"
        return s
    }

    static func lesionTable(_ m: PatientReportModel) -> String {
        let hasAttention = m.lesions.contains { $0.attention != nil }
        var s = "<h2>Lesions</h2><table id=\"lesion-table\"><thead><tr><th>lesion</th><th>location</th><th class=\"num\">volume<br>mL</th><th class=\"num\">max diam.<br>mm</th><th class=\"num\">score</th><th class=\"num\">cohort<br>pct</th><th>category</th><th class=\"num\">rank</th>"
        s += (hasAttention ? "<th class=\"num\">MIL<br>attention</th>" : "") + "<th>rationale</th></tr></thead><tbody>"
        for l in m.lesions {
            s += "<tr class=\"lesion-row\" data-lesion=\"\(htmlEscape(l.lesionID))\" style=\"--rowcat:\(l.colour)\"><td class=\"id\">\(htmlEscape(l.lesionID))</td><td class=\"loc\">\(htmlEscape(l.location))\(l.irradiated ? "<br><span class=\"tag\">irradiated</span>" : "")</td>"
            s += "<td class=\"num\">\(fmt(l.volumeML))</td><td class=\"num\">\(fmt(l.maxDiameterMM, 1))</td><td class=\"num\">\(fmt(l.score))</td><td class=\"num\">\(fmt(l.percentile, 0))</td>"
            s += "<td>\(categoryBadge(l.categoryKey, short: true))</td><td class=\"num\">\(l.rank)</td>"
            s += (hasAttention ? "<td class=\"num\">\(l.attention.map { fmt($0) } ?? "—")</td>" : "") + "<td class=\"why\">\(htmlEscape(l.rationale))</td></tr>"
        }
        s += "</tbody></table>"
        s += "<p class=\"muted\">Score: \(htmlEscape(m.signature.estimates)) (\(htmlEscape(m.signature.direction))). Cohort pct: percentile of the score among all \(m.cohortScores.count) scored lesions of the reference cohort. Rank: order within the category (1 = first). Max diam.: maximum 3D diameter of the lesion surface (IBSI)."
        s += hasAttention ? " MIL attention: the lesion's weight in the patient-level attention model (\(htmlEscape(m.attentionSource ?? "source unrecorded")); a patient's weights sum to 1).</p>\n"
                          : " No MIL attention weights are in the store.</p>\n"
        return s + petTable(m)
    }

    /// The lesions' standard PET measures, when any lesion has them ("" otherwise): one row per lesion, "—" for a
    /// lesion without a PET image. Values are shown to 2 decimals (the store keeps them unrounded).
    static func petTable(_ m: PatientReportModel) -> String {
        guard m.lesions.contains(where: { $0.pet != nil }) else { return "" }
        var s = "<h3>PET uptake</h3><table class=\"keep\" id=\"pet-table\"><thead><tr><th>lesion</th><th class=\"num\">SUVmax</th><th class=\"num\">SUVmean</th><th class=\"num\">SUVpeak</th><th class=\"num\">MTV<br>mL</th><th class=\"num\">TLG<br>SUV·mL</th></tr></thead><tbody>"
        for l in m.lesions {
            s += "<tr class=\"pet-row\" data-lesion=\"\(htmlEscape(l.lesionID))\"><td class=\"id\">\(htmlEscape(l.lesionID))</td>"
            if let p = l.pet {
                s += [p.suvMax, p.suvMean, p.suvPeak, p.mtvML, p.tlg].map { "<td class=\"num\">\(fmt($0))</td>" }.joined()
            } else {
                s += String(repeating: "<td class=\"num\">—</td>", count: 5)
            }
            s += "</tr>"
        }
        s += "</tbody></table><p class=\"muted\">Body-weight SUV on the PET image's own grid, whatever the radiomics settings. SUVpeak: highest mean of a 1 cm³ sphere (PERCIST 1.0, QIBA). MTV: the contour's volume on the PET grid. TLG: SUVmean × MTV. — : no PET image for this lesion.</p>\n"
        return s
    }

    static func scoresAndMetrics(_ m: PatientReportModel) -> String {
        var s = "<h2>Scores in the cohort</h2><div class=\"keep\">"
        s += Charts.scoreStrip(lesions: m.lesions, cohort: m.cohortScores,
                               cutoffs: m.signature.cutoffs.map { ($0.name, $0.value) }, boundaries: m.policy.boundaries)
        s += "<p class=\"muted\">Shading: policy categories (\(m.policy.boundaries.map { htmlEscape($0.name) }.joined(separator: ", "))). Dashed lines: signature cut-offs (\(m.signature.cutoffs.map { "\(htmlEscape($0.name)) = \(fmt($0.value))" }.joined(separator: ", "))).</p></div>"
        s += "<h3>Heterogeneity between this patient's lesions</h3><table class=\"keep\" id=\"metrics\"><thead><tr><th>patient metric</th><th class=\"num\">value</th><th class=\"num\">cohort percentile</th><th>position among the cohort's patients</th></tr></thead><tbody>"
        for x in m.metrics {
            s += "<tr><td>\(htmlEscape(x.label))</td><td class=\"num\">\(fmt(x.value, 3))</td><td class=\"num\">\(fmt(x.percentile, 0))</td><td>\(Charts.percentileGauge(x.percentile))</td></tr>"
        }
        s += "</tbody></table>\n"
        return s
    }

    static func lesionImages(_ m: PatientReportModel) -> String {
        guard let v = m.views, !v.lesions.isEmpty else { return "" }
        var s = "<h2 class=\"pagebreak\">Lesions one by one</h2><div class=\"lesion-grid\">"
        for l in m.lesions {
            s += "<div class=\"lesion-card\" id=\"lesion-\(htmlEscape(l.lesionID))\"><h3>\(htmlEscape(l.lesionID)) · \(htmlEscape(l.location)) \(categoryBadge(l.categoryKey, short: true)) <span class=\"muted\">rank \(l.rank)</span></h3>"
            if let panel = v.lesions[l.lesionID] {
                s += panel.html(displayWidth: 318)
            } else {
                s += "<p class=\"muted\">no image</p>"
            }
            if let panel = v.petLesions[l.lesionID] { s += panel.html(displayWidth: 318) }
            s += "<div class=\"muted\">score \(fmt(l.score)) · P\(fmt(l.percentile, 0)) · \(fmt(l.volumeML, 1)) mL</div></div>"
        }
        return s + "</div>\n"
    }

    static func methods(_ m: PatientReportModel) -> String {
        var s = "<h2>Methods and provenance</h2>"
        s += provenanceList(m.provenance, signature: m.signature, policy: m.policy, extra: [
            ("Reference cohort", "\(m.cohortScores.count) scored lesions of the store; percentiles count ties as half"),
        ])
        s += "<p class=\"disclaimer\">\(htmlEscape(researchUseDisclaimer)) The signature's stated validation status: \(htmlEscape(sentence(m.signature.validationStatus)))</p>\n"
        return s
    }

    /// "20240131" as "2024-01-31"; other forms unchanged.
    static func displayDate(_ s: String) -> String {
        let t = s.trimmingCharacters(in: .whitespaces)
        guard t.count == 8, t.allSatisfy(\.isNumber) else { return t }
        let a = t.startIndex
        return "\(t[a..<t.index(a, offsetBy: 4)])-\(t[t.index(a, offsetBy: 4)..<t.index(a, offsetBy: 6)])-\(t[t.index(a, offsetBy: 6)...])"
    }
}
