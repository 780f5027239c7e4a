import Foundation
import ImagingCore
import ZlibSupport

/// Single-file NIfTI-1 images (`.nii`, `.nii.gz`).
///
/// Geometry is reported in LPS millimetres exactly as ITK/SimpleITK report it for the same
/// file (see `NIfTIHeader`). Either byte order is read; files are written little-endian with
/// matching qform and sform. Gzip compression is detected from the file's content when
/// reading and chosen from the `.gz` extension when writing.
public enum NIfTI {
    /// The image as floating-point values, with `scl_slope`/`scl_inter` applied.
    public static func readImage(_ url: URL) throws -> Volume<Float> {
        let (header, bytes) = try load(url)
        let voxels = raw(header, bytes)
        let values = header.rescale.map { voxels.floats(slope: $0.slope, intercept: $0.intercept) }
            ?? voxels.floats()
        return Volume(grid: header.grid, voxels: values)
    }

    /// The image as integer labels (0 = background); throws when a value, after rescaling,
    /// is not a whole number in the `Int32` range.
    public static func readLabelMap(_ url: URL) throws -> LabelMap {
        let (header, bytes) = try load(url)
        let scaling = header.rescale ?? (1, 0)
        let labels = try raw(header, bytes).integers(slope: scaling.slope, intercept: scaling.intercept, file: url)
        return LabelMap(grid: header.grid, voxels: labels)
    }

    /// The validated header and the geometry derived from it, without converting the voxels.
    public static func readHeader(_ url: URL) throws -> NIfTIHeader {
        try load(url).header
    }

    /// Writes float32 voxels; `.nii.gz` is gzip-compressed, `.nii` is not.
    public static func write(_ image: Volume<Float>, to url: URL) throws {
        var data = try headerData(for: image.grid, type: .float32, url: url)
        appendLittleEndian(image.voxels, to: &data)
        try writeFileBytes(data, to: url, compressed: try isCompressed(url))
    }

    /// Writes labels as int16 when every value fits, else as int32.
    public static func write(_ labels: LabelMap, to url: URL) throws {
        let fitsInt16 = labels.voxels.allSatisfy { $0 >= Int32(Int16.min) && $0 <= Int32(Int16.max) }
        var data = try headerData(for: labels.grid, type: fitsInt16 ? .int16 : .int32, url: url)
        if fitsInt16 {
            appendLittleEndian(labels.voxels.map { Int16(truncatingIfNeeded: $0) }, to: &data)
        } else {
            appendLittleEndian(labels.voxels, to: &data)
        }
        try writeFileBytes(data, to: url, compressed: try isCompressed(url))
    }

    /// Writes int16 voxels: the compact storage for CT in Hounsfield units.
    public static func write(_ image: Volume<Int16>, to url: URL) throws {
        var data = try headerData(for: image.grid, type: .int16, url: url)
        appendLittleEndian(image.voxels, to: &data)
        try writeFileBytes(data, to: url, compressed: try isCompressed(url))
    }

    // MARK: - Internals

    /// The validated header and the uncompressed file bytes. A gzip-compressed file (detected from its
    /// content, whatever the extension says) has its header decompressed first, and then no more data than
    /// the header describes: a small file that expands to gigabytes is refused without being expanded.
    private static func load(_ url: URL) throws -> (header: NIfTIHeader, bytes: Data) {
        let raw = try readFileBytes(url)
        guard Gzip.isGzip(raw) else { return (try NIfTIHeader(bytes: raw, file: url), raw) }
        let head = try gunzipPrefix(raw, count: NIfTIHeader.singleFileDataOffset, file: url)
        guard let described = NIfTIHeader.describedFileSize(head) else {
            // The header itself is unusable: let the header check say why.
            return (try NIfTIHeader(bytes: head, file: url), head)
        }
        let bytes = try gunzip(raw, file: url, describedBytes: described,
                               what: "the NIfTI header (voxel offset plus voxels) describes")
        return (try NIfTIHeader(bytes: bytes, file: url), bytes)
    }

    private static func raw(_ header: NIfTIHeader, _ bytes: Data) -> RawVoxels {
        RawVoxels(bytes: bytes, offset: header.dataOffset, count: header.grid.voxelCount,
                  type: header.scalarType, bigEndian: header.isBigEndian)
    }

    private static func isCompressed(_ url: URL) throws -> Bool {
        let name = url.lastPathComponent.lowercased()
        if name.hasSuffix(".nii.gz") { return true }
        if name.hasSuffix(".nii") { return false }
        throw ImageIOError(file: url, reason: "is not a NIfTI file name: expected the extension .nii or .nii.gz")
    }

    /// The header bytes for `grid`, with capacity reserved for the voxels that follow.
    private static func headerData(for grid: ImageGrid, type: ScalarType, url: URL) throws -> Data {
        _ = try isCompressed(url)
        do {
            try grid.validate()
        } catch {
            throw ImageIOError(file: url, reason: "cannot be written: \(error)")
        }
        let size = grid.size
        guard max(size.nx, size.ny, size.nz) <= Int(Int16.max) else {
            throw ImageIOError(file: url, reason: "cannot be written: size \(size) exceeds NIfTI-1's "
                               + "limit of \(Int16.max) voxels per axis")
        }
        var data = NIfTIHeader.encode(grid: grid, type: type, description: "LesionMap")
        data.reserveCapacity(data.count + grid.voxelCount * type.byteCount)
        return data
    }
}
