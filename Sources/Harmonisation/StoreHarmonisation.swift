import Foundation
import FeatureStore

/// ComBat over a feature store: batches and covariates from lesion or patient columns, every feature region
/// harmonised on its own (its features form the empirical Bayes priors), the batch model recorded in the
/// output store as provenance.
///
/// Each `<modality>.<region>` matrix is fitted on the lesions that have it (`fitRows`): in a store mixing PET/CT
/// and CT-only lesions the `pt.*` matrices are fitted, and applied, on the PET/CT lesions alone, and the CT-only
/// lesions keep NaN there. Each region's batches and lesion counts are its own (`/harmonisation/batches`).
///
/// A region whose lesions ComBat cannot harmonise (all in one batch, or a batch with a single lesion there: e.g.
/// every PET of a PET/CT cohort from one scanner) is left unharmonised: its values are copied unchanged, its
/// features get the status `region_unharmonised`, the reason (with its batches and counts) is recorded in the
/// attribute `unharmonised_regions_json` and warned about, and `--apply-model` copies it unchanged too. The run
/// fails only when no region can be harmonised.
///
/// The model lives in four tables (README, "The HDF5 feature store"):
///
///     /harmonisation/features          region, feature, status, grand_mean, pooled_variance
///                                      attributes: method, batch_column, covariates (JSON), design_json,
///                                      model_id, fitted_on, reference, region_designs_json,
///                                      unharmonised_regions_json (region -> reason; absent before)
///     /harmonisation/batches           region, batch, lesions, gamma_bar, tau2, lambda, theta
///     /harmonisation/estimates         region, batch, feature, gamma_hat, delta_hat, gamma_star, delta_star
///     /harmonisation/covariate_effects region, feature, term, coefficient
public enum StoreHarmonisation {
    public static let featuresPath = "harmonisation/features"
    public static let batchesPath = "harmonisation/batches"
    public static let estimatesPath = "harmonisation/estimates"
    public static let covariatesPath = "harmonisation/covariate_effects"
    /// Tables derived from features that a harmonised store cannot keep (they describe the old values).
    static let keptTables: Set<String> = ["feature_catalog"]

    /// What a harmonisation did, for the command's summary.
    public struct Summary: Sendable {
        public var lesions: Int
        public var regions: [String]
        public var batches: [(label: String, lesions: Int)]
        /// Features left unchanged per region, with the reason.
        public var unchanged: [(region: String, feature: String, status: FeatureStatus)]
        public var harmonisedFeatures: Int
        /// Tables of the input left out of the output (scores, plans, ... of the unharmonised values).
        public var droppedTables: [String]
        public var stamp: HarmonisationStamp
        /// Lesions each region was fitted on or applied to (`fitRows`): fewer than `lesions` for a modality or
        /// region some lesions lack (`pt.*` of CT-only lesions, empty cores).
        public var regionLesions: [(region: String, lesions: Int)]
        /// Regions left unharmonised (values copied unchanged), with the reason naming their batches and counts;
        /// their features are not in `unchanged`.
        public var unharmonisedRegions: [(region: String, reason: String)]

        public init(lesions: Int, regions: [String], batches: [(label: String, lesions: Int)],
                    unchanged: [(region: String, feature: String, status: FeatureStatus)], harmonisedFeatures: Int,
                    droppedTables: [String], stamp: HarmonisationStamp, regionLesions: [(region: String, lesions: Int)] = [],
                    unharmonisedRegions: [(region: String, reason: String)] = []) {
            self.lesions = lesions; self.regions = regions; self.batches = batches; self.unchanged = unchanged
            self.harmonisedFeatures = harmonisedFeatures; self.droppedTables = droppedTables; self.stamp = stamp
            self.regionLesions = regionLesions; self.unharmonisedRegions = unharmonisedRegions
        }
    }

