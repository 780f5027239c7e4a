import Foundation
import ImageIO
import ImagingCore
import Radiomics
import TestSupport
import XCTest

/// IBSI 1 configurations D and E by definition (their reference values are not published with the
/// phantom): each preprocessing step and the intensity-volume histogram against an independent
/// scipy/numpy computation of the same pipeline.
///
/// The fixtures come from this script (numpy 2.4.6, scipy 1.17.1, nibabel 5.4.2); `ivh` is the IBSI 1
/// manual's IVH (section "Intensity-volume histogram features"), written from its text:
///
///     import numpy as np, scipy.ndimage as ndi, nibabel as nib
///     def ivh(x, mode, param=None, rng=(None, None)):
///         lo, hi = x.min(), x.max()
///         if mode == "none":   # calibrated, discrete: G = re-segmentation range (else ROI range), step 1
///             g0 = rng[0] if rng[0] is not None else lo; g1 = rng[1] if rng[1] is not None else hi
///             xd, levels, step = x, np.arange(g0, g1 + 1), 1.0
///         elif mode == "fbn":  # arbitrary units: bins over the ROI range, G = [1, Ng], step 1
///             ng = param
///             xd = np.where(x < hi, np.floor(ng * (x - lo) / (hi - lo)) + 1, ng)
///             levels, step = np.arange(1, ng + 1), 1.0
///         nu = np.array([1 - np.mean(xd < i) for i in levels])
///         gamma = (levels - levels[0]) / (levels[-1] - levels[0])
///         v10, v90 = nu[gamma >= 0.1].max(), nu[gamma >= 0.9].max()
///         def ix(f):
///             s = levels[nu <= f]
///             return s.min() if s.size else levels[-1] + step
///         i10, i90 = ix(0.1), ix(0.9)
///         return [v10, v90, i10, i90, v10 - v90, i10 - i90, np.trapezoid(nu, gamma)]
///
///     d = "../shared/data/ibsi1/ct_phantom/nifti/"
///     img = nib.load(d + "image.nii.gz"); msk = nib.load(d + "mask.nii.gz")
///     v = np.asarray(img.dataobj).astype(np.float32).astype(np.float64)
///     m = (np.asarray(msk.dataobj) > 0).astype(np.float64)
///     sp = np.array(img.header.get_zooms()[:3], dtype=float)
///     n = np.array(v.shape); nn = np.ceil(n * sp / 2.0 - 1e-9).astype(int)
///     step = 2.0 / sp; off = (n - 1) / 2 - (nn - 1) / 2 * step          # the IBSI grid, centred
///     C = np.meshgrid(*[off[a] + np.arange(nn[a]) * step[a] for a in range(3)], indexing="ij")
///     rnd = lambda x: np.sign(x) * np.floor(np.abs(x) + 0.5)            # HU rounded half away from zero
///     roi = ndi.map_coordinates(m, C, order=1, mode="nearest") >= 0.5 - 1e-9   # trilinear mask, 0.5
///     # E: tricubic spline (scipy's cubic B-spline, mode nearest), range, then 3 SD of what the range kept
///     xE = rnd(ndi.map_coordinates(v, C, order=3, mode="nearest")); a = xE[roi]
///     r = a[(a >= -1000) & (a <= 400)]; mu, sd = r.mean(), r.std(); bE = r[abs(r - mu) <= 3 * sd]
///     print(xE.min(), xE.max(), xE.mean(), a.size, a.mean(), a.min(), a.max())
///     print(bE.size, bE.mean(), bE.min(), bE.max(), ivh(bE, "fbn", 1000))
///     # D: trilinear, 3 SD only, IVH on the HU
///     xD = rnd(ndi.map_coordinates(v, C, order=1, mode="nearest")); a = xD[roi]
///     mu, sd = a.mean(), a.std(); bD = a[abs(a - mu) <= 3 * sd]
///     print(a.size, a.mean(), a.min(), a.max(), bD.size, bD.mean(), bD.min(), bD.max(), ivh(bD, "none"))
///
/// (Outlier statistics over the voxels the range kept, or over the whole ROI and intersected with the
/// range as MIRP does, give the same 44,484 voxels for E here: the range removes 6 voxels, none within 3 SD.)
final class IBSIConfigDETests: XCTestCase {
    static let ivhTags = ["ivh_v10", "ivh_v90", "ivh_i10", "ivh_i90", "ivh_diff_v10_v90", "ivh_diff_i10_i90", "ivh_auc"]

