import ImagingCore
import Foundation

/// Scan-level metadata from an image header. Only acquisition facts are taken:
/// never patient names, identifiers or birth dates.
enum ScanFacts {
    static func metadata(_ d: DICOMItem, modality: String) -> ScanMetadata {
        ScanMetadata(modality: modality.isEmpty ? "OT" : modality,
                     kvp: d.number(Tag.kvp),
                     manufacturer: d.text(Tag.manufacturer),
                     model: d.text(Tag.manufacturerModelName),
                     convolutionKernel: d.text(Tag.convolutionKernel),
                     sliceThickness: d.number(Tag.sliceThickness),
                     contrast: d.text(Tag.contrastBolusAgent),
                     scanDate: d.text(Tag.seriesDate) ?? d.text(Tag.acquisitionDate) ?? d.text(Tag.studyDate))
    }

    /// Patient and study attributes that exported objects copy from their source series.
    static let exportedTags: [DICOMTag] = [
        Tag.patientName, Tag.patientID, Tag.patientBirthDate, Tag.patientSex, Tag.studyDate, Tag.studyTime,
        Tag.accessionNumber, Tag.referringPhysicianName, Tag.studyID, Tag.specificCharacterSet,
        Tag.positionReferenceIndicator,
    ]
}

/// Body-weight SUV from PET headers, following the QIBA vendor-neutral SUV rules.
///
/// SUVbw = activity concentration (Bq/ml) x body weight (g) / injected dose decayed to the scan start (Bq).
/// Requires Units BQML, Corrected Image holding ATTN and DECY, Decay Correction START (decay from injection
/// to series start) or ADMIN (already corrected to injection time), patient weight, injected dose, half life
/// and injection time. The scan start is the series date/time unless a slice was acquired earlier
/// (post-processed series), in which case the earliest acquisition date/time is used.
enum SUV {
    static func bodyWeightFactor(_ d: DICOMItem, slices: [SliceHeader], file: URL) throws -> Double {
        func fail(_ m: String) -> DICOMError { DICOMError(file: file, message: "cannot compute body-weight SUV: \(m)") }
        // Coded values are quoted only when they are defined terms (`Redacted.code`).
        let units = (d.string(Tag.units) ?? "").uppercased()
        if units == "GML" { return 1 }
        guard units == "BQML" else {
            throw fail("Units (0054,1001) is \(Redacted.code(units, known: ["CNTS", "NONE", "CM2", "CM2ML", "PCNT", "CPS", "MGMINML", "UMOLMINML", "MLMING", "MLG", "1CM", "UMOLML", "PROPCNTS", "PROPCPS", "MLMINML", "MLML", "GML", "STDDEV"])), expected BQML")
        }
        let corrected = (d.string(Tag.correctedImage) ?? "").uppercased().split(separator: "\\").map(String.init)
        guard corrected.contains("ATTN"), corrected.contains("DECY") else {
            let known: Set<String> = ["DECY", "ATTN", "SCAT", "DTIM", "MOTN", "PMOT", "CLN", "RAN", "RADL", "DCAL", "NORM"]
            let shown = corrected.isEmpty ? "empty" : corrected.map { Redacted.code($0, known: known) }.joined(separator: ", ")
            throw fail("Corrected Image (0028,0051) is \(shown); attenuation (ATTN) and decay (DECY) correction are required")
        }
        let decayCorrection = (d.string(Tag.decayCorrection) ?? "").uppercased()
        guard decayCorrection == "START" || decayCorrection == "ADMIN" else {
            throw fail("Decay Correction (0054,1102) is \(Redacted.code(decayCorrection, known: ["NONE"])), expected START or ADMIN")
        }
        guard let weight = d.number(Tag.patientWeight), weight > 0 else { throw fail("Patient's Weight (0010,1030) is missing or zero") }
        guard let info = d.firstItem(Tag.radiopharmaceuticalInformationSequence) else {
            throw fail("Radiopharmaceutical Information Sequence (0054,0016) is missing")
        }
        guard let dose = info.number(Tag.radionuclideTotalDose), dose > 0 else { throw fail("Radionuclide Total Dose (0018,1074) is missing or zero") }
        var decayed = dose
        if decayCorrection == "START" {
            guard let halfLife = info.number(Tag.radionuclideHalfLife), halfLife > 0 else {
                throw fail("Radionuclide Half Life (0018,1075) is missing or zero")
            }
            guard let seriesDate = d.text(Tag.seriesDate), let seriesTime = d.text(Tag.seriesTime),
                  var scan = DICOMTime.seconds(date: seriesDate, time: seriesTime) else {
                throw fail("Series Date/Time is missing or malformed")
            }
            let acquisitions = slices.compactMap { s -> Double? in
                guard let t = s.acquisitionTime else { return nil }
                return DICOMTime.seconds(date: s.acquisitionDate ?? seriesDate, time: t)
            }
            if let earliest = acquisitions.min(), earliest < scan { scan = earliest }
            let injection: Double
            if let dt = info.text(Tag.radiopharmaceuticalStartDateTime), let t = DICOMTime.seconds(dateTime: dt) {
                injection = t
            } else if let t = info.text(Tag.radiopharmaceuticalStartTime), let s = DICOMTime.seconds(date: seriesDate, time: t) {
                injection = s
            } else {
                throw fail("Radiopharmaceutical Start Time (0018,1072) / Start DateTime (0018,1078) is missing")
            }
            let elapsed = scan - injection
            guard elapsed >= 0 else { throw fail("injection time is after the scan start") }
            decayed = dose * pow(2, -elapsed / halfLife)
        }
        return weight * 1000 / decayed
    }
}

