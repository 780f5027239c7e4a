import Foundation
import ImagingCore

/// An image series read from DICOM: the volume (HU for CT, SUVbw for PET), its scan metadata,
/// and the identifiers that contours and exported objects refer to.
public struct DICOMSeries: Sendable {
    public var image: Volume<Float>
    public var metadata: ScanMetadata
    public var reference: SeriesReference
    /// The folder the series was found in.
    public var folder: URL

    /// The series as the cohort loader's `Scan`.
    public var scan: Scan { Scan(image: image, metadata: metadata, source: folder) }
}

/// The identifiers of a loaded series that RTSTRUCT and SEG objects refer to.
public struct SeriesReference: Hashable, Sendable {
    public var studyInstanceUID: String
    public var seriesInstanceUID: String
    public var frameOfReferenceUID: String
    public var sopClassUID: String
    /// SOP instance UID of each slice, in slice order (k = 0 first).
    public var sopInstanceUIDs: [String]
    /// Patient and study attributes copied verbatim into exported objects so that they file with the
    /// source study; kept only for export, never part of `ScanMetadata`.
    var exportAttributes: [DICOMTag: String]

    public init(studyInstanceUID: String, seriesInstanceUID: String, frameOfReferenceUID: String,
                sopClassUID: String, sopInstanceUIDs: [String]) {
        self.studyInstanceUID = studyInstanceUID
        self.seriesInstanceUID = seriesInstanceUID
        self.frameOfReferenceUID = frameOfReferenceUID
        self.sopClassUID = sopClassUID
        self.sopInstanceUIDs = sopInstanceUIDs
        self.exportAttributes = [:]
    }

    /// True when both series carry a non-empty PatientID and the two differ: scans of two patients (used to refuse
    /// a follow-up time point holding another patient's scan). The ids themselves are never shown.
    public func belongsToAnotherPatient(than other: SeriesReference) -> Bool {
        guard let mine = exportAttributes[Tag.patientID], let theirs = other.exportAttributes[Tag.patientID],
              !mine.isEmpty, !theirs.isEmpty else { return false }
        return mine != theirs
    }
}

extension SeriesReference: CustomStringConvertible, CustomDebugStringConvertible, CustomReflectable {
    /// Never the identifiers: a reference interpolated into a message or dumped shows only its size.
    public var description: String {
        "SeriesReference(\(sopInstanceUIDs.count) slices; identifiers withheld)"
    }
    public var debugDescription: String { description }
    public var customMirror: Mirror { Mirror(self, children: [(label: String?, value: Any)]()) }
}

/// One image series found in a folder tree.
public struct DICOMSeriesSummary: Hashable, Sendable, CustomStringConvertible {
    public var seriesInstanceUID: String
    public var modality: String
    public var seriesDescription: String
    public var fileCount: Int
    /// The series' first file in path order: how messages name the series.
    public var firstFile: URL

    /// Modality, file count and first file, never the UID or the description: both can carry identifiers.
    public var description: String {
        "\(Redacted.code(modality, known: Redacted.modalities)) series of \(fileCount) file\(fileCount == 1 ? "" : "s") (first: \(firstFile.lastPathComponent))"
    }

    func description(in folder: URL) -> String {
        "\(Redacted.code(modality, known: Redacted.modalities)) series of \(fileCount) file\(fileCount == 1 ? "" : "s") (first: \(DICOMSeriesReader.relative(firstFile, to: folder)))"
    }
}

/// Header facts of one image file, gathered before any pixel is read.
struct SliceHeader: Sendable {
    var url: URL
    var seriesUID: String
    var modality: String
    var seriesDescription: String
    var sopClassUID: String
    var sopInstanceUID: String
    var position: Vector3?
    var orientation: [Double]
    var pixelSpacing: [Double]
    var rows: Int
    var columns: Int
    var frames: Int
    var slope: Double
    var intercept: Double
    var acquisitionDate: String?
    var acquisitionTime: String?
    /// PET: Actual Frame Duration (0018,1242) in ms, and the Philips private SUV and activity-concentration
    /// scale factors (7053,1000/1009), read only under their private creator.
    var frameDurationMS: Double?
    var philipsSUVScaleFactor: Double?
    var philipsActivityScaleFactor: Double?
    /// PET: the attributes the SUV factor depends on (Units, Decay Correction, Corrected Image, weight, the first
    /// radiopharmaceutical item's dose, half-life and start), joined, to check that every slice agrees. Held for
    /// that comparison only, never shown.
    var suvAttributes: String?
    /// Why the slice cannot be read correctly (inconsistent pixel description, unusable rescale), if it cannot.
    var problem: String?
}

