import Foundation
import ImagingCore

/// One segment of a DICOM Segmentation.
public struct SegmentInfo: Hashable, Sendable {
    public var number: Int
    public var label: String
}

/// Reads DICOM Segmentation objects (BINARY and FRACTIONAL) onto an image grid.
///
/// Each frame is placed by its own ImagePositionPatient (per-frame functional groups), so frames may
/// come in any order, cover any subset of slices, and hold any segment. The frame's plane must match
/// the image grid's orientation and pixel spacing and fall on a slice; resampling is not done.
/// BINARY frames are 1-bit packed across frame boundaries; FRACTIONAL values count as inside at half
/// of MaximumFractionalValue or more.
public enum SEGReader {
    /// Segments in SegmentSequence order.
    public static func segments(_ url: URL) throws -> [SegmentInfo] {
        let file = try DICOMFile(reading: url, deferLength: 4096)
        return try segments(of: file.dataset, url: url)
    }

    static func segments(of d: DICOMItem, url: URL) throws -> [SegmentInfo] {
        guard d.string(Tag.modality) == "SEG" || d.string(Tag.sopClassUID) == SOPClass.segmentation else {
            throw DICOMError(file: url, message: "is not a DICOM Segmentation (Modality \(Redacted.code(d.string(Tag.modality), known: Redacted.modalities)))")
        }
        return try d.items(Tag.segmentSequence).enumerated().compactMap { index, s in
            guard let value = s.number(Tag.segmentNumber) else { return nil }
            guard let n = value.wholeNumber else {
                throw DICOMError(file: url, message: "item \(index + 1) of the Segment Sequence has a SegmentNumber (0062,0004) "
                                 + "that is not a whole number")
            }
            return SegmentInfo(number: n, label: s.text(Tag.segmentLabel) ?? "segment \(n)")
        }
    }

