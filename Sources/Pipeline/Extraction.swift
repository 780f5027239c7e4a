import Foundation
import ImagingCore
import Cohort
import Radiomics
import FeatureStore
import WorkPool

/// The outcome of an extraction run, for the closing summary and the exit code.
public struct ExtractionSummary: Sendable {
    /// Patients extracted in this run.
    public var extracted: [String] = []
    /// Patients already in the store from an earlier run, not recomputed.
    public var resumed: [String] = []
    /// Patients that failed, with the error naming patient, lesion and file.
    public var failed: [(patientID: String, message: String)] = []
    public var lesionCount = 0
    public var warnings: [String] = []
    public var seconds: Double = 0

    public var succeeded: Bool { failed.isEmpty }

    /// Warnings the closing summary lists before it counts the rest: a cohort whose lesions all draw the
    /// same warning (few grey levels under a coarse bin width, say) would otherwise bury its failures.
    public static let listedWarnings = 10

    /// The closing summary, listing at most `listedWarnings` warnings.
    public var text: String { text(allWarnings: false) }

    /// The closing summary; with `allWarnings` every warning is listed, otherwise the first
    /// `listedWarnings` and a count of the others (`extract --all-warnings` lists them all).
    public func text(allWarnings: Bool) -> String {
        var s = "extracted \(extracted.count) patient\(extracted.count == 1 ? "" : "s") (\(lesionCount) lesions) in \(String(format: "%.1f", seconds)) s"
        if !resumed.isEmpty { s += "; \(resumed.count) already in the store (resumed, not recomputed)" }
        s += "; \(failed.count) failed"
        // A message of several lines (one per lesion refused, say) stays indented under its patient.
        for f in failed { s += "\n  FAILED \(f.patientID): " + f.message.replacingOccurrences(of: "\n", with: "\n    ") }
        let listed = allWarnings ? warnings : Array(warnings.prefix(ExtractionSummary.listedWarnings))
        for w in listed { s += "\n  warning: \(w)" }
        if listed.count < warnings.count {
            let more = warnings.count - listed.count
            s += "\n  ... and \(more) more warning\(more == 1 ? "" : "s") (--all-warnings lists every one)"
        }
        return s
    }
}

/// Extraction of every lesion and its ring for a cohort into an HDF5 store.
///
/// Patients are committed one at a time through `ExtractionStoreWriter`, so a kill loses at most the
/// patients in flight (`--jobs` of them) and a re-run resumes. A patient that cannot be read or extracted is recorded
/// in the store's `/failures` and reported; the cohort goes on.
public enum CohortExtraction {
    /// Store name of a feature: `[<filter>.]<family>.<IBSI tag without its family prefix>`, e.g.
    /// `glcm.joint_max_3D_comb`, `intensity.mean`, `morphology.volume`. Names therefore do not
    /// depend on which other variants the settings ask for.
    ///
    /// A feature of a filtered image (response map) carries the filter's token in front:
    /// `<filter>.<family>.<feature>`, e.g. `log_s1.5.intensity.mean`, so the column of the CT tumour reads
    /// `ct.tumour.log_s1.5.intensity.mean` (`FeatureColumnName`).
    public static func storeName(_ v: FeatureValue) -> String {
        let prefix = v.family.ibsiPrefix + "_"
        let tail = v.ibsiTag.hasPrefix(prefix) ? String(v.ibsiTag.dropFirst(prefix.count)) : v.name
        return (v.filter.map { $0 + "." } ?? "") + v.family.rawValue + "." + tail
    }

    /// The settings as recorded in stores and compared by signatures (sorted keys, stable).
    public static func settingsJSON(_ settings: ExtractionSettings) throws -> String {
        try ModalitySettings.everyModality(settings).json()
    }

    /// Extracts every patient not yet in `store` with the same settings for every modality.
    public static func run(cohort: Cohort, store: URL, settings: ExtractionSettings, force: Bool = false,
                           loader: PatientLoader = PatientLoader(), software: String = LesionMapVersion.software,
                           memoryLimit: ExtractionMemoryLimit = .automatic, jobs: Int? = nil,
                           progress: ProgressBar? = nil) throws -> ExtractionSummary {
        try run(cohort: cohort, store: store, settings: .everyModality(settings), force: force, loader: loader,
                software: software, memoryLimit: memoryLimit, jobs: jobs, progress: progress)
    }