/// What a folder holds: the image files' headers and the files that look like DICOM but cannot be used.
struct FolderScan: Sendable {
    var slices: [SliceHeader] = []
    /// Files that cannot be parsed although they look like DICOM (empty, truncated, corrupt, unreadable).
    var unreadable: [(url: URL, reason: String)] = []
    /// Files of a known series that parse but hold no usable Pixel Data.
    var withoutPixels: [(url: URL, seriesUID: String, reason: String)] = []
}

/// Reads CT and PET series from a folder tree of DICOM files.
///
/// Slices are ordered by their ImagePositionPatient projected on the slice normal; the slice spacing
/// comes from those positions, never from SliceThickness. Series that cannot be represented as one
/// regular grid (missing slices, duplicate positions, uneven spacing, gantry tilt, non-orthogonal or
/// changing orientation, mixed slice sizes) are refused with an error saying which, rather than
/// silently resampled.
///
/// Files that look like DICOM but cannot be read (empty, truncated, corrupt, unreadable) are never
/// skipped silently: a dropped slice would otherwise be reported as a missing slice, or not at all at
/// the end of a series. They are refused by name before the series is chosen. Files that are not
/// DICOM at all (notes, checksums) and DICOM objects without images (DICOMDIR, RTSTRUCT, SEG) are
/// skipped. Each slice's pixel description and rescale are checked (`PixelModule`) before any pixel
/// is read.
public enum DICOMSeriesReader {
    /// Modalities chosen when no series UID is given.
    public static let defaultModalities: Set<String> = ["CT", "PT"]

    /// Every image series (files holding pixel data, excluding SEG and RTDOSE) under `folder`.
    public static func list(_ folder: URL) throws -> [DICOMSeriesSummary] {
        summaries(try scan(folder).slices)
    }

    /// Reads the series `seriesUID`, or, when nil, the only CT or PET series under `folder`.
    /// PET values are converted to body-weight SUV (`SUV`) when `petToSUV` is true (the default): each slice's
    /// stored values times its own Rescale Slope plus its Rescale Intercept (PET slices usually differ), times the
    /// slice's SUV factor, computed in double precision and stored once as a 32-bit float (never rounded further).
    public static func read(_ folder: URL, seriesUID: String? = nil, petToSUV: Bool = true) throws -> DICOMSeries {
        let folderScan = try scan(folder)
        if !folderScan.unreadable.isEmpty { throw unreadableError(folderScan.unreadable, folder: folder) }
        let headers = folderScan.slices
        let found = summaries(headers)
        let chosen: String
        if let seriesUID {
            guard found.contains(where: { $0.seriesInstanceUID == seriesUID }) else {
                throw DICOMError(file: folder, message: "no image series with the requested SeriesInstanceUID here; found: "
                                 + describe(found, in: folder))
            }
            chosen = seriesUID
        } else {
            let candidates = found.filter { defaultModalities.contains($0.modality) }
            guard !candidates.isEmpty else {
                throw DICOMError(file: folder, message: "no CT or PET series found; found: " + describe(found, in: folder))
            }
            guard candidates.count == 1 else {
                throw DICOMError(file: folder, message: "\(candidates.count) CT/PET series found: "
                                 + describe(candidates, in: folder)
                                 + "; put each series in a folder of its own and point the manifest's image at one")
            }
            chosen = candidates[0].seriesInstanceUID
        }
        if let bad = folderScan.withoutPixels.first(where: { $0.seriesUID == chosen }) {
            throw DICOMError(file: bad.url, message: bad.reason)
        }
        let slices = headers.filter { $0.seriesUID == chosen }
        let problems = slices.filter { $0.problem != nil }
        if let bad = problems.first {
            let others = problems.count > 1 ? " (\(problems.count - 1) more slice\(problems.count == 2 ? "" : "s") of the series too, e.g. \(problems[1].url.lastPathComponent))" : ""
            throw DICOMError(file: bad.url, message: bad.problem! + others)
        }
        let (grid, ordered) = try SeriesGeometry.grid(of: slices, folder: folder)
        let first = try DICOMFile(reading: ordered[0].url, deferLength: 4096)
        let ds = first.dataset
        let metadata = ScanFacts.metadata(ds, modality: ordered[0].modality)
        var scale: [Double]? = nil
        if ordered[0].modality == "PT" && petToSUV {
            scale = try SUV.factors(ds, slices: ordered, file: ordered[0].url)
        }
        let image = Volume(grid: grid, voxels: try readVoxels(ordered, grid: grid, scale: scale))
        var reference = SeriesReference(
            studyInstanceUID: ds.string(Tag.studyInstanceUID) ?? "",
            seriesInstanceUID: chosen,
            frameOfReferenceUID: ds.string(Tag.frameOfReferenceUID) ?? "",
            sopClassUID: ordered[0].sopClassUID,
            sopInstanceUIDs: ordered.map(\.sopInstanceUID))
        for tag in ScanFacts.exportedTags { if let v = ds.string(tag) { reference.exportAttributes[tag] = v } }
        return DICOMSeries(image: image, metadata: metadata, reference: reference, folder: folder)
    }

