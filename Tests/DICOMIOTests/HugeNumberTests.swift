import DICOMIO
import Foundation
import ImagingCore
import TestSupport
import XCTest

/// Found by fuzzing the DICOM reader (a SEG whose frame position was 9e99): numbers far beyond any grid or
/// beyond `Int` in a SEG or RTSTRUCT stopped the process (`Int(Double)` traps). They are refused or clipped.
final class HugeNumberTests: XCTestCase {
    private let grid = ImageGrid(size: Size3(8, 6, 3), spacing: Vector3(0.7, 0.7, 2), origin: Vector3(-3, -2, 10))

    /// Writes a CT series, and an RTSTRUCT and a SEG on it, into a fresh folder.
    private func files() throws -> (rtstruct: URL, seg: URL) {
        let dir = try SharedData.temporaryDirectory(for: self)
        let ct = Volume(grid: grid, voxels: (0..<grid.voxelCount).map { Float($0 % 50) })
        let reference = try DICOMWriter.writeSeries(ct, to: dir.appendingPathComponent("ct"))
        var mask = Mask(grid: grid, repeating: false)
        for j in 1..<4 { for i in 2..<6 { mask[i, j, 1] = true } }
        let regions = [ExportRegion(name: "GTV", mask: mask)]
        let rt = dir.appendingPathComponent("rt.dcm"), seg = dir.appendingPathComponent("seg.dcm")
        try RTStructWriter.write(regions, referencing: reference, grid: grid, to: rt)
        try SEGWriter.write(regions, referencing: reference, grid: grid, to: seg)
        return (rt, seg)
    }

    /// Replaces the value of the first explicit-VR `DS` element (group, element) by `text`, space-padded to
    /// the same length (so no enclosing length changes).
    private func patchDS(_ url: URL, _ group: UInt16, _ element: UInt16, with text: String) throws {
        var b = [UInt8](try Data(contentsOf: url))
        let tag: [UInt8] = [UInt8(group & 0xFF), UInt8(group >> 8), UInt8(element & 0xFF), UInt8(element >> 8), 0x44, 0x53]
        let at = try XCTUnwrap((0..<(b.count - 8)).first { Array(b[$0..<($0 + 6)]) == tag }, "element not found")
        let length = Int(b[at + 6]) | Int(b[at + 7]) << 8
        let value = Array(text.utf8)
        XCTAssertLessThanOrEqual(value.count, length, "replacement longer than the value")
        b.replaceSubrange((at + 8)..<(at + 8 + length), with: value + [UInt8](repeating: 0x20, count: length - value.count))
        try Data(b).write(to: url)
    }

    func testASEGFramePositionFarBeyondIntIsRefused() throws {
        let seg = try files().seg
        try patchDS(seg, 0x0020, 0x0032, with: "9e99\\0\\0")
        XCTAssertThrowsError(try SEGReader.read(seg, onto: grid)) { error in
            XCTAssertTrue("\(error)".contains("does not fall on the image's voxel grid"), "\(error)")
        }
    }

    func testAnRTSTRUCTContourFarBeyondIntIsClippedToTheImage() throws {
        let rt = try files().rtstruct
        // A triangle on slice 1 (z = 12) with two corners 1e99 mm away: it covers the rows it crosses.
        try patchDS(rt, 0x3006, 0x0050, with: "-1e99\\-2\\12\\1e99\\-2\\12\\0\\1e99\\12")
        let rois = try RTStructReader.read(rt)
        let mask = try ContourRasterizer.mask(rois[0], on: grid, file: rt)
        XCTAssertEqual(mask.voxels.filter { $0 }.count, 8 * 6, "the whole slice lies inside the triangle")
        // A contour whose plane is 1e99 mm away lies outside the slices.
        try patchDS(rt, 0x3006, 0x0050, with: "0\\0\\1e99\\1\\0\\1e99\\1\\1\\1e99")
        XCTAssertThrowsError(try ContourRasterizer.mask(try RTStructReader.read(rt)[0], on: grid, file: rt)) { error in
            XCTAssertTrue("\(error)".contains("lies outside the image's 3 slices"), "\(error)")
        }
    }
}
