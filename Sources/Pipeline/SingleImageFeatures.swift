import Foundation
import ImagingCore
import ImageIO
import Cohort
import Radiomics

/// How `lesionmap features` writes its result.
public enum FeatureOutputFormat: String, CaseIterable, Sendable {
    /// Aligned columns: stable name (`<region>.<family>.<feature>`), value, and the reason for a NaN.
    case table
    /// `tag;value` lines with the IBSI reference-value tags (tumour only: IBSI tags name one region).
    case ibsi
    /// CSV with the header `name,ibsi_tag,value,note`.
    case csv
}

/// One row of a single-image result.
public struct FeatureRow: Sendable, Hashable {
    /// Stable name `<region>.<family>.<feature>`, e.g. `tumour.glcm.joint_max_3D_comb`.
    public var name: String
    public var ibsiTag: String
    public var value: Double
    /// Why the value is NaN, when it is.
    public var note: String?
}

/// The features of one image and one region (a lesion) with its peritumoral ring.
public struct SingleImageFeatures: Sendable {
    /// The region read, e.g. `label 1 of mask.nii.gz` or `ROI 'GTV-1' of rtstruct.dcm`.
    public var region: String
    public var settings: ExtractionSettings
    public var tumour: RegionFeatures
    /// nil when the settings ask for no ring or the ring is empty (see `warnings`).
    public var ring: RegionFeatures?
    /// The intratumoral core and tumour+ring regions, when the settings ask for them (`regions`);
    /// nil also when the core erodes to nothing (see `warnings`).
    public var core: RegionFeatures? = nil
    public var tumourRing: RegionFeatures? = nil
    public var warnings: [String]

    /// Rows of each region in `ExtractionSettings.Region` order (tumour, ring, core, tumour_ring),
    /// named as in the feature store.
    public var rows: [FeatureRow] {
        var out = [FeatureRow]()
        var seen = Set<String>()
        for (regionName, region) in [("tumour", tumour), ("ring", ring), ("core", core), ("tumour_ring", tumourRing)] {
            guard let region else { continue }
            for v in region.features {
                let name = "\(regionName).\(CohortExtraction.storeName(v))"
                if seen.insert(name).inserted {
                    out.append(FeatureRow(name: name, ibsiTag: v.ibsiTag, value: v.value, note: v.note))
                }
            }
        }
        return out
    }

    /// The result as text in `format`, ending with a newline.
    public func text(_ format: FeatureOutputFormat) -> String {
        switch format {
        case .ibsi:
            return tumour.ibsiLines.joined(separator: "\n") + "\n"
        case .csv:
            var s = "name,ibsi_tag,value,note\n"
            for r in rows {
                s += "\(r.name),\(r.ibsiTag),\(FeatureText.number(r.value)),\(Self.csvField(r.note ?? ""))\n"
            }
            return s
        case .table:
            let rows = self.rows
            let width = max(4, rows.map(\.name.count).max() ?? 0)
            let pad = { (s: String, n: Int) in s + String(repeating: " ", count: max(0, n - s.count)) }
            var s = pad("name", width) + "  value\n"
            for r in rows {
                s += pad(r.name, width) + "  " + FeatureText.number(r.value) + (r.note.map { "  (\($0))" } ?? "") + "\n"
            }
            return s
        }
    }

    private static func csvField(_ text: String) -> String {
        guard text.contains(where: { $0 == "," || $0 == "\"" || $0 == "\n" || $0 == "\r" }) else { return text }
        return "\"" + text.replacingOccurrences(of: "\"", with: "\"\"") + "\""
    }
}

