import Foundation
import XCTest

/// A CSV file written by the generator (no quoted fields) as header-keyed rows.
func readCSV(_ url: URL) throws -> [[String: String]] {
    let text = try String(contentsOf: url, encoding: .utf8)
    var lines = text.split(separator: "\n", omittingEmptySubsequences: true).map(String.init)
    guard !lines.isEmpty else { return [] }
    let header = lines.removeFirst().components(separatedBy: ",")
    return lines.map { line in
        let fields = line.components(separatedBy: ",")
        XCTAssertEqual(fields.count, header.count, "row \(line) of \(url.lastPathComponent)")
        return Dictionary(uniqueKeysWithValues: zip(header, fields))
    }
}

/// Average ranks (ties share their mean rank).
func ranks(_ xs: [Double]) -> [Double] {
    let order = xs.indices.sorted { xs[$0] < xs[$1] }
    var r = [Double](repeating: 0, count: xs.count)
    var i = 0
    while i < order.count {
        var j = i
        while j + 1 < order.count && xs[order[j + 1]] == xs[order[i]] { j += 1 }
        for k in i...j { r[order[k]] = Double(i + j) / 2 + 1 }
        i = j + 1
    }
    return r
}

func pearson(_ a: [Double], _ b: [Double]) -> Double {
    let n = Double(a.count)
    let ma = a.reduce(0, +) / n, mb = b.reduce(0, +) / n
    var sab = 0.0, saa = 0.0, sbb = 0.0
    for (x, y) in zip(a, b) { sab += (x - ma) * (y - mb); saa += (x - ma) * (x - ma); sbb += (y - mb) * (y - mb) }
    return sab / (saa * sbb).squareRoot()
}

func spearman(_ a: [Double], _ b: [Double]) -> Double { pearson(ranks(a), ranks(b)) }

/// Kaplan-Meier median survival time (the first time the estimate drops to 0.5 or below), or nil.
func kaplanMeierMedian(_ samples: [(time: Double, event: Bool)]) -> Double? {
    let sorted = samples.sorted { $0.time < $1.time }
    var atRisk = Double(sorted.count)
    var survival = 1.0
    var i = 0
    while i < sorted.count {
        let t = sorted[i].time
        var deaths = 0.0, leaving = 0.0
        while i < sorted.count && sorted[i].time == t {
            if sorted[i].event { deaths += 1 }
            leaving += 1
            i += 1
        }
        survival *= 1 - deaths / atRisk
        atRisk -= leaving
        if survival <= 0.5 { return t }
    }
    return nil
}
