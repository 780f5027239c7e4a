import XCTest
import Foundation
import ImagingCore
@testable import Radiomics

/// Issue 13, item 1: settings per modality (`--preset ct=default,pt=pet-default`), the PET preset,
/// and the refusals and warnings for settings that make no sense on a lesion's modality.
final class ModalitySettingsTests: XCTestCase {
    /// The clinical default's settings JSON as stores record it before modalities existed: read with
    /// h5py from the `settings_json` attribute of a store written by main at 822d5e5
    /// (`lesionmap extract ... --preset default` on the IBSI digital phantom); its SHA-256 is the
    /// store's `settings_hash` cb86d858...2458.
    static let defaultJSONBeforeModalities = #"{"discretisation":{"fixedBinSize":{"width":25}},"families":["morphology","local_intensity","intensity","histogram","ivh","glcm","glrlm","glszm","gldzm","ngtdm","ngldm"],"ivhDiscretisation":{"none":{}},"mode":"3D","resampling":{"inPlaneOnly":false,"interpolation":"linear","maskThreshold":0.5,"roundIntensities":true,"spacing":[1,1,1]},"resegmentation":{"lowerBound":-1000,"upperBound":3000},"ring":{"excludeBelowIntensity":-950,"excludeOtherLesions":true,"innerMarginMM":0,"widthMM":10},"textureAggregations":["3D_avg","3D_comb"],"wholeImageDiagnostics":false}"#

    // MARK: - --preset parsing and JSON

    func testAPlainPresetKeepsTodaysJSONByteForByte() throws {
        let plain = try ModalitySettings.preset("default")
        XCTAssertEqual(plain, .everyModality(.clinicalDefault))
        XCTAssertEqual(Array(try plain.json().utf8), Array(Self.defaultJSONBeforeModalities.utf8))
        // A plain preset applies to every modality, as before.
        for m in ["CT", "PT", "MR", "OT"] { XCTAssertEqual(plain.settings(for: m), .clinicalDefault) }
    }

    func testOnePresetPerModality() throws {
        let s = try ModalitySettings.preset("ct=default,pt=pet-default")
        XCTAssertEqual(s, .perModality(["CT": .clinicalDefault, "PT": .petDefault]))
        XCTAssertEqual(s.settings(for: "PT"), .petDefault)
        XCTAssertEqual(s.settings(for: "pt"), .petDefault)
        XCTAssertNil(s.settings(for: "MR"))
        // Modalities are case-insensitive, spaces around items ignored, order free.
        XCTAssertEqual(try ModalitySettings.preset(" PT = pet-default , Ct=default"), s)
        XCTAssertEqual(try ModalitySettings.preset("mr=mr-default"), .perModality(["MR": .mrDefault]))
        // Recorded as {"modalities": {...}} with sorted keys, each modality's JSON as a plain preset's.
        let json = try s.json()
        XCTAssertEqual(json, #"{"modalities":{"CT":"# + Self.defaultJSONBeforeModalities + #","PT":"#
                       + (try ModalitySettings.everyModality(.petDefault).json()) + "}}")
        XCTAssertEqual(try ModalitySettings.decode(Data(json.utf8)), s)
        XCTAssertEqual(try ModalitySettings.decode(Data(Self.defaultJSONBeforeModalities.utf8)), .everyModality(.clinicalDefault))
    }

