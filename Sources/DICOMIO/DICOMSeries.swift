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
}

/// One image series found in a folder tree.
public struct DICOMSeriesSummary: Hashable, Sendable, CustomStringConvertible {
    public var seriesInstanceUID: String
    public var modality: String
    public var seriesDescription: String
    public var fileCount: Int

    public var description: String {
        "\(modality) series \(seriesInstanceUID) '\(seriesDescription)' (\(fileCount) file\(fileCount == 1 ? "" : "s"))"
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
}

/// Reads CT and PET series from a folder tree of DICOM files.
///
/// Slices are ordered by their ImagePositionPatient projected on the slice normal; the slice spacing
/// comes from those positions, never from SliceThickness. Series that cannot be represented as one
/// regular grid (missing slices, duplicate positions, uneven spacing, gantry tilt, non-orthogonal or
/// changing orientation, mixed slice sizes) are refused with an error saying which, rather than
/// silently resampled.
public enum DICOMSeriesReader {
    /// Modalities chosen when no series UID is given.
    public static let defaultModalities: Set<String> = ["CT", "PT"]

    /// Every image series (files holding pixel data, excluding SEG and RTDOSE) under `folder`.
    public static func list(_ folder: URL) throws -> [DICOMSeriesSummary] {
        summaries(try scan(folder))
    }

    /// Reads the series `seriesUID`, or, when nil, the only CT or PET series under `folder`.
    /// PET values are converted to body-weight SUV when `petToSUV` is true (the default).
    public static func read(_ folder: URL, seriesUID: String? = nil, petToSUV: Bool = true) throws -> DICOMSeries {
        let headers = try scan(folder)
        let found = summaries(headers)
        let chosen: String
        if let seriesUID {
            guard found.contains(where: { $0.seriesInstanceUID == seriesUID }) else {
                throw DICOMError(file: folder, message: "no image series \(seriesUID) here; found: "
                                 + describe(found))
            }
            chosen = seriesUID
        } else {
            let candidates = found.filter { defaultModalities.contains($0.modality) }
            guard !candidates.isEmpty else {
                throw DICOMError(file: folder, message: "no CT or PET series found; found: " + describe(found))
            }
            guard candidates.count == 1 else {
                throw DICOMError(file: folder, message: "\(candidates.count) CT/PET series found, choose one by SeriesInstanceUID: "
                                 + describe(candidates))
            }
            chosen = candidates[0].seriesInstanceUID
        }
        let slices = headers.filter { $0.seriesUID == chosen }
        let (grid, ordered) = try SeriesGeometry.grid(of: slices, folder: folder)
        let voxels = try readVoxels(ordered, grid: grid)
        var image = Volume(grid: grid, voxels: voxels)
        let first = try DICOMFile(reading: ordered[0].url, deferLength: 4096)
        let ds = first.dataset
        let metadata = ScanFacts.metadata(ds, modality: ordered[0].modality)
        if ordered[0].modality == "PT" && petToSUV {
            let factor = try SUV.bodyWeightFactor(ds, slices: ordered, file: ordered[0].url)
            for i in image.voxels.indices { image.voxels[i] = Float(Double(image.voxels[i]) * factor) }
        }
        var reference = SeriesReference(
            studyInstanceUID: ds.string(Tag.studyInstanceUID) ?? "",
            seriesInstanceUID: chosen,
            frameOfReferenceUID: ds.string(Tag.frameOfReferenceUID) ?? "",
            sopClassUID: ordered[0].sopClassUID,
            sopInstanceUIDs: ordered.map(\.sopInstanceUID))
        for tag in ScanFacts.exportedTags { if let v = ds.string(tag) { reference.exportAttributes[tag] = v } }
        return DICOMSeries(image: image, metadata: metadata, reference: reference, folder: folder)
    }

    private static func describe(_ s: [DICOMSeriesSummary]) -> String {
        s.isEmpty ? "nothing" : s.map(\.description).joined(separator: "; ")
    }

