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
///   their segment label.
public struct DCMTKSource: DICOMSource {
    public init() {}

    public func series(_ folder: URL) throws -> Scan {
        try DICOMSeriesReader.read(folder).scan
    }

    public func contours(_ file: URL, kind: ContourSourceKind, roi: String?, onto grid: ImageGrid) throws -> [NamedMask] {
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
            let chosen = try RTStructReader.read(file, including: { numbers.contains($0.number) })
            return try chosen.map { NamedMask(name: $0.name, mask: try ContourRasterizer.mask($0, on: grid, file: file)) }
        case .seg:
            var wanted: [Int]? = nil
            if let roi {
                guard let n = Int(roi.trimmingCharacters(in: .whitespaces)) else {
                    throw DICOMError(file: file, message: "'\(roi)' is not a segment number")
                }
                wanted = [n]
            }
            return try SEGReader.read(file, segments: wanted, onto: grid).map { NamedMask(name: $0.0.label, mask: $0.1) }
        case .labelMap:
            throw DICOMError(file: file, message: "label maps are read by ImageIO, not the DICOM reader")
        }
    }

    private func list(_ rois: [RTROI]) -> String {
        rois.map { "'\($0.name)' (\($0.interpretedType ?? "no type"))" }.joined(separator: ", ")
    }
}