    func ctPhantom() throws -> (Volume<Float>, Mask) {
        let dir = try SharedData.url("ibsi1/ct_phantom/nifti")
        let image = try NIfTI.readImage(dir.appendingPathComponent("image.nii.gz"))
        let mask = try NIfTI.readLabelMap(dir.appendingPathComponent("mask.nii.gz")).map { $0 > 0 }
        return (image, mask)
    }

    func assertValues(_ f: RegionFeatures, _ expected: [(String, Double)], accuracy: Double = 1e-9,
                      file: StaticString = #filePath, line: UInt = #line) {
        for (tag, value) in expected {
            guard let got = f.value(ibsiTag: tag) else { XCTFail("no \(tag)", file: file, line: line); continue }
            XCTAssertEqual(got, value, accuracy: accuracy * max(1, abs(value)), tag, file: file, line: line)
        }
    }

    /// Configuration E on the CT phantom: the B-spline-interpolated image (its minimum overshoots the
    /// image's -1000 HU floor to -1111 HU; trilinear cannot go below it), the ROI after interpolation and
    /// after re-segmentation, and the IVH with 1000 bins over the ROI's range, as the scipy pipeline above.
    func testCTPhantomThroughIBSIEMatchesScipyPipeline() throws {
        let (image, mask) = try ctPhantom()
        var settings = try ExtractionSettings.preset(named: "ibsi-e")
        settings.wholeImageDiagnostics = true
        settings.families = [.intensityVolumeHistogram]
        let f = try RadiomicsExtractor.extract(image: image, mask: mask, settings: settings, context: "CT GTV")
        assertValues(f, [
            ("min_int_interp_img", -1111), ("max_int_interp_img", 2637), ("mean_int_interp_img", -270.0065589225589),
            ("int_mask_vox_count_interp_roi", 45985), ("int_mask_mean_int_interp_roi", -48.27837338262477),
            ("int_mask_min_int_interp_roi", -966), ("int_mask_max_int_interp_roi", 627),
            ("int_mask_vox_count_reseg_roi", 44484), ("int_mask_mean_int_reseg_roi", -22.625663159787788),
            ("int_mask_min_int_reseg_roi", -743), ("int_mask_max_int_reseg_roi", 345),
        ])
        assertValues(f, zip(Self.ivhTags, [0.974552648143, 0.000157359949645, 770, 399, 0.974395288194, 371,
                                           0.66277491636]).map { ($0, $1) }, accuracy: 1e-11)
    }

    /// Configuration D on the CT phantom: trilinear, outlier filtering alone keeps voxels above 400 HU (the
    /// old preset's range removed them: its maximum was at most 400), IVH on the HU over the ROI's range.
    func testCTPhantomThroughIBSIDMatchesNumpyPipeline() throws {
        let (image, mask) = try ctPhantom()
        var settings = try ExtractionSettings.preset(named: "ibsi-d")
        settings.families = [.intensityVolumeHistogram]
        let f = try RadiomicsExtractor.extract(image: image, mask: mask, settings: settings, context: "CT GTV")
        assertValues(f, [
            ("int_mask_vox_count_interp_roi", 45985), ("int_mask_mean_int_interp_roi", -48.932086549961944),
            ("int_mask_min_int_interp_roi", -939), ("int_mask_max_int_interp_roi", 521),
            ("int_mask_vox_count_reseg_roi", 44465), ("int_mask_mean_int_reseg_roi", -23.517935454852132),
            ("int_mask_min_int_reseg_roi", -724), ("int_mask_max_int_reseg_roi", 521),
        ])
        assertValues(f, zip(Self.ivhTags, [0.971573147419, 8.99583942426e-05, 87, -303, 0.971483189025, 390,
                                           0.563037793816]).map { ($0, $1) }, accuracy: 1e-11)
    }

