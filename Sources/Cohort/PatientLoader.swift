import Foundation
import ImagingCore
import ImageIO
import DICOMIO
import LesionMatching

/// A failure to load one patient's data, naming the patient, the lesion (when known) and the file.
public struct PatientLoadError: Error, Sendable, CustomStringConvertible {
    public var patientID: String
    public var lesionID: String?
    public var file: String
    public var message: String
    /// The lesions.csv row, named when the problem concerns every lesion a row expands to (no lesion id yet).
    public var row: Int?

    public init(patientID: String, lesionID: String?, file: String, message: String, row: Int? = nil) {
        self.patientID = patientID
        self.lesionID = lesionID
        self.file = file
        self.message = message
        self.row = row
    }

    public var description: String {
        let lesion = lesionID.map { ", lesion \($0)" } ?? row.map { ", the lesions of lesions.csv row \($0)" } ?? ""
        return "patient \(patientID)\(lesion), file \(file): \(message)"
    }
}

/// Turns a manifest patient into images and lesion masks in memory.
///
/// Expansion rules for rows with empty `lesion_id` and `roi`, which make lesion ids stable:
/// - a label map holding several label values gives one lesion per value, in ascending
///   order, with id `L<value>`;
/// - a label map holding a single value gives one lesion per 26-connected component,
///   numbered in the order in which each component's first voxel is met scanning x fastest,
///   then y, then z, with id `C<n>`;
/// - a SEG gives one lesion per segment, with id `S<segment number>`;
/// - an RTSTRUCT gives one lesion per ROI that looks like a lesion (`RTROI.isLesion`), with id
///   `R<ROI number>`.
/// Segment and ROI numbers are unique within their file, whereas labels and names often repeat (eleven
/// segments labelled "Neoplasm, Secondary"), so the ids are unique and the same on every run; the label or
/// name is kept in the lesion's `label` (also for rows that name their segment or ROI in `roi`).
public struct PatientLoader: Sendable {
    /// Reads DICOM series and contours; nil until a DICOM reader is configured.
    public var dicom: DICOMSource?
    /// True (`extract --match auto`): lesions of expanding rows at follow-up time points are named by matching them
    /// to the known lesions by position (`LesionMatcher`): a match takes the baseline lesion's id, the others are
    /// new (`N1`, `N2`, ...). False: they keep their expansion ids (`L<label>`, `C<n>`, `S<n>`, `R<n>`).
    public var matchAutomatically: Bool
    /// Gate, ambiguity margin and alignment bounds of the time-point checks and of automatic matching.
    public var matching: MatchingSettings

    /// How this loader names follow-up lesions, as the JSON recorded in a store's `lesion_matching` attribute, e.g.
    /// `{"ambiguity_margin_mm":5,"gate_mm":20,"match":"auto","max_rotation_degrees":10,"max_shift_mm":100}`
    /// (keys sorted). A store resumed with another record is refused: its follow-up rows would mix two namings.
    public var matchingRecord: String {
        func mm(_ x: Double) -> String { x == x.rounded() && abs(x) < 1e15 ? String(Int(x)) : String(x) }
        return "{\"ambiguity_margin_mm\":\(mm(matching.ambiguityMarginMM)),\"gate_mm\":\(mm(matching.gateMM)),"
            + "\"match\":\"\(matchAutomatically ? "auto" : "ids")\",\"max_rotation_degrees\":\(mm(matching.maxRotationDegrees)),"
            + "\"max_shift_mm\":\(mm(matching.maxShiftMM))}"
    }

    /// A loader reading NIfTI/NRRD through ImageIO and DICOM through DCMTK (`DCMTKSource`).
    public init(dicom: DICOMSource? = DCMTKSource(), matchAutomatically: Bool = false,
                matching: MatchingSettings = .standard) {
        self.dicom = dicom
        self.matchAutomatically = matchAutomatically
        self.matching = matching
    }

