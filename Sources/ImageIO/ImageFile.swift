import Foundation
import ImagingCore

/// Reads an image in whichever supported format its file name says: `.nii`, `.nii.gz`
/// (NIfTI-1), `.nrrd` or `.nhdr` (NRRD).
public enum ImageFile {
    public static func readImage(_ url: URL) throws -> Volume<Float> {
        switch try format(of: url) {
        case .nifti: return try NIfTI.readImage(url)
        case .nrrd: return try NRRD.readImage(url)
        }
    }

    public static func readLabelMap(_ url: URL) throws -> LabelMap {
        switch try format(of: url) {
        case .nifti: return try NIfTI.readLabelMap(url)
        case .nrrd: return try NRRD.readLabelMap(url)
        }
    }

    private enum Format { case nifti, nrrd }

    private static func format(of url: URL) throws -> Format {
        let name = url.lastPathComponent.lowercased()
        if name.hasSuffix(".nii") || name.hasSuffix(".nii.gz") { return .nifti }
        if name.hasSuffix(".nrrd") || name.hasSuffix(".nhdr") { return .nrrd }
        throw ImageIOError(file: url, reason: "has an unsupported extension; expected .nii, .nii.gz, .nrrd or .nhdr")
    }
}
