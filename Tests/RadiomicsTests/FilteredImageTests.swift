import Foundation
import ImageIO
import ImagingCore
import Radiomics
import TestSupport
import XCTest

/// Filtered-image settings (tokens, bounds, JSON) and the features of response maps.
final class FilteredImageTests: XCTestCase {
    // MARK: - Settings

    func testTokensAreReadableAndLeaveDefaultsOut() {
        XCTAssertEqual(FilterSpec.laplacianOfGaussian(sigmaMM: 1.5, truncate: nil, dimensions: nil, boundary: nil).token, "log_s1.5")
        XCTAssertEqual(FilterSpec.laplacianOfGaussian(sigmaMM: 3, truncate: 4, dimensions: .twoD, boundary: .zero).token,
                       "log_s3_2d")
        XCTAssertEqual(FilterSpec.wavelet(wavelet: "db3", subband: "LLH", level: 1, rotationInvariant: true, pooling: nil,
                                          boundary: nil).token, "wavelet_db3_llh_l1_invar")
        XCTAssertEqual(FilterSpec.wavelet(wavelet: "coif1", subband: "HHL", level: nil, rotationInvariant: nil, pooling: nil,
                                          boundary: .periodic).token, "wavelet_coif1_hhl_l1")
        XCTAssertEqual(FilterSpec.mean(support: 15, dimensions: .twoD, boundary: .zero).token, "mean_s15_2d")
        XCTAssertEqual(FilterSpec.laws(kernels: "L5E5E5", energyDistance: 7, rotationInvariant: true, pooling: .max,
                                       boundary: nil).token, "laws_l5e5e5_energy_d7_invar_max")
        XCTAssertEqual(FilterSpec.gabor(sigmaMM: 5, gamma: 1.5, lambdaMM: 2, thetaDegrees: nil, thetaStepDegrees: 22.5,
                                        rotationInvariant: true, pooling: nil, orthogonalPlanes: true, truncate: nil,
                                        boundary: nil).token,
                       "gabor_s5_g1.5_l2_t0_step22.5_invar_mean")
        XCTAssertEqual(FilterSpec.simoncelli(level: 2, marginVoxels: nil, dimensions: nil, boundary: .periodic).token,
                       "wavelet_simoncelli_l2")
        XCTAssertEqual(FilterSpec.square.token, "square")
        XCTAssertEqual(FilterSpec.squareRoot.token, "squareroot")
        XCTAssertEqual(FilterSpec.gradient(useSpacing: nil).token, "gradient")
    }

    /// Settings without filters encode without a `filtering` key, so stores' settings JSON, their hash and
    /// signatures' settings do not change; a settings file with filters reads back equal.
    func testSettingsWithoutFiltersEncodeAsBeforeAndFiltersRoundTrip() throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        for name in ExtractionSettings.presetNames where !name.hasPrefix("ibsi2-") {
            let json = String(decoding: try encoder.encode(try ExtractionSettings.preset(named: name)), as: UTF8.self)
            XCTAssertFalse(json.contains("filtering"), name)
        }
        // The default preset's JSON as stores wrote it before filters existed (main at 822d5e5).
        let before = #"{"discretisation":{"fixedBinSize":{"width":25}},"families":["morphology","local_intensity","intensity","histogram","ivh","glcm","glrlm","glszm","gldzm","ngtdm","ngldm"],"ivhDiscretisation":{"none":{}},"mode":"3D","resampling":{"inPlaneOnly":false,"interpolation":"linear","maskThreshold":0.5,"roundIntensities":true,"spacing":[1,1,1]},"resegmentation":{"lowerBound":-1000,"upperBound":3000},"ring":{"excludeBelowIntensity":-950,"excludeOtherLesions":true,"innerMarginMM":0,"widthMM":10},"textureAggregations":["3D_avg","3D_comb"],"wholeImageDiagnostics":false}"#
        XCTAssertEqual(String(decoding: try encoder.encode(ExtractionSettings.clinicalDefault), as: UTF8.self), before)
        XCTAssertEqual(try JSONDecoder().decode(ExtractionSettings.self, from: Data(before.utf8)), .clinicalDefault)