    public func load(_ entry: PatientEntry, relativeTo folder: URL) throws -> Patient {
        var scans: [Scan] = []
        // The DICOM identifiers of each DICOM scan (by scan index), compared with its contours' and never shown.
        var references: [Int: SeriesReference] = [:]
        var scanIndex: [URL: Int] = [:]
        var uncheckedPairs: Set<[URL]> = []
        var labelCache: [URL: LabelMap] = [:]
        // Every label's count, box and centroid per label map, from one pass (`labelRegions`), when a row names its label.
        var regionCache: [URL: [LabelRegion]] = [:]
        var lesions: [Lesion] = []
        var warnings: [String] = []
        // Indices into `lesions` of follow-up lesions to be named by matching (their ids are provisional).
        var autoNamed: Set<Int> = []
        // Per lesion (as `lesions`): whether its row gives `location` and `irradiated` (else inherited over time).
        var given: [(location: Bool, irradiated: Bool)] = []

        func fail(_ lesion: String?, _ url: URL, _ message: String) -> PatientLoadError {
            PatientLoadError(patientID: entry.id, lesionID: lesion, file: relative(url, to: folder), message: message)
        }

        /// The DICOM FrameOfReferenceUID of a loaded scan, nil when it has none (NIfTI/NRRD) or it is empty.
        func frame(_ index: Int) -> String? {
            let uid = scans[index].metadata.frameOfReferenceUID ?? references[index]?.frameOfReferenceUID
            return uid?.isEmpty == false ? uid : nil
        }

        /// The scan index of a row's further image (read once per file), checked against the contour scan `si`:
        /// its modality is the column's, differs from the contour scan's, and a DICOM pair shares its frame of reference.
        /// `ids` are the row's lesions, named when the frames differ (the error of every lesion of the row).
        func furtherScan(_ f: FurtherImage, row: LesionEntry, contourScan si: Int, ids: [String]) throws -> Int {
            let imageName = relative(row.image, to: folder), name = relative(f.image, to: folder)
            let expanding = row.lesionID == nil ? row.row : nil
            let index: Int
            if let existing = scanIndex[f.image] {
                index = existing
            } else {
                do {
                    var scan: Scan
                    var reference: SeriesReference?
                    switch f.kind {
                    case .volumeFile:
                        // NIfTI/NRRD carry no modality: the column names it.
                        scan = Scan(image: try ImageFile.readImage(f.image), metadata: ScanMetadata(modality: f.modality), source: f.image)
                    case .dicomFolder:
                        guard let dicom else {
                            throw PatientLoadError(patientID: entry.id, lesionID: row.lesionID, file: name,
                                                   message: "DICOM series need the DICOM reader, which this build does not configure", row: expanding)
                        }
                        let loaded = try dicom.loadSeries(f.image)
                        scan = loaded.scan
                        reference = loaded.reference
                        if scan.metadata.frameOfReferenceUID == nil, !loaded.reference.frameOfReferenceUID.isEmpty {
                            scan.metadata.frameOfReferenceUID = loaded.reference.frameOfReferenceUID
                        }
                        if scan.metadata.modality != f.modality {
                            throw PatientLoadError(patientID: entry.id, lesionID: row.lesionID, file: name,
                                                   message: "column \(f.column) names a \(f.modality) image, but the DICOM series' Modality is \(Modality.code(scan.metadata.modality) ?? "another modality"); put the series in the column of its modality", row: expanding)
                        }
                    }
                    try checkFinite(scan.image)
                    scans.append(scan)
                    index = scans.count - 1
                    scanIndex[f.image] = index
                    references[index] = reference
                } catch let e as PatientLoadError {
                    throw e
                } catch let e as DICOMError {
                    let at = e.file ?? f.image
                    let what = at.standardizedFileURL == f.image.standardizedFileURL ? "cannot read the \(f.column) image" : "cannot read the \(f.column) image \(name)"
                    throw PatientLoadError(patientID: entry.id, lesionID: row.lesionID, file: relative(at, to: folder),
                                           message: "\(what): \(e.message)", row: expanding)
                } catch {
                    throw PatientLoadError(patientID: entry.id, lesionID: row.lesionID, file: name,
                                           message: "cannot read the \(f.column) image: \(ErrorText.plain(error))", row: expanding)
                }
            }
            let modality = scans[index].metadata.modality
            if modality.uppercased() != f.modality {
                throw PatientLoadError(patientID: entry.id, lesionID: row.lesionID, file: name,
                                       message: "column \(f.column) names a \(f.modality) image, but another row uses this image as \(modality)", row: expanding)
            }
            if index == si || scans[si].metadata.modality.uppercased() == f.modality {
                throw PatientLoadError(patientID: entry.id, lesionID: row.lesionID, file: name,
                                       message: "column \(f.column) names a \(f.modality) image, and the contour image \(imageName) is \(scans[si].metadata.modality) already: one image per modality and row", row: expanding)
            }
            if let a = frame(si), let b = frame(index), a != b {
                // The UIDs themselves are identifiers: not shown. Ids that fail the id rule (header text) are not shown either.
                let shown = ids.filter { Identifier.problem($0) == nil }
                let lesion = row.lesionID ?? shown.first
                let all = row.lesionID == nil && shown.count > 1 ? " (and every other lesion of lesions.csv row \(row.row): \(shown.joined(separator: ", ")))" : ""
                throw PatientLoadError(patientID: entry.id, lesionID: lesion, file: name,
                                       message: "the \(f.column) image \(name) and the contour image \(imageName) have different DICOM frames of reference (FrameOfReferenceUID): the mask drawn on \(imageName) cannot be carried onto \(name)\(all); name an image of the same study and frame of reference", row: lesion == nil ? expanding : nil)
            }
            return index
        }

        for row in entry.lesions {
            // Image, read once per file.
            let si: Int
            if let existing = scanIndex[row.image] {
                si = existing
            } else {
                do {
                    var (scan, reference) = try readScan(row)
                    if let kvp = row.kvp { scan.metadata.kvp = kvp }
                    if let modality = row.modality {
                        // NIfTI/NRRD carry no modality (CT unless the manifest says so); a DICOM series has its own.
                        if row.imageKind == .dicomFolder, scan.metadata.modality != modality {
                            throw fail(row.lesionID, row.image, "the manifest's modality \(modality) disagrees with the DICOM series, whose Modality is \(Modality.code(scan.metadata.modality) ?? "another modality")")
                        }
                        scan.metadata.modality = modality
                    }
                    try checkFinite(scan.image)
                    scans.append(scan)
                    si = scans.count - 1
                    scanIndex[row.image] = si
                    references[si] = reference
                } catch let e as PatientLoadError {
                    throw e
                } catch let e as DICOMError {
                    // The file at fault (a slice of the series, or the folder), by its path from the manifest.
                    let at = e.file ?? row.image
                    let image = relative(row.image, to: folder)
                    let what = at.standardizedFileURL == row.image.standardizedFileURL ? "cannot read image" : "cannot read image \(image)"
                    throw PatientLoadError(patientID: entry.id, lesionID: row.lesionID, file: relative(at, to: folder),
                                           message: "\(what): \(e.message)", row: row.lesionID == nil ? row.row : nil)
                } catch {
                    throw fail(row.lesionID, row.image, "cannot read image: \(ErrorText.plain(error))")
                }
            }
            let grid = scans[si].image.grid

            // Contours to masks.
            // `box`: the mask's bounding box when the loader knows it already (a label's region), else nil.
            let found: [(id: String, mask: Mask, source: String, label: String, box: IndexBox?)]
            switch row.maskKind {
            case .labelMap:
                let labels: LabelMap
                if let cached = labelCache[row.mask] {
                    labels = cached
                } else {
                    do {
                        labels = try ImageFile.readLabelMap(row.mask)
                    } catch {
                        throw fail(row.lesionID, row.mask, "cannot read label map: \(ErrorText.plain(error))")
                    }
                    labelCache[row.mask] = labels
                }
                do {
                    try grid.requireMatch(labels.grid, context: "mask \(relative(row.mask, to: folder)) vs image \(relative(row.image, to: folder))")
                } catch {
                    throw fail(row.lesionID, row.mask, ErrorText.plain(error))
                }
                let regions = regionCache[row.mask] ?? labels.labelRegions
                regionCache[row.mask] = regions
                found = try lesionsFromLabelMap(labels, regions: regions, row: row, folder: folder, fail: fail).map { ($0.id, $0.mask, $0.source, "", $0.box) }
            case .rtstruct, .seg:
                guard let dicom else {
                    throw fail(row.lesionID, row.mask, "DICOM \(row.maskKind.rawValue) contours need the DICOM reader, which this build does not configure")
                }
                let kindName = row.maskKind == .rtstruct ? "RTSTRUCT" : "SEG"
                let imageName = relative(row.image, to: folder), maskName = relative(row.mask, to: folder)
                let target = references[si].map { ContourImage(reference: $0, name: imageName) }
                let contours: ContourSet
                do {
                    contours = try dicom.contours(row.mask, kind: row.maskKind, roi: row.roi, onto: grid, checkedAgainst: target)
                } catch let e as DICOMError {
                    // Name the lesion: the row's id, else the ROI or segment at fault, else the row selecting it.
                    let lesion = row.lesionID ?? e.shownRegion ?? (row.maskKind == .rtstruct ? row.roi : nil)
                    let at = e.file.map { relative($0, to: folder) } ?? maskName
                    throw PatientLoadError(patientID: entry.id, lesionID: lesion, file: at,
                                           message: "\(kindName) on image \(imageName): \(e.message)",
                                           row: lesion == nil ? row.row : nil)
                } catch let e as PatientLoadError {
                    throw e
                } catch {
                    throw PatientLoadError(patientID: entry.id, lesionID: row.lesionID ?? row.roi, file: maskName,
                                           message: "\(kindName) on image \(imageName): \(ErrorText.plain(error))",
                                           row: row.lesionID ?? row.roi == nil ? row.row : nil)
                }
                let who = row.lesionID.map { "lesion \($0)" } ?? "the lesions of lesions.csv row \(row.row)"
                for w in contours.warnings {
                    warnings.append("patient \(entry.id), \(who), file \(maskName): \(w)")
                }
                if target == nil, uncheckedPairs.insert([row.image, row.mask]).inserted {
                    warnings.append("patient \(entry.id), \(who), file \(maskName): the \(kindName) is placed on image \(imageName), which is not DICOM, by patient coordinates only: its frame of reference, series and patient cannot be checked against the image")
                }
                found = contours.masks.map { m in
                    (id: row.lesionID ?? Self.contourID(m, kind: row.maskKind, expanding: row.expands),
                     mask: m.mask, source: "\(maskName) \(m.number.map { "\(row.maskKind == .seg ? "segment" : "ROI") \($0) " } ?? "")\(m.name)",
                     label: Identifier.printable(m.name), box: nil)
                }
            }

            // Further images of the study (image_<modality> columns), read once per file.
            var further: [(image: FurtherImage, scan: Int)] = []
            for f in row.furtherImages { further.append((f, try furtherScan(f, row: row, contourScan: si, ids: found.map(\.id)))) }

            for f in found {
                // Ids named by the contour file (RTSTRUCT ROI names, SEG segment labels) follow the manifest's
                // id rule. The name itself is not shown: header text may carry identifiers.
                if row.lesionID == nil, let problem = Identifier.problem(f.id) {
                    let what = row.maskKind == .seg ? "a segment label" : "an ROI name"
                    throw fail(nil, row.mask, "\(what) of this file cannot be a lesion id: it \(problem.replacingOccurrences(of: "; ids may", with: ", and ids may")); name the lesion in lesion_id and choose it with roi")
                }
                if f.box == nil && f.mask.isEmpty {
                    throw fail(f.id, row.mask, "the lesion mask is empty (\(f.source))")
                }
                let provisional = matchAutomatically && row.expands && row.timepoint != 0
                if !provisional, lesions.indices.contains(where: { lesions[$0].id == f.id && lesions[$0].timepoint == row.timepoint && !autoNamed.contains($0) }) {
                    throw fail(f.id, row.mask, "lesion id '\(f.id)' occurs twice for this patient\(row.timepoint == 0 ? "" : " at time point \(formatDays(row.timepoint))") after expansion (two rows expand to the same id, e.g. two SEG files both numbering their segments from 1); give lesion_id and roi explicitly on the rows of one of them")
                }
                // Counted on the mask's bounding box (every inside voxel and all their neighbours that could be
                // inside): the same components as on the whole image, without a label map of the whole image.
                let box = f.box ?? f.mask.boundingBox
                let components = ConnectedComponents.label(box.map { f.mask.cropped(to: $0) } ?? f.mask).count
                if components > 1 {
                    warnings.append("patient \(entry.id), lesion \(f.id): mask has \(components) disconnected parts; computed as one region (\(f.source))")
                }
                if provisional { autoNamed.insert(lesions.count) }
                var lesion = Lesion(id: f.id, patientID: entry.id, mask: f.mask, location: row.location,
                                    irradiated: row.irradiated, response: row.response, scanIndex: si,
                                    source: f.source, componentCount: components, label: f.label,
                                    timepoint: row.timepoint, maskBoundingBox: .some(box))
                for (image, index) in further {
                    lesion.furtherImages.append(LesionImage(scanIndex: index,
                        mask: try carry(f.mask, lesion: f.id, row: row, onto: image, scan: scans[index], folder: folder)))
                }
                lesions.append(lesion)
                given.append((row.locationGiven, row.irradiatedGiven))
            }
        }
        if lesions.contains(where: { $0.timepoint != 0 }) {
            try lineUpTimepoints(&lesions, autoNamed: autoNamed, given: given, scans: scans, references: references,
                                 warnings: &warnings, patient: entry.id, folder: folder)
        }
        return Patient(id: entry.id, outcomes: entry.outcomes, scans: scans, lesions: lesions, warnings: warnings)
    }