    /// Fits ComBat on `contents` and returns the harmonised store.
    ///
    /// A store with follow-up rows (/lesions `timepoint` ≠ 0) is fitted on its baseline rows only: a lesion scanned
    /// three times would otherwise weigh three times in the batch means and variances, and a scanner effect is
    /// estimated between lesions, not over their course. Every row, follow-ups included, is then adjusted by that
    /// model (`ComBatModel.apply`, as `--apply-model` does), so the baseline rows get the values and the model id
    /// harmonising the baseline-only store gives.
    /// - Parameters:
    ///   - batchColumn: a column of /lesions (e.g. `kvp`, `modality`) or of /patients (e.g. `cov_site`).
    ///   - covariates: further such columns whose effects are kept: numeric ones are continuous, others categorical.
    public static func harmonise(_ contents: StoreContents, batchColumn: String, covariates: [String],
                                 method: ComBatMethod) throws -> (store: StoreContents, summary: Summary) {
        if let stamp = stamp(contents) {
            throw HarmonisationError("the store is already harmonised (batch column '\(stamp.batchColumn)', model \(stamp.modelID.prefix(12))); harmonise the store it was made from")
        }
        guard contents.lesions.rowCount > 0 else { throw HarmonisationError("the store holds no lesions: run `lesionmap extract` first") }
        guard !covariates.contains(batchColumn) else {
            throw HarmonisationError("'\(batchColumn)' is the batch column and cannot also be a covariate")
        }
        let lesions = try LesionNames(contents)
        let labels = try batchLabels(contents, column: batchColumn, lesions: lesions)
        let covs = try covariates.map { try covariateColumn(contents, name: $0, lesions: lesions) }
        var out = contents
        var models: [String: ComBatModel] = [:]
        var used: [String: Int] = [:]
        var skipped: [String: String] = [:]
        let isBaseline = contents.lesionTimepoints.map { $0 == 0 || $0.isNaN }
        let followUps = isBaseline.filter { !$0 }.count
        for region in contents.features.keys.sorted() {
            let m = contents.features[region]!
            let all = fitRows(m)
            used[region] = all.count
            // Fitted on the baseline rows; applied to all of them afterwards when there are follow-ups.
            let rows = all.filter { isBaseline[$0] }
            let (levels, counts) = batchCounts(rows.map { labels[$0] })
            if let problem = ComBatDesign.batchProblem(levels: levels, counts: counts) {
                // Left unharmonised: the values stay as they are (out holds them), the model says why.
                skipped[region] = "its \(rows.count) lesion\(rows.count == 1 ? "" : "s") are in "
                    + levels.indices.map { "\(levels[$0]) (\(counts[$0]))" }.joined(separator: ", ")
                    + " of '\(batchColumn)': \(problem)"
                models[region] = ComBatModel(method: method, batches: levels, batchCounts: counts, covariates: [],
                                             features: m.names, status: m.names.map { _ in .regionUnharmonised })
                continue
            }
            let fitted: (model: ComBatModel, harmonised: [Double])
            do {
                fitted = try ComBat.fit(values: m.rows(rows).values, features: m.names, batches: rows.map { labels[$0] },
                                        covariates: covs.map { $0.rows(rows) }, method: method)
            } catch let e as HarmonisationError where rows.count < m.rowCount {
                throw HarmonisationError("region '\(region)', fitted on the \(rows.count) of \(m.rowCount) lesions that have it: \(e.message)")
            }
            models[region] = fitted.model
            let values = rows.count == all.count ? fitted.harmonised
                : try fitted.model.apply(values: m.rows(all).values, features: m.names, batches: all.map { labels[$0] },
                                         covariates: covs.map { $0.rows(all) }, rowName: { lesions.describe(all[$0]) })
            out.features[region] = try m.replacingRows(all, with: values)
        }
        guard skipped.count < models.count else {
            // Regions with the same reason (usually every one) said once.
            let byReason = Dictionary(grouping: skipped.keys.sorted(), by: { skipped[$0]! })
            throw HarmonisationError("no feature region can be harmonised (ComBat needs at least 2 batches with at least 2 lesions each): "
                + byReason.keys.sorted().map { "\(byReason[$0]!.joined(separator: ", ")): \($0)" }.joined(separator: "; "))
        }
        let id = modelID(models)
        var attributes: [String: String] = [
            "method": method.rawValue, "batch_column": batchColumn, "covariates": jsonList(covariates),
            "model_id": id,
            "fitted_on": followUps == 0 ? "this store's \(labels.count) lesions"
                : "this store's \(labels.count - followUps) baseline lesion rows (its \(followUps) follow-up rows adjusted by the same model)",
            "reference": "ComBat (Johnson, Li & Rabinovic, Biostatistics 2007), as neuroCombat implements it",
        ]
        if !skipped.isEmpty { attributes[unharmonisedAttribute] = String(decoding: try sortedJSON(skipped), as: UTF8.self) }
        return try finish(contents, out: &out, models: models, attributes: attributes, lesions: labels.count, used: used)
    }

