import Foundation
import ImagingCore
import ImageIO
import Cohort
import Radiomics

/// `lesionmap filter`: the response map of one filter over a whole image, written as NIfTI (for viewing in
/// Slicer and for conformance with the IBSI 2 phase 1 response maps).
public enum ResponseMapExport {
    /// What was written.
    public struct Written: Sendable {
        /// The filter's token (`log_s1.5`).
        public var token: String
        /// The response map's grid: the image's, or the resampled one when the settings resample.
        public var grid: ImageGrid
    }

    /// The response map of `image` (NIfTI/NRRD file or DICOM series folder) under `settings`, which name exactly
    /// one filter (`filtering.filters`).
    public static func responseMap(image: URL, settings: ExtractionSettings) throws -> (map: Volume<Float>, token: String) {
        let kind = InputFile.kind(image)
        switch kind {
        case .missing: throw SingleImageError(file: image, message: "image not found")
        case .regular, .directory: break
        default: throw SingleImageError(file: image, message: "is \(kind.phrase), not an image file or a DICOM folder")
        }
        let volume = kind == .directory ? try DCMTKSource().loadSeries(image).scan.image : try ImageFile.readImage(image)
        if let bad = volume.voxels.firstIndex(where: { !$0.isFinite }) {
            throw SingleImageError(file: image, message: "image holds a non-finite value (\(volume.voxels[bad])) at voxel \(volume.grid.index(ofLinear: bad))")
        }
        let map = try FilteredImage.responseMap(of: volume, settings: settings)
        return (map, settings.filtering?.filters.first?.token ?? "")
    }

    /// Writes the response map of `image` to `out` (`.nii` or `.nii.gz`).
    @discardableResult
    public static func write(image: URL, settings: ExtractionSettings, to out: URL) throws -> Written {
        let name = out.lastPathComponent.lowercased()
        guard name.hasSuffix(".nii") || name.hasSuffix(".nii.gz") else {
            throw SingleImageError(file: out, message: "the response map is written as NIfTI: name the file .nii or .nii.gz")
        }
        let (map, token) = try responseMap(image: image, settings: settings)
        try NIfTI.write(map, to: out)
        return Written(token: token, grid: map.grid)
    }
}
