import Foundation
import ImageIO
import ImagingCore
import TestSupport
import XCTest

/// Geometry and values of the reference NIfTI files, against what SimpleITK 2.5.7 (ITK 5.4)
/// reports for them (`GetOrigin`, `GetSpacing`, `GetDirection`, `TransformIndexToPhysicalPoint`, `image[i, j, k]`).
final class NIfTIReferenceDataTests: XCTestCase {
    func testSTS001MatchesSimpleITK() throws {
        let url = try SharedData.url("sts_001/nifti/image.nii.gz")
        let image = try NIfTI.readImage(url)
        XCTAssertEqual(image.size, Size3(198, 202, 59))
        XCTAssertEqual(try NIfTI.readHeader(url).transformSource, .qform)
        assertGrid(image.grid, matches: SimpleITKGeometry(
            origin: [-23.4376163482666, -86.91414642333984, -881.3200073242188],
            spacing: [0.9765620231628418, 0.9765620231628418, 3.2699999809265137],
            direction: [1, 0, 0, 0, 1, 0, 0, 0, 1],
            points: [(Index3(0, 0, 0), [-23.437616, -86.914146, -881.320007]),
                     (Index3(197, 0, 0), [168.945102, -86.914146, -881.320007]),
                     (Index3(0, 201, 0), [-23.437616, 109.374820, -881.320007]),
                     (Index3(0, 0, 58), [-23.437616, -86.914146, -691.660008]),
                     (Index3(197, 201, 58), [168.945102, 109.374820, -691.660008]),
                     (Index3(99, 67, 14), [73.242024, -21.484491, -835.540008])]), "STS_001")
        XCTAssertEqual(image[0, 0, 0], -984)
        XCTAssertEqual(image[197, 0, 0], 93)
        XCTAssertEqual(image[0, 201, 0], -971)
        XCTAssertEqual(image[0, 0, 58], -997)
        XCTAssertEqual(image[197, 201, 58], -91)
        XCTAssertEqual(image[99, 67, 14], 34)
    }

    func testIBSICTPhantomMatchesSimpleITK() throws {
        let url = try SharedData.url("ibsi1/ct_phantom/nifti/image.nii.gz")
        let image = try NIfTI.readImage(url)
        XCTAssertEqual(image.size, Size3(204, 201, 60))
        // qform code 2 and sform code 1: ITK takes the sform.
        XCTAssertEqual(try NIfTI.readHeader(url).transformSource, .sform)
        assertGrid(image.grid, matches: SimpleITKGeometry(
            origin: [-174.39450073242188, -79.62550354003906, -100.4000015258789],
            spacing: [0.9769999980926514, 0.9769999980926514, 3.0],
            direction: [1, 0, 0, 0, 1, 0, 0, 0, 1],
            points: [(Index3(0, 0, 0), [-174.394501, -79.625504, -100.400002]),
                     (Index3(203, 0, 0), [23.936499, -79.625504, -100.400002]),
                     (Index3(0, 200, 0), [-174.394501, 115.774496, -100.400002]),
                     (Index3(0, 0, 59), [-174.394501, -79.625504, 76.599998]),
                     (Index3(203, 200, 59), [23.936499, 115.774496, 76.599998]),
                     (Index3(102, 67, 15), [-74.740501, -14.166504, -55.400002])]), "IBSI CT phantom")
        XCTAssertEqual(image[0, 0, 0], -1000)
        XCTAssertEqual(image[203, 0, 0], 58)
        XCTAssertEqual(image[0, 200, 0], -901)
        XCTAssertEqual(image[203, 200, 59], -395)
        XCTAssertEqual(image[102, 67, 15], 38)

        let mask = try NIfTI.readLabelMap(try SharedData.url("ibsi1/ct_phantom/nifti/mask.nii.gz"))
        XCTAssertTrue(mask.grid.matches(image.grid))
        XCTAssertEqual(mask.labels, [1])
    }

    func testIBSIDigitalPhantomMatchesSimpleITK() throws {
        let url = try SharedData.url("ibsi1/digital_phantom/image.nii.gz")
        let image = try NIfTI.readImage(url)
        XCTAssertEqual(image.size, Size3(5, 4, 4))
        assertGrid(image.grid, matches: SimpleITKGeometry(
            origin: [0, 0, 0], spacing: [2, 2, 2], direction: [1, 0, 0, 0, 1, 0, 0, 0, 1],
            points: [(Index3(4, 0, 0), [8, 0, 0]), (Index3(0, 3, 0), [0, 6, 0]), (Index3(0, 0, 3), [0, 0, 6]),
                     (Index3(4, 3, 3), [8, 6, 6]), (Index3(2, 1, 1), [4, 2, 2])]), "digital phantom")
        XCTAssertEqual(image[0, 0, 0], 1)
        XCTAssertEqual(image[0, 3, 0], 4)
        XCTAssertEqual(image[2, 1, 1], 6)
        XCTAssertEqual(try NIfTI.readHeader(url).datatypeName, "int16")
    }

    /// Voxel counts of the edge-case masks (8x8x8 grid): numpy on the SimpleITK arrays counts 0, 512, 1 and 3.
    func testMaskEdgeCases() throws {
        let image = try NIfTI.readImage(try SharedData.url("mask_edge_cases/image.nii.gz"))
        XCTAssertEqual(image.size, Size3(8, 8, 8))
        var counts = [String: Int]()
        for name in ["empty_mask", "full_mask", "one_voxel_mask", "disconnected_mask"] {
            let labels = try NIfTI.readLabelMap(try SharedData.url("mask_edge_cases/\(name).nii.gz"))
            XCTAssertTrue(labels.grid.matches(image.grid), name)
            counts[name] = labels.voxels.filter { $0 != 0 }.count
        }
        XCTAssertEqual(counts["empty_mask"], 0)
        XCTAssertEqual(counts["full_mask"], 512)
        XCTAssertEqual(counts["one_voxel_mask"], 1)
        XCTAssertEqual(counts["disconnected_mask"], 3)
        let disconnected = try NIfTI.readLabelMap(try SharedData.url("mask_edge_cases/disconnected_mask.nii.gz"))
        XCTAssertEqual([disconnected[0, 0, 0], disconnected[3, 3, 3], disconnected[7, 7, 7]], [1, 1, 1])
        let one = try NIfTI.readLabelMap(try SharedData.url("mask_edge_cases/one_voxel_mask.nii.gz"))
        XCTAssertEqual(one[3, 3, 3], 1)
        XCTAssertEqual(image.voxels.reduce(0, +), 512)
    }
}