    /// Attribute of `/harmonisation/features`: JSON object region -> why the region was left unharmonised.
    public static let unharmonisedAttribute = "unharmonised_regions_json"

    /// Sorted batch labels and their lesion counts.
    static func batchCounts(_ labels: [String]) -> (levels: [String], counts: [Int]) {
        var count: [String: Int] = [:]
        for l in labels { count[l, default: 0] += 1 }
        let levels = count.keys.sorted()
        return (levels, levels.map { count[$0]! })
    }

    /// The rows of `m` a region is fitted on and applied to: those holding at least one finite value, i.e. the
    /// lesions that have the matrix's modality (a `pt.*` matrix is NaN throughout for a lesion without a PET
    /// image) and region (an empty core is NaN). Every row when none holds a finite value (ComBat then leaves
    /// every feature unchanged as non-finite, as before).
    public static func fitRows(_ m: FeatureMatrix) -> [Int] {
        let f = m.columnCount
        let present = (0..<m.rowCount).filter { r in (0..<f).contains { m.values[r * f + $0].isFinite } }
        return present.isEmpty ? Array(0..<m.rowCount) : present
    }

    /// Harmonises `contents` (new lesions of known batches) with the model recorded in `modelStore`.
    public static func apply(modelFrom modelStore: StoreContents, to contents: StoreContents, modelSource: String)
        throws -> (store: StoreContents, summary: Summary) {
        guard let stamp = stamp(modelStore) else {
            throw HarmonisationError("\(modelSource) holds no batch model (no /\(featuresPath)): give a store written by `lesionmap harmonise`")
        }
        if let own = self.stamp(contents) {
            throw HarmonisationError("the store is already harmonised (model \(own.modelID.prefix(12))); apply the model to the store it was made from")
        }
        guard contents.lesions.rowCount > 0 else { throw HarmonisationError("the store holds no lesions: run `lesionmap extract` first") }
        let models = try self.models(modelStore)
        let lesions = try LesionNames(contents)
        let labels = try batchLabels(contents, column: stamp.batchColumn, lesions: lesions)
        let covs = try stamp.covariates.map { try covariateColumn(contents, name: $0, lesions: lesions) }
        let regions = Set(contents.features.keys), known = Set(models.keys)
        guard regions == known else {
            throw HarmonisationError("the store's feature regions (\(regions.sorted().joined(separator: ", "))) differ from the model's (\(known.sorted().joined(separator: ", ")))")
        }
        var out = contents
        var used: [String: Int] = [:]
        for region in contents.features.keys.sorted() {
            let m = contents.features[region]!
            let rows = fitRows(m)
            used[region] = rows.count
            // A region the model left unharmonised stays so (its values as they are, whatever their batches).
            if models[region]!.isUnharmonisedRegion { continue }
            let values: [Double]
            do {
                values = try models[region]!.apply(values: m.rows(rows).values, features: m.names, batches: rows.map { labels[$0] },
                                                   covariates: covs.map { $0.rows(rows) }, rowName: { lesions.describe(rows[$0]) })
            } catch let e as HarmonisationError {
                throw HarmonisationError("region '\(region)': \(e.message)")
            }
            out.features[region] = try m.replacingRows(rows, with: values)
        }
        var attributes = modelStore.tables[featuresPath]!.attributes
        attributes["fitted_on"] = "the model of \(modelSource) (\(stamp.fittedOn)), applied to this store's \(labels.count) lesions"
        return try finish(contents, out: &out, models: models, attributes: attributes, lesions: labels.count, used: used)
    }

