import Dispatch
import Foundation
import ImageIO
import ImagingCore

/// What `SyntheticCohort.generate` produced (or found already complete).
public struct SyntheticCohortSummary: Sendable {
    public var directory: URL
    public var patients: Int
    public var lesions: Int
    /// Fraction of patients with an observed progression.
    public var pfsEventRate: Double
    /// True when the folder already held this exact cohort and nothing was written.
    public var skipped: Bool
}

/// The record written last into a generated cohort folder; its presence marks the cohort complete.
public struct SynthesisRecord: Codable, Equatable, Sendable {
    public var generator: String
    public var formatVersion: Int
    public var options: SynthesisOptions
    public var patients: Int
    public var lesions: Int
    public var voxelSpacingMm: [Double]
    /// Every file of the cohort, relative to the folder, sorted.
    public var files: [String]
}

/// A synthetic multi-lesion cohort in the manifest format, with its hidden truth.
///
/// Writes into a folder:
/// - `images/<patient>_ct.nii.gz`: CT numbers (HU) as int16;
/// - `masks/<patient>_lesions.nii.gz`: lesion labels 1...n on the CT grid;
/// - with `pet`: `images/<patient>_pt.nii.gz`, an FDG PET in SUV (float32) on 4 mm voxels in the CT's frame of
///   reference (`SyntheticPETModel`), named in lesions.csv's `image_pt`; truth.csv gains `suv_viable` and `suv_mean_true`;
/// - `lesions.csv`, `patients.csv`: the cohort manifest (patient_id, lesion_id L01..., image, mask, roi = label,
///   location, irradiated, lesion_response, kvp; and pfs/os months and events, best_response, abscopal_response);
/// - `truth.csv`: per lesion the hidden infiltration, measured volume, location and nominal radius, with the
///   patient's min / mean / SD of infiltration, linear predictor and outcome driver;
/// - `synthesis.json`: options, seed and file list, written last so it marks a complete cohort.
///
/// Every file is written atomically (temporary file, then rename), so an interrupted run never leaves a
/// truncated file under a final name. Equal options give byte-identical files; asking again for a cohort the
/// folder already holds completely does nothing.
public enum SyntheticCohort {
    public static let formatVersion = 1
    public static let recordFileName = "synthesis.json"

    /// Relative paths of a patient's image and mask.
    public static func imagePath(_ patientID: String) -> String { "images/\(patientID)_ct.nii.gz" }
    public static func maskPath(_ patientID: String) -> String { "masks/\(patientID)_lesions.nii.gz" }
    public static func petPath(_ patientID: String) -> String { "images/\(patientID)_pt.nii.gz" }

