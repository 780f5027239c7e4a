import Foundation
import ImagingCore
import Radiomics
import XCTest

/// The regions of a lesion (`ExtractionSettings.regions`): tumour, ring, intratumoral core and
/// tumour+ring, checked against computations made here independently of `Morphology`.
final class RegionTests: XCTestCase {
    /// An anisotropic grid with two irregular lesions, one of them cut by the image edge (i = 0).
    private func scene() -> (Volume<Float>, [Mask]) {
        let grid = ImageGrid(size: Size3(40, 36, 14), spacing: Vector3(0.8, 0.8, 2.5))
        var image = Volume<Float>(grid: grid, repeating: 0)
        for t in 0..<image.voxels.count { image.voxels[t] = Float((t * 7919) % 301) - 100 }
        func ellipsoid(_ c: Vector3, _ r: Vector3, notch: Bool) -> Mask {
            var m = Mask(grid: grid, repeating: false)
            for k in 0..<14 { for j in 0..<36 { for i in 0..<40 {
                let p = Vector3(Double(i) * 0.8, Double(j) * 0.8, Double(k) * 2.5)
                let d = Vector3((p.x - c.x) / r.x, (p.y - c.y) / r.y, (p.z - c.z) / r.z)
                // A notch makes the shape non-convex, so the erosion is not a smaller ellipsoid.
                m[i, j, k] = d.length <= 1 && !(notch && p.x > c.x && abs(p.y - c.y) < 1.5)
            } } }
            return m
        }
        return (image, [ellipsoid(Vector3(17, 14, 16), Vector3(8, 7, 10), notch: true),
                        ellipsoid(Vector3(1, 16, 16), Vector3(6, 6, 9), notch: false)])
    }

    /// Erosion by brute force: a lesion voxel stays when every voxel centre within `r` mm of it is
    /// lesion or outside the image (the image edge counts as lesion).
    private func bruteForceErosion(_ mask: Mask, radiusMM r: Double) -> Mask {
        let g = mask.grid, s = g.spacing, n = g.size
        let (ri, rj, rk) = (Int(r / s.x), Int(r / s.y), Int(r / s.z))
        var out = Mask(grid: g, repeating: false)
        for k in 0..<n.nz { for j in 0..<n.ny { for i in 0..<n.nx where mask[i, j, k] {
            var keep = true
            search: for dk in -rk...rk { for dj in -rj...rj { for di in -ri...ri {
                let d2 = pow(Double(di) * s.x, 2) + pow(Double(dj) * s.y, 2) + pow(Double(dk) * s.z, 2)
                guard d2 <= r * r else { continue }
                let (a, b, c) = (i + di, j + dj, k + dk)
                guard a >= 0, b >= 0, c >= 0, a < n.nx, b < n.ny, c < n.nz else { continue }
                if !mask[a, b, c] { keep = false; break search }
            } } }
            out[i, j, k] = keep
        } } }
        return out
    }

    /// No resampling or re-segmentation, so region voxels are the mask's voxels and means are plain means.
    private func plainSettings(regions: [ExtractionSettings.Region], core: Double? = nil) -> ExtractionSettings {
        ExtractionSettings(mode: .volume3D, resampling: nil, resegmentation: .none, discretisation: .fixedBinSize(width: 25),
                           ring: ExtractionSettings.RingSettings(widthMM: 4, innerMarginMM: 0, excludeOtherLesions: true),
                           families: [.morphology, .intensity], regions: regions, coreMarginMM: core)
    }

