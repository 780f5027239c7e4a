import Foundation
import ImagingCore
import DICOMIO

/// The cohort loader's DICOM reader, built on DCMTK.
///
/// - `series`: the only CT or PET series under the folder (see `DICOMSeriesReader.read`).
/// - RTSTRUCT contours: `roi` is an ROI name or glob pattern (case-insensitive, see
///   `RTStructReader.select`); nil takes every ROI for which `RTROI.isLesion` holds (GTVs and
///   untyped ROIs; organs at risk, EXTERNAL, support structures and CTV/PTV/ITV are skipped).
/// - SEG contours: `roi` is a segment number; nil takes every segment. Masks are named by
///   their segment label and carry their segment number (RTSTRUCT masks: their ROI number).
/// - Contours placed on a DICOM image are first checked against it (`ContourReferenceCheck`):
///   contours of another patient or frame of reference are refused.
public struct DCMTKSource: DICOMSource {
    public init() {}

    public func loadSeries(_ folder: URL) throws -> DICOMScan {
        let series = try DICOMSeriesReader.read(folder)
        return DICOMScan(scan: series.scan, reference: series.reference)
    }

    /// The series as a scan, without its identifiers.
    public func series(_ folder: URL) throws -> Scan {
        try DICOMSeriesReader.read(folder).scan
    }

    public func contours(_ file: URL, kind: ContourSourceKind, roi: String?, onto grid: ImageGrid,
                         checkedAgainst image: ContourImage?) throws -> ContourSet {
        switch kind {
        case .rtstruct:
            let rois = try RTStructReader.list(file)
            let picked: [RTROI]
            if let roi {
                picked = RTStructReader.select(rois, name: roi)
                guard !picked.isEmpty else {
                    throw DICOMError(file: file, message: "no ROI named '\(roi)'; ROIs: " + list(rois))
                }
            } else {
                picked = rois.filter(\.isLesion)
                guard !picked.isEmpty else {
                    throw DICOMError(file: file, message: "no ROI looks like a lesion (GTV or untyped); ROIs: " + list(rois))
                }
            }
            let numbers = Set(picked.map(\.number))
            let warnings = try image.map {
                try ContourReferenceCheck.check(file, against: $0.reference, imageName: $0.name, roiNumbers: numbers)
            } ?? []
            let chosen = try RTStructReader.read(file, including: { numbers.contains($0.number) })
            let masks = try chosen.map {
                NamedMask(name: $0.name, mask: try ContourRasterizer.mask($0, on: grid, file: file), number: $0.number)
            }
            return ContourSet(masks: masks, warnings: warnings)
        case .seg:
            var wanted: [Int]? = nil
            if let roi {
                guard let n = Int(roi.trimmingCharacters(in: .whitespaces)) else {
                    throw DICOMError(file: file, message: "'\(roi)' is not a segment number")
                }
                wanted = [n]
            }
            let warnings = try image.map {
                try ContourReferenceCheck.check(file, against: $0.reference, imageName: $0.name)
            } ?? []
            let masks = try SEGReader.read(file, segments: wanted, onto: grid).map {
                NamedMask(name: $0.0.label, mask: $0.1, number: $0.0.number)
            }
            return ContourSet(masks: masks, warnings: warnings)
        case .labelMap:
            throw DICOMError(file: file, message: "label maps are read by ImageIO, not the DICOM reader")
        }
    }

    /// The masks on `grid` without any check against an image's identifiers (for images that are not
    /// DICOM, whose identifiers are unknown).
    public func contours(_ file: URL, kind: ContourSourceKind, roi: String?, onto grid: ImageGrid) throws -> [NamedMask] {
        try contours(file, kind: kind, roi: roi, onto: grid, checkedAgainst: nil).masks
    }

    /// ROI names (lesion names, which may be shown) and their interpreted types (defined terms only).
    private func list(_ rois: [RTROI]) -> String {
        rois.map { "'\($0.shownName)' (\($0.interpretedType.map { RTROI.interpretedTypeTerms.contains($0.uppercased()) ? $0 : "other type" } ?? "no type"))" }
            .joined(separator: ", ")
    }
}
