import Foundation
import ImagingCore
import ImageIO

/// A failure to load one patient's data, naming the patient, the lesion (when known) and the file.
public struct PatientLoadError: Error, Sendable, CustomStringConvertible {
    public var patientID: String
    public var lesionID: String?
    public var file: String
    public var message: String

    public init(patientID: String, lesionID: String?, file: String, message: String) {
        self.patientID = patientID
        self.lesionID = lesionID
        self.file = file
        self.message = message
    }

    public var description: String {
        let lesion = lesionID.map { ", lesion \($0)" } ?? ""
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
///   then y, then z, with id `C<n>`.
public struct PatientLoader: Sendable {
    /// Reads DICOM series and contours; nil until a DICOM reader is configured.
    public var dicom: DICOMSource?

    /// A loader reading NIfTI/NRRD through ImageIO and DICOM through DCMTK (`DCMTKSource`).
    public init(dicom: DICOMSource? = DCMTKSource()) { self.dicom = dicom }

    public func load(_ entry: PatientEntry, relativeTo folder: URL) throws -> Patient {
        var scans: [Scan] = []
        var scanIndex: [URL: Int] = [:]
        var labelCache: [URL: LabelMap] = [:]
        var lesions: [Lesion] = []
        var warnings: [String] = []

        func fail(_ lesion: String?, _ url: URL, _ message: String) -> PatientLoadError {
            PatientLoadError(patientID: entry.id, lesionID: lesion, file: relative(url, to: folder), message: message)
        }

        for row in entry.lesions {
            // Image, read once per file.
            let si: Int
            if let existing = scanIndex[row.image] {
                si = existing
            } else {
                do {
                    var scan = try readScan(row)
                    if let kvp = row.kvp { scan.metadata.kvp = kvp }
                    try checkFinite(scan.image)
                    scans.append(scan)
                    si = scans.count - 1
                    scanIndex[row.image] = si
                } catch let e as PatientLoadError {
                    throw e
                } catch {
                    throw fail(row.lesionID, row.image, "cannot read image: \(ErrorText.plain(error))")
                }
            }
            let grid = scans[si].image.grid

            // Contours to masks.
            let found: [(id: String, mask: Mask, source: String)]
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
                found = try lesionsFromLabelMap(labels, row: row, folder: folder, fail: fail)
            case .rtstruct, .seg:
                guard let dicom else {
                    throw fail(row.lesionID, row.mask, "DICOM \(row.maskKind.rawValue) contours need the DICOM reader, which this build does not configure")
                }
                let contours = try dicom.contours(row.mask, kind: row.maskKind, roi: row.roi, onto: grid)
                found = contours.map { (id: row.lesionID ?? $0.name, mask: $0.mask, source: "\(relative(row.mask, to: folder)) \($0.name)") }
            }

            for f in found {
                // Ids named by the contour file (RTSTRUCT ROI names, SEG segment labels) follow the manifest's
                // id rule. The name itself is not shown: header text may carry identifiers.
                if row.lesionID == nil, let problem = Identifier.problem(f.id) {
                    let what = row.maskKind == .seg ? "a segment label" : "an ROI name"
                    throw fail(nil, row.mask, "\(what) of this file cannot be a lesion id: it \(problem.replacingOccurrences(of: "; ids may", with: ", and ids may")); name the lesion in lesion_id and choose it with roi")
                }
                if f.mask.isEmpty {
                    throw fail(f.id, row.mask, "the lesion mask is empty (\(f.source))")
                }
                if lesions.contains(where: { $0.id == f.id }) {
                    throw fail(f.id, row.mask, "lesion id '\(f.id)' occurs twice for this patient after expansion")
                }
                let components = ConnectedComponents.label(f.mask).count
                if components > 1 {
                    warnings.append("patient \(entry.id), lesion \(f.id): mask has \(components) disconnected parts; computed as one region (\(f.source))")
                }
                lesions.append(Lesion(id: f.id, patientID: entry.id, mask: f.mask, location: row.location,
                                      irradiated: row.irradiated, response: row.response, scanIndex: si,
                                      source: f.source, componentCount: components))
            }
        }
        return Patient(id: entry.id, outcomes: entry.outcomes, scans: scans, lesions: lesions, warnings: warnings)
    }

    private func readScan(_ row: LesionEntry) throws -> Scan {
        switch row.imageKind {
        case .volumeFile:
            let image = try ImageFile.readImage(row.image)
            return Scan(image: image, metadata: ScanMetadata(modality: "CT", kvp: row.kvp), source: row.image)
        case .dicomFolder:
            guard let dicom else {
                throw PatientLoadError(patientID: row.patientID, lesionID: row.lesionID, file: row.image.path,
                                       message: "DICOM series need the DICOM reader, which this build does not configure")
            }
            return try dicom.series(row.image)
        }
    }

    private func lesionsFromLabelMap(_ labels: LabelMap, row: LesionEntry, folder: URL,
                                     fail: (String?, URL, String) -> PatientLoadError) throws
        -> [(id: String, mask: Mask, source: String)] {
        let file = relative(row.mask, to: folder)
        if let roi = row.roi {
            guard let value = Int32(roi) else { throw fail(row.lesionID, row.mask, "roi '\(roi)' is not a label value") }
            let mask = labels.mask(label: value)
            guard !mask.isEmpty else {
                throw fail(row.lesionID, row.mask, "label \(value) does not occur in the label map (labels present: \(labels.labels.map(String.init).joined(separator: ", ")))")
            }
            return [(row.lesionID ?? "L\(value)", mask, "\(file) label \(value)")]
        }
        let values = labels.labels
        guard !values.isEmpty else { throw fail(row.lesionID, row.mask, "the label map is empty: no lesion to expand") }
        if values.count > 1 {
            return values.map { ("L\($0)", labels.mask(label: $0), "\(file) label \($0)") }
        }
        let parts = ConnectedComponents.split(labels.mask(label: values[0]))
        return parts.enumerated().map { ("C\($0.offset + 1)", $0.element, "\(file) component \($0.offset + 1)") }
    }

    private func checkFinite(_ image: Volume<Float>) throws {
        if let bad = image.voxels.firstIndex(where: { !$0.isFinite }) {
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

/// Reads DICOM series and contours for the loader (implemented by the DICOM target).
public protocol DICOMSource: Sendable {
    func series(_ folder: URL) throws -> Scan
    func contours(_ file: URL, kind: ContourSourceKind, roi: String?, onto grid: ImageGrid) throws -> [NamedMask]
}