    /// Generates the cohort described by `options` into `directory` (created when missing).
    ///
    /// Throws `SynthesisError.conflictingCohort` when the folder holds a synthetic cohort generated with
    /// different options, rather than mixing two cohorts in one folder.
    @discardableResult
    public static func generate(_ options: SynthesisOptions, into directory: URL) throws -> SyntheticCohortSummary {
        try options.validate()
        let fm = FileManager.default
        let recordURL = directory.appendingPathComponent(recordFileName)
        if fm.fileExists(atPath: recordURL.path) {
            let record = try readRecord(recordURL)
            guard record.options == options, record.formatVersion == formatVersion else {
                throw SynthesisError.conflictingCohort(
                    "\(directory.path) already holds a synthetic cohort made with other options "
                    + "(\(describe(record.options)), format \(record.formatVersion)); asked for \(describe(options)). "
                    + "Use another folder or delete this one.")
            }
            let missing = record.files.filter { !fm.fileExists(atPath: directory.appendingPathComponent($0).path) }
            if missing.isEmpty {
                let patients = try SyntheticPlanner.cohort(options)
                return summary(patients, directory: directory, skipped: true)
            }
            // Files were removed since: the folder is no longer a complete cohort; regenerate it.
            try removeRecord(recordURL)
        }
        for sub in ["images", "masks"] {
            do {
                try fm.createDirectory(at: directory.appendingPathComponent(sub), withIntermediateDirectories: true)
            } catch {
                throw SynthesisError.writeFailed("cannot create \(directory.appendingPathComponent(sub).path): \(error.localizedDescription)")
            }
        }

        let results = PatientResults(count: options.patients)
        let petTruth = PETTruth(count: options.patients)
        DispatchQueue.concurrentPerform(iterations: options.patients) { index in
            let patient = SyntheticPlanner.patient(index: index, options: options)
            let scan = SyntheticScanModel.render(patient, options: options)
            do {
                try NIfTI.write(scan.ct, to: directory.appendingPathComponent(imagePath(patient.id)))
                try NIfTI.write(scan.labels, to: directory.appendingPathComponent(maskPath(patient.id)))
                if options.withPET {
                    let pet = SyntheticPETModel.render(patient, options: options)
                    try NIfTI.write(pet.suv, to: directory.appendingPathComponent(petPath(patient.id)))
                    petTruth.store(index, viable: pet.viableSUV, trueMean: pet.trueMeanSUV)
                }
                results.store(index, .success((patient, scan.lesionVoxelCounts)))
            } catch {
                results.store(index, .failure(SynthesisError.writeFailed("patient \(patient.id): \(error)")))
            }
        }
        var patients = [SyntheticPatient]()
        var voxelCounts = [[Int]]()
        for result in results.all {
            let (patient, counts) = try result.get()
            patients.append(patient)
            voxelCounts.append(counts)
        }
        let voxelML = options.grid.voxelVolume / 1000
        var followUpFiles = [String]()
        if options.followUps > 0 {
            // Follow-up scans and truth (FollowUpCohort.swift); lesions.csv gains its timepoint column.
            let courses = patients.map { SyntheticFollowUp.course($0, options: options) }
            let counts = try writeFollowUpScans(courses, options: options, into: directory)
            let truth = followUpTruth(courses, baselineCounts: voxelCounts, followUpCounts: counts, options: options)
            try writeAtomically(truth.lesions, to: directory.appendingPathComponent(followUpTruthFile))
            try writeAtomically(truth.patients, to: directory.appendingPathComponent(followUpPatientTruthFile))
            try writeAtomically(followUpLesionsCSV(courses), to: directory.appendingPathComponent("lesions.csv"))
            followUpFiles = self.followUpFiles(courses)
        } else {
            try writeAtomically(lesionsCSV(patients, pet: options.withPET), to: directory.appendingPathComponent("lesions.csv"))
        }
        try writeAtomically(patientsCSV(patients), to: directory.appendingPathComponent("patients.csv"))
        try writeAtomically(truthCSV(patients, voxelCounts: voxelCounts, voxelML: voxelML, driver: options.outcomeDriver,
                                     pet: options.withPET ? petTruth.all : nil),
                            to: directory.appendingPathComponent("truth.csv"))
        let files = (["lesions.csv", "patients.csv", "truth.csv"] + patients.flatMap {
            [imagePath($0.id), maskPath($0.id)] + (options.withPET ? [petPath($0.id)] : [])
        } + followUpFiles).sorted()
        let sp = options.grid.spacing
        let record = SynthesisRecord(generator: "LesionMap Synthesis", formatVersion: formatVersion, options: options,
                                     patients: patients.count, lesions: patients.reduce(0) { $0 + $1.lesions.count },
                                     voxelSpacingMm: [sp.x, sp.y, sp.z], files: files)
        try writeAtomically(encodeRecord(record), to: recordURL)
        return summary(patients, directory: directory, skipped: false)
    }

    /// The record of a generated cohort folder, or nil when the folder holds no complete cohort.
    public static func record(in directory: URL) throws -> SynthesisRecord? {
        let url = directory.appendingPathComponent(recordFileName)
        guard FileManager.default.fileExists(atPath: url.path) else { return nil }
        return try readRecord(url)
    }

    // MARK: - Files

    /// With `pet`, the column `image_pt` (the patient's PET, onto which extraction carries each lesion's mask) ends each row.
    static func lesionsCSV(_ patients: [SyntheticPatient], pet: Bool = false) -> String {
        var rows = [["patient_id", "lesion_id", "image", "mask", "roi", "location", "irradiated", "lesion_response", "kvp"]
                    + (pet ? ["image_pt"] : [])]
        for p in patients {
            for l in p.lesions {
                rows.append([p.id, l.id, imagePath(p.id), maskPath(p.id), String(l.label), l.location.rawValue,
                             l.irradiated ? "1" : "0", l.response.rawValue, String(p.kvp)] + (pet ? [petPath(p.id)] : []))
            }
        }
        return csv(rows)
    }

    static func patientsCSV(_ patients: [SyntheticPatient]) -> String {
        var rows = [["patient_id", "pfs_months", "pfs_event", "os_months", "os_event", "best_response", "abscopal_response"]]
        for p in patients {
            let o = p.outcome
            rows.append([p.id, fixed(o.pfsMonths, 2), o.pfsEvent ? "1" : "0", fixed(o.osMonths, 2), o.osEvent ? "1" : "0",
                         o.bestResponse.rawValue, o.abscopalResponse.map { $0 ? "1" : "0" } ?? ""])
        }
        return csv(rows)
    }

    /// With `pet` (per patient, per lesion: viable and true mean SUV) the columns `suv_viable` and
    /// `suv_mean_true` follow the others.
    static func truthCSV(_ patients: [SyntheticPatient], voxelCounts: [[Int]], voxelML: Double,
                         driver: SyntheticOutcomeDriver, pet: [(viable: [Double], trueMean: [Double])]? = nil) -> String {
        var rows = [["patient_id", "lesion_id", "infiltration", "volume_ml", "location", "radius_mm", "min_infiltration",
                     "mean_infiltration", "sd_infiltration", "linear_predictor", "outcome_driver"]
                    + (pet == nil ? [] : ["suv_viable", "suv_mean_true"])]
        for (n, (p, counts)) in zip(patients, voxelCounts).enumerated() {
            for (m, (l, count)) in zip(p.lesions, counts).enumerated() {
                rows.append([p.id, l.id, fixed(l.infiltration, 4), fixed(Double(count) * voxelML, 3), l.location.rawValue,
                             fixed(l.shape.radius, 2), fixed(p.minInfiltration, 4), fixed(p.meanInfiltration, 4),
                             fixed(p.sdInfiltration, 4), fixed(p.outcome.linearPredictor, 4), driver.rawValue]
                            + (pet.map { [fixed($0[n].viable[m], 4), fixed($0[n].trueMean[m], 4)] } ?? []))
            }
        }
        return csv(rows)
    }

