import Foundation
import ImageIO
import ImagingCore
import TestSupport
import XCTest

final class ImageFileTests: XCTestCase {
    func testDispatchByExtension() throws {
        let dir = try SharedData.temporaryDirectory(for: self)
        let grid = NIfTIRoundTripTests.obliqueGrid
        let labels = LabelMap(grid: grid, voxels: (0..<grid.voxelCount).map { Int32($0 % 4) })
        for name in ["x.nii", "x.NII.GZ"] {
            let url = dir.appendingPathComponent(name)
            try NIfTI.write(labels, to: url)
            XCTAssertEqual(try ImageFile.readLabelMap(url).voxels, labels.voxels)
            XCTAssertEqual(try ImageFile.readImage(url).voxels, labels.voxels.map { Float($0) })
        }
        let nrrd = dir.appendingPathComponent("y.nrrd")
        try Data("NRRD0005\ntype: uint8\ndimension: 3\nsizes: 2 1 1\nspace: Left-Posterior-Superior\nencoding: raw\n\n"
            .utf8 + [3, 4]).write(to: nrrd)
        XCTAssertEqual(try ImageFile.readLabelMap(nrrd).voxels, [3, 4])
    }

    func testUnknownExtensionIsRefused() throws {
        let url = try SharedData.temporaryDirectory(for: self).appendingPathComponent("scan.mha")
        try Data("ObjectType = Image\n".utf8).write(to: url)
        XCTAssertThrowsError(try ImageFile.readImage(url)) { error in
            XCTAssertEqual((error as? ImageIOError)?.file, url)
            XCTAssertTrue("\(error)".contains(".nii, .nii.gz, .nrrd or .nhdr"), "\(error)")
        }
    }
}
