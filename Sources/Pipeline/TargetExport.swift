import Foundation
import ImagingCore
import Cohort
import DICOMIO
import Signatures
import Planning

/// Recommended radiotherapy targets exported as DICOM: an RTSTRUCT (and optionally a SEG) with one
/// ROI per target lesion, referencing the CT series the lesions were contoured on.
///
/// The exported objects carry no patient name, id, birth date or other identifier from the input:
/// only the study, series, frame-of-reference and image UIDs needed to reference the CT.
public enum TargetExport {
    /// One exported target.
    public struct Target: Sendable, Hashable {
        public var roiName: String
        public var lesionID: String
        public var category: TargetCategory
        public var rank: Int
    }

    /// What was written.
    public struct Result: Sendable {
        public var rtstruct: URL
        public var seg: URL?
        public var targets: [Target]
        /// The referenced CT series.
        public var seriesInstanceUID: String
    }

    /// RGB colours of the categories (as in the reports).
    public static func colour(_ c: TargetCategory) -> (Int, Int, Int) {
        switch c {
        case .ablativeSBRT: return (192, 57, 43)
        case .lowDoseRT: return (214, 137, 16)
        case .noRT: return (36, 113, 163)
        }
    }

    /// `LM_SBRT_<rank>_<lesion>` / `LM_LDRT_<rank>_<lesion>`: letters, digits, `-`, `_`, `.` only, at most 64 characters.
    public static func roiName(_ c: TargetCategory, rank: Int, lesionID: String) -> String {
        let tag = c == .ablativeSBRT ? "SBRT" : (c == .lowDoseRT ? "LDRT" : "NORT")
        let safe = String(lesionID.unicodeScalars.map { s -> Character in
            s.isASCII && (CharacterSet.alphanumerics.contains(s) || "-_.".unicodeScalars.contains(s)) ? Character(s) : "_"
        })
        return String("LM_\(tag)_\(rank)_\(safe)".prefix(64))
    }

    /// Exports the targets of `patientID` (lesions in `categories`, SBRT first, each in rank order).
    ///
    /// - Parameters:
    ///   - cohortFolder: the manifest folder the store was extracted from (lesion masks are re-loaded).
    ///   - series: the DICOM CT series folder to reference when the manifest image is not DICOM
    ///     (e.g. NIfTI converted from it); its grid must match the image's.
    public static func run(store: URL, signature: Signature, patientID: String, cohortFolder: URL, series: URL? = nil,
                           categories: Set<TargetCategory> = [.ablativeSBRT, .lowDoseRT], to output: URL,
                           seg: URL? = nil) throws -> Result {
        let source = try ReportSource(store: store, signature: signature)
        guard let rows = source.rows(of: patientID) else {
            throw PipelineError("patient '\(patientID)' is not in the store \(store.path)")
        }
        let chosen = rows.filter { TargetCategory(rawValue: source.categories[$0]).map(categories.contains) ?? false }
            .sorted { a, b in
                let (ca, cb) = (TargetCategory.allCases.firstIndex { $0.rawValue == source.categories[a] }!,
                                TargetCategory.allCases.firstIndex { $0.rawValue == source.categories[b] }!)
                return ca != cb ? ca < cb : source.ranks[a] < source.ranks[b]
            }
        guard !chosen.isEmpty else {
            throw PipelineError("patient \(patientID) has no lesion in \(categories.map(\.rawValue).sorted().joined(separator: ", ")) under policy '\(source.policyName)': nothing to export")
        }
        let cohort = try CohortManifest.load(cohortFolder)
        guard let entry = cohort.patient(patientID) else {
            throw PipelineError("patient \(patientID) is not in the manifest \(cohortFolder.path)")
        }
        let patient = try PatientLoader().load(entry, relativeTo: cohort.folder)
        var lesions: [(Target, Lesion)] = []
        for i in chosen {
            let id = source.lesions.lesionIDs[i]
            guard let lesion = patient.lesions.first(where: { $0.id == id }) else {
                throw PipelineError("patient \(patientID), lesion \(id): in the store's plan but no longer in the manifest")
            }
            let c = TargetCategory(rawValue: source.categories[i])!
            lesions.append((Target(roiName: roiName(c, rank: source.ranks[i], lesionID: id), lesionID: id, category: c,
                                   rank: source.ranks[i]), lesion))
        }
        let scanIndices = Set(lesions.map(\.1.scanIndex))
        guard scanIndices.count == 1, let si = scanIndices.first else {
            throw PipelineError("patient \(patientID): the targets lie on \(scanIndices.count) different images (\(scanIndices.sorted().map { patient.scans[$0].source.lastPathComponent }.joined(separator: ", "))); one RTSTRUCT references one CT series")
        }
        let scan = patient.scans[si]
        var isFolder: ObjCBool = false
        let imageIsDICOM = FileManager.default.fileExists(atPath: scan.source.path, isDirectory: &isFolder) && isFolder.boolValue
        guard let folder = series ?? (imageIsDICOM ? scan.source : nil) else {
            throw PipelineError("patient \(patientID): the image \(scan.source.lastPathComponent) is not a DICOM series, so there is no CT series to reference; pass the DICOM series it was made from (--series DIR)")
        }
        let ct = try DICOMSeriesReader.read(folder)
        try ct.image.grid.requireMatch(scan.image.grid, context: "patient \(patientID): DICOM series \(folder.lastPathComponent) vs image \(scan.source.lastPathComponent)")
        // A fresh reference: UIDs only, so no patient attribute of the source reaches the export.
        let reference = SeriesReference(studyInstanceUID: ct.reference.studyInstanceUID,
                                        seriesInstanceUID: ct.reference.seriesInstanceUID,
                                        frameOfReferenceUID: ct.reference.frameOfReferenceUID,
                                        sopClassUID: ct.reference.sopClassUID, sopInstanceUIDs: ct.reference.sopInstanceUIDs)
        let regions = lesions.map { t, l in
            ExportRegion(name: t.roiName, mask: Mask(grid: ct.image.grid, voxels: l.mask.voxels), color: colour(t.category),
                         interpretedType: "GTV")
        }
        try FileManager.default.createDirectory(at: output.deletingLastPathComponent(), withIntermediateDirectories: true)
        try atomically(output) { try RTStructWriter.write(regions, referencing: reference, grid: ct.image.grid, to: $0, label: "LM targets") }
        if let seg {
            try atomically(seg) { try SEGWriter.write(regions, referencing: reference, grid: ct.image.grid, to: $0, label: "LesionMap targets") }
        }
        return Result(rtstruct: output, seg: seg, targets: lesions.map(\.0), seriesInstanceUID: reference.seriesInstanceUID)
    }

    /// Writes through a temporary file beside `url`, then renames it into place.
    private static func atomically(_ url: URL, _ write: (URL) throws -> Void) throws {
        let tmp = url.deletingLastPathComponent().appendingPathComponent(".\(url.lastPathComponent).\(UUID().uuidString).tmp")
        do {
            try write(tmp)
            if FileManager.default.fileExists(atPath: url.path) {
                _ = try FileManager.default.replaceItemAt(url, withItemAt: tmp)
            } else {
                try FileManager.default.moveItem(at: tmp, to: url)
            }
        } catch {
            try? FileManager.default.removeItem(at: tmp)
            throw error
        }
    }
}