    /// RFC 4180 text: fields holding a comma, quote or line break are quoted; lines end with LF.
    static func csv(_ rows: [[String]]) -> String {
        rows.map { row in
            row.map { f in
                f.contains(where: { $0 == "," || $0 == "\"" || $0 == "\n" || $0 == "\r" })
                    ? "\"" + f.replacingOccurrences(of: "\"", with: "\"\"") + "\"" : f
            }.joined(separator: ",")
        }.joined(separator: "\n") + "\n"
    }

    /// `x` with `digits` decimals, locale-independent ("-0.00" printed as "0.00").
    static func fixed(_ x: Double, _ digits: Int) -> String {
        let s = String(format: "%.\(digits)f", x)
        return s.hasPrefix("-") && s.dropFirst().allSatisfy({ $0 == "0" || $0 == "." }) ? String(s.dropFirst()) : s
    }

    static func encodeRecord(_ record: SynthesisRecord) throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        encoder.keyEncodingStrategy = .convertToSnakeCase
        let data = try encoder.encode(record)
        return String(decoding: data, as: UTF8.self) + "\n"
    }

    static func readRecord(_ url: URL) throws -> SynthesisRecord {
        do {
            let decoder = JSONDecoder()
            decoder.keyDecodingStrategy = .convertFromSnakeCase
            return try decoder.decode(SynthesisRecord.self, from: Data(contentsOf: url))
        } catch {
            throw SynthesisError.conflictingCohort("\(url.path) is not a readable synthesis record (\(error)); "
                                                   + "use another folder or delete it")
        }
    }

    static func removeRecord(_ url: URL) throws {
        do { try FileManager.default.removeItem(at: url) } catch {
            throw SynthesisError.writeFailed("cannot remove the stale record \(url.path): \(error.localizedDescription)")
        }
    }

    /// Writes through a temporary file in the same folder, then renames it over `url`.
    static func writeAtomically(_ text: String, to url: URL) throws {
        do {
            try Data(text.utf8).write(to: url, options: .atomic)
        } catch {
            throw SynthesisError.writeFailed("\(url.path): \(error.localizedDescription)")
        }
    }

    static func describe(_ o: SynthesisOptions) -> String {
        "\(o.patients) patients, seed \(o.seed), driver \(o.outcomeDriver.rawValue), grid \(o.gridSize.map(String.init).joined(separator: "x"))"
            + (o.followUps > 0 ? ", \(o.followUps) follow-ups" : "")
            + (o.withPET ? ", with PET" : "")
    }

    static func summary(_ patients: [SyntheticPatient], directory: URL, skipped: Bool) -> SyntheticCohortSummary {
        SyntheticCohortSummary(directory: directory, patients: patients.count,
                               lesions: patients.reduce(0) { $0 + $1.lesions.count },
                               pfsEventRate: Double(patients.filter { $0.outcome.pfsEvent }.count) / Double(max(1, patients.count)),
                               skipped: skipped)
    }
}

/// Per-patient results filled concurrently, one slot per patient.
private final class PatientResults: @unchecked Sendable {
    private var slots: [Result<(SyntheticPatient, [Int]), Error>?]
    private let lock = NSLock()

    init(count: Int) { slots = Array(repeating: nil, count: count) }

    func store(_ index: Int, _ result: Result<(SyntheticPatient, [Int]), Error>) {
        lock.lock(); defer { lock.unlock() }
        slots[index] = result
    }

    /// Every slot in patient order (each was stored exactly once by `concurrentPerform`).
    var all: [Result<(SyntheticPatient, [Int]), Error>] {
        lock.lock(); defer { lock.unlock() }
        return slots.map { $0 ?? .failure(SynthesisError.writeFailed("a patient was not generated")) }
    }
}

/// Per-patient PET truth (viable and true mean SUV per lesion) filled concurrently, one slot per patient.
private final class PETTruth: @unchecked Sendable {
    private var slots: [(viable: [Double], trueMean: [Double])]
    private let lock = NSLock()

    init(count: Int) { slots = Array(repeating: ([], []), count: count) }

    func store(_ index: Int, viable: [Double], trueMean: [Double]) {
        lock.lock(); defer { lock.unlock() }
        slots[index] = (viable, trueMean)
    }

    var all: [(viable: [Double], trueMean: [Double])] {
        lock.lock(); defer { lock.unlock() }
        return slots
    }
}
