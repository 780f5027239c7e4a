import Foundation

/// Reads and validates a cohort manifest folder (`lesions.csv` + `patients.csv`).
///
/// Every problem (missing files, duplicate ids, unknown columns, bad numbers, unknown
/// categories, patients without lesions, ...) is collected and thrown together as one
/// `ManifestError`, before any image is read.
public enum CohortManifest {
    public static let lesionsFile = "lesions.csv"
    public static let patientsFile = "patients.csv"

    public static let lesionColumns = ["patient_id", "lesion_id", "image", "mask", "roi", "location",
                                       "irradiated", "lesion_response", "kvp"]
    public static let patientColumns = ["patient_id", "pfs_months", "pfs_event", "os_months", "os_event",
                                        "best_response", "abscopal_response"]
    /// Prefix of free covariate columns in patients.csv.
    public static let covariatePrefix = "cov_"

    /// Loads the manifest in `folder` (or the folder holding a given `lesions.csv`).
    public static func load(_ path: URL) throws -> Cohort {
        var folder = path
        if path.lastPathComponent == lesionsFile || path.lastPathComponent == patientsFile {
            folder = path.deletingLastPathComponent()
        }
        var problems: [ManifestProblem] = []
        let lesionTable = readTable(folder.appendingPathComponent(lesionsFile), problems: &problems)
        let patientTable = readTable(folder.appendingPathComponent(patientsFile), problems: &problems)
        guard let lesionTable, let patientTable else { throw ManifestError(problems: problems) }

        var patients = parsePatients(patientTable, problems: &problems)
        let lesions = parseLesions(lesionTable, folder: folder, problems: &problems)

        let known = Set(patients.map(\.id))
        for l in lesions where !known.contains(l.patientID) {
            problems.append(ManifestProblem(file: lesionsFile, row: l.row, column: "patient_id",
                                            message: "patient '\(l.patientID)' is not in \(patientsFile)"))
        }
        var byPatient: [String: [LesionEntry]] = [:]
        for l in lesions { byPatient[l.patientID, default: []].append(l) }
        for i in patients.indices {
            patients[i].lesions = byPatient[patients[i].id] ?? []
            if patients[i].lesions.isEmpty {
                problems.append(ManifestProblem(file: patientsFile, row: patients[i].row, column: "patient_id",
                                                message: "patient '\(patients[i].id)' has no rows in \(lesionsFile)"))
            }
        }
        guard problems.isEmpty else { throw ManifestError(problems: problems) }
        return Cohort(folder: folder, patients: patients)
    }

    // MARK: - Tables

    private static func readTable(_ url: URL, problems: inout [ManifestProblem]) -> CSVTable? {
        let name = url.lastPathComponent
        guard let data = FileManager.default.contents(atPath: url.path) else {
            problems.append(ManifestProblem(file: name, row: nil, column: nil,
                                            message: "missing: expected \(url.path)"))
            return nil
        }
        guard let text = String(data: data, encoding: .utf8) else {
            problems.append(ManifestProblem(file: name, row: nil, column: nil, message: "is not UTF-8 text"))
            return nil
        }
        do {
            let table = try CSVTable.parse(text, file: name)
            if table.header.isEmpty {
                problems.append(ManifestProblem(file: name, row: nil, column: nil, message: "is empty (no header row)"))
                return nil
            }
            return table
        } catch let e as ManifestError {
            problems += e.problems
            return nil
        } catch {
            problems.append(ManifestProblem(file: name, row: nil, column: nil, message: "\(error)"))
            return nil
        }
    }

    /// Checks the header and returns a column lookup, or nil when required columns are missing.
    private static func columns(of table: CSVTable, file: String, known: [String], required: [String],
                                allowPrefix: String?, problems: inout [ManifestProblem]) -> [String: Int]? {
        var index: [String: Int] = [:]
        for (i, name) in table.header.enumerated() {
            if index[name] != nil {
                problems.append(ManifestProblem(file: file, row: 1, column: name, message: "duplicate column"))
            } else if !known.contains(name) && !(allowPrefix.map { name.hasPrefix($0) && name.count > $0.count } ?? false) {
                let hint = allowPrefix.map { " (free covariates must start with '\($0)')" } ?? ""
                problems.append(ManifestProblem(file: file, row: 1, column: name,
                                                message: "unknown column; known columns: \(known.joined(separator: ", "))\(hint)"))
            }
            index[name] = i
        }
        let missing = required.filter { index[$0] == nil }
        for m in missing {
            problems.append(ManifestProblem(file: file, row: 1, column: m, message: "required column is missing"))
        }
        return missing.isEmpty ? index : nil
    }

    /// Field accessor for one row that records wrong field counts once.
    private struct Row {
        let number: Int
        let fields: [String]
        let index: [String: Int]
        func callAsFunction(_ column: String) -> String {
            guard let i = index[column], i < fields.count else { return "" }
            return fields[i].trimmingCharacters(in: .whitespaces)
        }
    }

