import Foundation
import FeatureStore
import Aggregation
import Statistics
import MultipleInstance
import LinearAlgebra
import Cohort

/// The lesion feature vectors MIL sees.
public enum MILFeatureSelection: Sendable, Hashable {
    /// These features (`<region>.<family>.<feature>`, e.g. a signature's terms), each standardised over the
    /// cohort's lesions; a missing value becomes the cohort mean.
    case features([String])
    /// The first k principal components of every tumour and ring feature that is finite and not constant over
    /// the cohort's lesions (standardised first). Unsupervised, so computing them on the whole cohort uses no
    /// outcome.
    case principalComponents(Int)
}

/// Where the lesion values of a comparison come from.
public enum ComparisonSource: Sendable, Hashable {
    /// The lesion scores of a signature (`/scores/<name>`).
    case signature(String)
    /// One feature column, `<region>.<family>.<feature>`.
    case feature(String)

    /// The store path component: the signature's name, or `feature.<name>`.
    public var pathName: String {
        switch self {
        case .signature(let s): return pathComponent(s)
        case .feature(let f): return pathComponent("feature." + f)
        }
    }
}

/// The comparison stage over a store: reads lesion values, features and outcomes, compares the methods and
/// writes `comparison/<signature>/<endpoint>` (and `<endpoint>_attention` for MIL) into the store.
public enum CohortComparison {
    /// Store path of the comparison table.
    public static func path(_ source: ComparisonSource, _ endpoint: ComparisonEndpoint) -> String {
        "comparison/\(source.pathName)/\(endpoint.rawValue)"
    }

    /// What `run` produced.
    public struct Outcome: Sendable {
        public var result: EndpointComparison
        /// How the MIL inputs were built (nil when no MIL method ran).
        public var milInput: String?
        public var tablePath: String
    }

    /// Compares the methods on `endpoint`, writes the tables into the store (atomically) and, when asked, the CSV.
    @discardableResult
    public static func run(store: URL, source: ComparisonSource, endpoint: ComparisonEndpoint,
                           options: ComparisonOptions = ComparisonOptions(),
                           milFeatures: MILFeatureSelection = .principalComponents(8), includeLogVolume: Bool = true,
                           csv: URL? = nil, responseFromFollowUp: Bool = false) throws -> Outcome {
        var contents = try StoreContents.read(from: store)
        // The response and abscopal endpoints derived from follow-up scans instead of patients.csv (`lesionmap response`).
        let typedPatients = contents.patients
        if responseFromFollowUp { contents.patients = try CohortResponse.patientsWithDerivedEndpoints(contents) }
        var options = options
        if case .feature(let f) = source { options.featureName = f }
        let wantsMIL = options.methods.contains { $0.isLearned }
        let input = try patients(contents, source: source, endpoint: endpoint,
                                 milFeatures: wantsMIL ? milFeatures : nil, includeLogVolume: includeLogVolume)
        let result = try AggregatorComparison.compare(input.patients, endpoint: endpoint, options: options)
        contents.patients = typedPatients
        // Derived endpoints get their own table (`<endpoint>_followup`) beside the typed labels' one.
        let tablePath = path(source, endpoint) + (responseFromFollowUp ? "_followup" : "")
        var attributes = [
            "endpoint": endpoint.rawValue, "source": sourceDescription(source),
            "endpoint_source": responseFromFollowUp ? "follow-up scans (RECIST 1.1 best response; abscopal: RECIST 1.1 on non-irradiated lesions)" : "patients.csv",
            "n_patients": String(result.patients), "confidence_level": String(options.level),
            "bootstrap_resamples": String(options.bootstrapResamples), "seed": String(options.seed),
            "permutations": String(result.permutations),
            "definition": definition(endpoint),
            "interpretation": result.interpretation,
        ]
        if let best = result.bestFixedRow, let p = best.permutationP {
            attributes["best_fixed_method"] = best.method.name
            attributes["best_fixed_perm_p"] = String(p)
        }
        if wantsMIL {
            attributes["mil_input"] = input.milDescription ?? "none"
            attributes["mil_cross_validation"] = "\(options.milFolds)-fold, \(options.milRepeats) repeats, stratified"
            let enc = JSONEncoder()
            enc.outputFormatting = [.sortedKeys]
            attributes["mil_options_json"] = String(decoding: try enc.encode(options.milOptions), as: UTF8.self)
        }
        contents.tables[tablePath] = StoreTable(table: result.table, attributes: attributes)
        if !result.attention.isEmpty {
            contents.tables[tablePath + "_attention"] = StoreTable(table: result.attentionTable, attributes: [
                "endpoint": endpoint.rawValue,
                "definition": "attention: mean held-out attention weight of the lesion over the cross-validation repeats (a patient's weights sum to 1); rank_in_patient 1 = the lesion the patient's MIL risk draws on most",
            ])
        }
        try contents.write(to: store)
        if let csv { try TableCSV.write(result.table, to: csv) }
        return Outcome(result: result, milInput: wantsMIL ? input.milDescription : nil, tablePath: tablePath)
    }

