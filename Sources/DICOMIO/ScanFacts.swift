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
                     scanDate: d.text(Tag.seriesDate) ?? d.text(Tag.acquisitionDate) ?? d.text(Tag.studyDate),
                     frameOfReferenceUID: d.text(Tag.frameOfReferenceUID))
    }

    /// Patient and study attributes that exported objects copy from their source series.
    static let exportedTags: [DICOMTag] = [
        Tag.patientName, Tag.patientID, Tag.patientBirthDate, Tag.patientSex, Tag.studyDate, Tag.studyTime,
        Tag.accessionNumber, Tag.referringPhysicianName, Tag.studyID, Tag.specificCharacterSet,
        Tag.positionReferenceIndicator,
    ]
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