    /// Threads of a cohort extraction when `--jobs` is not given: every core the process may use.
    public static var defaultJobs: Int { ProcessInfo.processInfo.activeProcessorCount }

    /// Extracts every patient not yet in `store`.
    ///
    /// Settings are checked against `SettingsBounds` where they are made (presets, settings files,
    /// command-line overrides); here every lesion is guarded by its memory estimate instead: a lesion
    /// that would need more than the budget `memoryLimit` gives (taken once when the run starts and
    /// shared by the lesions of every patient in flight) fails its patient with a message naming
    /// patient, lesion, file, the estimate and the setting responsible, before anything is allocated for it.
    ///
    /// Each lesion is extracted with the settings of its scan's modality (`ScanMetadata.modality`);
    /// a scan whose modality has none fails its patient, and settings that make no sense for the
    /// modality (rounding PET values, a HU range on PET or MR) are refused, naming patient, lesion
    /// and setting (`ModalityChecks`). The store records `settings.json()`.
    ///
    /// Pipelined on `jobs` threads (default `defaultJobs`, every core): each thread takes the next patient in
    /// manifest order, loads it (reading, decoding, label regions, masks, metadata) and extracts it, so one
    /// patient loads while the lesions of others are extracted; the lesions of every patient in flight share
    /// the same `jobs` threads (`WorkPool`), so there are never more busy threads than `jobs`. At most `jobs`
    /// patients are in memory at once (their images and masks, plus their lesions' working memory, which
    /// the shared budget bounds). Patients are committed on the calling thread as they finish — the order
    /// may differ from the manifest's, the store is still written in manifest order — so a kill loses at
    /// most the patients in flight or waiting to be committed and a re-run resumes. Results that finish
    /// while the calling thread commits wait for it (at most `commitBacklog` of them, plus one per thread:
    /// store rows, not images) and are committed together (`ExtractionStoreWriter.commit(_:)` of a batch),
    /// so the workers never wait for the disk. A patient that fails is recorded and the others
    /// go on; a store that refuses writes (full disk) stops the run after the patients in flight finish.
    public static func run(cohort: Cohort, store: URL, settings: ModalitySettings, force: Bool = false,
                           loader: PatientLoader = PatientLoader(), software: String = LesionMapVersion.software,
                           memoryLimit: ExtractionMemoryLimit = .automatic, jobs: Int? = nil,
                           progress: ProgressBar? = nil) throws -> ExtractionSummary {
        let start = Date()
        var summary = ExtractionSummary()
        let writer = try ExtractionStoreWriter(storeURL: store, settingsJSON: try settings.json(),
                                               lesionMatching: loader.matchingRecord, patientOrder: cohort.patients.map(\.id), software: software,
                                               force: force, warn: { progress?.message("warning: \($0)") })
        for entry in cohort.patients where writer.isFinished(entry.id) {
            summary.resumed.append(entry.id)
            progress?.advance("\(entry.id) already done")
        }
        let todo = cohort.patients.indices.filter { !writer.isFinished(cohort.patients[$0].id) }
        let budget = ExtractionMemoryLimit.shared(memoryLimit.budget())
        let patients = cohort.patients
        // What each patient gave, by manifest position, so the summary lists patients and warnings in
        // manifest order whatever order they finished in.
        var extracted: [Int: Int] = [:], failed: [Int: String] = [:], warnings: [Int: [String]] = [:]
        // Results that finish while the calling thread commits a batch wait (up to `commitBacklog`) instead of
        // holding their workers, and are committed together next: one wait for the disk per batch.
        try WorkPool.pipelineBatches(count: todo.count, jobs: jobs ?? defaultJobs, backlog: commitBacklog, work: { n in
            extractPatient(patients[todo[n]], cohort: cohort, settings: settings, loader: loader, memoryLimit: budget)
        }, deliver: { batch in
            var failures: [Int: (stage: String, message: String)] = [:]
            for (n, outcome) in batch { failures[n] = outcome.failure }
            let successes = batch.filter { $0.1.extraction != nil }
            do {
                try writer.commit(successes.map { $0.1.extraction! })
            } catch let error as FeatureStoreError where error.isWriteFailure {
                // The disk refuses writes (full, quota, file-size limit): no later patient could be
                // stored either, so the run stops here; what was committed is kept for a re-run.
                throw error
            } catch {
                // A result the store cannot take (checked before anything is written): commit one at a
                // time, so that only that patient fails.
                for (n, outcome) in successes {
                    do {
                        try writer.commit(outcome.extraction!)
                    } catch let error as FeatureStoreError where error.isWriteFailure {
                        throw error
                    } catch {
                        failures[n] = ("store", ErrorText.plain(error))
                    }
                }
            }
            for (n, outcome) in batch {
                let index = todo[n], id = patients[index].id
                warnings[index] = outcome.warnings
                if let (stage, message) = failures[n] {
                    failed[index] = message
                    try writer.recordFailure(patientID: id, stage: stage, message: message)
                    progress?.message("FAILED \(id) (\(stage)): \(message)")
                    progress?.advance("\(id) failed")
                } else {
                    extracted[index] = outcome.lesionCount
                    progress?.advance("\(id): \(outcome.lesionCount) lesions")
                }
            }
        })
        for index in todo {
            let id = patients[index].id
            summary.warnings += warnings[index] ?? []
            if let lesions = extracted[index] {
                summary.extracted.append(id)
                summary.lesionCount += lesions
            }
            if let message = failed[index] { summary.failed.append((id, message)) }
        }
        // The feature catalogue goes into the final rewrite (not a read and a second rewrite of the store).
        _ = try writer.finish(addingTables: { contents in try featureCatalog(contents).map { [catalogPath: $0] } ?? [:] })
        summary.seconds = Date().timeIntervalSince(start)
        return summary
    }