    func testBadPresetStringsAreRefusedSayingWhatIsWrong() {
        // The list of known presets is the one the library gives (it grows with every preset family).
        let known = "known presets: default, pet-default, mr-default, ibsi-digital-phantom, ibsi-a, ibsi-b, ibsi-c, ibsi-d, ibsi-e, "
            + "ibsi2-phase1-<config> (1a1 ... 8a3), ibsi2-phase2-<n><a|b> (1a ... 9b)"
        let tail = "; write one preset for every modality (--preset NAME) or modality=preset pairs separated by commas, e.g. ct=default,pt=pet-default (modalities: ct, pt, mr)"
        let cases: [(String, String)] = [
            ("ct=default,xx=pet-default", "invalid radiomics settings: --preset 'ct=default,xx=pet-default': unknown modality 'xx'" + tail),
            ("ct=default,CT=ibsi-a", "invalid radiomics settings: --preset 'ct=default,CT=ibsi-a': modality ct is named twice" + tail),
            ("ct=default,,pt=pet-default", "invalid radiomics settings: --preset 'ct=default,,pt=pet-default': an empty item (two commas, or a comma at an end)" + tail),
            ("ct=", "invalid radiomics settings: --preset 'ct=': no preset after 'ct='" + tail),
            ("default,pt=pet-default", "invalid radiomics settings: --preset 'default,pt=pet-default': 'default' has no modality (modality=preset)" + tail),
            ("ct=default,pt=pet", "invalid radiomics settings: --preset 'ct=default,pt=pet': pt=pet: unknown radiomics preset 'pet'; " + known),
            ("pet", "unknown radiomics preset 'pet'; " + known),
        ]
        for (spec, message) in cases {
            XCTAssertThrowsError(try ModalitySettings.preset(spec), spec) { e in XCTAssertEqual("\(e)", message) }
        }
    }

    func testPerModalitySettingsJSONWithAnUnknownModalityIsRefused() {
        let json = #"{"modalities":{"US":"# + Self.defaultJSONBeforeModalities + "}}"
        XCTAssertThrowsError(try ModalitySettings.decode(Data(json.utf8))) { e in
            XCTAssertEqual("\(e)", "invalid radiomics settings: modalities.US: unknown modality; known: CT, PT, MR")
        }
    }

    func testOverridesApplyToEveryModalityAndNameItInProblems() throws {
        let s = try ModalitySettings.preset("ct=default,pt=pet-default")
        let wider = try s.applying(SettingsOverrides(ringWidthMM: 5))
        XCTAssertEqual(wider.settings(for: "CT")?.ring?.widthMM, 5)
        XCTAssertEqual(wider.settings(for: "PT")?.ring?.widthMM, 5)
        XCTAssertEqual(wider.settings(for: "PT")?.resampling?.roundIntensities, false, "an override keeps the PET preset's no-rounding")
        XCTAssertThrowsError(try s.applying(SettingsOverrides(binWidth: -1))) { e in
            XCTAssertTrue("\(e)".hasPrefix("invalid radiomics settings: settings for CT: bin width -1 (--bin-width"), "\(e)")
        }
    }

    func testThePETPresetNeverRoundsAndUsesSUVBins() throws {
        let pet = try ExtractionSettings.preset(named: "pet-default")
        XCTAssertEqual(pet.resampling?.roundIntensities, false)
        XCTAssertEqual(pet.resampling?.spacing, [4, 4, 4])
        XCTAssertEqual(pet.discretisation, .fixedBinSize(width: 0.25))
        XCTAssertEqual(pet.resegmentation, ExtractionSettings.Resegmentation(lowerBound: 0))
        XCTAssertEqual(pet.ivhDiscretisation, .fixedBinSize(width: 0.1))
        XCTAssertNil(pet.ring?.excludeBelowIntensity)
        XCTAssertEqual(ModalityChecks.refusals(pet, modality: "PT"), [])
        XCTAssertEqual(ModalityChecks.refusals(.mrDefault, modality: "MR"), [])
    }

    // MARK: - Refusals and warnings on a lesion