    private static func finish(_ contents: StoreContents, out: inout StoreContents, models: [String: ComBatModel],
                               attributes: [String: String], lesions: Int, used: [String: Int]) throws -> (store: StoreContents, summary: Summary) {
        let dropped = contents.tables.keys.filter { !keptTables.contains($0) }.sorted()
        for path in dropped { out.tables[path] = nil }
        for (path, table) in try tables(models, attributes: attributes) { out.tables[path] = table }
        // The batches of the harmonised region fitted on the most lesions (every lesion, unless no region has them all).
        let any = models.keys.sorted().filter { !models[$0]!.isUnharmonisedRegion }
            .max { used[$0] ?? 0 < used[$1] ?? 0 }.flatMap { models[$0] }
        let unchanged = models.keys.sorted().flatMap { r in
            models[r]!.unchanged.filter { $0.status != .regionUnharmonised }.map { (r, $0.feature, $0.status) }
        }
        let reasons = try unharmonisedReasons(attributes)
        let summary = Summary(
            lesions: lesions, regions: models.keys.sorted(),
            batches: any.map { m in m.batches.indices.map { (m.batches[$0], m.batchCounts[$0]) } } ?? [],
            unchanged: unchanged,
            harmonisedFeatures: models.values.reduce(0) { $0 + $1.status.filter { $0 == .harmonised }.count },
            droppedTables: dropped, stamp: stamp(out)!,
            regionLesions: used.keys.sorted().map { ($0, used[$0]!) },
            unharmonisedRegions: models.keys.sorted().filter { models[$0]!.isUnharmonisedRegion }.map {
                ($0, reasons[$0] ?? "left unharmonised when the model was fitted")
            })
        return (out, summary)
    }

    /// Why each region a model left unharmonised was (attribute `unharmonised_regions_json`; empty for models
    /// written before regions could be left unharmonised).
    static func unharmonisedReasons(_ attributes: [String: String]) throws -> [String: String] {
        guard let text = attributes[unharmonisedAttribute] else { return [:] }
        guard let reasons = try? JSONDecoder().decode([String: String].self, from: Data(text.utf8)) else {
            throw HarmonisationError("the batch model's attribute \(unharmonisedAttribute) is unreadable")
        }
        return reasons
    }

    static func sortedJSON<T: Encodable>(_ value: T) throws -> Data {
        let enc = JSONEncoder()
        enc.outputFormatting = [.sortedKeys]
        return try enc.encode(value)
    }

    // MARK: - provenance

    /// The harmonisation a store carries, or nil for an unharmonised store.
    public static func stamp(_ contents: StoreContents) -> HarmonisationStamp? {
        guard let a = contents.tables[featuresPath]?.attributes, let id = a["model_id"], let column = a["batch_column"]
        else { return nil }
        return HarmonisationStamp(method: a["method"] ?? "", batchColumn: column,
                                  covariates: parseList(a["covariates"] ?? "[]"), modelID: id,
                                  fittedOn: a["fitted_on"] ?? "")
    }