    /// How many finished patients may wait to be committed while the workers go on. A waiting result holds
    /// the patient's store rows (feature values, tens of kilobytes), not its images.
    static let commitBacklog = 16

    /// One patient's extraction as a pipeline worker hands it back: the store rows, or the stage that
    /// failed (`load`, `extract`) and the error naming patient, lesion and file; warnings either way.
    struct PatientOutcome: Sendable {
        var extraction: PatientExtraction?
        var lesionCount = 0
        var failure: (stage: String, message: String)?
        var warnings: [String] = []
    }

    /// Loads and extracts one patient (on a pipeline worker); never throws, a failure is an outcome.
    static func extractPatient(_ entry: PatientEntry, cohort: Cohort, settings: ModalitySettings,
                               loader: PatientLoader, memoryLimit: ExtractionMemoryLimit) -> PatientOutcome {
        var outcome = PatientOutcome()
        var stage = "load"
        do {
            let patient = try loader.load(entry, relativeTo: cohort.folder)
            outcome.warnings += patient.warnings
            stage = "extract"
            let result = try extract(patient, cohort: cohort, settings: settings, memoryLimit: memoryLimit)
            outcome.warnings += result.warnings
            outcome.extraction = result.extraction
            outcome.lesionCount = patient.lesions.count
        } catch {
            outcome.failure = (stage, ErrorText.plain(error))
        }
        return outcome
    }

    /// Store path of the table mapping every stored feature name to its IBSI identifier and PyRadiomics name.
    public static let catalogPath = "feature_catalog"

    /// Adds `feature_catalog` (region, name, ibsi_id, ibsi_tag, pyradiomics_name, note) for every feature the store holds.
    static func writeFeatureCatalog(_ store: URL) throws {
        var contents = try StoreContents.read(from: store)
        guard let catalog = try featureCatalog(contents) else { return }
        contents.tables[catalogPath] = catalog
        try contents.write(to: store)
    }

