import Foundation
import ImagingCore

/// Builds one regular grid from the slices of a series, or explains why it cannot.
enum SeriesGeometry {
    /// Largest allowed departure of a slice gap from the median gap: 1% of the spacing, at least 0.01 mm.
    static func spacingTolerance(_ spacing: Double) -> Double { max(0.01, 0.01 * spacing) }

    /// The grid and the slices in k order.
    static func grid(of slices: [SliceHeader], folder: URL) throws -> (ImageGrid, [SliceHeader]) {
        guard let first = slices.first else { throw DICOMError(file: folder, message: "the series has no image files") }
        // The folder names the series; its SeriesInstanceUID is never shown (an identifier).
        func fail(_ m: String) -> DICOMError { DICOMError(file: folder, message: m) }

        for s in slices {
            if s.frames > 1 {
                throw DICOMError(file: s.url, message: "multi-frame image (\(s.frames) frames): only single-frame slice series are supported")
            }
            guard s.rows > 0, s.columns > 0 else { throw DICOMError(file: s.url, message: "Rows or Columns is missing") }
            if s.rows != first.rows || s.columns != first.columns {
                throw fail("slice sizes differ: \(first.columns)x\(first.rows) in \(first.url.lastPathComponent), \(s.columns)x\(s.rows) in \(s.url.lastPathComponent)")
            }
            guard let p = s.position, p.x.isFinite, p.y.isFinite, p.z.isFinite else {
                throw DICOMError(file: s.url, message: "ImagePositionPatient (0020,0032) is missing or malformed")
            }
            guard s.orientation.count == 6, s.orientation.allSatisfy(\.isFinite) else { throw DICOMError(file: s.url, message: "ImageOrientationPatient (0020,0037) is missing or malformed") }
            guard s.pixelSpacing.count == 2, s.pixelSpacing.allSatisfy({ $0 > 0 && $0.isFinite }) else {
                throw DICOMError(file: s.url, message: "PixelSpacing (0028,0030) is missing or not positive")
            }
            if zip(s.orientation, first.orientation).contains(where: { abs($0 - $1) > 1e-4 }) {
                throw fail("ImageOrientationPatient differs between slices (\(first.url.lastPathComponent) vs \(s.url.lastPathComponent))")
            }
            if zip(s.pixelSpacing, first.pixelSpacing).contains(where: { abs($0 - $1) > 1e-4 }) {
                throw fail("PixelSpacing differs between slices (\(first.url.lastPathComponent) vs \(s.url.lastPathComponent))")
            }
        }
        let o = first.orientation
        var row = Vector3(o[0], o[1], o[2]), col = Vector3(o[3], o[4], o[5])
        guard abs(row.length - 1) < 1e-3, abs(col.length - 1) < 1e-3 else {
            throw fail("ImageOrientationPatient \(o) does not hold unit vectors")
        }
        row = (1 / row.length) * row
        col = (1 / col.length) * col
        if abs(row.dot(col)) > 1e-4 {
            let angle = acos(max(-1, min(1, row.dot(col)))) * 180 / .pi
            throw fail("row and column directions are not orthogonal (\(String(format: "%.3f", angle)) degrees apart); such images cannot be represented without resampling and are refused")
        }
        let normal = row.cross(col)
        let ordered = slices.sorted { $0.position!.dot(normal) < $1.position!.dot(normal) }
        let origin = ordered[0].position!
        var spacingZ = 1.0
        if ordered.count > 1 {
            var gaps: [Double] = []
            for k in 1..<ordered.count {
                let a = ordered[k - 1], b = ordered[k]
                let gap = (b.position! - a.position!).dot(normal)
                if gap < 1e-3 {
                    throw fail("two slices share the position \(b.position!): \(a.url.lastPathComponent) and \(b.url.lastPathComponent) (duplicate slice)")
                }
                gaps.append(gap)
                let d = b.position! - origin
                let along = d.dot(normal)
                let lateral = (d - along * normal).length
                if lateral > max(0.01, 1e-3 * along) {
                    let angle = atan2(lateral, along) * 180 / .pi
                    throw fail("slice positions drift sideways by \(String(format: "%.3f", lateral)) mm over \(String(format: "%.1f", along)) mm (\(String(format: "%.2f", angle)) degrees): gantry tilt or sheared series, refused (resample it first)")
                }
            }
            let median = gaps.sorted()[gaps.count / 2]
            for (k, gap) in gaps.enumerated() where abs(gap - median) > spacingTolerance(median) {
                let a = ordered[k], b = ordered[k + 1]
                let ratio = gap / median
                let za = a.position!.dot(normal), zb = b.position!.dot(normal)
                if ratio > 1.5 && abs(ratio - ratio.rounded()) < 0.1 {
                    throw fail("\(Int(ratio.rounded()) - 1) slice(s) missing between \(a.url.lastPathComponent) (at \(fmt(za)) mm) and \(b.url.lastPathComponent) (at \(fmt(zb)) mm): gap \(fmt(gap)) mm, spacing \(fmt(median)) mm")
                }
                throw fail("non-uniform slice spacing: gap \(fmt(gap)) mm between \(a.url.lastPathComponent) and \(b.url.lastPathComponent), \(fmt(median)) mm elsewhere")
            }
            spacingZ = gaps.reduce(0, +) / Double(gaps.count)
        }
        let grid = ImageGrid(size: Size3(first.columns, first.rows, ordered.count),
                             spacing: Vector3(first.pixelSpacing[1], first.pixelSpacing[0], spacingZ),
                             origin: origin, direction: Matrix3(columns: row, col, normal))
        return (grid, ordered)
    }

    static func fmt(_ x: Double) -> String { String(format: "%.3f", x) }
}