    /// Checks every non-baseline time point against the lesions known so far and, with `matchAutomatically`, names
    /// its provisional lesions. Time points are taken in order of distance from baseline (follow-ups ascending,
    /// then pre-baseline scans descending), so a new lesion keeps its `N` id at later time points.
    ///
    /// Refused, naming patient, time point and the time point's image files: a DICOM series whose PatientID differs
    /// from a baseline series'; lesions that do not line up with the known ones under any rigid alignment within
    /// the bounds (`MatchingFailure.noAlignment`); an ambiguous automatic match. Warned, naming patient, lesion and
    /// time point: a lesion id without a baseline row (new lesion); a named lesion whose centroid lies farther than
    /// the gate from its known position after alignment (moved implausibly: another lesion under the same id?).
    ///
    /// A lesion keeps the `location` and `irradiated` of its reference row (its baseline row; for a new lesion, its
    /// row at the first time point it appears): a later row leaving the column empty (`given`) takes the reference's
    /// value, which matters most for expanding rows, whose every lesion gets the row's one value. A given value
    /// differing from the reference's is warned of, naming patient, lesion, time point, column and both values, and
    /// the reference's is kept: a lesion does not change organ, and RECIST target selection (2 per organ, lymph-node
    /// short axis) and the abscopal split (irradiated or not) need one answer per lesion.
    private func lineUpTimepoints(_ lesions: inout [Lesion], autoNamed: Set<Int>, given: [(location: Bool, irradiated: Bool)],
                                  scans: [Scan],
                                  references: [Int: SeriesReference], warnings: inout [String],
                                  patient: String, folder: URL) throws {
        let centroids = lesions.map { $0.mask.centroid ?? .zero }
        var known = lesions.indices.filter { lesions[$0].timepoint == 0 }
            .map { MatchLesion(name: lesions[$0].id, position: centroids[$0]) }
        var taken = Set(lesions.indices.filter { !autoNamed.contains($0) }.map { lesions[$0].id })
        let baselineSeries = Set(lesions.filter { $0.timepoint == 0 }.map(\.scanIndex)).compactMap { references[$0] }
        let others = Set(lesions.map(\.timepoint)).subtracting([0])
        // Lesion id -> index of its reference row (baseline; else where it first appears).
        var reference: [String: Int] = [:]
        for i in lesions.indices where lesions[i].timepoint == 0 { reference[lesions[i].id] = i }
        for t in others.filter({ $0 > 0 }).sorted() + others.filter({ $0 < 0 }).sorted(by: >) {
            let at = lesions.indices.filter { lesions[$0].timepoint == t }
            let scanIndices = Set(at.map { lesions[$0].scanIndex }).sorted()
            let files = scanIndices.map { relative(scans[$0].source, to: folder) }.joined(separator: ", ")
            let days = formatDays(t)
            for si in scanIndices {
                guard let r = references[si], baselineSeries.contains(where: { $0.belongsToAnotherPatient(than: r) }) else { continue }
                throw PatientLoadError(patientID: patient, lesionID: nil, file: relative(scans[si].source, to: folder),
                                       message: "time point \(days) days: the DICOM series' PatientID differs from the baseline series' (another patient's scan)")
            }
            let named = at.filter { !autoNamed.contains($0) }, unnamed = at.filter { autoNamed.contains($0) }
            let outcome: LesionMatcher.Outcome
            do {
                outcome = try LesionMatcher.match(
                    known: known, named: named.map { MatchLesion(name: lesions[$0].id, position: centroids[$0]) },
                    unnamed: unnamed.map { MatchLesion(name: lesions[$0].source, position: centroids[$0]) },
                    taken: taken, settings: matching)
            } catch let e as MatchingFailure {
                throw PatientLoadError(patientID: patient, lesionID: nil, file: files, message: "time point \(days) days: \(e)")
            }
            let knownIDs = Set(known.map(\.name))
            for i in named where !knownIDs.contains(lesions[i].id) {
                warnings.append("patient \(patient), lesion \(lesions[i].id), time point \(days) days: new lesion (no baseline row for this lesion id; \(lesions[i].source))")
            }
            for (name, distance) in outcome.implausibleMoves {
                warnings.append("patient \(patient), lesion \(name), time point \(days) days, file \(files): the lesion lies \(String(format: "%.1f", distance)) mm from its baseline position after aligning the time point's lesions (more than the \(String(format: "%.1f", matching.gateMM)) mm gate): another lesion under the same id?")
            }
            for (k, i) in unnamed.enumerated() { lesions[i].id = outcome.ids[k] }
            for i in at where !knownIDs.contains(lesions[i].id) {
                known.append(MatchLesion(name: lesions[i].id, position: outcome.transform.apply(centroids[i])))
            }
            taken.formUnion(at.map { lesions[$0].id })
            // Two rows of one time point naming the same lesion (given, or matched onto a given id) are refused.
            var seen: Set<String> = []
            for i in at where !seen.insert(lesions[i].id).inserted {
                throw PatientLoadError(patientID: patient, lesionID: lesions[i].id, file: files,
                                       message: "time point \(days) days: lesion id '\(lesions[i].id)' occurs twice at this time point")
            }
            for i in at {
                guard let r = reference[lesions[i].id] else { reference[lesions[i].id] = i; continue }
                let whose = lesions[r].timepoint == 0 ? "its baseline row" : "its row at time point \(formatDays(lesions[r].timepoint)) days, where it first appears,"
                func conflict(_ column: String, _ value: String, _ kept: String, keptGiven: Bool) {
                    warnings.append("patient \(patient), lesion \(lesions[i].id), time point \(days) days: column \(column) gives \(value), but \(whose) gives \(kept)\(keptGiven ? "" : " (empty)"); kept \(kept): a lesion keeps the value of its reference row (\(lesions[i].source))")
                }
                if given[i].location, lesions[i].location != lesions[r].location {
                    conflict("location", lesions[i].location.rawValue, lesions[r].location.rawValue, keptGiven: given[r].location)
                }
                if given[i].irradiated, lesions[i].irradiated != lesions[r].irradiated {
                    conflict("irradiated", lesions[i].irradiated ? "1" : "0", lesions[r].irradiated ? "1" : "0", keptGiven: given[r].irradiated)
                }
                lesions[i].location = lesions[r].location
                lesions[i].irradiated = lesions[r].irradiated
            }
        }
    }