    private static func describe(_ s: [DICOMSeriesSummary], in folder: URL) -> String {
        s.isEmpty ? "nothing" : s.map { $0.description(in: folder) }.joined(separator: "; ")
    }

    private static func unreadableError(_ files: [(url: URL, reason: String)], folder: URL) -> DICOMError {
        let consequence = "a slice that cannot be read would leave a gap in the series, so the series is refused: restore the file from its source, or remove it if it is not a slice"
        if files.count == 1 { return DICOMError(file: files[0].url, message: files[0].reason + "; " + consequence) }
        let shown = files.prefix(5).map { "\(relative($0.url, to: folder)) (\($0.reason))" }.joined(separator: "; ")
        let more = files.count > 5 ? "; and \(files.count - 5) more" : ""
        return DICOMError(file: folder, message: "\(files.count) files cannot be read: \(shown)\(more); " + consequence)
    }

    /// `url`'s path below `folder`, or its file name when it is not below it.
    static func relative(_ url: URL, to folder: URL) -> String {
        let base = folder.standardizedFileURL.path + "/"
        let p = url.standardizedFileURL.path
        return p.hasPrefix(base) ? String(p.dropFirst(base.count)) : url.lastPathComponent
    }

    private static func summaries(_ headers: [SliceHeader]) -> [DICOMSeriesSummary] {
        var order: [String] = []
        var byUID: [String: DICOMSeriesSummary] = [:]
        for h in headers {
            if byUID[h.seriesUID] == nil {
                order.append(h.seriesUID)
                byUID[h.seriesUID] = DICOMSeriesSummary(seriesInstanceUID: h.seriesUID, modality: h.modality,
                                                         seriesDescription: h.seriesDescription, fileCount: 0,
                                                         firstFile: h.url)
            }
            byUID[h.seriesUID]!.fileCount += 1
        }
        return order.map { byUID[$0]! }
    }

    /// Regular files under `folder` (symbolic links to files included), in path order.
    static func files(in folder: URL) throws -> [URL] {
        var isDir: ObjCBool = false
        guard FileManager.default.fileExists(atPath: folder.path, isDirectory: &isDir) else {
            throw DICOMError(file: folder, message: "no such folder")
        }
        guard isDir.boolValue else { return [folder] }
        guard let e = FileManager.default.enumerator(at: folder, includingPropertiesForKeys: [.isRegularFileKey, .isSymbolicLinkKey],
                                                     options: [.skipsHiddenFiles]) else {
            throw DICOMError(file: folder, message: "cannot list the folder")
        }
        var out: [URL] = []
        for case let u as URL in e {
            let v = try? u.resourceValues(forKeys: [.isRegularFileKey, .isSymbolicLinkKey])
            if v?.isRegularFile == true {
                out.append(u)
            } else if v?.isSymbolicLink == true {
                // A link to a slice is a slice; a link to a folder is not followed; a dangling link is
                // kept so that it is reported as unreadable rather than dropped.
                var targetIsDir: ObjCBool = false
                let exists = FileManager.default.fileExists(atPath: u.path, isDirectory: &targetIsDir)
                if !exists || !targetIsDir.boolValue { out.append(u) }
            }
        }
        return out.sorted { $0.path < $1.path }
    }