    private static func summaries(_ headers: [SliceHeader]) -> [DICOMSeriesSummary] {
        var order: [String] = []
        var byUID: [String: DICOMSeriesSummary] = [:]
        for h in headers {
            if byUID[h.seriesUID] == nil {
                order.append(h.seriesUID)
                byUID[h.seriesUID] = DICOMSeriesSummary(seriesInstanceUID: h.seriesUID, modality: h.modality,
                                                         seriesDescription: h.seriesDescription, fileCount: 0)
            }
            byUID[h.seriesUID]!.fileCount += 1
        }
        return order.map { byUID[$0]! }
    }

    /// Regular files under `folder`, in path order.
    static func files(in folder: URL) throws -> [URL] {
        var isDir: ObjCBool = false
        guard FileManager.default.fileExists(atPath: folder.path, isDirectory: &isDir) else {
            throw DICOMError(file: folder, message: "no such folder")
        }
        guard isDir.boolValue else { return [folder] }
        guard let e = FileManager.default.enumerator(at: folder, includingPropertiesForKeys: [.isRegularFileKey],
                                                     options: [.skipsHiddenFiles]) else {
            throw DICOMError(file: folder, message: "cannot list the folder")
        }
        var out: [URL] = []
        for case let u as URL in e where (try? u.resourceValues(forKeys: [.isRegularFileKey]).isRegularFile) == true {
            out.append(u)
        }
        return out.sorted { $0.path < $1.path }
    }

    /// Headers of every image file under `folder` (files that are not DICOM images are skipped).
    static func scan(_ folder: URL) throws -> [SliceHeader] {
        let urls = try files(in: folder)
        var found = [SliceHeader?](repeating: nil, count: urls.count)
        found.withUnsafeMutableBufferPointer { out in
            DispatchQueue.concurrentPerform(iterations: urls.count) { n in
                out[n] = header(urls[n])
            }
        }
        return found.compactMap { $0 }
    }

    private static func header(_ url: URL) -> SliceHeader? {
        guard let f = try? DICOMFile(reading: url, deferLength: 1024) else { return nil }
        let d = f.dataset
        let modality = d.string(Tag.modality) ?? ""
        guard d.has(Tag.pixelData), let uid = d.text(Tag.seriesInstanceUID),
              !["SEG", "RTDOSE", "RTSTRUCT", "SR"].contains(modality) else { return nil }
        let p = (try? d.numbers(Tag.imagePositionPatient)) ?? []
        return SliceHeader(
            url: url, seriesUID: uid, modality: modality, seriesDescription: d.string(Tag.seriesDescription) ?? "",
            sopClassUID: d.string(Tag.sopClassUID) ?? "", sopInstanceUID: d.string(Tag.sopInstanceUID) ?? "",
            position: p.count == 3 ? Vector3(p[0], p[1], p[2]) : nil,
            orientation: (try? d.numbers(Tag.imageOrientationPatient)) ?? [],
            pixelSpacing: (try? d.numbers(Tag.pixelSpacing)) ?? [],
            rows: Int(d.number(Tag.rows) ?? 0), columns: Int(d.number(Tag.columns) ?? 0),
            frames: Int(d.number(Tag.numberOfFrames) ?? 1),
            slope: d.number(Tag.rescaleSlope) ?? 1, intercept: d.number(Tag.rescaleIntercept) ?? 0,
            acquisitionDate: d.text(Tag.acquisitionDate), acquisitionTime: d.text(Tag.acquisitionTime))
    }

    /// Decodes every slice (in parallel) into one buffer, applying each slice's rescale slope and intercept.
    private static func readVoxels(_ slices: [SliceHeader], grid: ImageGrid) throws -> [Float] {
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
                        guard info.samplesPerPixel == 1 else {
                            throw DICOMError(file: s.url, message: "has \(info.samplesPerPixel) samples per pixel; only greyscale images are supported")
                        }
                        try f.frame(0, into: out)
                        if s.slope != 1 || s.intercept != 0 {
                            for i in out.indices { out[i] = Float(Double(out[i]) * s.slope + s.intercept) }
                        }
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