    func testCoreIsTheLesionErodedByTheMarginVoxelForVoxel() throws {
        let (image, lesions) = scene()
        let voxel = 0.8 * 0.8 * 2.5
        for margin in [1.0, 2.5, 3.0] {
            let result = try LesionFeatureExtractor.extract(image: image, lesions: lesions,
                                                            settings: plainSettings(regions: [.tumour, .core], core: margin))
            for (n, lesion) in lesions.enumerated() {
                let expected = bruteForceErosion(lesion, radiusMM: margin)
                XCTAssertGreaterThan(expected.count, 0)
                XCTAssertLessThan(expected.count, lesion.count, "margin \(margin) erodes something")
                // The whole-image erosion agrees with the brute force (the extractor erodes a crop).
                XCTAssertEqual(IntratumoralCore.mask(lesion: lesion, marginMM: margin).voxels, expected.voxels)
                let core = try XCTUnwrap(result[n].core, "lesion \(n + 1), margin \(margin)")
                XCTAssertEqual(core.value(ibsiTag: "morph_vol_approx")! / voxel, Double(expected.count), accuracy: 1e-6,
                               "lesion \(n + 1), margin \(margin)")
                let values = (0..<image.voxels.count).filter { expected.voxels[$0] }.map { Double(image.voxels[$0]) }
                XCTAssertEqual(core.value(ibsiTag: "stat_mean")!, values.reduce(0, +) / Double(values.count), accuracy: 1e-9)
                XCTAssertNil(result[n].ring, "ring not asked for")
                XCTAssertNil(result[n].tumourRing)
            }
        }
        // The lesion cut by the image edge is not eroded from the edge: its voxels at i = 0 away from
        // its other borders stay in the core.
        let edgeCore = bruteForceErosion(lesions[1], radiusMM: 2.5)
        XCTAssertTrue((0..<36).contains { j in (0..<14).contains { k in edgeCore[0, j, k] } })
    }

    func testTumourRingIsTheUnionAndItsMeanTheVolumeWeightedMean() throws {
        let (image, lesions) = scene()
        let result = try LesionFeatureExtractor.extract(image: image, lesions: lesions,
                                                        settings: plainSettings(regions: [.tumour, .ring, .tumourRing]))
        for lf in result {
            let tumour = lf.tumour, ring = try XCTUnwrap(lf.ring), both = try XCTUnwrap(lf.tumourRing)
            let (nt, nr, nb) = (tumour.value(ibsiTag: "morph_vol_approx")!, ring.value(ibsiTag: "morph_vol_approx")!,
                                both.value(ibsiTag: "morph_vol_approx")!)
            XCTAssertEqual(nb, nt + nr, accuracy: 1e-6, "tumour and ring are disjoint and together make tumour_ring")
            let (mt, mr, mb) = (tumour.value(ibsiTag: "stat_mean")!, ring.value(ibsiTag: "stat_mean")!,
                                both.value(ibsiTag: "stat_mean")!)
            XCTAssertEqual(mb, (nt * mt + nr * mr) / (nt + nr), accuracy: 1e-9)
            XCTAssertNil(lf.core)
        }
    }

    func testCoreThatErodesToNothingIsNaNWithWarningNamingLesionAndMargin() throws {
        let grid = ImageGrid(size: Size3(20, 20, 10), spacing: Vector3(1, 1, 1))
        var image = Volume<Float>(grid: grid, repeating: 5)
        image[10, 10, 5] = 9
        var small = Mask(grid: grid, repeating: false)
        for j in 9...11 { for i in 9...11 { small[i, j, 5] = true } }
        let label = "patient P7, lesion L2 (lesion2.nii.gz)"
        let result = try LesionFeatureExtractor.extract(image: image, lesions: [small], labels: [label],
                                                        settings: plainSettings(regions: [.tumour, .ring, .core], core: 4))
        XCTAssertNil(result[0].core)
        XCTAssertNotNil(result[0].ring)
        let warning = try XCTUnwrap(result[0].warnings.first { $0.contains("intratumoral core is empty") })
        XCTAssertTrue(warning.contains(label) && warning.contains("4 mm") && warning.contains("NaN"), warning)
    }