    /// The batch model of every region of a harmonised store.
    public static func models(_ contents: StoreContents) throws -> [String: ComBatModel] {
        guard let ft = contents.tables[featuresPath], let bt = contents.tables[batchesPath],
              let et = contents.tables[estimatesPath], let ct = contents.tables[covariatesPath] else {
            throw HarmonisationError("the store holds no complete batch model (tables /harmonisation/...)")
        }
        guard let design = ft.attributes["design_json"].flatMap({ try? JSONDecoder().decode(Design.self, from: Data($0.utf8)) }),
              let method = ComBatMethod(rawValue: ft.attributes["method"] ?? "") else {
            throw HarmonisationError("the batch model's attributes (design_json, method) are missing or unreadable")
        }
        // Each region's own design (regions fitted on the lesions that have them); models written before hold one
        // design for every region.
        var designs: [String: Design] = [:]
        if let text = ft.attributes["region_designs_json"] {
            guard let decoded = try? JSONDecoder().decode([String: Design].self, from: Data(text.utf8)) else {
                throw HarmonisationError("the batch model's attribute region_designs_json is unreadable")
            }
            designs = decoded
        }
        let f = ft.table, b = bt.table, e = et.table, c = ct.table
        let fRegion = try f.texts("region"), fName = try f.texts("feature"), fStatus = try f.texts("status")
        let gm = try f.numbers("grand_mean"), vp = try f.numbers("pooled_variance")
        var models: [String: ComBatModel] = [:]
        var featureIndex: [String: [String: Int]] = [:]
        for region in Array(Set(fRegion)).sorted() {
            let rows = fRegion.indices.filter { fRegion[$0] == region }
            let status = try rows.map { r -> FeatureStatus in
                guard let s = FeatureStatus(rawValue: fStatus[r]) else { throw HarmonisationError("unknown feature status '\(fStatus[r])' in the batch model") }
                return s
            }
            let d = designs[region] ?? design
            var m = ComBatModel(method: method, batches: d.batches, batchCounts: d.batchCounts,
                                covariates: d.covariates, features: rows.map { fName[$0] }, status: status)
            m.grandMean = rows.map { gm[$0] }; m.pooledVariance = rows.map { vp[$0] }
            featureIndex[region] = Dictionary(uniqueKeysWithValues: m.features.enumerated().map { ($1, $0) })
            models[region] = m
        }
        let batchIndex = models.mapValues { m in Dictionary(uniqueKeysWithValues: m.batches.enumerated().map { ($1, $0) }) }
        let bRegion = try b.texts("region"), bBatch = try b.texts("batch")
        let gb = try b.numbers("gamma_bar"), t2 = try b.numbers("tau2"), la = try b.numbers("lambda"), th = try b.numbers("theta")
        for r in bRegion.indices {
            guard models[bRegion[r]] != nil, let i = batchIndex[bRegion[r]]?[bBatch[r]] else { throw HarmonisationError("the batch model's batches table does not match its design") }
            models[bRegion[r]]!.priors[i] = BatchPrior(gammaBar: gb[r], tau2: t2[r], lambda: la[r], theta: th[r])
        }
        let eRegion = try e.texts("region"), eBatch = try e.texts("batch"), eName = try e.texts("feature")
        let gh = try e.numbers("gamma_hat"), dh = try e.numbers("delta_hat"), gs = try e.numbers("gamma_star"), ds = try e.numbers("delta_star")
        for r in eRegion.indices {
            guard let i = batchIndex[eRegion[r]]?[eBatch[r]], let j = featureIndex[eRegion[r]]?[eName[r]] else {
                throw HarmonisationError("the batch model's estimates table does not match its features")
            }
            models[eRegion[r]]!.gammaHat[i][j] = gh[r]; models[eRegion[r]]!.deltaHat[i][j] = dh[r]
            models[eRegion[r]]!.gammaStar[i][j] = gs[r]; models[eRegion[r]]!.deltaStar[i][j] = ds[r]
        }
        let termIndex = models.mapValues { m in Dictionary(uniqueKeysWithValues: m.terms.enumerated().map { ($1, $0) }) }
        let cRegion = try c.texts("region"), cName = try c.texts("feature"), cTerm = try c.texts("term"), co = try c.numbers("coefficient")
        for r in cRegion.indices {
            guard let t = termIndex[cRegion[r]]?[cTerm[r]], let j = featureIndex[cRegion[r]]?[cName[r]] else {
                throw HarmonisationError("the batch model's covariate table does not match its design")
            }
            models[cRegion[r]]!.coefficients[t][j] = co[r]
        }
        return models
    }

    /// What a store's lesions and model record about the design (batches, counts, covariate encoding).
    struct Design: Codable {
        var batches: [String]
        var batchCounts: [Int]
        var covariates: [CovariateSpec]
        enum CodingKeys: String, CodingKey {
            case batches, covariates
            case batchCounts = "batch_counts"
        }
    }

