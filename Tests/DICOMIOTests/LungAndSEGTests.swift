import Cohort
import DICOMIO
import Foundation
import ImagingCore
import TestSupport
import XCTest

/// LUNG1-001 (full-size CT, four ROIs) and the bit-packed SEG edge case.
final class LungAndSEGTests: XCTestCase {
    func testLung1SeriesMetadataAndROIs() throws {
        let folder = try SharedData.url("nsclc_lung1_001/ct")
        let rtstruct = try SharedData.url("nsclc_lung1_001/rtstruct.dcm")
        let series = try DICOMSeriesReader.read(folder)
        let g = series.image.grid
        print("LUNG1-001: \(g), metadata \(series.metadata)")
        XCTAssertEqual(g.size, Size3(512, 512, 134))
        XCTAssertEqual(series.metadata.modality, "CT")
        XCTAssertEqual(series.metadata.kvp, 120)
        XCTAssertNotNil(series.metadata.manufacturer)
        XCTAssertEqual(series.reference.sopInstanceUIDs.count, 134)
        // Air outside the body, soft tissue inside: HU after rescale.
        XCTAssertEqual(Double(series.image[5, 5, 67]), -1000, accuracy: 200)

        let rois = try RTStructReader.read(rtstruct)
        XCTAssertEqual(Set(rois.map(\.name)), ["GTV-1", "Spinal-Cord", "Lung-Left", "Lung-Right"])
        var volumes: [String: Double] = [:]
        for roi in rois {
            let mask = try ContourRasterizer.mask(roi, on: g, file: rtstruct)
            volumes[roi.name] = mask.physicalVolume / 1000
            print("LUNG1-001 ROI '\(roi.name)' (\(roi.interpretedType ?? "no type")): \(mask.count) voxels, \(String(format: "%.1f", mask.physicalVolume / 1000)) ml")
        }
        XCTAssert((50...400).contains(volumes["GTV-1"]!), "GTV volume \(volumes["GTV-1"]!) ml")
        XCTAssert((5...100).contains(volumes["Spinal-Cord"]!), "cord volume \(volumes["Spinal-Cord"]!) ml")
        XCTAssert((800...5000).contains(volumes["Lung-Left"]!), "left lung volume \(volumes["Lung-Left"]!) ml")
        XCTAssert((800...5000).contains(volumes["Lung-Right"]!), "right lung volume \(volumes["Lung-Right"]!) ml")

        // Chosen by name (case-insensitive), and as the only lesion when the file is expanded.
        let source = DCMTKSource()
        let byName = try source.contours(rtstruct, kind: .rtstruct, roi: "gtv-1", onto: g)
        XCTAssertEqual(byName.map(\.name), ["GTV-1"])
        let byPattern = try source.contours(rtstruct, kind: .rtstruct, roi: "GTV*", onto: g)
        XCTAssertEqual(byPattern.map(\.name), ["GTV-1"])
        let expanded = try source.contours(rtstruct, kind: .rtstruct, roi: nil, onto: g)
        XCTAssertEqual(expanded.map(\.name), ["GTV-1"])
        XCTAssertThrowsError(try source.contours(rtstruct, kind: .rtstruct, roi: "Heart", onto: g)) { e in
            XCTAssert("\(e)".contains("no ROI named 'Heart'") && "\(e)".contains("Lung-Left"), "\(e)")
        }
    }

    func testSEGBitPackingDecodesAsDescribed() throws {
        let folder = try SharedData.url("seg_bitpacking/image")
        let segURL = try SharedData.url("seg_bitpacking/seg.dcm")
        let series = try DICOMSeriesReader.read(folder)
        let g = series.image.grid
        XCTAssertEqual(g.size, Size3(23, 38, 3))
        let segs = try SEGReader.read(segURL, onto: g)
        XCTAssertEqual(segs.map(\.0.number), [1])
        XCTAssertEqual(segs.map(\.0.label), ["Liver"])
        let mask = segs[0].1
        let corners = [(0, 0), (22, 0), (0, 37), (22, 37)]
        for k in 0..<3 {
            var count = 0
            for j in 0..<38 {
                for i in 0..<23 {
                    let isCorner = corners.contains { $0 == (i, j) }
                    let expected = isCorner || series.image[i, j, k] > 0
                    XCTAssertEqual(mask[i, j, k], expected, "voxel \(i),\(j),\(k)")
                    if mask[i, j, k] { count += 1 }
                }
            }
            print("seg_bitpacking slice \(k): \(count) voxels set")
        }
        XCTAssertEqual(mask.count, 4 + 314 + 4)
        let named = try DCMTKSource().contours(segURL, kind: .seg, roi: "1", onto: g)
        XCTAssertEqual(named.map(\.name), ["Liver"])
        XCTAssertThrowsError(try DCMTKSource().contours(segURL, kind: .seg, roi: "2", onto: g)) { e in
            XCTAssert("\(e)".contains("segment 2 does not exist"), "\(e)")
        }
    }
}