    /// A PET-like scan: 2 x 2 x 2 mm voxels of a smooth uptake (background 1.3 SUV) with a lesion
    /// cube of 5 x 5 x 5 voxels whose centre is `peak` SUV.
    static func petScan(peak: Float = 20.83, spacing: Double = 2, n: Int = 21) -> (Volume<Float>, Mask) {
        let grid = ImageGrid(size: Size3(n, n, n), spacing: Vector3(spacing, spacing, spacing))
        var image = Volume<Float>(grid: grid, repeating: 1.3)
        var mask = Mask(grid: grid, repeating: false)
        let c = n / 2
        for k in (c - 2)...(c + 2) {
            for j in (c - 2)...(c + 2) {
                for i in (c - 2)...(c + 2) {
                    let d = Float(abs(i - c) + abs(j - c) + abs(k - c))
                    image[i, j, k] = peak - 1.37 * d
                    mask[i, j, k] = true
                }
            }
        }
        return (image, mask)
    }

    func testRoundingHURangeAndUnitIVHAreRefusedOnPETNamingLesionAndSetting() {
        let (image, mask) = Self.petScan()
        let label = "patient P1, lesion S1 (seg.dcm segment 1)"
        XCTAssertThrowsError(try LesionFeatureExtractor.extract(image: image, lesions: [mask], labels: [label],
                                                                settings: .clinicalDefault, modality: "PT")) { e in
            XCTAssertEqual("\(e)", "patient P1, lesion S1 (seg.dcm segment 1), PT scan: resampling.roundIntensities is true: interpolated intensities would be rounded to whole numbers (right for CT in HU; SUV 20.83 would become 21); PT intensities (SUV) are never rounded; re-segmentation range [-1000, 3000] (resegmentation.lowerBound, upperBound) is a HU range: SUV are never negative, so it was meant for CT; the intensity-volume histogram on a unit grid (ivhDiscretisation none) rounds each intensity to a whole number; give it a fixed bin size or number for PT; use settings made for PET, e.g. --preset ct=default,pt=pet-default")
        }
        // One line per lesion, each named.
        XCTAssertThrowsError(try LesionFeatureExtractor.extract(image: image, lesions: [mask, mask], labels: ["lesion A", "lesion B"],
                                                                settings: .ibsiA, modality: "PT")) { e in
            let lines = "\(e)".split(separator: "\n")
            XCTAssertEqual(lines.count, 2)
            XCTAssertTrue(lines[0].hasPrefix("lesion A, PT scan: re-segmentation range [-500, 400]"), String(lines[0]))
            XCTAssertTrue(lines[1].hasPrefix("lesion B, PT scan: re-segmentation range [-500, 400]"), String(lines[1]))
        }
    }

    func testRoundingAndHURangeAreRefusedOnMR() {
        let (image, mask) = Self.petScan()
        var s = ExtractionSettings.mrDefault
        s.resampling?.roundIntensities = true
        s.resegmentation.lowerBound = -1000
        XCTAssertThrowsError(try LesionFeatureExtractor.extract(image: image, lesions: [mask], labels: ["lesion M"],
                                                                settings: s, modality: "MR")) { e in
            XCTAssertEqual("\(e)", "lesion M, MR scan: resampling.roundIntensities is true: interpolated intensities would be rounded to whole numbers (right for CT in HU); MR intensities (arbitrary units) are never rounded; re-segmentation range [-1000, inf] (resegmentation.lowerBound, upperBound) is a HU range: arbitrary units are never negative, so it was meant for CT; use settings made for MR, e.g. --preset ct=default,mr=mr-default")
        }
    }

    /// The resampling path itself refuses to round PET values, whoever calls it.
    func testTheRegionExtractorRefusesToRoundPETValuesToo() {
        let (image, mask) = Self.petScan()
        var s = ExtractionSettings.petDefault
        s.resampling?.roundIntensities = true
        XCTAssertThrowsError(try RadiomicsExtractor.extract(image: image, mask: mask, settings: s, context: "lesion R",
                                                            modality: "PT")) { e in
            XCTAssertTrue("\(e)".hasPrefix("lesion R, PT scan: resampling.roundIntensities is true"), "\(e)")
        }
        // CT keeps rounding (HU are integers): no refusal.
        XCTAssertNoThrow(try RadiomicsExtractor.extract(image: image, mask: mask, settings: s, context: "lesion R", modality: "CT"))
    }