    private static func rows(of table: CSVTable, file: String, index: [String: Int],
                             problems: inout [ManifestProblem]) -> [Row] {
        table.rows.map { r in
            if r.fields.count != table.header.count {
                problems.append(ManifestProblem(file: file, row: r.number, column: nil,
                                                message: "has \(r.fields.count) fields, the header has \(table.header.count)"))
            }
            return Row(number: r.number, fields: r.fields, index: index)
        }
    }

    // MARK: - patients.csv

    private static func parsePatients(_ table: CSVTable, problems: inout [ManifestProblem]) -> [PatientEntry] {
        let file = patientsFile
        guard let index = columns(of: table, file: file, known: patientColumns, required: ["patient_id"],
                                  allowPrefix: covariatePrefix, problems: &problems) else { return [] }
        var seen: [String: Int] = [:]
        var out: [PatientEntry] = []
        for row in rows(of: table, file: file, index: index, problems: &problems) {
            let id = row("patient_id")
            if id.isEmpty {
                problems.append(ManifestProblem(file: file, row: row.number, column: "patient_id", message: "is empty"))
                continue
            }
            if let first = seen[id] {
                problems.append(ManifestProblem(file: file, row: row.number, column: "patient_id",
                                                message: "duplicate patient '\(id)' (first at row \(first))"))
                continue
            }
            seen[id] = row.number
            var p = Problems(file: file, row: row.number)
            let outcomes = Outcomes(
                pfs: p.survival(row, time: "pfs_months", event: "pfs_event"),
                os: p.survival(row, time: "os_months", event: "os_event"),
                bestResponse: p.response(row("best_response"), column: "best_response"),
                abscopalResponse: p.flag(row("abscopal_response"), column: "abscopal_response"),
                covariates: Dictionary(uniqueKeysWithValues: index.keys.filter { $0.hasPrefix(covariatePrefix) }
                    .map { ($0, row($0)) }))
            problems += p.list
            out.append(PatientEntry(id: id, outcomes: outcomes, lesions: [], row: row.number))
        }
        return out
    }

    // MARK: - lesions.csv

    private static func parseLesions(_ table: CSVTable, folder: URL,
                                     problems: inout [ManifestProblem]) -> [LesionEntry] {
        let file = lesionsFile
        guard let index = columns(of: table, file: file, known: lesionColumns,
                                  required: ["patient_id", "image", "mask"], allowPrefix: nil,
                                  problems: &problems) else { return [] }
        var out: [LesionEntry] = []
        var seenLesion: [String: Int] = [:]
        var kvpByImage: [String: (Double, Int)] = [:]
        for row in rows(of: table, file: file, index: index, problems: &problems) {
            var p = Problems(file: file, row: row.number)
            let patient = row("patient_id")
            if patient.isEmpty { p.add("patient_id", "is empty") }
            let imageCell = row("image"), maskCell = row("mask")
            let image = p.existingPath(imageCell, column: "image", folder: folder)
            let mask = p.existingPath(maskCell, column: "mask", folder: folder)
            let imageKind = image.flatMap { p.imageKind($0, column: "image") }
            let maskKind = mask.flatMap { p.maskKind($0, column: "mask") }
            let roi = row("roi").isEmpty ? nil : row("roi")
            var lesionID = row("lesion_id").isEmpty ? nil : row("lesion_id")
            if lesionID == nil, let roi { lesionID = roi }
            if let lesionID, !patient.isEmpty {
                let key = patient + "\u{1}" + lesionID
                if let first = seenLesion[key] {
                    p.add("lesion_id", "duplicate lesion '\(lesionID)' for patient '\(patient)' (first at row \(first))")
                } else {
                    seenLesion[key] = row.number
                }
            }
            var location = LesionLocation.other
            let locationCell = row("location").lowercased().replacingOccurrences(of: " ", with: "_")
            if !locationCell.isEmpty {
                if let l = LesionLocation(rawValue: locationCell) { location = l } else {
                    p.add("location", "unknown location '\(row("location"))'; one of "
                          + LesionLocation.allCases.map(\.rawValue).joined(separator: ", "))
                }
            }
            let irradiated = p.flag(row("irradiated"), column: "irradiated") ?? false
            let response = p.response(row("lesion_response"), column: "lesion_response")
            let kvp = p.number(row("kvp"), column: "kvp", positive: true)
            if let kvp, !imageCell.isEmpty {
                if let (other, at) = kvpByImage[imageCell], other != kvp {
                    p.add("kvp", "\(kvp) disagrees with \(other) given for the same image at row \(at)")
                } else if kvpByImage[imageCell] == nil {
                    kvpByImage[imageCell] = (kvp, row.number)
                }
            }
            if maskKind == .labelMap, let roi, Int32(roi) == nil {
                p.add("roi", "'\(roi)' is not a label value; a label map needs an integer label")
            }
            if maskKind == .seg, let roi, Int(roi) == nil {
                p.add("roi", "'\(roi)' is not a segment number")
            }
            problems += p.list
            guard p.list.isEmpty, let image, let mask, let imageKind, let maskKind else { continue }
            out.append(LesionEntry(patientID: patient, lesionID: lesionID, image: image, imageKind: imageKind,
                                   mask: mask, maskKind: maskKind, roi: roi, location: location,
                                   irradiated: irradiated, response: response, kvp: kvp, row: row.number))
        }
        return out
    }