    /// The `feature_catalog` table of a store's contents; nil when it holds no feature.
    static func featureCatalog(_ contents: StoreContents) throws -> StoreTable? {
        var region: [String] = [], name: [String] = [], id: [String] = [], tag: [String] = [], py: [String] = [], note: [String] = []
        for r in contents.features.keys.sorted() {
            for n in contents.features[r]!.names {
                let e = FeatureCatalog.entry(storeName: n)
                region.append(r); name.append(n); id.append(e?.ibsiID ?? ""); tag.append(e?.ibsiTag ?? "")
                if let filter = FeatureCatalog.split(n).filter {
                    // PyRadiomics names its filtered features by image type (`log-sigma-1-5-mm-3D_...`):
                    // the equivalence is that of the filters (README), not of the names.
                    py.append("")
                    note.append(e == nil ? "not in the catalogue" : "of the response map \(filter)")
                } else {
                    py.append(e?.pyradiomicsName ?? ""); note.append(e?.note ?? (e == nil ? "not in the catalogue" : ""))
                }
            }
        }
        guard !name.isEmpty else { return nil }
        var t = Table()
        try t.append("region", .text(region))
        try t.append("name", .text(name))
        try t.append("ibsi_id", .text(id))
        try t.append("ibsi_tag", .text(tag))
        try t.append("pyradiomics_name", .text(py))
        try t.append("note", .text(note))
        return StoreTable(table: t, attributes: [
            "definition": "stable store name <modality>.<region>.[<filter>.]<family>.<feature> (the region column holds <modality>.<region>); IBSI 1 identifier and reference tag; PyRadiomics name where the definitions agree",
        ])
    }

    /// Features of one loaded patient as store rows.
    static func extract(_ patient: Patient, cohort: Cohort, settings: ExtractionSettings,
                        memoryLimit: ExtractionMemoryLimit = .automatic) throws
        -> (extraction: PatientExtraction, warnings: [String]) {
        try extract(patient, cohort: cohort, settings: .everyModality(settings), memoryLimit: memoryLimit)
    }

