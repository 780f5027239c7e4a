import Foundation
import ImagingCore

/// Reads and validates a cohort manifest folder (`lesions.csv` + `patients.csv`).
///
/// Every problem (missing files, duplicate ids, unknown columns, bad numbers, unknown
/// categories, patients without lesions, ...) is collected and thrown together as one
/// `ManifestError`, before any image is read.
public enum CohortManifest {
    public static let lesionsFile = "lesions.csv"
    public static let patientsFile = "patients.csv"

    public static let lesionColumns = ["patient_id", "lesion_id", "image", "mask", "roi", "location",
                                       "irradiated", "lesion_response", "kvp", "modality", "timepoint"]
    public static let patientColumns = ["patient_id", "pfs_months", "pfs_event", "os_months", "os_event",
                                        "best_response", "abscopal_response"]
    /// Prefix of the optional further-image columns of lesions.csv: `image_<modality>` (`image_pt`, `image_ct`,
    /// `image_mr`) names another image of the row's study (same frame of reference), onto which the lesion's
    /// mask, drawn on `image`'s grid, is carried; an empty cell means the row has no image of that modality.
    public static let furtherImagePrefix = "image_"
    /// Prefix of free covariate columns in patients.csv.
    public static let covariatePrefix = "cov_"

    /// Loads the manifest in `folder` (or the folder holding a given `lesions.csv`).
    public static func load(_ path: URL) throws -> Cohort {
        var folder = path
        if path.lastPathComponent == lesionsFile || path.lastPathComponent == patientsFile {
            folder = path.deletingLastPathComponent()
        }
        switch InputFile.kind(folder) {
        case .directory: break
        case .missing:
            throw ManifestError(problems: [ManifestProblem(file: folder.path, row: nil, column: nil,
                message: "no such folder; give the cohort folder holding \(lesionsFile) and \(patientsFile)")])
        case let k:
            throw ManifestError(problems: [ManifestProblem(file: folder.path, row: nil, column: nil,
                message: "is \(k.phrase), not a cohort folder; give the folder holding \(lesionsFile) and \(patientsFile)")])
        }
        var problems: [ManifestProblem] = []
        let lesionTable = readTable(folder.appendingPathComponent(lesionsFile), problems: &problems)
        let patientTable = readTable(folder.appendingPathComponent(patientsFile), problems: &problems)
        guard let lesionTable, let patientTable else { throw ManifestError(problems: problems) }

        let parsedPatients = parsePatients(patientTable, problems: &problems)
        var patients = parsedPatients.patients
        let parsedLesions = parseLesions(lesionTable, folder: folder, problems: &problems)
        let lesions = parsedLesions.lesions

        // A lesion row whose patient id is itself refused is reported once, on its own row.
        let known = Set(patients.map(\.id)).union(parsedPatients.refusedIDs)
        for l in lesions where !known.contains(l.patientID) {
            problems.append(ManifestProblem(file: lesionsFile, row: l.row, column: "patient_id",
                                            message: "patient '\(l.patientID)' is not in \(patientsFile)"))
        }
        var byPatient: [String: [LesionEntry]] = [:]
        for l in lesions { byPatient[l.patientID, default: []].append(l) }
        // Change is measured from the baseline: a patient with other time points needs a baseline scan.
        for (patient, rows) in byPatient.sorted(by: { $0.key < $1.key }) where !parsedLesions.patientsWithBaseline.contains(patient) {
            guard let first = rows.first else { continue }
            let days = Set(rows.map(\.timepoint)).sorted().map(formatDays).joined(separator: ", ")
            // Which lesions lack their baseline: named ones by id and day, expanding rows by row.
            let which = rows.map { r in "\(r.lesionID.map { "lesion \($0)" } ?? "row \(r.row)") at day \(formatDays(r.timepoint))" }
            problems.append(ManifestProblem(file: lesionsFile, row: first.row, column: "timepoint",
                message: "patient '\(patient)' has rows at time point\(days.contains(",") ? "s" : "") \(days) (days) but no baseline row (timepoint empty or 0): \(which.joined(separator: ", ")); change is measured from the baseline scan, so give its rows too"))
        }
        for i in patients.indices {
            patients[i].lesions = byPatient[patients[i].id] ?? []
            // A patient whose rows are all invalid has rows: those rows' problems are reported, not this.
            if patients[i].lesions.isEmpty && !parsedLesions.patientsWithRows.contains(patients[i].id) {
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
        let text: String
        do {
            if InputFile.kind(url) == .missing {
                problems.append(ManifestProblem(file: name, row: nil, column: nil, message: "missing: expected \(url.path)"))
                return nil
            }
            text = try InputFile.utf8Text(url, what: "CSV file")
        } catch let e as InputFileError {
            problems.append(ManifestProblem(file: name, row: nil, column: nil, message: e.message))
            return nil
        } catch {
            problems.append(ManifestProblem(file: name, row: nil, column: nil, message: ErrorText.plain(error)))
            return nil
        }
        do {
            let table = try CSVTable.parse(text, file: name)
            if table.header.isEmpty {
                problems.append(ManifestProblem(file: name, row: nil, column: nil,
                                                message: "is empty: it needs a header row (\(name == lesionsFile ? "patient_id,lesion_id,image,mask,..." : "patient_id,...")) and one row per \(name == lesionsFile ? "lesion" : "patient")"))
                return nil
            }
            return table
        } catch let e as ManifestError {
            problems += e.problems
            return nil
        } catch {
            problems.append(ManifestProblem(file: name, row: nil, column: nil, message: ErrorText.plain(error)))
            return nil
        }
    }

    /// Checks the header and returns a column lookup, or nil when required columns are missing.
    private static func columns(of table: CSVTable, file: String, known: [String], required: [String],
                                allowPrefix: String?, problems: inout [ManifestProblem]) -> [String: Int]? {
        var index: [String: Int] = [:]
        for (i, name) in table.header.enumerated() {
            if let problem = Identifier.problem(name), !name.isEmpty {
                problems.append(ManifestProblem(file: file, row: 1, column: Identifier.printable(name),
                                                message: "the column name \(problem)"))
                continue
            }
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
        /// Some field holds a NUL (already reported): the row is not checked further.
        var hasNUL = false
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
            // NUL is refused in every field: the store's text (HDF5) would end there and silently merge values.
            var hasNUL = false
            for (i, field) in r.fields.enumerated() {
                guard let at = field.unicodeScalars.firstIndex(of: "\u{0}") else { continue }
                hasNUL = true
                let position = field.unicodeScalars.distance(from: field.unicodeScalars.startIndex, to: at) + 1
                let column = i < table.header.count ? Identifier.printable(table.header[i]) : "field \(i + 1)"
                problems.append(ManifestProblem(file: file, row: r.number, column: column,
                                                message: "contains a NUL character (U+0000) at position \(position); text fields may not hold NUL"))
            }
            return Row(number: r.number, fields: r.fields, index: index, hasNUL: hasNUL)
        }
    }

    /// Checks an id cell against `Identifier`; true when it may be used.
    private static func checkID(_ id: String, column: String, what: String, _ p: inout Problems) -> Bool {
        guard let problem = Identifier.problem(id) else { return true }
        p.add(column, "\(what) '\(Identifier.printable(id))' \(problem)")
        return false
    }

    // MARK: - patients.csv

    /// The valid patients, and the ids of rows refused for their id or a NUL (so that their lesion rows
    /// are not also reported as belonging to an unknown patient).
    private static func parsePatients(_ table: CSVTable, problems: inout [ManifestProblem])
        -> (patients: [PatientEntry], refusedIDs: Set<String>) {
        let file = patientsFile
        guard let index = columns(of: table, file: file, known: patientColumns, required: ["patient_id"],
                                  allowPrefix: covariatePrefix, problems: &problems) else { return ([], []) }
        var seen: [String: Int] = [:]
        var out: [PatientEntry] = []
        var refused: Set<String> = []
        for row in rows(of: table, file: file, index: index, problems: &problems) {
            let id = row("patient_id")
            if row.hasNUL { refused.insert(id); continue }
            if id.isEmpty {
                problems.append(ManifestProblem(file: file, row: row.number, column: "patient_id", message: "is empty"))
                continue
            }
            var idProblems = Problems(file: file, row: row.number)
            guard checkID(id, column: "patient_id", what: "patient id", &idProblems) else {
                problems += idProblems.list
                refused.insert(id)
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
        return (out, refused)
    }

    // MARK: - lesions.csv

    /// The valid lesion rows, every patient id that has a row at all (valid or not), and every patient id with a
    /// row that is not clearly of another time point (timepoint empty, 0 or not a number: valid or not).
    private static func parseLesions(_ table: CSVTable, folder: URL, problems: inout [ManifestProblem])
        -> (lesions: [LesionEntry], patientsWithRows: Set<String>, patientsWithBaseline: Set<String>) {
        let file = lesionsFile
        // `image_<modality>` columns: the modality must be one LesionMap knows (its settings are per modality).
        let furtherNames = table.header.filter { $0.lowercased().hasPrefix(furtherImagePrefix) && $0.count > furtherImagePrefix.count }
        var furtherColumns: [(column: String, modality: String)] = []
        for name in furtherNames {
            let suffix = String(name.dropFirst(furtherImagePrefix.count))
            guard let code = Modality.code(suffix) else {
                problems.append(ManifestProblem(file: file, row: 1, column: name,
                    message: "unknown modality '\(suffix)' in a further-image column; image_<modality> with one of \(Modality.known.map { $0.lowercased() }.joined(separator: ", "))"))
                continue
            }
            if let other = furtherColumns.first(where: { $0.modality == code }) {
                // The very same name twice is reported as a duplicate column.
                if other.column == name { continue }
                problems.append(ManifestProblem(file: file, row: 1, column: name,
                    message: "names modality \(code) as column \(other.column) does: one image per modality and row"))
                continue
            }
            furtherColumns.append((name, code))
        }
        guard let index = columns(of: table, file: file, known: lesionColumns + furtherNames,
                                  required: ["patient_id", "image", "mask"], allowPrefix: nil,
                                  problems: &problems) else { return ([], [], []) }
        var out: [LesionEntry] = []
        var withRows: Set<String> = []
        var withBaseline: Set<String> = []
        var seenLesion: [String: Int] = [:]
        var kvpByImage: [String: (Double, Int)] = [:]
        var modalityByImage: [String: (String, Int)] = [:]
        var timepointByImage: [String: (Double, Int)] = [:]
        for row in rows(of: table, file: file, index: index, problems: &problems) {
            var p = Problems(file: file, row: row.number)
            let patient = row("patient_id")
            withRows.insert(patient)
            if let days = Double(row("timepoint")), days.isFinite, days != 0 {} else { withBaseline.insert(patient) }
            if row.hasNUL { continue }
            var idsUsable = true
            if patient.isEmpty { p.add("patient_id", "is empty") } else { idsUsable = checkID(patient, column: "patient_id", what: "patient id", &p) }
            let imageCell = row("image"), maskCell = row("mask")
            let image = p.existingPath(imageCell, column: "image", folder: folder)
            let mask = p.existingPath(maskCell, column: "mask", folder: folder)
            let imageKind = image.flatMap { p.imageKind($0, column: "image") }
            let maskKind = mask.flatMap { p.maskKind($0, column: "mask") }
            let roi = row("roi").isEmpty ? nil : row("roi")
            var lesionID = row("lesion_id").isEmpty ? nil : row("lesion_id")
            if let lesionID { idsUsable = checkID(lesionID, column: "lesion_id", what: "lesion id", &p) && idsUsable }
            if lesionID == nil, let roi {
                lesionID = roi
                idsUsable = checkID(roi, column: "roi", what: "the roi (the lesion id, as lesion_id is empty)", &p) && idsUsable
            }
            // Days from baseline; empty = 0 (baseline). Any finite number: negative is a pre-baseline scan.
            let parsedTimepoint = p.number(row("timepoint"), column: "timepoint")
            let timepointUsable = row("timepoint").isEmpty || parsedTimepoint != nil
            let timepoint = parsedTimepoint ?? 0
            if !imageCell.isEmpty, timepointUsable {
                if let (other, at) = timepointByImage[imageCell], other != timepoint {
                    p.add("timepoint", "\(formatDays(timepoint)) disagrees with time point \(formatDays(other)) given for the same image at row \(at); each time point has its own scan")
                } else if timepointByImage[imageCell] == nil {
                    timepointByImage[imageCell] = (timepoint, row.number)
                }
            }
            // Refused ids are not shown again in a duplicate message. One row per lesion and time point.
            if let lesionID, !patient.isEmpty, idsUsable, timepointUsable {
                let key = patient + "\u{1}" + lesionID + "\u{1}" + formatDays(timepoint)
                if let first = seenLesion[key] {
                    let at = timepoint == 0 ? "" : " at time point \(formatDays(timepoint))"
                    p.add("lesion_id", "duplicate lesion '\(lesionID)' for patient '\(patient)'\(at) (first at row \(first))")
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
            var modality: String?
            let modalityCell = row("modality").trimmingCharacters(in: .whitespaces)
            if !modalityCell.isEmpty {
                if let code = Modality.code(modalityCell) {
                    modality = code
                    if !imageCell.isEmpty {
                        if let (other, at) = modalityByImage[imageCell], other != code {
                            p.add("modality", "\(code) disagrees with \(other) given for the same image at row \(at)")
                        } else if modalityByImage[imageCell] == nil {
                            modalityByImage[imageCell] = (code, row.number)
                        }
                    }
                } else {
                    p.add("modality", "unknown modality '\(modalityCell)'; one of \(Modality.known.joined(separator: ", ")) (empty = CT, or the DICOM series' own)")
                }
            }
            // Further images: checked as `image` is (missing files, FIFOs, folders that are not series), each
            // another file than `image`, of a modality other than the contour image's when the manifest gives it.
            var furtherImages: [FurtherImage] = []
            for (column, code) in furtherColumns {
                let cell = row(column)
                guard !cell.isEmpty else { continue }
                guard let url = p.existingPath(cell, column: column, folder: folder),
                      let kind = p.imageKind(url, column: column) else { continue }
                if let image, url == image {
                    p.add(column, "is the same image as column image (\(cell)): name a further image of the study, or leave the cell empty")
                    continue
                }
                if let modality, modality == code {
                    p.add(column, "names a \(code) image while the contour image is \(code) too (column modality): one image per modality and row")
                    continue
                }
                if let (other, at) = modalityByImage[cell], other != code {
                    p.add(column, "is given as a \(code) image, but row \(at) gives the same image as \(other)")
                } else if modalityByImage[cell] == nil {
                    modalityByImage[cell] = (code, row.number)
                }
                furtherImages.append(FurtherImage(modality: code, image: url, kind: kind, column: column))
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
                                   irradiated: irradiated, response: response, kvp: kvp, modality: modality,
                                   furtherImages: furtherImages, row: row.number, timepoint: timepoint,
                                   locationGiven: !locationCell.isEmpty, irradiatedGiven: !row("irradiated").isEmpty))
        }
        return (out, withRows, withBaseline)
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
            switch InputFile.kind(url) {
            case .directory: return .dicomFolder
            case .regular, .missing: break
            case let k:
                add(column, "'\(url.lastPathComponent)' is \(k.phrase), not an image file or a DICOM folder")
                return nil
            }
            if VolumeFileExtension.matches(url) { return .volumeFile }
            add(column, "'\(url.lastPathComponent)' is neither a NIfTI/NRRD file nor a DICOM folder")
            return nil
        }

        mutating func maskKind(_ url: URL, column: String) -> ContourSourceKind? {
            let kind = InputFile.kind(url)
            guard kind == .regular else {
                add(column, "'\(url.lastPathComponent)' is \(kind.phrase), not a label map, RTSTRUCT or SEG file")
                return nil
            }
            if VolumeFileExtension.matches(url) { return .labelMap }
            guard let kind = DICOMContourSniffer.kind(of: url) else {
                add(column, "'\(url.lastPathComponent)' is neither a NIfTI/NRRD label map nor a DICOM RTSTRUCT/SEG file")
                return nil
            }
            return kind
        }
    }
}

/// A time point in days as written in messages: "60", "-14", "7.5".
public func formatDays(_ days: Double) -> String {
    days == days.rounded() && abs(days) < 1e15 ? String(Int64(days)) : String(days)
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