    /// Collects the problems of one row.
    private struct Problems {
        let file: String
        let row: Int
        var list: [ManifestProblem] = []

        mutating func add(_ column: String?, _ message: String) {
            list.append(ManifestProblem(file: file, row: row, column: column, message: message))
        }

        mutating func number(_ s: String, column: String, positive: Bool = false, nonNegative: Bool = false) -> Double? {
            guard !s.isEmpty else { return nil }
            guard let v = Double(s), v.isFinite else {
                add(column, "'\(s)' is not a number")
                return nil
            }
            if positive && v <= 0 { add(column, "must be positive, got \(s)"); return nil }
            if nonNegative && v < 0 { add(column, "must not be negative, got \(s)"); return nil }
            return v
        }

        mutating func flag(_ s: String, column: String) -> Bool? {
            switch s.lowercased() {
            case "": return nil
            case "1", "yes", "true", "y": return true
            case "0", "no", "false", "n": return false
            default:
                add(column, "'\(s)' is not 0/1 (or yes/no, true/false)")
                return nil
            }
        }

        mutating func response(_ s: String, column: String) -> ResponseCategory? {
            guard !s.isEmpty else { return nil }
            if let r = ResponseCategory(rawValue: s.uppercased()) { return r }
            add(column, "'\(s)' is not one of CR, PR, SD, PD")
            return nil
        }

        mutating func survival(_ row: Row, time: String, event: String) -> SurvivalTime? {
            let t = number(row(time), column: time, nonNegative: true)
            let e = flag(row(event), column: event)
            switch (t, e) {
            case let (t?, e?): return SurvivalTime(months: t, event: e)
            case (nil, nil): return nil
            case (_?, nil) where row(event).isEmpty: add(event, "is empty while \(time) is given")
            case (nil, _?) where row(time).isEmpty: add(time, "is empty while \(event) is given")
            default: break
            }
            return nil
        }

        mutating func existingPath(_ cell: String, column: String, folder: URL) -> URL? {
            guard !cell.isEmpty else {
                add(column, "is empty")
                return nil
            }
            let url = cell.hasPrefix("/") ? URL(fileURLWithPath: cell) : folder.appendingPathComponent(cell)
            guard FileManager.default.fileExists(atPath: url.path) else {
                add(column, "file not found: \(cell)")
                return nil
            }
            return url.standardizedFileURL
        }

        mutating func imageKind(_ url: URL, column: String) -> ImageSourceKind? {
            var isDir: ObjCBool = false
            FileManager.default.fileExists(atPath: url.path, isDirectory: &isDir)
            if isDir.boolValue { return .dicomFolder }
            if VolumeFileExtension.matches(url) { return .volumeFile }
            add(column, "'\(url.lastPathComponent)' is neither a NIfTI/NRRD file nor a DICOM folder")
            return nil
        }

        mutating func maskKind(_ url: URL, column: String) -> ContourSourceKind? {
            if VolumeFileExtension.matches(url) { return .labelMap }
            guard let kind = DICOMContourSniffer.kind(of: url) else {
                add(column, "'\(url.lastPathComponent)' is neither a NIfTI/NRRD label map nor a DICOM RTSTRUCT/SEG file")
                return nil
            }
            return kind
        }
    }
}

/// File name endings of the volume formats LesionMap reads.
enum VolumeFileExtension {
    static func matches(_ url: URL) -> Bool {
        let name = url.lastPathComponent.lowercased()
        return name.hasSuffix(".nii") || name.hasSuffix(".nii.gz") || name.hasSuffix(".nrrd") || name.hasSuffix(".nhdr")
    }
}

/// Tells an RTSTRUCT from a SEG by its SOP Class UID, read from the first few KB of the file.
enum DICOMContourSniffer {
    static let rtstructClass = "1.2.840.10008.5.1.4.1.1.481.3"
    static let segClass = "1.2.840.10008.5.1.4.1.1.66.4"

    static func kind(of url: URL) -> ContourSourceKind? {
        guard let handle = try? FileHandle(forReadingFrom: url) else { return nil }
        defer { try? handle.close() }
        let head = (try? handle.read(upToCount: 65536)) ?? Data()
        guard head.count > 132, head[128..<132] == Data("DICM".utf8) else { return nil }
        let text = String(decoding: head, as: UTF8.self)
        if text.contains(rtstructClass) { return .rtstruct }
        if text.contains(segClass) { return .seg }
        return nil
    }
}
