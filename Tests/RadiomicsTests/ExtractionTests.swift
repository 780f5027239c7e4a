import Foundation
import ImageIO
import ImagingCore
import Radiomics
import TestSupport
import XCTest

/// Settings, presets, bad masks, the peritumoral ring and multi-lesion extraction.
final class ExtractionTests: XCTestCase {
    func testPresetsRoundTripThroughJSONAndUnknownNameListsPresets() throws {
        for name in ExtractionSettings.presetNames {
            let settings = try ExtractionSettings.preset(named: name)
            let data = try JSONEncoder().encode(settings)
            XCTAssertEqual(try JSONDecoder().decode(ExtractionSettings.self, from: data), settings, name)
        }
        XCTAssertEqual(try ExtractionSettings.preset(named: "ibsi-c").resampling?.spacing, [2, 2, 2])
        XCTAssertThrowsError(try ExtractionSettings.preset(named: "ibsi-z")) { error in
            let text = String(describing: error)
            XCTAssertTrue(text.contains("ibsi-z") && text.contains("ibsi-digital-phantom") && text.contains("default"),
                          text)
        }
    }

    func edgeCase(_ name: String) throws -> (Volume<Float>, Mask) {
        let dir = try SharedData.url("mask_edge_cases")
        let image = try NIfTI.readImage(dir.appendingPathComponent("image.nii.gz"))
        let mask = try NIfTI.readLabelMap(dir.appendingPathComponent(name)).map { $0 > 0 }
        return (image, mask)
    }

    func testEmptyMaskErrorNamesLesionAndFile() throws {
        let (image, mask) = try edgeCase("empty_mask.nii.gz")
        let label = "patient P1 lesion 2 (empty_mask.nii.gz)"
        XCTAssertThrowsError(try LesionFeatureExtractor.extract(image: image, lesions: [mask], labels: [label],
                                                               settings: .clinicalDefault)) { error in
            XCTAssertEqual(error as? RadiomicsError, .emptyMask(label))
            XCTAssertTrue(String(describing: error).contains("empty_mask.nii.gz"))
        }
        XCTAssertThrowsError(try RadiomicsExtractor.extract(image: image, mask: mask, settings: .ibsiC,
                                                            context: label))
    }

    func testOneVoxelMaskGivesDefinedValuesOrNaNWithReason() throws {
        let (image, mask) = try edgeCase("one_voxel_mask.nii.gz")
        let result = try LesionFeatureExtractor.extract(image: image, lesions: [mask], labels: ["one voxel"],
                                                        settings: .clinicalDefault)
        let tumour = result[0].tumour
        XCTAssertEqual(tumour.value(ibsiTag: "morph_vol_approx"), 1)
        XCTAssertGreaterThan(tumour.value(ibsiTag: "morph_volume") ?? 0, 0)
        XCTAssertEqual(tumour.value(ibsiTag: "stat_mean"), 1)
        XCTAssertEqual(tumour.value(ibsiTag: "stat_var"), 0)
        XCTAssertTrue(tumour.value(ibsiTag: "stat_skew")!.isNaN)
        XCTAssertTrue(tumour.value(ibsiTag: "morph_moran_i")!.isNaN)
        for region in [tumour, result[0].ring].compactMap({ $0 }) {
            XCTAssertFalse(region.features.isEmpty)
            for f in region.features where !f.value.isFinite {
                XCTAssertTrue(f.value.isNaN, "\(f.ibsiTag) is \(f.value)")
                XCTAssertNotNil(f.note, "\(f.ibsiTag) is NaN without a reason")
            }
        }
        XCTAssertNotNil(result[0].ring, "a 10 mm ring around one voxel inside an 8 mm image is not empty")
    }

    func testDisconnectedMaskIsOneRegionWithWarning() throws {
        let (image, mask) = try edgeCase("disconnected_mask.nii.gz")
        let features = try RadiomicsExtractor.extract(image: image, mask: mask, settings: .clinicalDefault,
                                                      context: "lesion 1")
        XCTAssertEqual(features.value(ibsiTag: "morph_vol_approx"), 3)
        XCTAssertTrue(features.warnings.contains { $0.contains("disconnected") }, "\(features.warnings)")
    }

    func testFullMaskWorksAndItsRingIsEmpty() throws {
        let (image, mask) = try edgeCase("full_mask.nii.gz")
        let result = try LesionFeatureExtractor.extract(image: image, lesions: [mask], settings: .clinicalDefault)
        XCTAssertEqual(result[0].tumour.value(ibsiTag: "morph_vol_approx"), 512)
        XCTAssertEqual(result[0].tumour.value(ibsiTag: "stat_mean"), 1)
        XCTAssertNil(result[0].ring)
        XCTAssertTrue(result[0].warnings.contains { $0.contains("ring is empty") })
    }