    /// The id of a contour when the row gives no `lesion_id` (an expanding row: the manifest makes a row's `roi` its
    /// id otherwise): `S<segment number>` for a SEG, `R<ROI number>` for an RTSTRUCT. A source that gives no
    /// number falls back to the name.
    static func contourID(_ m: NamedMask, kind: ContourSourceKind, expanding: Bool) -> String {
        switch kind {
        case .seg: return m.number.map { "S\($0)" } ?? m.name
        case .rtstruct: return expanding ? (m.number.map { "R\($0)" } ?? m.name) : m.name
        case .labelMap: return m.name
        }
    }

    /// The lesion's mask carried from its contour image onto a further image (`Mask.transferred(onto:)`), with
    /// errors naming patient, lesion and both files when the mask lies outside that image or vanishes there.
    private func carry(_ mask: Mask, lesion: String, row: LesionEntry, onto image: FurtherImage, scan: Scan,
                       folder: URL) throws -> Mask {
        let from = relative(row.image, to: folder), to = relative(image.image, to: folder)
        let carried: Mask
        do {
            carried = try mask.transferred(onto: scan.image.grid)
        } catch {
            throw PatientLoadError(patientID: row.patientID, lesionID: lesion, file: to,
                                   message: "the lesion's mask, drawn on image \(from), cannot be carried onto the \(image.column) image \(to): \(ErrorText.plain(error))")
        }
        if carried.isEmpty {
            let sp = scan.image.grid.spacing
            throw PatientLoadError(patientID: row.patientID, lesionID: lesion, file: to,
                                   message: "the lesion's mask, drawn on image \(from) (\(mask.count) voxels, \(String(format: "%.3f", mask.physicalVolume / 1000)) ml), is empty once carried onto the \(image.column) image \(to) (voxels \(String(format: "%gx%gx%g", sp.x, sp.y, sp.z)) mm): no voxel of that image lies at least half inside the lesion")
        }
        return carried
    }