    static func tables(_ models: [String: ComBatModel], attributes: [String: String]) throws -> [String: StoreTable] {
        var fRegion: [String] = [], fName: [String] = [], fStatus: [String] = [], gm: [Double] = [], vp: [Double] = []
        var bRegion: [String] = [], bBatch: [String] = [], bN: [Double] = [], gb: [Double] = [], t2: [Double] = [], la: [Double] = [], th: [Double] = []
        var eRegion: [String] = [], eBatch: [String] = [], eName: [String] = []
        var gh: [Double] = [], dh: [Double] = [], gs: [Double] = [], ds: [Double] = []
        var cRegion: [String] = [], cName: [String] = [], cTerm: [String] = [], co: [Double] = []
        var design: Design?
        var designs: [String: Design] = [:]
        for region in models.keys.sorted() {
            let m = models[region]!
            let own = Design(batches: m.batches, batchCounts: m.batchCounts, covariates: m.covariates)
            designs[region] = own
            // design_json: the design of the region fitted on the most lesions.
            if !m.isUnharmonisedRegion, design == nil || own.batchCounts.reduce(0, +) > design!.batchCounts.reduce(0, +) { design = own }
            for j in m.features.indices {
                fRegion.append(region); fName.append(m.features[j]); fStatus.append(m.status[j].rawValue)
                gm.append(m.grandMean[j]); vp.append(m.pooledVariance[j])
            }
            for i in m.batches.indices {
                bRegion.append(region); bBatch.append(m.batches[i]); bN.append(Double(m.batchCounts[i]))
                gb.append(m.priors[i].gammaBar); t2.append(m.priors[i].tau2); la.append(m.priors[i].lambda); th.append(m.priors[i].theta)
                for j in m.features.indices where m.status[j] == .harmonised {
                    eRegion.append(region); eBatch.append(m.batches[i]); eName.append(m.features[j])
                    gh.append(m.gammaHat[i][j]); dh.append(m.deltaHat[i][j]); gs.append(m.gammaStar[i][j]); ds.append(m.deltaStar[i][j])
                }
            }
            for (t, term) in m.terms.enumerated() {
                for j in m.features.indices where m.status[j] == .harmonised {
                    cRegion.append(region); cName.append(m.features[j]); cTerm.append(term); co.append(m.coefficients[t][j])
                }
            }
        }
        var attributes = attributes
        attributes["design_json"] = String(decoding: try sortedJSON(design ?? Design(batches: [], batchCounts: [], covariates: [])), as: UTF8.self)
        attributes["region_designs_json"] = String(decoding: try sortedJSON(designs), as: UTF8.self)
        return [
            featuresPath: StoreTable(table: try Table(["region": .text(fRegion), "feature": .text(fName), "status": .text(fStatus),
                                                       "grand_mean": .number(gm), "pooled_variance": .number(vp)]),
                                     attributes: attributes),
            batchesPath: StoreTable(table: try Table(["region": .text(bRegion), "batch": .text(bBatch), "lesions": .number(bN),
                                                      "gamma_bar": .number(gb), "tau2": .number(t2), "lambda": .number(la),
                                                      "theta": .number(th)])),
            estimatesPath: StoreTable(table: try Table(["region": .text(eRegion), "batch": .text(eBatch), "feature": .text(eName),
                                                        "gamma_hat": .number(gh), "delta_hat": .number(dh),
                                                        "gamma_star": .number(gs), "delta_star": .number(ds)])),
            covariatesPath: StoreTable(table: try Table(["region": .text(cRegion), "feature": .text(cName), "term": .text(cTerm),
                                                         "coefficient": .number(co)])),
        ]
    }

    /// SHA-256 over every region's features, design and estimates (bit patterns): identifies a model.
    static func modelID(_ models: [String: ComBatModel]) -> String {
        var h = SHA256.Hasher()
        func text(_ s: String) { h.update(Array(s.utf8) + [0]) }
        func numbers(_ x: [Double]) { for v in x { withUnsafeBytes(of: v.bitPattern.littleEndian) { h.update($0) } } }
        for region in models.keys.sorted() {
            let m = models[region]!
            text(region); text(m.method.rawValue)
            m.batches.forEach(text); numbers(m.batchCounts.map(Double.init))
            m.terms.forEach(text); m.features.forEach(text); m.status.map(\.rawValue).forEach(text)
            numbers(m.grandMean); numbers(m.pooledVariance)
            (m.coefficients + m.gammaHat + m.deltaHat + m.gammaStar + m.deltaStar).forEach(numbers)
        }
        return h.finalizeHex()
    }

    // MARK: - batches and covariates from the store's columns

    /// Patient and lesion ids of the store's lesions, for messages.
    struct LesionNames {
        var patients: [String], lesions: [String]
        init(_ contents: StoreContents) throws {
            patients = try contents.lesions.texts("patient_id")
            lesions = contents.lesions["lesion_id"]?.texts ?? patients.map { _ in "" }
        }
        func describe(_ r: Int) -> String { "patient \(patients[r]), lesion \(lesions[r])" }
    }