    /// `ibsi-d` re-segments by outlier filtering only: a region whose intensities spread over
    /// [-1100, -900] HU keeps every voxel (all within 3 SD), where a [-1000, 400] HU range would drop
    /// those below -1000; its IVH is not discretised.
    func testIBSIDHasNoRangeResegmentation() throws {
        let settings = try ExtractionSettings.preset(named: "ibsi-d")
        XCTAssertNil(settings.resegmentation.lowerBound)
        XCTAssertNil(settings.resegmentation.upperBound)
        XCTAssertEqual(settings.resegmentation.outlierSigma, 3)
        XCTAssertEqual(settings.ivhDiscretisation, .none)
        XCTAssertEqual(settings.resampling?.interpolation, .linear)

        // 2 mm voxels: the 2 mm IBSI grid falls on the original voxels, so intensities stay as they are.
        let grid = ImageGrid(size: Size3(12, 12, 12), spacing: Vector3(2, 2, 2))
        var image = Volume<Float>(grid: grid, repeating: -500)
        var mask = Mask(grid: grid, repeating: false)
        var below = 0
        for k in 3..<9 { for j in 3..<9 { for i in 3..<9 {
            let value = -1100 + Float((((k * 12 + j) * 12 + i) * 37) % 201)
            image.voxels[(k * 12 + j) * 12 + i] = value
            mask[i, j, k] = true
            if value < -1000 { below += 1 }
        } } }
        XCTAssertGreaterThan(below, 50)
        var d = settings
        d.families = [.intensity]
        let f = try RadiomicsExtractor.extract(image: image, mask: mask, settings: d, context: "spread ROI")
        XCTAssertEqual(f.value(ibsiTag: "int_mask_vox_count_interp_roi"), 216)
        XCTAssertEqual(f.value(ibsiTag: "int_mask_vox_count_reseg_roi"), 216)
        XCTAssertEqual(f.value(ibsiTag: "int_mask_min_int_reseg_roi"), -1100)
    }

    /// The IVH fixed-bin-number rule: bins over the ROI's own range whatever the re-segmentation range
    /// (IBSI 1: "arbitrary intensity units"), levels 1...N. Values from `ivh` above on
    /// x = [-50, -20, -20, 0, 10, 10, 10, 30, 70, 150]; the unit-step rule (HU) still uses the range.
    func testIVHFixedBinNumberUsesTheROIRange() {
        let x: [Double] = [-50, -20, -20, 0, 10, 10, 10, 30, 70, 150]
        typealias Case = (ExtractionSettings.IVHDiscretisation, Double?, Double?, [Double])
        let table: [Case] = [
            (.fixedBinNumber(count: 4), -1000, 400, [0.7, 0.1, 4, 2, 0.6, 2, 0.483333333333]),
            (.fixedBinNumber(count: 4), nil, nil, [0.7, 0.1, 4, 2, 0.6, 2, 0.483333333333]),
            (.fixedBinNumber(count: 1000), -1000, 400, [0.9, 0.1, 602, 2, 0.8, 600, 0.345695695696]),
            (.none, -100, 200, [1, 0, 71, -49, 1, 120, 0.398333333333]),
            (.none, nil, nil, [0.9, 0.1, 71, -49, 0.8, 120, 0.34725]),
        ]
        for (rule, lower, upper, expected) in table {
            let f = IntensityVolumeHistogram.features(x, discretisation: rule, range: (lower, upper))
            XCTAssertEqual(f.map(\.ibsiTag), Self.ivhTags)
            for (value, want) in zip(f.map(\.value), expected) {
                XCTAssertEqual(value, want, accuracy: 1e-11, "\(rule) [\(String(describing: lower)), \(String(describing: upper))]")
            }
        }
    }
}