    /// The scan, and for a DICOM series the identifiers its contours are checked against.
    private func readScan(_ row: LesionEntry) throws -> (Scan, SeriesReference?) {
        switch row.imageKind {
        case .volumeFile:
            let image = try ImageFile.readImage(row.image)
            return (Scan(image: image, metadata: ScanMetadata(modality: "CT", kvp: row.kvp), source: row.image), nil)
        case .dicomFolder:
            guard let dicom else {
                throw PatientLoadError(patientID: row.patientID, lesionID: row.lesionID, file: row.image.path,
                                       message: "DICOM series need the DICOM reader, which this build does not configure")
            }
            let loaded = try dicom.loadSeries(row.image)
            return (loaded.scan, loaded.reference)
        }
    }

    /// `regions`: `labels.labelRegions` (every label's box, count and centroid), shared by the rows of one label map.
    private func lesionsFromLabelMap(_ labels: LabelMap, regions: [LabelRegion], row: LesionEntry, folder: URL,
                                     fail: (String?, URL, String) -> PatientLoadError) throws
        -> [(id: String, mask: Mask, source: String, box: IndexBox?)] {
        let file = relative(row.mask, to: folder)
        if let roi = row.roi {
            guard let value = Int32(roi) else { throw fail(row.lesionID, row.mask, "roi '\(roi)' is not a label value") }
            // The label's mask written on its box only (the same mask as `mask(label:)`, without a pass over the grid).
            guard let region = regions.first(where: { $0.label == value }) else {
                throw fail(row.lesionID, row.mask, "label \(value) does not occur in the label map (labels present: \(regions.map { String($0.label) }.joined(separator: ", ")))")
            }
            return [(row.lesionID ?? "L\(value)", labels.mask(of: region), "\(file) label \(value)", region.boundingBox)]
        }
        guard !regions.isEmpty else { throw fail(row.lesionID, row.mask, "the label map is empty: no lesion to expand") }
        if regions.count > 1 {
            return regions.map { ("L\($0.label)", labels.mask(of: $0), "\(file) label \($0.label)", $0.boundingBox) }
        }
        let parts = ConnectedComponents.split(labels.mask(of: regions[0]))
        return parts.enumerated().map { ("C\($0.offset + 1)", $0.element, "\(file) component \($0.offset + 1)", nil) }
    }