        let text = #"{"filters": [{"laplacianOfGaussian": {"sigmaMM": 1.5}}, {"wavelet": {"wavelet": "coif1", "subband": "LLH"}}, {"square": {}}]}"#
        let filtering = try JSONDecoder().decode(ExtractionSettings.Filtering.self, from: Data(text.utf8))
        XCTAssertEqual(filtering.filters.map(\.token), ["log_s1.5", "wavelet_coif1_llh_l1", "square"])
        XCTAssertEqual(filtering.families, [.intensity])
        XCTAssertTrue(filtering.original)
        var settings = ExtractionSettings.clinicalDefault
        settings.filtering = filtering
        let again = try JSONDecoder().decode(ExtractionSettings.self, from: try encoder.encode(settings))
        XCTAssertEqual(again, settings)
    }

    func testFilterProblemsNameTheKey() {
        var settings = ExtractionSettings.clinicalDefault
        settings.filtering = .init(filters: [
            .mean(support: 4, dimensions: nil, boundary: nil),
            .laplacianOfGaussian(sigmaMM: -1, truncate: nil, dimensions: nil, boundary: nil),
            .laws(kernels: "L5X5", energyDistance: nil, rotationInvariant: nil, pooling: nil, boundary: nil),
            .wavelet(wavelet: "sym40", subband: "LLA", level: 9, rotationInvariant: nil, pooling: nil, boundary: nil),
            .gabor(sigmaMM: 5, gamma: 1.5, lambdaMM: 2, thetaDegrees: nil, thetaStepDegrees: nil, rotationInvariant: true,
                   pooling: nil, orthogonalPlanes: nil, truncate: nil, boundary: nil),
            .laplacianOfGaussian(sigmaMM: 1, truncate: nil, dimensions: nil, boundary: .zero),
            .laplacianOfGaussian(sigmaMM: 1, truncate: nil, dimensions: nil, boundary: .mirror),
            .square, .square,
        ], families: [.morphology, .intensity])
        let problems = settings.problems()
        let expected = [
            "mean filter support 4 (filtering.filters[0].support): must be an odd number of voxels",
            "Laplacian of Gaussian sigmaMM -1 mm (filtering.filters[1].sigmaMM): must be greater than 0",
            "Laws kernels 'L5X5' (filtering.filters[2].kernels)",
            "wavelet 'sym40' (filtering.filters[3].wavelet)",
            "wavelet sub-band 'LLA' (filtering.filters[3].subband)",
            "wavelet level 9 (filtering.filters[3].level)",
            "(filtering.filters[4].rotationInvariant): needs thetaStepDegrees",
            "filters 5 and 6 (filtering.filters): both give the response map 'log_s1'",
            "filters 7 and 8 (filtering.filters): both give the response map 'square'",
            "(filtering.families): morphology does not read intensities",
        ]
        for e in expected {
            XCTAssertTrue(problems.contains { $0.contains(e) }, "missing: \(e)\n\(problems.joined(separator: "\n"))")
        }
        XCTAssertEqual(problems.count, expected.count, problems.joined(separator: "\n"))
        XCTAssertThrowsError(try settings.validated())
    }

    // MARK: - Response maps

    /// PyRadiomics 3.0.1 first-order features of its voxel-wise image types and its gradient on the IBSI CT
    /// phantom GTV (whole image, original grid), computed once (CI has no PyRadiomics) with:
    ///
    ///     import SimpleITK as sitk
    ///     from radiomics import featureextractor
    ///     d = "../shared/data/ibsi1/ct_phantom/nifti/"
    ///     image, mask = sitk.ReadImage(d + "image.nii.gz"), sitk.ReadImage(d + "mask.nii.gz")
    ///     ex = featureextractor.RadiomicsFeatureExtractor(label=1)
    ///     ex.disableAllImageTypes()
    ///     for t in ["Square", "SquareRoot", "Logarithm", "Exponential", "Gradient"]: ex.enableImageTypeByName(t)
    ///     ex.disableAllFeatures(); ex.enableFeatureClassByName("firstorder")
    ///     r = ex.execute(image, mask)   # keys without the diagnostics
    static let pyradiomics: [String: Double] = [
        "square_firstorder_10Percentile": 0.10570962479608483,
        "square_firstorder_90Percentile": 61.45383360522022,
        "square_firstorder_Energy": 328671117.2178141,
        "square_firstorder_Entropy": 1.0118858558855972,
        "square_firstorder_InterquartileRange": 3.0384991843393148,
        "square_firstorder_Kurtosis": 12.737586794256845,
        "square_firstorder_Maximum": 326.26427406199025,
        "square_firstorder_MeanAbsoluteDeviation": 27.952199656813644,
        "square_firstorder_Mean": 18.13729093127226,
        "square_firstorder_Median": 1.294942903752039,
        "square_firstorder_Minimum": 0.0,
        "square_firstorder_Range": 326.26427406199025,
        "square_firstorder_RobustMeanAbsoluteDeviation": 4.663690627194632,
        "square_firstorder_RootMeanSquared": 51.22494505600493,
        "square_firstorder_Skewness": 3.206450349321008,
        "square_firstorder_TotalEnergy": 941178334.865577,
        "square_firstorder_Uniformity": 0.7475485678282273,
        "square_firstorder_Variance": 2295.033673665113,
        "squareroot_firstorder_10Percentile": -1153.3473024202208,
        "squareroot_firstorder_90Percentile": 533.8960572995459,
        "squareroot_firstorder_Energy": 51406180000.0,
        "squareroot_firstorder_Entropy": 5.578602423981881,
        "squareroot_firstorder_InterquartileRange": 459.8749830116876,
        "squareroot_firstorder_Kurtosis": 3.722223662228059,
        "squareroot_firstorder_Maximum": 1488.6218458695278,
        "squareroot_firstorder_MeanAbsoluteDeviation": 502.7240267334793,
        "squareroot_firstorder_Mean": 67.35015791838067,
        "squareroot_firstorder_Median": 354.4925951271761,
        "squareroot_firstorder_Minimum": -1750.7141400011596,
        "squareroot_firstorder_Range": 3239.335985870687,
        "squareroot_firstorder_RobustMeanAbsoluteDeviation": 307.46141616375763,
        "squareroot_firstorder_RootMeanSquared": 640.6316590105936,
        "squareroot_firstorder_Skewness": -1.464351493954713,
        "squareroot_firstorder_TotalEnergy": 147206068192.8938,
        "squareroot_firstorder_Uniformity": 0.03327681057880948,
        "squareroot_firstorder_Variance": 405872.8787550346,
        "logarithm_firstorder_10Percentile": -2319.461414663011,
        "logarithm_firstorder_90Percentile": 1734.5509027782377,
        "logarithm_firstorder_Energy": 348817307206.9245,
        "logarithm_firstorder_Entropy": 6.208240569360025,
        "logarithm_firstorder_InterquartileRange": 1622.001567299539,
        "logarithm_firstorder_Kurtosis": 2.6045693626955293,
        "logarithm_firstorder_Maximum": 2513.95879018053,
        "logarithm_firstorder_MeanAbsoluteDeviation": 1309.322280808679,
        "logarithm_firstorder_Mean": 609.2996772415303,
        "logarithm_firstorder_Median": 1426.9772315854364,
        "logarithm_firstorder_Minimum": -2637.6423749346113,
        "logarithm_firstorder_Range": 5151.601165115141,
        "logarithm_firstorder_RobustMeanAbsoluteDeviation": 964.7377695793148,
        "logarithm_firstorder_RootMeanSquared": 1668.7825248782963,
        "logarithm_firstorder_Skewness": -1.1801097886467025,
        "logarithm_firstorder_TotalEnergy": 998868702392.6716,
        "logarithm_firstorder_Uniformity": 0.019420244456298003,
        "logarithm_firstorder_Variance": 2413589.0186525485,
        "exponential_firstorder_10Percentile": 0.32086769478706545,
        "exponential_firstorder_90Percentile": 1.2758137750878527,
        "exponential_firstorder_Energy": 140181.0625460808,
        "exponential_firstorder_Entropy": -3.203426503814917e-16,
        "exponential_firstorder_InterquartileRange": 0.19808420300251317,
        "exponential_firstorder_Kurtosis": 7.817669385998703,
        "exponential_firstorder_Maximum": 6.643712702862443,
        "exponential_firstorder_MeanAbsoluteDeviation": 0.2538731711282208,
        "exponential_firstorder_Mean": 0.9996806418538029,
        "exponential_firstorder_Median": 1.1133645936043859,
        "exponential_firstorder_Minimum": 0.07286220177251447,
        "exponential_firstorder_Range": 6.570850501089928,
        "exponential_firstorder_RobustMeanAbsoluteDeviation": 0.14088003008632194,
        "exponential_firstorder_RootMeanSquared": 1.0579019179122142,
        "exponential_firstorder_Skewness": -1.092855065744999,
        "exponential_firstorder_TotalEnergy": 401420.6667857965,
        "exponential_firstorder_Uniformity": 1.0,
        "exponential_firstorder_Variance": 0.11979508222511027,
        "gradient_firstorder_10Percentile": 9.305949211120605,
        "gradient_firstorder_90Percentile": 142.76101684570312,
        "gradient_firstorder_Energy": 965711316.4175261,
        "gradient_firstorder_Entropy": 2.342169947363688,
        "gradient_firstorder_InterquartileRange": 40.67547392845154,
        "gradient_firstorder_Kurtosis": 11.33105518049685,
        "gradient_firstorder_Maximum": 681.1793212890625,
        "gradient_firstorder_MeanAbsoluteDeviation": 47.860263615478026,
        "gradient_firstorder_Mean": 52.56807100695601,
        "gradient_firstorder_Median": 23.557703018188477,
        "gradient_firstorder_Minimum": 0.3333333432674408,
        "gradient_firstorder_Range": 680.8459879457951,
        "gradient_firstorder_RobustMeanAbsoluteDeviation": 23.221242316459513,
        "gradient_firstorder_RootMeanSquared": 87.8060399676422,
        "gradient_firstorder_Skewness": 2.6766049520633324,
        "gradient_firstorder_TotalEnergy": 2765398360.6486144,
        "gradient_firstorder_Uniformity": 0.3326254707793453,
        "gradient_firstorder_Variance": 4946.498565406812
    ]

    /// The response maps' intensity statistics agree with PyRadiomics' first-order features of the same image
    /// types (every feature both define alike: 14 per image type). The voxel-wise types read the whole
    /// image's largest |intensity| as PyRadiomics does; the gradient reads one voxel around the box.
    /// SimpleITK writes the gradient in single precision: compared to 1e-6 relative, the others to 1e-9.
    func testPyRadiomicsImageTypesAgreeWithPyRadiomics() throws {
        let dir = try SharedData.url("ibsi1/ct_phantom/nifti")
        let image = try NIfTI.readImage(dir.appendingPathComponent("image.nii.gz"))
        let mask = try NIfTI.readLabelMap(dir.appendingPathComponent("mask.nii.gz")).mask(label: 1)
        let filters: [FilterSpec] = [.square, .squareRoot, .logarithm, .exponential, .gradient(useSpacing: nil)]
        let settings = try ExtractionSettings(
            mode: .volume3D, resampling: nil, resegmentation: .none, discretisation: .fixedBinSize(width: 25),
            textureAggregations: [.volume3DAverage], ivhDiscretisation: .none, families: [.morphology],
            filtering: .init(filters: filters, families: [.intensity], original: false)).validated()
        let features = try RadiomicsExtractor.extract(image: image, mask: mask, settings: settings).features
        XCTAssertFalse(features.contains { $0.filter == nil }, "original: false leaves the unfiltered image out")
        var compared = 0, failures = [String]()
        for v in features {
            let token = try XCTUnwrap(v.filter)
            guard let py = FeatureCatalog.entry(storeName: "\(v.family.rawValue).\(v.name)")?.pyradiomicsName else { continue }
            let key = token + "_" + py.dropFirst("original_".count)
            var reference = try XCTUnwrap(Self.pyradiomics[key], key)
            if v.ibsiTag == "stat_kurt" { reference -= 3 }  // PyRadiomics: plain fourth moment; IBSI: excess
            compared += 1
            let tolerance = token == "gradient" ? 1e-6 : 1e-9
            if !(abs(v.value - reference) <= tolerance * max(1, abs(reference))) {
                failures.append("\(v.stableName) = \(v.value), PyRadiomics \(key) = \(reference)")
            }
        }
        print("PyRadiomics image types: \(compared - failures.count)/\(compared) features agree")
        XCTAssertEqual(compared, 5 * 14)
        XCTAssertTrue(failures.isEmpty, failures.joined(separator: "\n"))
        XCTAssertEqual(features.first { $0.filter == "square" && $0.ibsiTag == "stat_mean" }?.stableName,
                       "square.intensity.mean")
    }

    /// PyRadiomics 3.0.1 `Wavelet` image type (coif1, level 1, `pywt.swtn`, periodic) on the same GTV, computed
    /// once with the extractor above but `ex.enableImageTypeByName("Wavelet")` and
    /// `ex.enableFeaturesByName(firstorder=["Mean", "Minimum", "Maximum", "Median", "Variance"])`.
    static let pyradiomicsWavelet: [String: Double] = [
        "wavelet-LLH_firstorder_Mean": -3.1297457744423336,
        "wavelet-LLH_firstorder_Minimum": -1017.3751831054688,
        "wavelet-LLH_firstorder_Maximum": 1197.515380859375,
        "wavelet-LLH_firstorder_Median": -2.105532169342041,
        "wavelet-LLH_firstorder_Variance": 19518.69795534438,
        "wavelet-LHL_firstorder_Mean": -1.9620241253403412,
        "wavelet-LHL_firstorder_Minimum": -602.9568481445312,
        "wavelet-LHL_firstorder_Maximum": 551.2858276367188,
        "wavelet-LHL_firstorder_Median": -1.0809345841407776,
        "wavelet-LHL_firstorder_Variance": 2533.907632184559,
        "wavelet-LHH_firstorder_Mean": 0.14216361329602892,
        "wavelet-LHH_firstorder_Minimum": -394.7554626464844,
        "wavelet-LHH_firstorder_Maximum": 392.88116455078125,
        "wavelet-LHH_firstorder_Median": -0.1958913579583168,
        "wavelet-LHH_firstorder_Variance": 1323.0172328310687,
        "wavelet-HLL_firstorder_Mean": -1.3333578126711587,
        "wavelet-HLL_firstorder_Minimum": -797.6389770507812,
        "wavelet-HLL_firstorder_Maximum": 557.5905151367188,
        "wavelet-HLL_firstorder_Median": -0.5937472581863403,
        "wavelet-HLL_firstorder_Variance": 2580.948416242291,
        "wavelet-HLH_firstorder_Mean": 0.1353039216538331,
        "wavelet-HLH_firstorder_Minimum": -298.4312438964844,
        "wavelet-HLH_firstorder_Maximum": 440.2120056152344,
        "wavelet-HLH_firstorder_Median": -0.03741166740655899,
        "wavelet-HLH_firstorder_Variance": 985.910740654142,
        "wavelet-HHL_firstorder_Mean": 0.04265543588469722,
        "wavelet-HHL_firstorder_Minimum": -213.31211853027344,
        "wavelet-HHL_firstorder_Maximum": 209.5988006591797,
        "wavelet-HHL_firstorder_Median": -0.07134310156106949,
        "wavelet-HHL_firstorder_Variance": 373.0995063352016,
        "wavelet-HHH_firstorder_Mean": -0.007969265716857238,
        "wavelet-HHH_firstorder_Minimum": -117.0360336303711,
        "wavelet-HHH_firstorder_Maximum": 136.0668182373047,
        "wavelet-HHH_firstorder_Median": 0.007613707333803177,
        "wavelet-HHH_firstorder_Variance": 247.5483989312683,
        "wavelet-LLL_firstorder_Mean": -133.33316497997706,
        "wavelet-LLL_firstorder_Minimum": -2743.357177734375,
        "wavelet-LLL_firstorder_Maximum": 1643.65234375,
        "wavelet-LLL_firstorder_Median": 117.14372634887695,
        "wavelet-LLL_firstorder_Variance": 403056.80243872467
    ]

    /// The eight sub-bands of PyRadiomics' wavelet image type are `wavelet` filters (coif1, level 1, periodic
    /// boundary; the GTV lies far from the image's edges, where PyRadiomics pads odd sizes): their statistics agree
    /// to single precision (PyRadiomics keeps the bands as float32): 1e-5 relative, 1e-4 near zero.
    func testPyRadiomicsWaveletSubBandsAgreeWithPyRadiomics() throws {
        let dir = try SharedData.url("ibsi1/ct_phantom/nifti")
        let image = try NIfTI.readImage(dir.appendingPathComponent("image.nii.gz"))
        let mask = try NIfTI.readLabelMap(dir.appendingPathComponent("mask.nii.gz")).mask(label: 1)
        let bands = ["LLH", "LHL", "LHH", "HLL", "HLH", "HHL", "HHH", "LLL"]
        let filters = bands.map { FilterSpec.wavelet(wavelet: "coif1", subband: $0, level: 1, rotationInvariant: nil,
                                                    pooling: nil, boundary: .periodic) }
        let settings = try ExtractionSettings(
            mode: .volume3D, resampling: nil, resegmentation: .none, discretisation: .fixedBinSize(width: 25),
            textureAggregations: [.volume3DAverage], ivhDiscretisation: .none, families: [.intensity],
            filtering: .init(filters: filters, families: [.intensity], original: false)).validated()
        let features = try RadiomicsExtractor.extract(image: image, mask: mask, settings: settings).features
        var compared = 0
        for (band, filter) in zip(bands, filters) {
            for (tag, name) in [("stat_mean", "Mean"), ("stat_min", "Minimum"), ("stat_max", "Maximum"),
                                ("stat_median", "Median"), ("stat_var", "Variance")] {
                let value = try XCTUnwrap(features.first { $0.filter == filter.token && $0.ibsiTag == tag }).value
                let reference = try XCTUnwrap(Self.pyradiomicsWavelet["wavelet-\(band)_firstorder_\(name)"])
                XCTAssertEqual(value, reference, accuracy: max(1e-4, 1e-5 * abs(reference)), "\(band) \(name)")
                compared += 1
            }
        }
        XCTAssertEqual(compared, 40)
    }

    /// A response computed over the region's box plus the filter's support equals the response of the
    /// whole image: each filter's response of the whole CT phantom, used as an image, gives the same
    /// statistics in the GTV (re-segmented on the unfiltered intensities) as the filter of the settings, which
    /// reads the lesion's box only (the gradient written out plainly; the IBSI 2 filters through the Filters
    /// library over the whole image). Whole-image responses are kept in single precision, as images are: 1e-6.
    func testResponseOverTheBoxEqualsTheWholeImageResponse() throws {
        let dir = try SharedData.url("ibsi1/ct_phantom/nifti")
        let image = try NIfTI.readImage(dir.appendingPathComponent("image.nii.gz"))
        let mask = try NIfTI.readLabelMap(dir.appendingPathComponent("mask.nii.gz")).mask(label: 1)
        let filters: [FilterSpec] = [
            .gradient(useSpacing: true),
            .laplacianOfGaussian(sigmaMM: 3, truncate: nil, dimensions: nil, boundary: .mirror),
            .mean(support: 5, dimensions: .twoD, boundary: .zero),
            .laws(kernels: "L5E5E5", energyDistance: 2, rotationInvariant: nil, pooling: nil, boundary: .nearest),
            .wavelet(wavelet: "db2", subband: "LHL", level: 2, rotationInvariant: nil, pooling: nil, boundary: .periodic),
            .gabor(sigmaMM: 3, gamma: 0.8, lambdaMM: 4, thetaDegrees: 30, thetaStepDegrees: nil, rotationInvariant: nil,
                   pooling: nil, orthogonalPlanes: nil, truncate: 4, boundary: .mirror),
        ]
        let settings = try ExtractionSettings(
            mode: .volume3D, resampling: nil, resegmentation: .init(lowerBound: -500, upperBound: 400),
            discretisation: .fixedBinNumber(count: 16), textureAggregations: [.volume3DAverage], ivhDiscretisation: .none,
            families: [.intensity], filtering: .init(filters: filters, families: [.intensity])).validated()
        let viaBox = try RadiomicsExtractor.extract(image: image, mask: mask, settings: settings).features
        XCTAssertEqual(viaBox.count, 18 * (filters.count + 1))
        // The re-segmented ROI, taken from the unfiltered image.
        var roi = mask
        for n in 0..<roi.voxels.count where roi.voxels[n] && !(-500...400).contains(image.voxels[n]) { roi.voxels[n] = false }
        var plain = settings
        plain.filtering = nil
        plain.resegmentation = .none
        for filter in filters {
            let whole = try filter.imageFilter.map { $0.response(of: image) } ?? GradientMagnitudeReference.wholeImage(image)
            let reference = try RadiomicsExtractor.extract(image: whole, mask: roi, settings: plain).features
            let mine = viaBox.filter { $0.filter == filter.token }
            XCTAssertEqual(mine.map(\.ibsiTag), reference.map(\.ibsiTag), filter.token)
            for (a, b) in zip(mine, reference) {
                XCTAssertEqual(a.value, b.value, accuracy: 1e-6 * max(1, abs(b.value)), a.stableName)
            }
        }
    }

    /// The memory estimate counts what the filters read around the lesion: a wide LoG on a fine grid is
    /// refused before any work, naming the filters and the spacing.
    func testMemoryEstimateCountsTheResponseMaps() throws {
        let dir = try SharedData.url("ibsi1/ct_phantom/nifti")
        let image = try NIfTI.readImage(dir.appendingPathComponent("image.nii.gz"))
        let mask = try NIfTI.readLabelMap(dir.appendingPathComponent("mask.nii.gz")).mask(label: 1)
        let box = try XCTUnwrap(mask.boundingBox)
        var settings = ExtractionSettings.ibsiC
        let plain = try ExtractionMemory.estimate(image: image, lesionBox: box, settings: settings)
        settings.filtering = .init(filters: [.laplacianOfGaussian(sigmaMM: 1.5, truncate: nil, dimensions: nil, boundary: nil)])
        let small = try ExtractionMemory.estimate(image: image, lesionBox: box, settings: settings)
        XCTAssertGreaterThan(small.bytes, plain.bytes)
        XCTAssertGreaterThan(small.filterVoxels, small.regionVoxels)
        settings.resampling = .isotropic(0.5)
        settings.filtering = .init(filters: [.laplacianOfGaussian(sigmaMM: 40, truncate: nil, dimensions: nil, boundary: nil)])
        let wide = try ExtractionMemory.estimate(image: image, lesionBox: box, settings: settings)
        XCTAssertEqual(wide.dominant, .responseMaps)
        XCTAssertThrowsError(try LesionFeatureExtractor.extract(image: image, lesions: [mask], labels: ["GTV"], settings: settings,
                                                                budget: MemoryBudget(bytes: 2 * 1_073_741_824, origin: "test"))) { error in
            let text = "\(error)"
            for needle in ["GTV", "response maps", "log_s40", "filtering.filters", "resampling spacing 0.5 mm"] {
                XCTAssertTrue(text.contains(needle), "\(needle) not in \(text)")
            }
        }
    }
}

/// The gradient magnitude of a whole image, written out plainly (central differences, edge voxel repeated).
enum GradientMagnitudeReference {
    static func wholeImage(_ image: Volume<Float>) -> Volume<Float> {
        let n = image.grid.size, h = image.grid.spacing
        var out = [Float](repeating: 0, count: n.count)
        func at(_ i: Int, _ j: Int, _ k: Int) -> Double {
            Double(image.voxels[(min(max(k, 0), n.nz - 1) * n.ny + min(max(j, 0), n.ny - 1)) * n.nx + min(max(i, 0), n.nx - 1)])
        }
        for k in 0..<n.nz {
            for j in 0..<n.ny {
                for i in 0..<n.nx {
                    let dx = (at(i + 1, j, k) - at(i - 1, j, k)) / (2 * h.x)
                    let dy = (at(i, j + 1, k) - at(i, j - 1, k)) / (2 * h.y)
                    let dz = (at(i, j, k + 1) - at(i, j, k - 1)) / (2 * h.z)
                    out[(k * n.ny + j) * n.nx + i] = Float((dx * dx + dy * dy + dz * dz).squareRoot())
                }
            }
        }
        return Volume(grid: image.grid, voxels: out)
    }
}