    /// Headers of every image file under `folder`, and the files that look like DICOM but cannot be used.
    static func scan(_ folder: URL) throws -> FolderScan {
        let urls = try files(in: folder)
        try DICOMFile.requireLibrary(for: folder)
        var found = [Found](repeating: .skipped, count: urls.count)
        found.withUnsafeMutableBufferPointer { out in
            DispatchQueue.concurrentPerform(iterations: urls.count) { n in
                out[n] = header(urls[n])
            }
        }
        var result = FolderScan()
        for f in found {
            switch f {
            case .skipped: break
            case .slice(let h): result.slices.append(h)
            case .unreadable(let url, let reason): result.unreadable.append((url, reason))
            case .withoutPixels(let url, let series, let reason): result.withoutPixels.append((url, series, reason))
            }
        }
        return result
    }

    private enum Found: Sendable {
        case skipped
        case slice(SliceHeader)
        case unreadable(URL, String)
        case withoutPixels(URL, String, String)
    }

    /// Modalities of DICOM objects that are not image slices.
    private static let nonImageModalities: Set<String> = ["SEG", "RTDOSE", "RTSTRUCT", "RTPLAN", "RTRECORD", "SR", "KO", "PR", "REG", "DOC"]

    private static func header(_ url: URL) -> Found {
        let f: DICOMFile
        do {
            f = try DICOMFile(reading: url, deferLength: 1024)
        } catch {
            let reason = (error as? DICOMError)?.message ?? "\(error)"
            return unreadableReason(url, dcmtk: reason).map { .unreadable(url, $0) } ?? .skipped
        }
        let d = f.dataset
        let modality = d.string(Tag.modality) ?? ""
        guard let uid = d.text(Tag.seriesInstanceUID), !nonImageModalities.contains(modality) else { return .skipped }
        guard d.has(Tag.pixelData) else {
            guard defaultModalities.contains(modality) || d.has(Tag.imagePositionPatient) else { return .skipped }
            if d.has(Tag.floatPixelData) || d.has(Tag.doubleFloatPixelData) {
                return .withoutPixels(url, uid, "holds floating-point pixel data (7FE0,0008/0009), which is not supported; only integer Pixel Data (7FE0,0010) is read")
            }
            return .withoutPixels(url, uid, "is an image slice without Pixel Data (7FE0,0010): the file is incomplete (cut off after its header?)")
        }
        let p = (try? d.numbers(Tag.imagePositionPatient)) ?? []
        var problem: String?
        var rows = 0, columns = 0, frames = 1
        var slope = 1.0, intercept = 0.0
        do {
            let info = try f.pixelInfo()
            rows = info.rows
            columns = info.columns
            frames = info.frames
            let declaredFrames: [Double]? = d.has(Tag.numberOfFrames) ? ((try? d.numbers(Tag.numberOfFrames)) ?? [.nan]) : nil
            problem = PixelModule.problem(info, photometric: d.text(Tag.photometricInterpretation),
                                          numberOfFrames: declaredFrames, kind: .greyscaleImage)
        } catch {
            problem = (error as? DICOMError)?.message ?? "\(error)"
        }
        switch PixelModule.rescale(d) {
        case .success(let r): slope = r.slope; intercept = r.intercept
        case .failure(let p): problem = problem ?? p.message
        }
        let philips = modality == "PT"
            && d.string(Tag.philipsPETPrivateCreator)?.trimmingCharacters(in: .whitespaces) == "Philips PET Private Group"
        return .slice(SliceHeader(
            url: url, seriesUID: uid, modality: modality, seriesDescription: d.string(Tag.seriesDescription) ?? "",
            sopClassUID: d.string(Tag.sopClassUID) ?? "", sopInstanceUID: d.string(Tag.sopInstanceUID) ?? "",
            position: p.count == 3 ? Vector3(p[0], p[1], p[2]) : nil,
            orientation: (try? d.numbers(Tag.imageOrientationPatient)) ?? [],
            pixelSpacing: (try? d.numbers(Tag.pixelSpacing)) ?? [],
            rows: rows, columns: columns, frames: frames, slope: slope, intercept: intercept,
            acquisitionDate: d.text(Tag.acquisitionDate), acquisitionTime: d.text(Tag.acquisitionTime),
            frameDurationMS: modality == "PT" ? d.number(Tag.actualFrameDuration) : nil,
            philipsSUVScaleFactor: philips ? d.number(Tag.philipsSUVScaleFactor) : nil,
            philipsActivityScaleFactor: philips ? d.number(Tag.philipsActivityConcentrationScaleFactor) : nil,
            suvAttributes: modality == "PT" ? SUV.attributes(d) : nil,
            problem: problem))
    }