    static func extract(_ patient: Patient, cohort: Cohort, settings: ModalitySettings,
                        memoryLimit: ExtractionMemoryLimit = .automatic) throws
        -> (extraction: PatientExtraction, warnings: [String]) {
        var warnings: [String] = []
        // Lesions are extracted scan by scan (a patient may have several images): each on its contour scan with its
        // own mask, and on every further image of its study (`image_<modality>`) with its mask carried there
        // (`Lesion.furtherImages`), so the rings of one image exclude every lesion on it, drawn or carried.
        var featuresByLesion = [LesionFeatures?](repeating: nil, count: patient.lesions.count)
        var furtherFeatures = [[(scan: Int, features: LesionFeatures)]](repeating: [], count: patient.lesions.count)
        for (si, scan) in patient.scans.enumerated() {
            // A lesion's own mask comes with its box (`Lesion.maskBoundingBox`); a carried one's is found again.
            var members: [(lesion: Int, mask: Mask, carried: Bool, box: IndexBox??)] = []
            for (li, l) in patient.lesions.enumerated() {
                if l.scanIndex == si { members.append((li, l.mask, false, .some(l.maskBoundingBox))) }
                for f in l.furtherImages where f.scanIndex == si { members.append((li, f.mask, true, nil)) }
            }
            guard !members.isEmpty else { continue }
            let shown = relativePath(scan.source, to: cohort.folder)
            let labels = members.map { m in
                let l = patient.lesions[m.lesion]
                return "patient \(patient.id), lesion \(l.id) (\(l.source)\(m.carried ? ", carried onto \(shown)" : ""))"
            }
            let modality = scan.metadata.modality
            guard let scanSettings = settings.settings(for: modality) else {
                let given = settings.all.compactMap(\.modality).joined(separator: ", ")
                let advice = modality.uppercased() == Modality.pt ? "add pt=pet-default (or pt=another preset) to --preset"
                    : modality.uppercased() == Modality.mr ? "add mr=mr-default (or mr=another preset) to --preset"
                    : "give one preset for every modality (--preset NAME) to extract it"
                throw RadiomicsError.noSettingsForModality(labels.map {
                    "\($0): the scan is \(modality.isEmpty ? "of no modality" : modality) and the settings are only for \(given); \(advice)"
                }.joined(separator: "\n"))
            }
            let results = try LesionFeatureExtractor.extract(image: scan.image, lesions: members.map(\.mask),
                                                             boundingBoxes: members.map(\.box),
                                                             labels: labels, settings: scanSettings,
                                                             budget: memoryLimit.budget(), modality: modality)
            for (m, r) in zip(members, results) {
                if m.carried { furtherFeatures[m.lesion].append((si, r)) } else { featuresByLesion[m.lesion] = r }
            }
        }
        // Feature rows per matrix `<modality>.<region>`; a lesion row without that matrix gets NaN.
        var matrixRows: [String: [[String: Double]]] = [:]
        var matrixOrder: [String: FeatureOrder] = [:]
        for (index, lesion) in patient.lesions.enumerated() {
            guard let own = featuresByLesion[index] else { continue }
            // The contour scan's features, then each further image's, each into its modality's matrices.
            for (scanIndex, lf) in [(lesion.scanIndex, own)] + furtherFeatures[index].map({ ($0.scan, $0.features) }) {
                warnings += lf.warnings + lf.tumour.warnings + (lf.ring?.warnings ?? [])
                let modality = patient.scans[scanIndex].metadata.modality
                // Every region the settings extracted (`ExtractionSettings.regions`); an empty ring or core has none.
                let regions = ExtractionSettings.Region.allCases.compactMap { r in lf.features(of: r).map { (r.rawValue, $0.features) } }
                for (region, values) in regions {
                    let key = FeatureColumnName.matrixKey(modality: modality, region: region)
                    let r = row(values, order: &matrixOrder[key, default: FeatureOrder()])
                    matrixRows[key, default: [[String: Double]](repeating: [:], count: patient.lesions.count)][index] = r
                }
            }
        }

        var lesions = LesionColumns()
        for l in patient.lesions {
            let scan = patient.scans[l.scanIndex]
            try lesions.add(l, scan: scan, further: l.furtherImages.map { (patient.scans[$0.scanIndex], $0.mask) },
                            folder: cohort.folder)
        }
        var features: [String: FeatureMatrix] = [:]
        for (key, rows) in matrixRows { features[key] = try matrix(rows, order: matrixOrder[key]!.names) }
        let extraction = try PatientExtraction(patientID: patient.id, patient: try patientRow(patient, cohortFolder: cohort.folder),
                                               lesions: try lesions.table(),
                                               scans: try scanTable(patient, folder: cohort.folder), features: features)
        return (extraction, Array(Set(warnings)).sorted())
    }

    /// A matrix's feature names in first-seen order, with a set to look them up (a lesion row has ~150-430
    /// names: a linear search per name was a quadratic cost per lesion).
    struct FeatureOrder {
        var names: [String] = []
        var known: Set<String> = []
    }

    private static func row(_ values: [FeatureValue], order: inout FeatureOrder) -> [String: Double] {
        var r: [String: Double] = [:]
        r.reserveCapacity(values.count)
        for v in values {
            let n = storeName(v)
            if r[n] == nil {
                if order.known.insert(n).inserted { order.names.append(n) }
                r[n] = v.value
            }
        }
        return r
    }

    private static func matrix(_ rows: [[String: Double]], order: [String]) throws -> FeatureMatrix {
        try FeatureMatrix(names: order, rows: rows.map { r in order.map { r[$0] ?? .nan } })
    }