    private func checkFinite(_ image: Volume<Float>) throws {
        // x - x is 0 for every finite x and NaN for an infinity or NaN, so a sum of them is 0 exactly when every
        // voxel is finite: eight at a time, and the voxel-by-voxel search only for an image that fails.
        let allFinite = image.voxels.withUnsafeBytes { raw -> Bool in
            let n = raw.count / MemoryLayout<Float>.stride
            var sum = SIMD8<Float>(repeating: 0), i = 0
            while i + 8 <= n {
                let x = raw.loadUnaligned(fromByteOffset: i * MemoryLayout<Float>.stride, as: SIMD8<Float>.self)
                sum += x - x
                i += 8
            }
            var rest: Float = 0
            while i < n {
                let x = raw.loadUnaligned(fromByteOffset: i * MemoryLayout<Float>.stride, as: Float.self)
                rest += x - x
                i += 1
            }
            return sum == SIMD8(repeating: 0) && rest == 0
        }
        if !allFinite, let bad = image.voxels.firstIndex(where: { !$0.isFinite }) {
            let p = image.grid.index(ofLinear: bad)
            throw ImagingError.invalidGeometry("image holds a non-finite value (\(image.voxels[bad])) at voxel \(p)")
        }
    }
}

/// A path relative to the manifest folder, for messages.
func relative(_ url: URL, to folder: URL) -> String {
    let base = folder.standardizedFileURL.path + "/"
    let p = url.standardizedFileURL.path
    return p.hasPrefix(base) ? String(p.dropFirst(base.count)) : p
}