    /// The issue's example: SUVmax 20.83 was 21.0 after the CT preset's rounding; through `pet-default`
    /// it stays 20.83 (to Float precision, the image's own type).
    func testAPETLesionThroughThePETPresetKeepsUnroundedSUV() throws {
        // On 4 mm voxels the 4 mm grid is the image's own: intensities pass through the interpolation unchanged.
        let (image, mask) = Self.petScan(spacing: 4)
        let pet = try LesionFeatureExtractor.extract(image: image, lesions: [mask], labels: ["lesion P"],
                                                     settings: .petDefault, modality: "PT")[0]
        XCTAssertEqual(try XCTUnwrap(pet.tumour.value(ibsiTag: "stat_max")), Double(Float(20.83)), accuracy: 1e-5)
        XCTAssertEqual(try XCTUnwrap(pet.tumour.value(ibsiTag: "stat_min")), Double(Float(20.83) - 1.37 * 6), accuracy: 1e-5)
        // Rounding after interpolation (the CT preset's; no modality given, so nothing refused) makes it 21, as the issue found.
        var rounding = ExtractionSettings.petDefault
        rounding.resampling = .isotropic(4)
        XCTAssertEqual(rounding.resampling?.roundIntensities, true)
        let ct = try LesionFeatureExtractor.extract(image: image, lesions: [mask], labels: ["lesion P"], settings: rounding)[0]
        XCTAssertEqual(ct.tumour.value(ibsiTag: "stat_max"), 21)

        // On 2 mm voxels resampled to 4 mm the values are interpolated, and still never rounded.
        let (fine, fineMask) = Self.petScan(spacing: 2, n: 25)
        let resampled = try LesionFeatureExtractor.extract(image: fine, lesions: [fineMask], labels: ["lesion Q"],
                                                           settings: .petDefault, modality: "PT")[0]
        let mean = try XCTUnwrap(resampled.tumour.value(ibsiTag: "stat_mean"))
        let maxValue = try XCTUnwrap(resampled.tumour.value(ibsiTag: "stat_max"))
        XCTAssertNotEqual(mean, mean.rounded(), "mean SUV \(mean)")
        XCTAssertNotEqual(maxValue, maxValue.rounded(), "max SUV \(maxValue)")
        XCTAssertLessThanOrEqual(maxValue, Double(Float(20.83)) + 1e-5)
    }

    func testTooFewGreyLevelsAreWarnedWithTheCount() throws {
        // SUV 1.2 to 1.9 with 0.25 SUV bins from 0: bins 5 to 8, 4 levels (4 mm voxels: the preset's grid).
        let (image, mask) = Self.petScan(spacing: 4)
        var flat = image
        for n in mask.voxels.indices where mask.voxels[n] { flat.voxels[n] = 1.2 + 0.7 * Float(n % 2) }
        let r = try LesionFeatureExtractor.extract(image: flat, lesions: [mask], labels: ["patient P1, lesion S2"],
                                                   settings: .petDefault, modality: "PT")[0]
        XCTAssertTrue(r.warnings.contains("patient P1, lesion S2: bin width 0.25 (--bin-width, discretisation.fixedBinSize.width) leaves 4 grey levels in the lesion (intensities 1.2 to 1.9 SUV on a PT scan), fewer than 8: its texture is nearly uniform by construction; use a smaller bin width"), "\(r.warnings)")
        // The CT preset's 25-unit bins on the same SUVs: everything in one level (the issue's finding).
        var wide = ExtractionSettings.petDefault
        wide.discretisation = .fixedBinSize(width: 25)
        let one = try LesionFeatureExtractor.extract(image: image, lesions: [mask], labels: ["lesion W"],
                                                     settings: wide, modality: "PT")[0]
        XCTAssertTrue(one.warnings.contains { $0.hasPrefix("lesion W: bin width 25 (--bin-width, discretisation.fixedBinSize.width) leaves 1 grey level in the lesion (intensities 12.61 to 20.83 SUV on a PT scan), fewer than 8") }, "\(one.warnings)")
        // A bin count of 4 is named as such.
        var four = ExtractionSettings.petDefault
        four.discretisation = .fixedBinNumber(count: 4)
        let counted = try LesionFeatureExtractor.extract(image: image, lesions: [mask], labels: ["lesion C"],
                                                         settings: four, modality: "PT")[0]
        XCTAssertTrue(counted.warnings.contains { $0.hasPrefix("lesion C: bin count 4 (--bin-count, discretisation.fixedBinNumber.count) leaves 4 grey levels in the lesion") && $0.hasSuffix("use a bin count of 8 or more") }, "\(counted.warnings)")
    }