    static func patientRow(_ p: Patient, cohortFolder: URL) throws -> Table {
        let o = p.outcomes
        var t = Table()
        try t.append("patient_id", .text([p.id]))
        try t.append("pfs_months", .number([o.pfs?.months ?? .nan]))
        try t.append("pfs_event", .number([o.pfs.map { $0.event ? 1 : 0 } ?? .nan]))
        try t.append("os_months", .number([o.os?.months ?? .nan]))
        try t.append("os_event", .number([o.os.map { $0.event ? 1 : 0 } ?? .nan]))
        try t.append("best_response", .text([o.bestResponse?.rawValue ?? ""]))
        try t.append("abscopal_response", .number([o.abscopalResponse.map { $0 ? 1 : 0 } ?? .nan]))
        for key in o.covariates.keys.sorted() {
            try t.append(key, .text([o.covariates[key] ?? ""]))
        }
        try t.append("lesion_count", .number([Double(p.lesions.count)]))
        // Where the images are, so reports and target export can re-load them without being told.
        try t.append("cohort_folder", .text([cohortFolder.standardizedFileURL.path]))
        return t
    }

    /// `url` relative to the manifest folder when it lies inside it (as the store keeps image paths).
    static func relativePath(_ url: URL, to folder: URL) -> String {
        let base = folder.standardizedFileURL.path + "/"
        let path = url.standardizedFileURL.path
        return path.hasPrefix(base) ? String(path.dropFirst(base.count)) : path
    }

    /// The /scans rows of a patient: one per image its lesions use (contour and further images), in loading order.
    static func scanTable(_ p: Patient, folder: URL) throws -> Table {
        let used = Set(p.lesions.flatMap { [$0.scanIndex] + $0.furtherImages.map(\.scanIndex) })
        let scans = p.scans.indices.filter { used.contains($0) }.map { p.scans[$0] }
        var t = Table()
        guard !scans.isEmpty else { return t }
        let base = folder.standardizedFileURL.path + "/"
        func relative(_ url: URL) -> String {
            let path = url.standardizedFileURL.path
            return path.hasPrefix(base) ? String(path.dropFirst(base.count)) : path
        }
        try t.append("patient_id", .text(scans.map { _ in p.id }))
        // A scan's time point is that of the lesions drawn on it (the manifest refuses one image at two time points).
        let timepoints = Dictionary(p.lesions.flatMap { l in ([l.scanIndex] + l.furtherImages.map(\.scanIndex)).map { ($0, l.timepoint) } },
                                    uniquingKeysWith: { a, _ in a })
        try t.append("timepoint", .number(p.scans.indices.filter { used.contains($0) }.map { timepoints[$0] ?? 0 }))
        try t.append("modality", .text(scans.map(\.metadata.modality)))
        try t.append("image", .text(scans.map { relative($0.source) }))
        try t.append("frame_of_reference_uid", .text(scans.map { $0.metadata.frameOfReferenceUID ?? "" }))
        try t.append("manufacturer", .text(scans.map { $0.metadata.manufacturer ?? "" }))
        try t.append("kernel", .text(scans.map { $0.metadata.convolutionKernel ?? "" }))
        try t.append("kvp", .number(scans.map { $0.metadata.kvp ?? .nan }))
        try t.append("spacing_x", .number(scans.map { $0.image.grid.spacing.x }))
        try t.append("spacing_y", .number(scans.map { $0.image.grid.spacing.y }))
        try t.append("spacing_z", .number(scans.map { $0.image.grid.spacing.z }))
        try t.append("scan_date", .text(scans.map { $0.metadata.scanDate ?? "" }))
        return t
    }

    /// The manifest folder a store was extracted from (the `cohort_folder` of its patients), when it still exists.
    public static func cohortFolder(ofStore store: URL) -> URL? {
        guard let contents = try? StoreContents.read(from: store),
              let path = (try? contents.patients.texts("cohort_folder"))?.first(where: { !$0.isEmpty }),
              FileManager.default.fileExists(atPath: path) else { return nil }
        return URL(fileURLWithPath: path)
    }
}