    /// Why a file DCMTK cannot parse is a broken DICOM file, or nil when it is simply not DICOM (a text
    /// note, a checksum list) and may be skipped. A file counts as DICOM when it is empty (a slice that
    /// was never written), carries the "DICM" marker of a Part 10 file, or starts like a raw dataset
    /// (an element of group 0002 or 0008, little endian).
    static func unreadableReason(_ url: URL, dcmtk: String) -> String? {
        guard FileManager.default.fileExists(atPath: url.path) else {
            return "the file is a symbolic link to nothing (its target does not exist)"
        }
        if let size = (try? FileManager.default.attributesOfItem(atPath: url.path))?[.size] as? NSNumber, size.intValue == 0 {
            return "the file is empty (0 bytes)"
        }
        guard let handle = try? FileHandle(forReadingFrom: url) else {
            return "the file cannot be opened (no read permission?)"
        }
        defer { try? handle.close() }
        guard let head = try? handle.read(upToCount: 132) else { return "the file cannot be read (\(dcmtk))" }
        let bytes = [UInt8](head)
        if bytes.isEmpty { return "the file is empty (0 bytes)" }
        let part10 = bytes.count == 132 && Array(bytes[128..<132]) == Array("DICM".utf8)
        let raw = bytes.count >= 4 && (bytes[0] == 0x02 || bytes[0] == 0x08) && bytes[1] == 0x00
        guard part10 || raw else { return nil }
        return "the file is truncated or corrupt: it \(dcmtk)"
    }

    /// Decodes every slice (in parallel) into one buffer, applying each slice's rescale slope and intercept and,
    /// when given, its scale factor (`scale[k]`, the SUV factor of slice k), in double precision.
    private static func readVoxels(_ slices: [SliceHeader], grid: ImageGrid, scale: [Double]? = nil) throws -> [Float] {
        let perSlice = grid.size.nx * grid.size.ny
        var voxels = [Float](repeating: 0, count: grid.voxelCount)
        var errors = [Error?](repeating: nil, count: slices.count)
        voxels.withUnsafeMutableBufferPointer { all in
            errors.withUnsafeMutableBufferPointer { errs in
                DispatchQueue.concurrentPerform(iterations: slices.count) { k in
                    let s = slices[k]
                    let out = UnsafeMutableBufferPointer(rebasing: all[(k * perSlice)..<((k + 1) * perSlice)])
                    do {
                        let f = try DICOMFile(reading: s.url)
                        let info = try f.pixelInfo()
                        // The file may have changed since its header was read: check again on what is decoded.
                        if let problem = PixelModule.problem(info, photometric: f.dataset.text(Tag.photometricInterpretation),
                                                             numberOfFrames: nil, kind: .greyscaleImage) {
                            throw DICOMError(file: s.url, message: problem)
                        }
                        guard info.rows == grid.size.ny, info.columns == grid.size.nx else {
                            throw DICOMError(file: s.url, message: "Rows x Columns changed while the series was read")
                        }
                        try f.frame(0, into: out)
                        let factor = scale?[k] ?? 1
                        if s.slope != 1 || s.intercept != 0 || factor != 1 {
                            for i in out.indices { out[i] = Float((Double(out[i]) * s.slope + s.intercept) * factor) }
                        }
                    } catch let e as DICOMError where e.file == nil {
                        errs[k] = DICOMError(file: s.url, message: e.message)
                    } catch {
                        errs[k] = error
                    }
                }
            }
        }
        if let e = errors.compactMap({ $0 }).first { throw e }
        return voxels
    }
}