/// A DICOM series loaded for a patient: the scan, and the identifiers its contours are checked against
/// (held for that comparison only: never stored, shown or written).
public struct DICOMScan: Sendable {
    public var scan: Scan
    public var reference: SeriesReference
    public init(scan: Scan, reference: SeriesReference) { self.scan = scan; self.reference = reference }
}

/// The DICOM image contours are placed on: its identifiers and how messages name it (its manifest path).
public struct ContourImage: Sendable {
    public var reference: SeriesReference
    public var name: String
    public init(reference: SeriesReference, name: String) { self.reference = reference; self.name = name }
}

/// The masks of an RTSTRUCT or SEG, with warnings about what could not be confirmed (e.g. drawn on another
/// series of the same frame of reference).
public struct ContourSet: Sendable {
    public var masks: [NamedMask]
    public var warnings: [String]
    public init(masks: [NamedMask], warnings: [String] = []) { self.masks = masks; self.warnings = warnings }
}

/// Reads DICOM series and contours for the loader (implemented by the DICOM target).
public protocol DICOMSource: Sendable {
    func loadSeries(_ folder: URL) throws -> DICOMScan
    /// The masks on `grid`; when `image` is given (a DICOM image), contours made for another patient or
    /// frame of reference are refused first (`ContourReferenceCheck`).
    func contours(_ file: URL, kind: ContourSourceKind, roi: String?, onto grid: ImageGrid,
                  checkedAgainst image: ContourImage?) throws -> ContourSet
}