/// Features of one image and one mask, outside any cohort (`lesionmap features`).
///
/// The image is a NIfTI/NRRD file or a folder holding one DICOM CT/PET series; the mask a NIfTI/NRRD
/// label map on the image grid, or a DICOM RTSTRUCT or SEG rasterised onto the image grid.
/// `label` picks the region: a label value (label map), an ROI name or glob (RTSTRUCT), or a segment
/// number (SEG). Without it the mask must hold exactly one region (one label value, one ROI that
/// looks like a lesion, one segment); otherwise the error lists the choices.
public enum SingleImageExtraction {
    /// Features of the region; a region whose memory estimate exceeds the budget `memoryLimit` gives
    /// is refused before any work (`RadiomicsError.overMemoryBudget`, naming the setting responsible).
    public static func run(image: URL, mask: URL, label: String?, settings: ExtractionSettings,
                           memoryLimit: ExtractionMemoryLimit = .automatic) throws -> SingleImageFeatures {
        try run(image: image, mask: mask, label: label, settings: .everyModality(settings), memoryLimit: memoryLimit)
    }

    /// As above, with the settings of the image's modality: a DICOM series' own Modality, else
    /// `modality` (NIfTI/NRRD; default CT). A `modality` that disagrees with the DICOM series is refused,
    /// as is an image whose modality has no settings; settings that make no sense for the modality are
    /// refused or warned as in `extract` (`ModalityChecks`).
    public static func run(image: URL, mask: URL, label: String?, settings: ModalitySettings, modality: String? = nil,
                           memoryLimit: ExtractionMemoryLimit = .automatic) throws -> SingleImageFeatures {
        let (volume, region, name, contourWarnings, dicomModality) = try loadRegion(image: image, mask: mask, label: label)
        let given = try modality.map { m -> String in
            guard let code = Modality.code(m) else {
                throw SingleImageError(file: image, message: "--modality '\(m)' is not one of \(Modality.known.map { $0.lowercased() }.joined(separator: ", "))")
            }
            return code
        }
        if let dicomModality, let given, dicomModality != given {
            throw SingleImageError(file: image, message: "--modality \(given.lowercased()) disagrees with the DICOM series, whose Modality is \(dicomModality)")
        }
        let scanModality = dicomModality ?? given ?? Modality.ct
        guard let chosen = settings.settings(for: scanModality) else {
            throw RadiomicsError.noSettingsForModality("\(name): the image is \(scanModality) and the settings are only for \(settings.all.compactMap(\.modality).joined(separator: ", "))")
        }
        let result = try LesionFeatureExtractor.extract(image: volume, lesions: [region], labels: [name],
                                                        settings: chosen, budget: memoryLimit.budget(),
                                                        modality: scanModality)[0]
        let warnings = Array(Set(contourWarnings + result.warnings + result.tumour.warnings + (result.ring?.warnings ?? []))).sorted()
        return SingleImageFeatures(region: name, settings: chosen, tumour: result.tumour, ring: result.ring,
                                   core: result.core, tumourRing: result.tumourRing, warnings: warnings)
    }

