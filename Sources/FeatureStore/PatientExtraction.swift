/// One patient's extraction result: the patient's row, its lesion rows, and
/// the lesions' feature rows per region.
///
/// `patient_id` is added to (or checked in) both tables and moved to the front,
/// followed by `lesion_id` in the lesion table.
public struct PatientExtraction: Equatable, Sendable {
    public let patientID: String
    /// Exactly one row.
    public let patient: Table
    /// One row per lesion (no columns when the patient has no lesions).
    public let lesions: Table
    /// Feature matrices by region, each with one row per lesion row.
    public let features: [String: FeatureMatrix]

    public init(patientID: String, patient: Table = Table(), lesions: Table = Table(),
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
        }
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
        self.lesions = lesionRows.movingToFront(["patient_id", "lesion_id"])
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
        var lesionRows: [String: [Int]] = [:]
        if !lesions.isEmpty {
            for (row, id) in try lesions.texts("patient_id").enumerated() { lesionRows[id, default: []].append(row) }
        }
        if let stray = lesionRows.keys.sorted().first(where: { !known.contains($0) }) {
            throw fail("/lesions has rows of patient '\(stray)', who has no row in /patients")
        }
        let results = try patientIDs.enumerated().map { index, id in
            let rows = lesionRows[id] ?? []
            return try PatientExtraction(patientID: id, patient: patients.rows([index]), lesions: lesions.rows(rows),
                                         features: features.mapValues { $0.rows(rows) })
        }
        return (results, try failureList())
    }
}
