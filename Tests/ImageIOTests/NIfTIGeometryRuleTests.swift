import Foundation
import ImageIO
import ImagingCore
import TestSupport
import XCTest

/// ITK's choice between qform and sform, checked on crafted headers whose geometry was measured
/// once with SimpleITK 2.5.7 (ITK 5.4) reading byte-identical files written by a Python script.
final class NIfTIGeometryRuleTests: XCTestCase {
    private func read(_ fixture: NIfTIFixture, _ name: String) throws -> (NIfTIHeader, Volume<Float>) {
        let url = try SharedData.temporaryDirectory(for: self).appendingPathComponent(name + ".nii")
        try fixture.write(to: url)
        return (try NIfTI.readHeader(url), try NIfTI.readImage(url))
    }

    private var obliqueQform: NIfTIFixture {
        var f = NIfTIFixture()
        f.qformCode = 1
        (f.quatern, f.qoffset) = NIfTIFixture.obliqueQuaternion
        return f
    }

    func testQformOnlyBigEndianInt16WithNegativeQfac() throws {
        var f = obliqueQform
        f.bigEndian = true
        f.datatype = 4
        f.bitpix = 16
        f.pixdim = [-1, 0.8, 0.9, 2.5, 0, 0, 0, 0]
        f.voxels = NIfTIFixture.rampInt16BigEndian
        let (header, image) = try read(f, "qformOblique")
        XCTAssertTrue(header.isBigEndian)
        XCTAssertEqual(header.transformSource, .qform)
        assertGrid(image.grid, matches: SimpleITKGeometry(
            origin: [-10.5, 20.25, 30], spacing: [0.800000012, 0.899999976, 2.5],
            direction: [-0.739999991, 0.596417135, -0.310944747, -0.516417125, -0.799999982, -0.305472373,
                        0.430944737, 0.0654723633, -0.899999997],
            points: [(Index3(5, 4, 3), [-13.644984, 13.0132888, 25.2094795]),
                     (Index3(2, 1, 3), [-13.4793102, 16.4126898, 23.9984367])]), "qformOblique")
        XCTAssertEqual(image[0, 0, 0], -100)
        XCTAssertEqual(image[5, 4, 3], 257)
        XCTAssertEqual(image[2, 1, 3], 194)
    }

    func testSformOnly() throws {
        var f = NIfTIFixture()
        f.pixdim = [1, 0.7, 0.7, 1.5, 0, 0, 0, 0]
        f.sformCode = 2
        f.srow = NIfTIFixture.rotatedSform
        f.voxels = NIfTIFixture.rampFloat32
        let (header, image) = try read(f, "sformOnly")
        XCTAssertEqual(header.transformSource, .sform)
        assertGrid(image.grid, matches: Self.rotatedSformGeometry, "sformOnly")
        XCTAssertEqual(image[5, 4, 3], 52.25)
        XCTAssertEqual(image[2, 1, 3], 41.75)
    }

    static let rotatedSformGeometry = SimpleITKGeometry(
        origin: [50, -60, -70], spacing: [0.699999988, 0.699999988, 1.5],
        direction: [-0.866025414, 0.499999982, 0, -0.499999982, -0.866025414, 0, 0, 0, 1],
        points: [(Index3(5, 4, 3), [48.368911, -64.174871, -65.5]),
                 (Index3(2, 1, 3), [49.1375644, -61.3062177, -65.5])])

    func testScannerAnatomicalSformWinsOverDisagreeingQform() throws {
        var f = obliqueQform
        f.pixdim = [1, 0.7, 0.7, 1.5, 0, 0, 0, 0]
        f.sformCode = 1
        f.srow = NIfTIFixture.rotatedSform
        f.voxels = NIfTIFixture.rampFloat32
        let (header, image) = try read(f, "scannerSformWins")
        XCTAssertEqual(header.transformSource, .sform)
        assertGrid(image.grid, matches: Self.rotatedSformGeometry, "scannerSformWins")
    }

    func testAlignedSformLosesToDisagreeingQform() throws {
        var f = obliqueQform
        f.pixdim = [1, 0.7, 0.7, 1.5, 0, 0, 0, 0]
        f.sformCode = 2
        f.srow = NIfTIFixture.rotatedSform
        f.voxels = NIfTIFixture.rampFloat32
        let (header, image) = try read(f, "alignedSformLoses")
        XCTAssertEqual(header.transformSource, .qform)
        assertGrid(image.grid, matches: SimpleITKGeometry(
            origin: [-10.5, 20.25, 30], spacing: [0.699999988, 0.699999988, 1.5],
            direction: [-0.740000006, 0.596417104, 0.310944732, -0.516417109, -0.800000004, 0.30547237,
                        0.43094473, 0.0654723656, 0.900000003],
            points: [(Index3(5, 4, 3), [-10.0207808, 17.5771658, 35.7416292]),
                     (Index3(2, 1, 3), [-9.71925673, 20.3416417, 34.6991533])]), "alignedSformLoses")
    }