    /// Masks of the given segments (all when nil), in the order asked (or SegmentSequence order).
    public static func read(_ url: URL, segments wanted: [Int]? = nil, onto grid: ImageGrid) throws -> [(SegmentInfo, Mask)] {
        let file = try DICOMFile(reading: url)
        let d = file.dataset
        func fail(_ m: String, segment: SegmentInfo? = nil) -> DICOMError {
            DICOMError(file: url, message: segment.map { "segment \($0.number) '\(Redacted.label($0.label))': " + m } ?? m, region: segment?.label)
        }
        let all = try segments(of: d, url: url)
        let chosen: [SegmentInfo]
        if let wanted {
            chosen = try wanted.map { n in
                guard let s = all.first(where: { $0.number == n }) else {
                    throw fail("segment \(n) does not exist; segments: " + all.map { "\($0.number) '\(Redacted.label($0.label))'" }.joined(separator: ", "))
                }
                return s
            }
        } else {
            chosen = all
        }
        let type = (d.string(Tag.segmentationType) ?? "BINARY").uppercased()
        guard type == "BINARY" || type == "FRACTIONAL" else {
            throw fail("SegmentationType (0062,0001) is \(Redacted.code(type, known: ["LABELMAP"])); only BINARY and FRACTIONAL segmentations are supported")
        }
        let maxFraction = type == "FRACTIONAL" ? (d.number(Tag.maximumFractionalValue) ?? 255) : 1
        guard maxFraction > 0, maxFraction.isFinite else {
            throw fail("MaximumFractionalValue (0062,000E) is not a positive number")
        }
        let info = try file.pixelInfo()
        let declaredFrames: [Double]? = d.has(Tag.numberOfFrames) ? ((try? d.numbers(Tag.numberOfFrames)) ?? [.nan]) : nil
        if let problem = PixelModule.problem(info, photometric: d.text(Tag.photometricInterpretation), numberOfFrames: declaredFrames,
                                             kind: type == "BINARY" ? .binarySegmentation : .fractionalSegmentation) {
            throw fail(problem)
        }
        let shared = d.firstItem(Tag.sharedFunctionalGroupsSequence)
        let perFrame = d.items(Tag.perFrameFunctionalGroupsSequence)
        guard perFrame.count == info.frames else {
            throw fail("has \(info.frames) frames but \(perFrame.count) per-frame functional groups")
        }
        func lookup(_ frame: DICOMItem, _ group: DICOMTag) -> DICOMItem? {
            frame.firstItem(group) ?? shared?.firstItem(group)
        }
        var masks = chosen.map { _ in Mask(grid: grid, repeating: false) }
        let slot = Dictionary(uniqueKeysWithValues: chosen.enumerated().map { ($0.element.number, $0.offset) })
        let rowDir = grid.direction.column(0), colDir = grid.direction.column(1)
        let n = grid.size
        for (f, frame) in perFrame.enumerated() {
            guard let segment = lookup(frame, Tag.segmentIdentificationSequence)?.number(Tag.referencedSegmentNumber) else {
                throw fail("frame \(f + 1) has no ReferencedSegmentNumber")
            }
            guard let number = segment.wholeNumber, let s = slot[number] else { continue }
            let segmentInfo = chosen[s]
            guard let pos = try lookup(frame, Tag.planePositionSequence)?.numbers(Tag.imagePositionPatient), pos.count == 3,
                  pos.allSatisfy(\.isFinite) else {
                throw fail("frame \(f + 1) has no usable ImagePositionPatient (three finite numbers) in its Plane Position Sequence", segment: segmentInfo)
            }
            if let o = try lookup(frame, Tag.planeOrientationSequence)?.numbers(Tag.imageOrientationPatient), o.count == 6 {
                let r = Vector3(o[0], o[1], o[2]), c = Vector3(o[3], o[4], o[5])
                if (r - rowDir).length > 1e-3 || (c - colDir).length > 1e-3 {
                    throw fail("frame \(f + 1) orientation \(o) differs from the image's; resampling segmentations is not supported", segment: segmentInfo)
                }
            }
            if let ps = try lookup(frame, Tag.pixelMeasuresSequence)?.numbers(Tag.pixelSpacing), ps.count == 2 {
                if abs(ps[1] - grid.spacing.x) > 1e-3 || abs(ps[0] - grid.spacing.y) > 1e-3 {
                    throw fail("frame \(f + 1) pixel spacing \(ps) differs from the image's (\(grid.spacing.y), \(grid.spacing.x)); resampling segmentations is not supported", segment: segmentInfo)
                }
            }
            let c = grid.continuousIndex(ofWorld: Vector3(pos[0], pos[1], pos[2]))
            // Far outside any grid (or beyond Int): not on it.
            guard let k = c.z.rounded().wholeNumber, let i0 = c.x.rounded().wholeNumber, let j0 = c.y.rounded().wholeNumber,
                  abs(c.z - Double(k)) <= ContourRasterizer.planeTolerance,
                  abs(c.x - Double(i0)) <= 0.1, abs(c.y - Double(j0)) <= 0.1 else {
                throw fail("frame \(f + 1) at \(pos) does not fall on the image's voxel grid (index \(c))", segment: segmentInfo)
            }
            let values = try file.frameInt32(f, count: info.rows * info.columns)
            let threshold = type == "FRACTIONAL" ? 0.5 * maxFraction : 0.5
            var outside = false
            for r in 0..<info.rows {
                for col in 0..<info.columns where Double(values[r * info.columns + col]) >= threshold {
                    let i = i0 + col, j = j0 + r
                    if grid.contains(i, j, k) { masks[s][i, j, k] = true } else { outside = true }
                }
            }
            if outside {
                throw fail("frame \(f + 1) at \(pos) marks voxels outside the image (\(n) voxels)", segment: segmentInfo)
            }
        }
        return Array(zip(chosen, masks))
    }
}
