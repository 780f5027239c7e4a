import Foundation

/// Escapes text for HTML element content and attribute values: every manifest string goes through it.
public func htmlEscape(_ s: String) -> String {
    var out = ""
    out.reserveCapacity(s.count)
    for c in s.unicodeScalars {
        switch c {
        case "&": out += "&amp;"
        case "<": out += "&lt;"
        case ">": out += "&gt;"
        case "\"": out += "&quot;"
        case "'": out += "&#39;"
        default: out.unicodeScalars.append(c)
        }
    }
    return out
}

/// Fixed-precision number for tables; an em dash for NaN.
func fmt(_ x: Double, _ digits: Int = 2) -> String {
    x.isFinite ? String(format: "%.\(digits)f", x) : "—"
}

/// A p value as journals print it.
func fmtP(_ p: Double) -> String {
    guard p.isFinite else { return "—" }
    if p < 0.001 { return "<0.001" }
    return String(format: p < 0.01 ? "%.3f" : "%.2f", p)
}

/// Text as a sentence: trimmed, ending with a full stop.
func sentence(_ s: String) -> String {
    let t = s.trimmingCharacters(in: .whitespacesAndNewlines)
    return t.isEmpty || ".!?".contains(t.last!) ? t : t + "."
}

/// The radiotherapy categories in display order, with their colours and labels.
let categoryOrder = ["ablative_sbrt", "low_dose_rt", "no_rt"]
let categoryColours: [String: String] = [
    "ablative_sbrt": "#c0392b", "low_dose_rt": "#d68910", "no_rt": "#2471a3",
]
let categoryLabels: [String: String] = [
    "ablative_sbrt": "Ablative SBRT candidate", "low_dose_rt": "Low-dose RT candidate", "no_rt": "No RT / observe",
]
let categoryShortLabels: [String: String] = ["ablative_sbrt": "SBRT", "low_dose_rt": "Low-dose RT", "no_rt": "No RT"]

/// The research-use statement carried by every report.
public let researchUseDisclaimer = """
For research use only. LesionMap is not a medical device; its scores and radiotherapy categories are \
hypotheses for discussion by a tumour board, not treatment recommendations.
"""

/// A coloured category marker followed by its label.
func categoryBadge(_ key: String, short: Bool = false) -> String {
    let label = (short ? categoryShortLabels[key] : categoryLabels[key]) ?? key
    return "<span class=\"badge\" style=\"background:\(categoryColours[key] ?? "#555")\">\(htmlEscape(label))</span>"
}

/// The methods-and-provenance facts both reports list; `extra` rows come after the signature's.
func provenanceList(_ p: Provenance, signature: SignatureInfo, policy: PolicyInfo, extra: [(String, String)] = []) -> String {
    var rows: [(String, String)] = [
        ("Software", htmlEscape(p.software)),
        ("Features extracted", "\(htmlEscape(p.storeCreatedUTC)); settings hash \(htmlEscape(String(p.settingsHash.prefix(16))))"),
        ("Preprocessing", p.preprocessing.map(htmlEscape).joined(separator: "; ")),
        ("Signature", "\(htmlEscape(signature.id)): \(htmlEscape(signature.estimates)); \(htmlEscape(signature.direction)); file SHA-256 \(htmlEscape(String(signature.fileHash.prefix(16))))"),
        ("Validation status", "<b>\(htmlEscape(sentence(signature.validationStatus)))</b>"),
        ("Cut-offs", signature.cutoffs.map { "\(htmlEscape($0.name)) = \(fmt($0.value, 3)) (\(htmlEscape($0.source)))" }.joined(separator: "; ")),
        ("Policy", htmlEscape(policy.name) + (policy.description.isEmpty ? "" : ": " + htmlEscape(policy.description))),
        ("Policy as applied", "<code>\(htmlEscape(policy.json))</code>"),
    ]
    rows += extra
    return "<dl class=\"meta\">" + rows.map { "<dt>\($0.0)</dt><dd>\($0.1)</dd>" }.joined() + "</dl>"
}

/// One self-contained HTML document with the shared screen and print stylesheet.
func htmlDocument(title: String, body: String) -> String {
    """
    <!DOCTYPE html>
    <html lang="en"><head><meta charset="utf-8">
    <meta name="viewport" content="width=device-width, initial-scale=1">
    <title>\(htmlEscape(title))</title>
    <style>\(reportCSS)</style></head>
    <body>
    \(body)
    </body></html>

    """
}