/// DICOM DA/TM/DT values as seconds since 1970-01-01 (time zones ignored, as every value in one study shares one).
enum DICOMTime {
    static func seconds(date: String, time: String) -> Double? {
        guard let day = days(date), let t = timeOfDay(time) else { return nil }
        return Double(day) * 86400 + t
    }

    static func seconds(dateTime: String) -> Double? {
        let s = dateTime.split(whereSeparator: { $0 == "+" || $0 == "-" }).first.map(String.init) ?? dateTime
        guard s.count >= 8 else { return nil }
        let date = String(s.prefix(8)), time = String(s.dropFirst(8))
        guard let day = days(date) else { return nil }
        return Double(day) * 86400 + (time.isEmpty ? 0 : (timeOfDay(time) ?? 0))
    }

    /// Days since 1970-01-01 of a YYYYMMDD date.
    static func days(_ s: String) -> Int? {
        let digits = s.filter(\.isASCIIDigit)
        guard digits.count == 8, let v = Int(digits) else { return nil }
        var y = v / 10000
        let m = (v / 100) % 100, d = v % 100
        guard (1...12).contains(m), (1...31).contains(d) else { return nil }
        // Days from civil (H. Hinnant).
        y -= m <= 2 ? 1 : 0
        let era = (y >= 0 ? y : y - 399) / 400
        let yoe = y - era * 400
        let doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
        return era * 146097 + doe - 719468
    }

    /// Seconds since midnight of an HHMMSS.FFFFFF time (colons tolerated).
    static func timeOfDay(_ s: String) -> Double? {
        let t = s.replacingOccurrences(of: ":", with: "").trimmingCharacters(in: .whitespaces)
        let parts = t.split(separator: ".", maxSplits: 1)
        // ASCII digits only: `isNumber` also holds for other scripts' digits, ½ and ², which `Double` does not parse.
        guard let whole = parts.first, whole.count >= 2, whole.allSatisfy(\.isASCIIDigit) else { return nil }
        let w = Array(whole)
        let h = Double(String(w[0..<2]))!
        let m = w.count >= 4 ? Double(String(w[2..<4]))! : 0
        let sec = w.count >= 6 ? Double(String(w[4..<6]))! : 0
        let frac = parts.count > 1 ? (Double("0." + parts[1]) ?? 0) : 0
        return h * 3600 + m * 60 + sec + frac
    }
}

extension Character {
    /// 0-9 only.
    fileprivate var isASCIIDigit: Bool { isASCII && isNumber }
}