    /// The image and the chosen region's mask on the image grid, with a description of the region and
    /// warnings about the contour's identifiers. An RTSTRUCT or SEG on a DICOM series is checked against it
    /// (`ContourReferenceCheck`): contours of another patient or frame of reference are refused.
    /// `modality` is the DICOM series' Modality, nil for a NIfTI/NRRD image.
    public static func loadRegion(image: URL, mask: URL, label: String?) throws
        -> (image: Volume<Float>, mask: Mask, region: String, warnings: [String], modality: String?) {
        let imageKind = InputFile.kind(image)
        switch imageKind {
        case .missing: throw SingleImageError(file: image, message: "image not found")
        case .regular, .directory: break
        default: throw SingleImageError(file: image, message: "is \(imageKind.phrase), not an image file or a DICOM folder")
        }
        let dicomImage = imageKind == .directory ? try DCMTKSource().loadSeries(image) : nil
        let volume = try dicomImage?.scan.image ?? ImageFile.readImage(image)
        if let bad = volume.voxels.firstIndex(where: { !$0.isFinite }) {
            throw SingleImageError(file: image, message: "image holds a non-finite value (\(volume.voxels[bad])) at voxel \(volume.grid.index(ofLinear: bad))")
        }
        switch InputFile.kind(mask) {
        case .missing: throw SingleImageError(file: mask, message: "mask not found")
        case .regular: break
        case let k: throw SingleImageError(file: mask, message: "is \(k.phrase), not a label map, RTSTRUCT or SEG file")
        }
        let file = mask.lastPathComponent
        let name = mask.lastPathComponent.lowercased()
        if name.hasSuffix(".nii") || name.hasSuffix(".nii.gz") || name.hasSuffix(".nrrd") || name.hasSuffix(".nhdr") {
            let labels = try ImageFile.readLabelMap(mask)
            do {
                try volume.grid.requireMatch(labels.grid, context: "mask \(file) vs image \(image.lastPathComponent)")
            } catch {
                throw SingleImageError(file: mask, message: ErrorText.plain(error))
            }
            // One pass finds every label and its bounding box; the mask is then built from the box alone.
            let regions = labels.labelRegions
            let present = regions.map(\.label)
            let value: Int32
            if let label {
                guard let v = Int32(label.trimmingCharacters(in: .whitespaces)) else {
                    throw SingleImageError(file: mask, message: "--label '\(label)' is not a label value")
                }
                value = v
            } else {
                guard present.count == 1 else {
                    throw SingleImageError(file: mask, message: present.isEmpty ? "the label map is empty"
                        : "holds labels \(present.map(String.init).joined(separator: ", ")); choose one with --label")
                }
                value = present[0]
            }
            // Label 0 (the background) is not among the regions; it keeps its whole-map mask.
            let region = regions.first(where: { $0.label == value }).map { labels.mask(of: $0) }
                ?? labels.mask(label: value)
            guard !region.isEmpty else {
                throw SingleImageError(file: mask, message: "label \(value) does not occur (labels present: \(present.map(String.init).joined(separator: ", ")))")
            }
            return (volume, region, "label \(value) of \(file)", [], nil)
        }
        let target = dicomImage.map { ContourImage(reference: $0.reference, name: image.lastPathComponent) }
        let contours = try dicomContours(mask, label: label, grid: volume.grid, image: target)
        let found = contours.masks
        var warnings = contours.warnings
        if target == nil {
            warnings.append("the contours are placed on \(image.lastPathComponent), which is not DICOM, by patient coordinates only: their frame of reference, series and patient cannot be checked against the image")
        }
        guard found.count == 1 else {
            throw SingleImageError(file: mask, message: "\(found.count) regions match (\(found.map { "'\($0.name)'" }.joined(separator: ", "))); choose one with --label")
        }
        guard !found[0].mask.isEmpty else {
            throw SingleImageError(file: mask, message: "region '\(found[0].name)' covers no voxel of the image")
        }
        return (volume, found[0].mask, "ROI '\(found[0].name)' of \(file)", warnings, dicomImage?.scan.metadata.modality)
    }

    /// The masks of an RTSTRUCT, or of a SEG when the file is not an RTSTRUCT. The error of the
    /// reader that recognised the file is the one reported.
    private static func dicomContours(_ file: URL, label: String?, grid: ImageGrid, image: ContourImage?) throws -> ContourSet {
        let source = DCMTKSource()
        do {
            return try source.contours(file, kind: .rtstruct, roi: label, onto: grid, checkedAgainst: image)
        } catch let asRTStruct {
            guard "\(asRTStruct)".contains("is not an RT Structure Set") else { throw asRTStruct }
            return try source.contours(file, kind: .seg, roi: label, onto: grid, checkedAgainst: image)
        }
    }
}

/// A failure of `lesionmap features`, naming the file involved.
public struct SingleImageError: Error, CustomStringConvertible, Sendable {
    public var file: URL
    public var message: String

    public var description: String { "\(file.path): \(message)" }
}