let reportCSS = """
:root{--sbrt:#c0392b;--ldrt:#d68910;--nort:#2471a3;--ink:#1d2327;--muted:#5f6b73;--line:#d5dadd}
*{box-sizing:border-box}
body{font-family:"DejaVu Sans",Helvetica,Arial,sans-serif;margin:0 auto;padding:18px 24px;color:var(--ink);max-width:1060px;font-size:13px;line-height:1.4}
header.top{display:flex;justify-content:space-between;align-items:flex-start;border-bottom:3px solid var(--ink);padding-bottom:8px;margin-bottom:10px;gap:16px}
header.top h1{font-size:21px;margin:0 0 3px 0}
header.top .facts{color:var(--muted);font-size:12.5px}
header.top .facts b{color:var(--ink)}
.ruo{border:2px solid #b03a2e;color:#b03a2e;font-weight:bold;padding:4px 8px;border-radius:4px;font-size:11px;text-align:center;white-space:nowrap}
h2{font-size:15.5px;margin:20px 0 6px 0;padding-bottom:3px;border-bottom:1px solid var(--line)}
h3{font-size:13.5px;margin:12px 0 4px 0}
.disclaimer{background:#fff4e5;border:1px solid #f0b866;padding:6px 10px;border-radius:4px;font-size:12px}
.warn{color:#a04000}
.muted{color:var(--muted)}
.badge{display:inline-block;color:#fff;border-radius:3px;padding:0 6px;font-size:11.5px;font-weight:bold;white-space:nowrap}
.summary{display:grid;grid-template-columns:repeat(3,1fr);gap:10px;margin:8px 0}
.card{border:1px solid var(--line);border-top-width:5px;border-radius:4px;padding:6px 9px;min-height:58px}
.card h3{margin:0 0 4px 0;font-size:13px}
.card ol{margin:0;padding-left:20px}
.card li{margin:1px 0}
.card .none{color:var(--muted);font-style:italic}
.keyline{font-size:12.5px;margin:6px 0 0 0}
table{border-collapse:collapse;margin:6px 0;font-size:12px;width:100%}
th,td{border-bottom:1px solid var(--line);padding:3px 6px;text-align:left;vertical-align:top}
th{background:#f1f3f4;font-weight:bold;border-bottom:1px solid #aab2b7}
td.num,th.num{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}
td.id{font-weight:bold;white-space:nowrap}
td.why{font-size:11px;color:#333;min-width:16em}
td.loc{white-space:nowrap}
.tag{display:inline-block;font-size:10px;color:var(--muted);border:1px solid var(--line);border-radius:3px;padding:0 3px}
tr.lesion-row td:first-child{border-left:5px solid var(--rowcat,#999)}
.figrow{display:flex;flex-wrap:wrap;gap:12px;align-items:flex-start}
figure.panel{margin:0;width:100%}
.figrow.map figure.panel:first-child{flex:380 1 0}
.figrow.map figure.panel:last-child{flex:320 1 0}
.imgwrap{position:relative;background:#000}
.imgwrap img{display:block;width:100%;height:100%}
.imgwrap svg.overlay{position:absolute;left:0;top:0;width:100%;height:100%;overflow:visible}
figcaption{font-size:11px;color:var(--muted);margin-top:3px}
.lesion-grid{display:grid;grid-template-columns:repeat(3,1fr);gap:12px}
.lesion-card{border:1px solid var(--line);border-radius:4px;padding:6px}
.lesion-card h3{margin:0 0 4px 0;font-size:12.5px}
svg.plot{max-width:100%;height:auto}
code{font-size:10.5px;word-break:break-all}
pre{background:#f6f7f8;padding:8px;font-size:10.5px;white-space:pre-wrap;word-break:break-all;border-radius:4px}
details summary{cursor:pointer;color:var(--muted)}
dl.meta{display:grid;grid-template-columns:max-content 1fr;gap:2px 12px;margin:4px 0;font-size:12px}
dl.meta dt{color:var(--muted)} dl.meta dd{margin:0}
footer{margin-top:18px;border-top:1px solid var(--line);padding-top:6px;font-size:11px;color:var(--muted)}
.legend span{margin-right:12px;white-space:nowrap}
.legend i{display:inline-block;width:10px;height:10px;border-radius:5px;margin-right:4px;vertical-align:-1px}
@page{size:A4;margin:11mm 10mm 12mm 10mm}
@media print{
  body{padding:0;max-width:none;font-size:11.5px}
  h2,h3.with-next{break-after:avoid}
  .card,.lesion-card,figure.panel,tr,.keep{break-inside:avoid}
  .pagebreak{break-before:page}
  a{color:inherit;text-decoration:none}
}
"""
