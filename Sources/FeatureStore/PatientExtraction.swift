/// One patient's extraction result: the patient's row, its lesion rows (one per lesion and time point),
/// the images used, and the lesions' feature rows per `<modality>.<region>`.
///
/// `patient_id` is added to (or checked in) every table and moved to the front, followed by `lesion_id`
/// and `timepoint` in the lesion table (a lesion table without `timepoint` is all baseline: 0 is added).
public struct PatientExtraction: Equatable, Sendable {
    public let patientID: String
    /// Exactly one row.
    public let patient: Table
    /// One row per lesion and time point (no columns when the patient has no lesions).
    public let lesions: Table
    /// One row per image used (patient, time point, modality); may be empty.
    public let scans: Table
    /// Feature matrices by `<modality>.<region>`, each with one row per lesion row.
    public let features: [String: FeatureMatrix]

    public init(patientID: String, patient: Table = Table(), lesions: Table = Table(), scans: Table = Table(),
                features: [String: FeatureMatrix] = [:]) throws {
        func fail(_ reason: String) -> FeatureStoreError { .invalidResult(patient: patientID, reason: reason) }
        guard !patientID.isEmpty else { throw fail("the patient id is empty") }

        var patientRow = patient
        if patientRow.isEmpty {
            try patientRow.append("patient_id", .text([patientID]))
        } else {
            guard patientRow.rowCount == 1 else { throw fail("the patient table has \(patientRow.rowCount) rows, not 1") }
            try PatientExtraction.requirePatientColumn(&patientRow, patientID, "patient", fail)
        }

        var lesionRows = lesions
        if !lesionRows.isEmpty {
            try PatientExtraction.requirePatientColumn(&lesionRows, patientID, "lesion", fail)
            guard lesionRows["lesion_id"] != nil else { throw fail("the lesion table has no 'lesion_id' column") }
            if let times = lesionRows["timepoint"] {
                guard times.numbers != nil else { throw fail("the lesion table's 'timepoint' column must hold numbers") }
            } else {
                try lesionRows.append("timepoint", .number([Double](repeating: 0, count: lesionRows.rowCount)))
            }
        }
        var scanRows = scans
        if !scanRows.isEmpty { try PatientExtraction.requirePatientColumn(&scanRows, patientID, "scan", fail) }
        for (region, matrix) in features {
            guard StoreContents.isPlainName(region) else {
                throw fail("feature region '\(region)' must be non-empty and free of '/'")
            }
            guard matrix.rowCount == lesionRows.rowCount else {
                throw fail("region '\(region)' has \(matrix.rowCount) feature rows for \(lesionRows.rowCount) lesions")
            }
        }
        self.patientID = patientID
        self.patient = patientRow.movingToFront(["patient_id"])
        self.lesions = lesionRows.movingToFront(["patient_id", "lesion_id", "timepoint"])
        self.scans = scanRows.movingToFront(["patient_id"])
        self.features = features
    }

    /// Adds a `patient_id` column, or checks that the existing one names only this patient.
    private static func requirePatientColumn(_ table: inout Table, _ patientID: String, _ what: String,
                                             _ fail: (String) -> FeatureStoreError) throws {
        guard let column = table["patient_id"] else {
            return try table.append("patient_id", .text([String](repeating: patientID, count: table.rowCount)))
        }
        guard let ids = column.texts, ids.allSatisfy({ $0 == patientID }) else {
            throw fail("the \(what) table's 'patient_id' column must be text equal to '\(patientID)' in every row")
        }
    }
}

extension StoreContents {
    /// The store cut back into per-patient results (in /patients order) and failures.
    func splitByPatient(file: String) throws -> (results: [PatientExtraction], failures: [Failure]) {
        func fail(_ reason: String) -> FeatureStoreError { .invalidStore(file: file, reason: reason) }
        let patientIDs = patients.isEmpty ? [] : try patients.texts("patient_id")
        let known = Set(patientIDs)
        guard known.count == patientIDs.count else { throw fail("/patients lists a patient twice") }
        var lesionRows: [String: [Int]] = [:], scanRows: [String: [Int]] = [:]
        if !lesions.isEmpty {
            for (row, id) in try lesions.texts("patient_id").enumerated() { lesionRows[id, default: []].append(row) }
        }
        if !scans.isEmpty {
            for (row, id) in try scans.texts("patient_id").enumerated() { scanRows[id, default: []].append(row) }
        }
        for (name, rows) in [("lesions", lesionRows), ("scans", scanRows)] {
            if let stray = rows.keys.sorted().first(where: { !known.contains($0) }) {
                throw fail("/\(name) has rows of patient '\(stray)', who has no row in /patients")
            }
        }
        let results = try patientIDs.enumerated().map { index, id in
            let rows = lesionRows[id] ?? []
            return try PatientExtraction(patientID: id, patient: patients.rows([index]), lesions: lesions.rows(rows),
                                         scans: scans.rows(scanRows[id] ?? []),
                                         features: features.mapValues { $0.rows(rows) })
        }
        return (results, try failureList())
    }
}