    /// Two spheres in a 40 mm cube: ring width, inner margin, other-lesion and air exclusion.
    func testPeritumoralRingRespectsWidthMarginOtherLesionsAndAir() {
        let grid = ImageGrid(size: Size3(40, 40, 20), spacing: Vector3(1, 1, 2))
        var image = Volume<Float>(grid: grid, repeating: 40)
        for k in 0..<20 { for j in 0..<40 { for i in 0..<4 { image[i, j, k] = -1000 } } }  // air slab
        func sphere(_ c: Vector3, _ r: Double) -> Mask {
            var m = Mask(grid: grid, repeating: false)
            for k in 0..<20 { for j in 0..<40 { for i in 0..<40 {
                let d = Vector3(Double(i), Double(j), Double(2 * k)) - c
                m[i, j, k] = d.length <= r
            } } }
            return m
        }
        let lesion = sphere(Vector3(12, 20, 20), 5), other = sphere(Vector3(26, 20, 20), 4)
        let settings = ExtractionSettings.RingSettings(widthMM: 8, innerMarginMM: 2, excludeOtherLesions: true,
                                                       excludeBelowIntensity: -950)
        let ring = PeritumoralRing.mask(lesion: lesion, otherLesions: other, image: image, settings: settings)
        let d2 = Morphology.squaredDistanceTransform(to: lesion.voxels, grid: grid)
        XCTAssertGreaterThan(ring.count, 100)
        for t in 0..<ring.voxels.count where ring.voxels[t] {
            XCTAssertLessThanOrEqual(d2[t], 64 + 1e-9)
            XCTAssertGreaterThan(d2[t], 4)
            XCTAssertFalse(other.voxels[t])
            XCTAssertGreaterThanOrEqual(image.voxels[t], -950)
        }
        // Every voxel within 8 mm, beyond 2 mm, not other lesion and not air, is in the ring.
        for t in 0..<ring.voxels.count where d2[t] <= 64 && d2[t] > 4 && !other.voxels[t] && image.voxels[t] > -950 {
            XCTAssertTrue(ring.voxels[t])
        }
    }

    func testParallelLesionsMatchOneByOneExtraction() throws {
        let grid = ImageGrid(size: Size3(48, 40, 16), spacing: Vector3(0.8, 0.8, 2.5))
        var image = Volume<Float>(grid: grid, repeating: 0)
        for t in 0..<image.voxels.count { image.voxels[t] = Float((t * 7919) % 400) - 200 }
        var lesions = [Mask]()
        for (ci, cj) in [(10, 10), (30, 12), (20, 28)] {
            var m = Mask(grid: grid, repeating: false)
            for k in 5..<11 { for j in (cj - 4)...(cj + 4) { for i in (ci - 5)...(ci + 5) where (i + j + k) % 5 != 0 {
                m[i, j, k] = true
            } } }
            lesions.append(m)
        }
        var settings = ExtractionSettings.clinicalDefault
        settings.resampling = .isotropic(1.5)
        let all = try LesionFeatureExtractor.extract(image: image, lesions: lesions, settings: settings)
        XCTAssertEqual(all.map(\.label), ["lesion 1", "lesion 2", "lesion 3"])
        for (n, lesion) in lesions.enumerated() {
            let alone = try RadiomicsExtractor.extract(image: image, mask: lesion, settings: settings)
            let a = all[n].tumour.features, b = alone.features
            XCTAssertEqual(a.count, b.count)
            for (x, y) in zip(a, b) {
                XCTAssertEqual(x.ibsiTag, y.ibsiTag)
                XCTAssertTrue(x.value == y.value || (x.value.isNaN && y.value.isNaN), "\(x.ibsiTag) \(x.value) \(y.value)")
            }
            XCTAssertNotNil(all[n].ring)
            XCTAssertGreaterThan(all[n].ring?.value(ibsiTag: "morph_vol_approx") ?? 0, 0)
        }
    }

    /// Configurations B, D and E have no reference values here: they must run and give finite values.
    func testCTPhantomConfigsBDERun() throws {
        let dir = try SharedData.url("ibsi1/ct_phantom/nifti")
        let image = try NIfTI.readImage(dir.appendingPathComponent("image.nii.gz"))
        let mask = try NIfTI.readLabelMap(dir.appendingPathComponent("mask.nii.gz")).map { $0 > 0 }
        for (name, settings) in [("B", ExtractionSettings.ibsiB), ("D", .ibsiD), ("E", .ibsiE)] {
            let f = try RadiomicsExtractor.extract(image: image, mask: mask, settings: settings, context: "CT GTV")
            let finite = f.features.filter { $0.value.isFinite }.count
            print("CT phantom config \(name): \(finite)/\(f.features.count) finite values")
            XCTAssertGreaterThan(f.features.count, 200, name)
            XCTAssertGreaterThanOrEqual(finite, f.features.count - 4, name)  // OMBB/MVEE may be NaN only
            XCTAssertLessThan(f.value(ibsiTag: "int_mask_vox_count_reseg_roi")!, f.value(ibsiTag: "morph_mask_vox_count_reseg_roi")! + 1)
        }
    }
}