    /// The values of a lesion column, or of a patient column given to each of the patient's lesions.
    static func lesionColumn(_ contents: StoreContents, name: String, lesions: LesionNames) throws -> Column {
        if let c = contents.lesions[name] { return c }
        if let c = contents.patients[name], let ids = contents.patients["patient_id"]?.texts {
            let row = Dictionary(ids.enumerated().map { ($1, $0) }, uniquingKeysWith: { a, _ in a })
            switch c {
            case .text(let v): return .text(lesions.patients.map { row[$0].map { v[$0] } ?? "" })
            case .number(let v): return .number(lesions.patients.map { row[$0].map { v[$0] } ?? .nan })
            }
        }
        let lesionColumns = contents.lesions.columnNames.filter { $0 != "patient_id" && $0 != "lesion_id" }
        let patientColumns = contents.patients.columnNames.filter { $0 != "patient_id" }
        throw HarmonisationError("no column '\(name)' in the store's /lesions (\(lesionColumns.joined(separator: ", "))) or /patients (\(patientColumns.joined(separator: ", ")))")
    }

    /// A number as a batch label: whole numbers without a fraction ("120"), others as Swift prints them.
    static func label(_ v: Double) -> String {
        v.rounded() == v && abs(v) < 1e15 ? String(Int64(v)) : String(v)
    }

    static func batchLabels(_ contents: StoreContents, column: String, lesions: LesionNames) throws -> [String] {
        let labels: [String]
        switch try lesionColumn(contents, name: column, lesions: lesions) {
        case .text(let v): labels = v.map { $0.trimmingCharacters(in: .whitespaces) }
        case .number(let v): labels = v.map { $0.isFinite ? label($0) : "" }
        }
        try requireValues(labels.map { !$0.isEmpty }, what: "batch column '\(column)'", lesions: lesions)
        return labels
    }

    static func covariateColumn(_ contents: StoreContents, name: String, lesions: LesionNames) throws -> CovariateColumn {
        switch try lesionColumn(contents, name: name, lesions: lesions) {
        case .number(let v):
            try requireValues(v.map(\.isFinite), what: "covariate '\(name)'", lesions: lesions)
            return CovariateColumn(name: name, values: .continuous(v))
        case .text(let v):
            let t = v.map { $0.trimmingCharacters(in: .whitespaces) }
            try requireValues(t.map { !$0.isEmpty }, what: "covariate '\(name)'", lesions: lesions)
            let numbers = t.map { Double($0) }
            if numbers.allSatisfy({ $0?.isFinite == true }) { return CovariateColumn(name: name, values: .continuous(numbers.map { $0! })) }
            return CovariateColumn(name: name, values: .categorical(t))
        }
    }

    static func requireValues(_ present: [Bool], what: String, lesions: LesionNames) throws {
        let missing = present.indices.filter { !present[$0] }
        guard missing.isEmpty else {
            throw HarmonisationError("\(what) has no value for \(missing.count) lesion\(missing.count == 1 ? "" : "s") (\(missing.prefix(5).map(lesions.describe).joined(separator: "; "))\(missing.count > 5 ? "; ..." : "")): every lesion needs one; fill it in the manifest or leave those patients out")
        }
    }

    static func jsonList(_ names: [String]) -> String {
        String(decoding: (try? JSONEncoder().encode(names)) ?? Data("[]".utf8), as: UTF8.self)
    }

    static func parseList(_ text: String) -> [String] {
        (try? JSONDecoder().decode([String].self, from: Data(text.utf8))) ?? []
    }
}

/// What a harmonised store (and a signature trained on one) records about its harmonisation.
public struct HarmonisationStamp: Sendable, Equatable {
    public var method: String
    public var batchColumn: String
    public var covariates: [String]
    /// SHA-256 of the batch model; stores harmonised with `--apply-model` carry the model's id.
    public var modelID: String
    public var fittedOn: String

    public init(method: String, batchColumn: String, covariates: [String], modelID: String, fittedOn: String) {
        self.method = method; self.batchColumn = batchColumn; self.covariates = covariates; self.modelID = modelID
        self.fittedOn = fittedOn
    }
}

