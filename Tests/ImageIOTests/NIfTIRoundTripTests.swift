import Foundation
import ImageIO
import ImagingCore
import TestSupport
import XCTest

/// Writing then reading gives back the same voxels and geometry (to single precision, which is
/// what NIfTI stores), for every writer and both extensions.
final class NIfTIRoundTripTests: XCTestCase {
    /// An oblique grid: rotated about an oblique axis, anisotropic spacing, arbitrary origin.
    static var obliqueGrid: ImageGrid {
        let (c1, s1) = (cos(0.3), sin(0.3)), (c2, s2) = (cos(-0.2), sin(-0.2))
        let rz = Matrix3(rows: [[c1, -s1, 0], [s1, c1, 0], [0, 0, 1]])
        let rx = Matrix3(rows: [[1, 0, 0], [0, c2, -s2], [0, s2, c2]])
        return ImageGrid(size: Size3(7, 6, 5), spacing: Vector3(0.75, 0.8, 2.5),
                         origin: Vector3(-120.25, 33.5, -610.75), direction: rz * rx)
    }

    /// A left-handed grid (a flipped axis), which NIfTI stores with qfac = -1.
    static var reflectedGrid: ImageGrid {
        ImageGrid(size: Size3(4, 3, 2), spacing: Vector3(1.5, 1.25, 3), origin: Vector3(10, -20, 30),
                  direction: Matrix3(rows: [[1, 0, 0], [0, 0, 1], [0, 1, 0]]))
    }

    private func assertSameGeometry(_ a: ImageGrid, _ b: ImageGrid, file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertEqual(a.size, b.size, file: file, line: line)
        XCTAssertLessThan((a.origin - b.origin).length, 1e-4, "origin \(a.origin) vs \(b.origin)", file: file, line: line)
        XCTAssertLessThan((a.spacing - b.spacing).length, 1e-6, file: file, line: line)
        XCTAssertLessThan(a.direction.maxDifference(to: b.direction), 1e-6, file: file, line: line)
        for index in [Index3(0, 0, 0), Index3(a.size.nx - 1, a.size.ny - 1, a.size.nz - 1)] {
            XCTAssertLessThan((a.world(at: index) - b.world(at: index)).length, 1e-4, file: file, line: line)
        }
    }

    func testFloatRoundTrip() throws {
        let dir = try SharedData.temporaryDirectory(for: self)
        for grid in [Self.obliqueGrid, Self.reflectedGrid] {
            let image = Volume<Float>(grid: grid, voxels: (0..<grid.voxelCount).map { Float($0) * 0.37 - 50.125 })
            for name in ["f.nii", "f.nii.gz"] {
                let url = dir.appendingPathComponent(name)
                try NIfTI.write(image, to: url)
                let back = try NIfTI.readImage(url)
                assertSameGeometry(back.grid, grid)
                XCTAssertEqual(back.voxels, image.voxels, name)
                let header = try NIfTI.readHeader(url)
                XCTAssertEqual(header.datatypeName, "float32")
                XCTAssertEqual(header.qformCode, 1)
                XCTAssertEqual(header.sformCode, 1)
                XCTAssertEqual(header.transformSource, .sform)
            }
        }
    }

    func testInt16RoundTrip() throws {
        let dir = try SharedData.temporaryDirectory(for: self)
        let grid = Self.obliqueGrid
        let hu = Volume<Int16>(grid: grid, voxels: (0..<grid.voxelCount).map { Int16($0 * 13 % 3000 - 1024) })
        for name in ["ct.nii", "ct.nii.gz"] {
            let url = dir.appendingPathComponent(name)
            try NIfTI.write(hu, to: url)
            let back = try NIfTI.readImage(url)
            assertSameGeometry(back.grid, grid)
            XCTAssertEqual(back.voxels, hu.voxels.map { Float($0) })
            XCTAssertEqual(try NIfTI.readHeader(url).datatypeName, "int16")
        }
    }

    func testLabelMapRoundTripChoosesStorage() throws {
        let dir = try SharedData.temporaryDirectory(for: self)
        let grid = Self.obliqueGrid
        let small = LabelMap(grid: grid, voxels: (0..<grid.voxelCount).map { Int32($0 % 5) })
        let large = LabelMap(grid: grid, voxels: (0..<grid.voxelCount).map { $0 == 3 ? 70_000 : Int32($0 % 3) })
        for (labels, type) in [(small, "int16"), (large, "int32")] {
            for name in ["l.nii", "l.nii.gz"] {
                let url = dir.appendingPathComponent(name)
                try NIfTI.write(labels, to: url)
                let back = try NIfTI.readLabelMap(url)
                assertSameGeometry(back.grid, grid)
                XCTAssertEqual(back.voxels, labels.voxels)
                XCTAssertEqual(try NIfTI.readHeader(url).datatypeName, type)
            }
        }
    }

    func testCompressionFollowsExtension() throws {
        let dir = try SharedData.temporaryDirectory(for: self)
        let image = Volume<Float>(grid: Self.obliqueGrid, repeating: 0)
        try NIfTI.write(image, to: dir.appendingPathComponent("a.nii"))
        try NIfTI.write(image, to: dir.appendingPathComponent("a.nii.gz"))
        let plain = try Data(contentsOf: dir.appendingPathComponent("a.nii"))
        let packed = try Data(contentsOf: dir.appendingPathComponent("a.nii.gz"))
        XCTAssertEqual(plain.count, 352 + 210 * 4)
        XCTAssertEqual(Array(packed.prefix(2)), [0x1f, 0x8b])
        XCTAssertThrowsError(try NIfTI.write(image, to: dir.appendingPathComponent("a.img"))) { error in
            XCTAssertTrue("\(error)".contains("a.img"), "\(error)")
        }
    }

    func testLabelsWithFractionsAreRefused() throws {
        let dir = try SharedData.temporaryDirectory(for: self)
        let grid = ImageGrid(size: Size3(2, 2, 2))
        let url = dir.appendingPathComponent("soft.nii")
        try NIfTI.write(Volume<Float>(grid: grid, voxels: [0, 1, 0.5, 0, 0, 0, 0, 0]), to: url)
        XCTAssertThrowsError(try NIfTI.readLabelMap(url)) { error in
            let e = error as? ImageIOError
            XCTAssertEqual(e?.file, url)
            XCTAssertTrue(e?.reason.contains("voxel 2 has value 0.5") ?? false, "\(error)")
        }
        XCTAssertEqual(try NIfTI.readImage(url).voxels[2], 0.5)
    }
}