    func testDefaultRegionsLeaveSettingsJSONAndResultsAsBefore() throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        for name in ExtractionSettings.presetNames {
            let s = try ExtractionSettings.preset(named: name)
            XCTAssertNil(s.regions, name)
            XCTAssertEqual(s.extractedRegions, s.ring == nil ? [.tumour] : [.tumour, .ring], name)
            let json = String(decoding: try encoder.encode(s), as: UTF8.self)
            XCTAssertFalse(json.contains("regions") || json.contains("coreMarginMM"), name)
        }
        var withCore = ExtractionSettings.clinicalDefault
        withCore.regions = [.core, .tumour, .tumourRing]
        withCore.coreMarginMM = 2
        let json = String(decoding: try encoder.encode(withCore), as: UTF8.self)
        XCTAssertTrue(json.contains("\"coreMarginMM\":2") && json.contains("\"regions\":[\"core\",\"tumour\",\"tumour_ring\"]"), json)
        let back = try JSONDecoder().decode(ExtractionSettings.self, from: Data(json.utf8))
        XCTAssertEqual(back, withCore)
        XCTAssertEqual(back.extractedRegions, [.tumour, .core, .tumourRing])
        XCTAssertEqual(ExtractionSettings.clinicalDefault.effectiveCoreMarginMM, ExtractionSettings.defaultCoreMarginMM)

        // Naming the default regions gives the features of the default.
        let (image, lesions) = scene()
        var named = ExtractionSettings.clinicalDefault
        named.regions = [.tumour, .ring]
        named.families = [.morphology, .intensity, .glcm]
        var plain = named
        plain.regions = nil
        let a = try LesionFeatureExtractor.extract(image: image, lesions: lesions, settings: named)
        let b = try LesionFeatureExtractor.extract(image: image, lesions: lesions, settings: plain)
        for (x, y) in zip(a, b) {
            XCTAssertEqual(x.tumour.features.map(\.value.bitPattern), y.tumour.features.map(\.value.bitPattern))
            XCTAssertEqual(x.ring?.features.map(\.value.bitPattern), y.ring?.features.map(\.value.bitPattern))
            XCTAssertEqual(x.warnings, y.warnings)
        }
    }

    func testRegionSettingsAreCheckedWithMessagesNamingTheSetting() throws {
        func problems(_ change: (inout ExtractionSettings) -> Void) -> String {
            var s = ExtractionSettings.clinicalDefault
            change(&s)
            return s.problems().joined(separator: "\n")
        }
        XCTAssertTrue(problems { $0.regions = [.ring, .core] }.contains("must include tumour"))
        XCTAssertTrue(problems { $0.regions = [.tumour, .core, .core] }.contains("core is named twice"))
        let noRing = problems { $0.ring = nil; $0.regions = [.tumour, .tumourRing] }
        XCTAssertTrue(noRing.contains("region tumour_ring") && noRing.contains("--ring-mm"), noRing)
        let stray = problems { $0.coreMarginMM = 2 }
        XCTAssertTrue(stray.contains("core margin 2 mm") && stray.contains("have no core"), stray)
        let negative = problems { $0.regions = [.tumour, .core]; $0.coreMarginMM = -1 }
        XCTAssertTrue(negative.contains("core margin -1 mm (--core-mm, coreMarginMM): must be greater than 0"), negative)
        XCTAssertEqual(problems { $0.regions = [.tumour, .core]; $0.coreMarginMM = 4 }, "")

        // Command-line overrides.
        XCTAssertThrowsError(try SettingsOverrides.parseRegions("tumour,cor")) { e in
            XCTAssertTrue("\(e)".contains("unknown region 'cor'") && "\(e)".contains("tumour_ring"), "\(e)")
        }
        XCTAssertEqual(try SettingsOverrides.parseRegions("Tumour, ring ,TUMOUR_RING"), [.tumour, .ring, .tumourRing])
        let core = try SettingsOverrides(coreMarginMM: 5).applied(to: .clinicalDefault)
        XCTAssertEqual(core.extractedRegions, [.tumour, .ring, .core])
        XCTAssertEqual(core.effectiveCoreMarginMM, 5)
        var based = ExtractionSettings.clinicalDefault
        based.regions = [.tumour, .ring, .tumourRing, .core]
        let ringless = try SettingsOverrides(ringWidthMM: 0).applied(to: based)
        XCTAssertNil(ringless.ring)
        XCTAssertEqual(ringless.extractedRegions, [.tumour, .core])
        XCTAssertThrowsError(try SettingsOverrides(ringWidthMM: 0, regions: [.tumour, .ring]).applied(to: .clinicalDefault)) { e in
            XCTAssertTrue("\(e)".contains("region ring (--regions, regions): needs a peritumoral ring"), "\(e)")
        }
    }
}