    /// The definitions stored with the table.
    static func definition(_ endpoint: ComparisonEndpoint) -> String {
        let common = "n: patients with a value and the endpoint (sd, range and entropy are undefined for a patient with one lesion, who is left out of those rows); median split: value > median vs <= median; q4_vs_q1: values >= Q3 vs <= Q1; p_holm, lr_p_holm: p and lr_p adjusted by Holm's method over the rows of this table (each column its own family); learned methods: out-of-sample risk from repeated k-fold CV, never re-oriented"
        if endpoint.isSurvival {
            return "hr: Cox (Efron ties) hazard ratio per unit of the patient value, Wald CI and p; hr_per_sd: per sample SD; lr_p: likelihood-ratio p; worse_when: sign of the fitted Cox coefficient (every row, learned ones included); c_index: Harrell's C of the value oriented by the Cox sign (fixed methods) or of the model's risk (learned), percentile bootstrap CI; c_index_corrected: c_index minus c_optimism, Harrell's bootstrap optimism of choosing the direction on the same patients (direction re-fitted in each resample; fixed methods only); c_perm_p: permutation p of c_index adjusted for choosing the direction and the best of the fixed methods (share of outcome permutations whose best re-oriented fixed-method C reaches it; fixed methods only); c_diff_vs_best: paired bootstrap difference to the rank-1 method on the c_diff_n patients both have a value for; " + common
        }
        return "or: logistic-regression odds ratio per unit of the patient value, Wald CI and p; or_per_sd: per sample SD; lr_p: likelihood-ratio p; positive_when: sign of the fitted logistic coefficient (every row, learned ones included); auc: ROC AUC of the value oriented by the logistic sign (fixed) or of the model's score (learned), DeLong CI; auc_corrected: auc minus auc_optimism, Harrell's bootstrap optimism of choosing the direction (fixed methods only); auc_perm_p: permutation p adjusted for choosing the direction and the best of the fixed methods (fixed methods only); auc_diff_vs_best: DeLong paired difference to the rank-1 method on the auc_diff_n patients both have a value for; " + common
    }

    static func sourceDescription(_ source: ComparisonSource) -> String {
        switch source {
        case .signature(let s): return "lesion scores of signature '\(s)'"
        case .feature(let f): return "lesion feature '\(f)'"
        }
    }

    /// The comparison's patients from a store: lesion values, MIL vectors (when asked) and the endpoint.
    static func patients(_ contents: StoreContents, source: ComparisonSource, endpoint: ComparisonEndpoint,
                         milFeatures: MILFeatureSelection?, includeLogVolume: Bool) throws
        -> (patients: [ComparisonPatient], milDescription: String?) {
        let lesions = try StoreLesions(contents)
        let values: [Double]
        switch source {
        case .signature(let name):
            values = try CohortScoring.scores(contents, signatureName: name).scores
        case .feature(let name):
            let (names, rows) = CohortScoring.featureTable(contents)
            guard let j = names.firstIndex(of: name) ?? names.firstIndex(of: FeatureColumnName.qualified(name)) else {
                throw PipelineError("the store has no feature '\(name)'; features are named <modality>.<region>.<family>.<feature>, e.g. \(names.prefix(3).joined(separator: ", "))")
            }
            values = rows.map { $0[j] }
        }
        var vectors: [[Double]]? = nil
        var description: String? = nil
        if let milFeatures {
            let built = try lesionVectors(contents, lesions: lesions, selection: milFeatures, includeLogVolume: includeLogVolume)
            vectors = built.vectors
            description = built.description
        }
        let outcomes = try endpointOutcomes(contents.patients, endpoint: endpoint)
        let patients = lesions.rowsByPatient.map { g in
            ComparisonPatient(
                id: g.patientID,
                lesions: g.rows.map { LesionValue(lesionID: lesions.lesionIDs[$0], value: values[$0],
                                                  volume: lesions.volumes[$0], irradiated: lesions.irradiated[$0]) },
                lesionFeatures: vectors.map { v in g.rows.map { v[$0] } } ?? [],
                outcome: outcomes[g.patientID] ?? nil)
        }
        return (patients, description)
    }

