/// Why a table, a store, or an extraction run could not be used.
public enum FeatureStoreError: Error, Equatable, Sendable, CustomStringConvertible {
    /// A table, column or feature matrix breaks a rule (lengths, names, kinds).
    case invalidTable(String)
    /// A store file does not have the expected layout.
    case invalidStore(file: String, reason: String)
    /// The store was written with different extraction settings.
    case settingsMismatch(store: String, storedHash: String, requestedHash: String)
    /// The store's follow-up lesions were named with other matching options (`extract --match`, `--match-gate`,
    /// `--match-max-shift`) than the run resuming it asks for; both as recorded (JSON).
    case lesionMatchingMismatch(store: String, stored: String, requested: String)
    /// A patient is not part of the cohort the writer was opened for.
    case unknownPatient(String, store: String)
    /// A patient's result is inconsistent.
    case invalidResult(patient: String, reason: String)
    /// Another writer holds the store.
    case storeInUse(String)
    /// The writer was used after `finish()` or was asked for something contradictory.
    case writerState(String)
    /// A store's data does not match its checksums: the file was damaged after it was written.
    /// `object` is the damaged dataset (e.g. "/features/tumour/values").
    case damagedStore(file: String, object: String, reason: String)
    /// The disk refused to write `file` (full, over quota or the file-size limit, I/O error);
    /// `advice` says what was kept and how to go on.
    case cannotWrite(file: String, reason: String, advice: String)

    public var description: String {
        switch self {
        case .invalidTable(let reason):
            return "invalid table: \(reason)"
        case .invalidStore(let file, let reason):
            return "feature store \(file) is not valid: \(reason)"
        case .settingsMismatch(let store, let stored, let requested):
            return "feature store \(store) was written with different extraction settings "
                + "(settings_hash \(stored.prefix(12))…, these settings hash to \(requested.prefix(12))…); "
                + "choose another store path, or use the force option to discard it and start afresh"
        case .lesionMatchingMismatch(let store, let stored, let requested):
            return "feature store \(store) was extracted with other lesion matching options (\(stored)) than this run "
                + "(\(requested)): resuming would name the follow-up lesions of its patients one way and the rest "
                + "another, so the same lesion could carry two ids; run with the store's options (extract --match, "
                + "--match-gate, --match-max-shift), choose another store path, or use the force option to start afresh"
        case .unknownPatient(let patient, let store):
            return "patient '\(patient)' is not in the cohort manifest of the run writing \(store); "
                + "choose another store path, or use the force option to start afresh"
        case .invalidResult(let patient, let reason):
            return "result of patient '\(patient)' is invalid: \(reason)"
        case .storeInUse(let store):
            return "feature store \(store) is being written by another extraction run"
        case .writerState(let reason):
            return reason
        case .damagedStore(let file, let object, let reason):
            return "feature store \(file) is damaged: \(object) \(reason), so its values cannot be trusted; "
                + "extract the cohort again into a new store (or with the force option), or restore the store "
                + "from a backup"
        case .cannotWrite(let file, let reason, let advice):
            return "cannot write \(file): \(reason); \(advice)"
        }
    }

    /// Whether the disk refused a write (see `cannotWrite`), as opposed to bad data.
    public var isWriteFailure: Bool {
        if case .cannotWrite = self { return true }
        return false
    }
}