    func testNearlyEqualFormsPreferTheSform() throws {
        var f = NIfTIFixture()
        f.qformCode = 1
        f.qoffset = [1, 2, 3]
        f.sformCode = 3
        f.srow = [[1, 0, 0, 1.00001], [0, 1, 0, 2], [0, 0, 1, 3]]
        f.voxels = NIfTIFixture.rampFloat32
        let (header, image) = try read(f, "nearlyEqualForms")
        XCTAssertEqual(header.transformSource, .sform)
        XCTAssertEqual(image.grid.origin.x, -1.00001001, accuracy: 1e-8)
        assertGrid(image.grid, matches: SimpleITKGeometry(
            origin: [-1.00001001, -2, 3], spacing: [1, 1, 1], direction: [-1, 0, 0, 0, -1, 0, 0, 0, 1],
            points: [(Index3(5, 4, 3), [-6.00001001, -6, 6])]), "nearlyEqualForms")
    }

    func testShearedSformFallsBackToQform() throws {
        var f = obliqueQform
        f.sformCode = 1
        f.srow = NIfTIFixture.shearedSform
        f.voxels = NIfTIFixture.rampFloat32
        let (header, image) = try read(f, "shearedSform")
        XCTAssertEqual(header.transformSource, .qform)
        assertGrid(image.grid, matches: Self.obliqueUnitGeometry, "shearedSform")
    }

    static let obliqueUnitGeometry = SimpleITKGeometry(
        origin: [-10.5, 20.25, 30], spacing: [1, 1, 1],
        direction: [-0.73999999, 0.596417117, 0.310944743, -0.516417132, -0.799999995, 0.305472381,
                    0.43094473, 0.0654723631, 0.899999995],
        points: [(Index3(5, 4, 3), [-10.8814973, 15.3843315, 35.1166131]),
                 (Index3(2, 1, 3), [-10.4507486, 19.3335829, 33.6273618])])

    func testShearedSformWithoutQformIsRefusedLikeITK() throws {
        var f = NIfTIFixture()
        f.sformCode = 1
        f.srow = NIfTIFixture.shearedSform
        f.voxels = NIfTIFixture.rampFloat32
        let url = try SharedData.temporaryDirectory(for: self).appendingPathComponent("shearedSformOnly.nii")
        try f.write(to: url)
        XCTAssertThrowsError(try NIfTI.readImage(url)) { error in
            let e = error as? ImageIOError
            XCTAssertEqual(e?.file, url)
            XCTAssertTrue(e?.reason.contains("not orthonormal") ?? false, "\(error)")
        }
    }

    func testNoTransformGivesZeroOriginAndIdentity() throws {
        var f = NIfTIFixture()
        f.pixdim = [1, 2, 3, 4, 0, 0, 0, 0]
        f.voxels = NIfTIFixture.rampFloat32
        let (header, image) = try read(f, "noTransform")
        XCTAssertEqual(header.transformSource, NIfTITransformSource.none)
        assertGrid(image.grid, matches: SimpleITKGeometry(
            origin: [0, 0, 0], spacing: [2, 3, 4], direction: [1, 0, 0, 0, 1, 0, 0, 0, 1],
            points: [(Index3(5, 4, 3), [10, 12, 12])]), "noTransform")
    }

    func testMetreUnitsAreConvertedToMillimetres() throws {
        var f = NIfTIFixture()
        f.pixdim = [1, 0.002, 0.003, 0.004, 0, 0, 0, 0]
        f.qformCode = 1
        f.qoffset = [0.1, 0.2, 0.3]
        f.xyztUnits = 1
        f.voxels = NIfTIFixture.rampFloat32
        let (_, image) = try read(f, "meters")
        assertGrid(image.grid, matches: SimpleITKGeometry(
            origin: [-100.000001, -200.000003, 300.000012], spacing: [2.00000009, 3.00000003, 4.00000019],
            direction: [-1, 0, 0, 0, -1, 0, 0, 0, 1],
            points: [(Index3(5, 4, 3), [-110.000002, -212.000003, 312.000012])]), "meters")
    }

    func testSingletonFourthAndFifthDimensionsAreAccepted() throws {
        var f = obliqueQform
        f.dims = [5, 6, 5, 4, 1, 1, 1, 1]
        f.pixdim = [1, 1, 1, 1, 1, 1, 0, 0]
        f.voxels = NIfTIFixture.rampFloat32
        let (_, image) = try read(f, "fiveDimsSingleton")
        assertGrid(image.grid, matches: Self.obliqueUnitGeometry, "fiveDimsSingleton")
        XCTAssertEqual(image.voxels.count, 120)
    }
}