    /// Each patient's outcome for `endpoint` (nil when missing), from the store's patients table.
    static func endpointOutcomes(_ table: Table, endpoint: ComparisonEndpoint) throws -> [String: ComparisonPatient.Outcome?] {
        let ids = try table.texts("patient_id")
        func numbers(_ column: String) throws -> [Double] {
            guard table[column] != nil else {
                throw PipelineError("the store's patients table has no column '\(column)' for the endpoint \(endpoint.rawValue); add it to patients.csv and extract again")
            }
            return try table.numbers(column)
        }
        var out: [String: ComparisonPatient.Outcome?] = [:]
        switch endpoint {
        case .pfs, .os:
            let times = try numbers(endpoint == .pfs ? "pfs_months" : "os_months")
            let events = try numbers(endpoint == .pfs ? "pfs_event" : "os_event")
            for (i, id) in ids.enumerated() {
                out[id] = times[i].isFinite && times[i] >= 0 && events[i].isFinite
                    ? .survival(time: times[i], event: events[i] == 1) : nil
            }
        case .response:
            guard table["best_response"] != nil else {
                throw PipelineError("the store's patients table has no column 'best_response' for the endpoint response")
            }
            let responses = try table.texts("best_response")
            for (i, id) in ids.enumerated() {
                let r = responses[i].uppercased()
                out[id] = ["CR", "PR", "SD", "PD"].contains(r) ? .binary(r == "CR" || r == "PR") : nil
            }
        case .abscopal:
            let flags = try numbers("abscopal_response")
            for (i, id) in ids.enumerated() { out[id] = flags[i].isFinite ? .binary(flags[i] == 1) : nil }
        }
        return out
    }

    /// MIL instance vectors for every lesion row of the store, and a sentence saying how they were built.
    static func lesionVectors(_ contents: StoreContents, lesions: StoreLesions, selection: MILFeatureSelection,
                              includeLogVolume: Bool) throws -> (vectors: [[Double]], description: String) {
        let (names, rows) = CohortScoring.featureTable(contents)
        let n = rows.count
        var columns: [[Double]]
        var description: String
        switch selection {
        case .features(let given):
            let wanted = given.map { names.contains($0) ? $0 : FeatureColumnName.qualified($0) }
            let missing = zip(given, wanted).filter { !names.contains($0.1) }.map(\.0)
            guard missing.isEmpty else {
                throw PipelineError("the store lacks the MIL features \(missing.joined(separator: ", "))")
            }
            columns = wanted.map { name in standardised(rows.map { $0[names.firstIndex(of: name)!] }, imputeMean: true) }
            description = "\(wanted.count) features, standardised over the cohort's lesions (missing = mean): \(wanted.joined(separator: ", "))"
        case .principalComponents(let k):
            let usable = names.indices.filter { j in
                let col = rows.map { $0[j] }
                return col.allSatisfy(\.isFinite) && (col.max()! - col.min()!) > 0
            }
            guard !usable.isEmpty, n >= 2 else {
                throw PipelineError("no tumour or ring feature is finite and varying over the cohort's lesions: MIL has no input")
            }
            let z = usable.map { j in standardised(rows.map { $0[j] }, imputeMean: false) }
            let x = Matrix(rows: n, cols: usable.count, values: (0..<n).flatMap { i in z.map { $0[i] } })
            let covariance = (1 / Double(n - 1)) * x.multiplied(by: x, transposingSelf: true)
            let eigen: SymmetricEigendecomposition
            do {
                eigen = try covariance.symmetricEigendecomposition()
            } catch {
                throw PipelineError("principal components of the lesion features failed: \(error)")
            }
            let count = Swift.min(k, usable.count, n)
            let top = (0..<count).map { usable.count - 1 - $0 }  // eigenvalues ascend
            let components = Matrix(rows: usable.count, cols: count,
                                    values: (0..<usable.count).flatMap { r in top.map { eigen.eigenvectors[r, $0] } })
            let scores = x * components
            columns = (0..<count).map { scores.column($0) }
            let total = eigen.eigenvalues.reduce(0, +)
            let explained = top.reduce(0) { $0 + eigen.eigenvalues[$1] } / total
            description = "first \(count) principal components of \(usable.count) standardised tumour and ring features (\(String(format: "%.1f", 100 * explained)) % of their variance)"
        }
        if includeLogVolume {
            columns.append(lesions.volumes.map { Foundation.log(Swift.max($0.isFinite ? $0 : 0, 1e-3)) })
            description += ", plus log lesion volume"
        }
        return ((0..<n).map { i in columns.map { $0[i] } }, description)
    }

    /// (x − mean) / SD over the finite values (SD 1 when constant); NaN becomes 0 (the mean) when `imputeMean`.
    static func standardised(_ x: [Double], imputeMean: Bool) -> [Double] {
        let finite = x.filter(\.isFinite)
        guard !finite.isEmpty else { return x.map { _ in 0 } }
        let mean = finite.reduce(0, +) / Double(finite.count)
        let sd = (finite.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / Double(finite.count)).squareRoot()
        return x.map { $0.isFinite ? ($0 - mean) / (sd > 0 ? sd : 1) : (imputeMean ? 0 : .nan) }
    }
}