/// Lesion table columns, built row by row.
///
/// `label` is the contour's ROI name or segment label (several lesions may share it; `lesion_id` is unique).
/// The PET measures `suv_max`, `suv_mean`, `suv_peak`, `mtv_ml`, `tlg` (`PETUptake`, on the original grid
/// whatever the settings) are filled for lesions with a PT image, contoured on it or carried onto it from their
/// contour image (`image_pt`; the carried mask then gives MTV), and NaN for lesions without one. `modalities`
/// lists every modality extracted for the row (contour image and further images), upper case, comma-separated
/// in lower-case-name order (`CT,PT`).
struct LesionColumns {
    var text: [String: [String]] = [:]
    var numbers: [String: [Double]] = [:]
    static let textColumns = ["lesion_id", "label", "location", "lesion_response", "source", "image", "modality",
                              "modalities", "manufacturer", "kernel"]
    static let numberColumns = ["irradiated", "volume_ml", "voxel_count", "components", "centroid_x", "centroid_y",
                                "centroid_z", "kvp", "spacing_x", "spacing_y", "spacing_z"] + PETUptake.columns
                                + ["diameter_mm", "short_axis_mm", "timepoint"]

    mutating func add(_ l: Lesion, scan: Scan, further: [(scan: Scan, mask: Mask)] = [], folder: URL) throws {
        // On the mask's box, known from loading: the same values as whole-image passes.
        let box = l.maskBoundingBox
        let c = box.flatMap { l.mask.centroid(within: $0) } ?? Vector3(.nan, .nan, .nan)
        let n = box.map { l.mask.count(within: $0) } ?? 0
        let sp = scan.image.grid.spacing
        let base = folder.standardizedFileURL.path + "/"
        let image = scan.source.standardizedFileURL.path
        let t: [String: String] = [
            "lesion_id": l.id, "label": l.label, "location": l.location.rawValue, "lesion_response": l.response?.rawValue ?? "",
            "source": l.source, "image": image.hasPrefix(base) ? String(image.dropFirst(base.count)) : image,
            "modality": scan.metadata.modality,
            // Every modality whose features this row holds (the contour's; `image_<modality>` adds others).
            "modalities": Set(([scan] + further.map(\.scan)).map { FeatureColumnName.modalityKey($0.metadata.modality) })
                .sorted().map { $0.uppercased() }.joined(separator: ","),
            // Scanner facts from a DICOM header ("" otherwise), e.g. the batches of `lesionmap harmonise`.
            "manufacturer": scan.metadata.manufacturer ?? "", "kernel": scan.metadata.convolutionKernel ?? "",
        ]
        let petImage = scan.metadata.modality == "PT" ? (scan: scan, mask: l.mask) : further.first { $0.scan.metadata.modality == "PT" }
        let pet = try petImage.map { try PETUptake(image: $0.scan.image, mask: $0.mask) } ?? .missing
        var v: [String: Double] = [
            "irradiated": l.irradiated ? 1 : 0, "volume_ml": Double(n) * scan.image.grid.voxelVolume / 1000,
            "voxel_count": Double(n), "components": Double(l.componentCount),
            "centroid_x": c.x, "centroid_y": c.y, "centroid_z": c.z, "kvp": scan.metadata.kvp ?? .nan,
            "spacing_x": sp.x, "spacing_y": sp.y, "spacing_z": sp.z,
        ]
        for (name, value) in zip(PETUptake.columns, pet.values) { v[name] = value }
        // RECIST long axis and short axis of the mask on its own grid (`lesionmap response`).
        let size = CohortResponse.diameters(of: l.mask, boundingBox: .some(box))
        v["diameter_mm"] = size.long
        v["short_axis_mm"] = size.short
        // Days from baseline of the scan the contour was drawn on (manifest `timepoint`; moved next to lesion_id).
        v["timepoint"] = l.timepoint
        for k in Self.textColumns { text[k, default: []].append(t[k]!) }
        for k in Self.numberColumns { numbers[k, default: []].append(v[k]!) }
    }

    func table() throws -> Table {
        var t = Table()
        guard !(text["lesion_id"] ?? []).isEmpty else { return t }
        try t.append("lesion_id", .text(text["lesion_id"]!))
        for k in Self.textColumns.dropFirst() { try t.append(k, .text(text[k]!)) }
        for k in Self.numberColumns { try t.append(k, .number(numbers[k]!)) }
        return t
    }
}

/// The software name and version written into stores and reports.
public enum LesionMapVersion {
    public static let version = "0.1.0"
    public static let software = "LesionMap \(version)"
}