    func testTooManyGreyLevelsAreWarnedWithTheCount() throws {
        // 0.011 SUV bins from 0 over 12.61 to 20.83 SUV: bins 1147 to 1894, 748 levels (no warning);
        // 0.007 SUV: bins 1802 to 2976, 1175 levels.
        let (image, mask) = Self.petScan(spacing: 4)
        var fine = ExtractionSettings.petDefault
        fine.discretisation = .fixedBinSize(width: 0.011)
        fine.families = [.intensity, .histogram]
        let ok = try LesionFeatureExtractor.extract(image: image, lesions: [mask], labels: ["lesion F"], settings: fine, modality: "PT")[0]
        XCTAssertFalse(ok.warnings.contains { $0.contains("grey level") }, "\(ok.warnings)")
        fine.discretisation = .fixedBinSize(width: 0.007)
        let many = try LesionFeatureExtractor.extract(image: image, lesions: [mask], labels: ["lesion F"], settings: fine, modality: "PT")[0]
        XCTAssertTrue(many.warnings.contains { $0.hasPrefix("lesion F: bin width 0.007 (--bin-width, discretisation.fixedBinSize.width) leaves 1175 grey levels in the lesion (intensities 12.61 to 20.83 SUV on a PT scan)") && $0.hasSuffix("more than 1000: texture matrices are sparse and large; use a larger bin width") }, "\(many.warnings)")
        // Without a family that reads grey levels, nothing to warn about.
        fine.families = [.intensity, .morphology]
        let none = try LesionFeatureExtractor.extract(image: image, lesions: [mask], labels: ["lesion F"], settings: fine, modality: "PT")[0]
        XCTAssertFalse(none.warnings.contains { $0.contains("grey level") }, "\(none.warnings)")
    }

    func testAHUAirThresholdOnPETIsWarned() throws {
        let (image, mask) = Self.petScan(spacing: 4)
        var s = ExtractionSettings.petDefault
        s.ring?.excludeBelowIntensity = -950
        let r = try LesionFeatureExtractor.extract(image: image, lesions: [mask], labels: ["lesion H"], settings: s, modality: "PT")[0]
        XCTAssertTrue(r.warnings.contains("lesion H, PT scan: ring air threshold -950 (ring.excludeBelowIntensity) is a HU value: no PT voxel (SUV) is below it, so it removes nothing"), "\(r.warnings)")
    }

    func testGreyLevelCounts() {
        let s = ExtractionSettings.petDefault
        XCTAssertEqual(ModalityChecks.greyLevels(lowest: 1.2, highest: 1.9, settings: s), 4)
        XCTAssertEqual(ModalityChecks.greyLevels(lowest: 0, highest: 20.83, settings: s), 84)
        XCTAssertEqual(ModalityChecks.greyLevels(lowest: -100, highest: 200, settings: .clinicalDefault), 13)
        XCTAssertEqual(ModalityChecks.greyLevels(lowest: 1, highest: 2, settings: .mrDefault), 32)
    }
}