extension StoreHarmonisation {
    /// One feature of a harmonised store by batch, before and after harmonisation, for the cohort report.
    public struct BeforeAfter: Sendable {
        /// Stable name `<region>.<family>.<feature>`.
        public var feature: String
        public var batchColumn: String
        public var method: String
        public var batches: [String]
        /// Per batch, the lesions' values before (recovered from the model) and after harmonisation.
        public var before: [[Double]]
        public var after: [[Double]]
        /// Share of the feature's standardised variance explained by batch before harmonisation, Σ n_b γ̂_b² / n.
        public var batchShare: Double
        /// Features of the store harmonised and left unchanged.
        public var harmonisedCount: Int
        public var unchangedCount: Int
    }

    /// The feature with the largest batch effect (Σ n_b γ̂_b² / n on the standardised scale) of the CT `tumour`
    /// region (else another tumour region, else the first region), by batch before and after harmonisation; nil
    /// for an unharmonised store.
    /// The values before are recovered from the harmonised ones with the recorded model (`ComBatModel.unapply`).
    public static func beforeAndAfter(_ contents: StoreContents) throws -> BeforeAfter? {
        guard let stamp = stamp(contents) else { return nil }
        let models = try models(contents)
        let keys = models.keys.sorted().filter { !models[$0]!.isUnharmonisedRegion }
        guard let region = ["ct.tumour", "tumour"].first(where: keys.contains)
                ?? keys.first(where: { $0.hasSuffix(".tumour") }) ?? keys.first,
              let model = models[region], let matrix = contents.features[region] else { return nil }
        let n = Double(model.batchCounts.reduce(0, +))
        var best: (Int, Double)?
        for j in model.features.indices where model.status[j] == .harmonised {
            let share = model.batches.indices.reduce(0.0) { $0 + Double(model.batchCounts[$1]) * model.gammaHat[$1][j] * model.gammaHat[$1][j] } / n
            if best == nil || share > best!.1 { best = (j, share) }
        }
        guard let (j, share) = best else { return nil }
        let lesions = try LesionNames(contents)
        let labels = try batchLabels(contents, column: stamp.batchColumn, lesions: lesions)
        let covs = try stamp.covariates.map { try covariateColumn(contents, name: $0, lesions: lesions) }
        let rows = fitRows(matrix), fitted = matrix.rows(rows)
        let before = try model.unapply(values: fitted.values, features: matrix.names, batches: rows.map { labels[$0] },
                                       covariates: covs.map { $0.rows(rows) }, rowName: { lesions.describe(rows[$0]) })
        guard let c = matrix.names.firstIndex(of: model.features[j]) else { return nil }
        let f = matrix.names.count
        let index = Dictionary(uniqueKeysWithValues: model.batches.enumerated().map { ($1, $0) })
        var b = [[Double]](repeating: [], count: model.batches.count), a = b
        for (k, r) in rows.enumerated() {
            guard let i = index[labels[r]] else { continue }
            b[i].append(before[k * f + c]); a[i].append(fitted.values[k * f + c])
        }
        let harmonised = models.values.reduce(0) { $0 + $1.status.filter { $0 == .harmonised }.count }
        let unchanged = models.values.reduce(0) { $0 + $1.status.filter { $0 != .harmonised }.count }
        return BeforeAfter(feature: region + "." + model.features[j], batchColumn: stamp.batchColumn, method: stamp.method,
                           batches: model.batches, before: b, after: a, batchShare: share,
                           harmonisedCount: harmonised, unchangedCount: unchanged)
    }
}

extension CovariateColumn {
    /// The covariate's values at `rows`, in that order.
    func rows(_ rows: [Int]) -> CovariateColumn {
        switch values {
        case .continuous(let v): return CovariateColumn(name: name, values: .continuous(rows.map { v[$0] }))
        case .categorical(let v): return CovariateColumn(name: name, values: .categorical(rows.map { v[$0] }))
        }
    }
}

extension FeatureMatrix {
    /// This matrix with `rows` replaced, in order, by the row-major `values`; the other rows unchanged.
    func replacingRows(_ rows: [Int], with values: [Double]) throws -> FeatureMatrix {
        let f = columnCount
        var all = self.values
        for (k, r) in rows.enumerated() { all.replaceSubrange((r * f)..<((r + 1) * f), with: values[(k * f)..<((k + 1) * f)]) }
        return try FeatureMatrix(names: names, rowCount: rowCount, values: all)
    }
}
