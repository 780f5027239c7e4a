import Foundation
import ImageIO
import ImagingCore
import Radiomics
import TestSupport
import XCTest

/// Where LesionMap and PyRadiomics define a feature alike (`FeatureCatalog.pyradiomicsName`), the values agree.
///
/// The ROI is five slices of the IBSI CT phantom GTV (the first GTV slice + 10 to + 14: 28,467 voxels, small
/// enough for debug builds), on the original grid. The differences documented in the catalogue are removed
/// from the comparison by the settings, not excluded: no resampling (no grid alignment question), bins of
/// 25 HU starting at -950 HU, the multiple of 25 at or below the ROI minimum (-948 HU), where PyRadiomics
/// starts its bins, so both number the grey levels alike. Mesh-based features are compared to 0.2% (the
/// marching-cubes tables differ in ambiguous cubes); the principal axes and kurtosis are checked for their
/// documented relations (covariance over N instead of N - 1; excess kurtosis).
///
/// PyRadiomics 3.0.1 values, computed once (CI has no PyRadiomics) with
/// `RadiomicsFeatureExtractor(binWidth=25, label=1)`, original image, every feature class enabled, on the
/// phantom's `image.nii.gz` and the slab of `mask.nii.gz` (`execute`, keys without the `original_` prefix).
final class PyRadiomicsAgreementTests: XCTestCase {
    static let pyradiomics: [String: Double] = [
        "firstorder_10Percentile": -54.0,
        "firstorder_90Percentile": 93.0,
        "firstorder_Energy": 564185120.0,
        "firstorder_Entropy": 3.251624817013795,
        "firstorder_InterquartileRange": 51.0,
        "firstorder_Kurtosis": 18.559393539085715,
        "firstorder_Maximum": 241.0,
        "firstorder_Mean": 9.301085467383286,
        "firstorder_MeanAbsoluteDeviation": 72.27151263476607,
        "firstorder_Median": 39.0,
        "firstorder_Minimum": -948.0,
        "firstorder_Range": 1189.0,
        "firstorder_RobustMeanAbsoluteDeviation": 22.232669961949995,
        "firstorder_RootMeanSquared": 140.77967659747006,
        "firstorder_Skewness": -3.7305164750435917,
        "firstorder_StandardDeviation": 140.47208673617934,
        "firstorder_TotalEnergy": 1615593168.9173553,
        "firstorder_Uniformity": 0.1654391972505293,
        "firstorder_Variance": 19732.40715201669,
        "glcm_Autocorrelation": 1559.710354555501,
        "glcm_ClusterProminence": 148344.0169154531,
        "glcm_ClusterShade": -2840.6302067318106,
        "glcm_ClusterTendency": 76.48891207094283,
        "glcm_Contrast": 14.203312290313901,
        "glcm_Correlation": 0.6664805342833832,
        "glcm_DifferenceAverage": 1.8339052427905216,
        "glcm_DifferenceEntropy": 2.4198565869974145,
        "glcm_DifferenceVariance": 10.761881489449543,
        "glcm_Id": 0.5691206839244123,
        "glcm_Idm": 0.5312498301235651,
        "glcm_Idmn": 0.99451065958275,
        "glcm_Idn": 0.966542063418905,
        "glcm_Imc1": -0.14512906851452267,
        "glcm_Imc2": 0.7518608918928749,
        "glcm_InverseVariance": 0.4482099499414898,
        "glcm_JointAverage": 39.29523788465728,
        "glcm_JointEnergy": 0.04460496161560056,
        "glcm_JointEntropy": 5.743356957709573,
        "glcm_MCC": 0.7276628728562907,
        "glcm_MaximumProbability": 0.10624551751897002,
        "glcm_SumAverage": 78.59047576931457,
        "glcm_SumEntropy": 3.943523757939331,
        "glcm_SumSquares": 22.673056090314198,
        "gldm_DependenceEntropy": 6.824564358101043,
        "gldm_DependenceNonUniformity": 1905.903151016967,
        "gldm_DependenceNonUniformityNormalized": 0.06695131735050996,
        "gldm_DependenceVariance": 18.857093477940545,
        "gldm_GrayLevelNonUniformity": 4709.557628130819,
        "gldm_GrayLevelVariance": 31.673590803028763,
        "gldm_HighGrayLevelEmphasis": 1544.0383953349492,
        "gldm_LargeDependenceEmphasis": 72.92946218428355,
        "gldm_LargeDependenceHighGrayLevelEmphasis": 117744.11743422208,
        "gldm_LargeDependenceLowGrayLevelEmphasis": 0.05026147060088957,
        "gldm_LowGrayLevelEmphasis": 0.0012435501043815262,
        "gldm_SmallDependenceEmphasis": 0.12970051149467382,
        "gldm_SmallDependenceHighGrayLevelEmphasis": 154.21415266667097,
        "gldm_SmallDependenceLowGrayLevelEmphasis": 0.00035164024461969046,
        "glrlm_GrayLevelNonUniformity": 3104.9422173744874,
        "glrlm_GrayLevelNonUniformityNormalized": 0.14410833638349071,
        "glrlm_GrayLevelVariance": 39.51960958972062,
        "glrlm_HighGrayLevelRunEmphasis": 1520.189595256355,
        "glrlm_LongRunEmphasis": 2.3241956481878745,
        "glrlm_LongRunHighGrayLevelEmphasis": 3658.539256100011,
        "glrlm_LongRunLowGrayLevelEmphasis": 0.0023727766305918765,
        "glrlm_LowGrayLevelRunEmphasis": 0.0014029660176303237,
        "glrlm_RunEntropy": 4.472796188966815,
        "glrlm_RunLengthNonUniformity": 13629.875844978938,
        "glrlm_RunLengthNonUniformityNormalized": 0.6291305280547079,
        "glrlm_RunPercentage": 0.75563878282816,
        "glrlm_RunVariance": 0.5410884285171632,
        "glrlm_ShortRunEmphasis": 0.8197250804349258,
        "glrlm_ShortRunHighGrayLevelEmphasis": 1228.711567227057,
        "glrlm_ShortRunLowGrayLevelEmphasis": 0.0012579621610847467,
        "glszm_GrayLevelNonUniformity": 148.30228758169935,
        "glszm_GrayLevelNonUniformityNormalized": 0.04038733321941703,
        "glszm_GrayLevelVariance": 98.43946053215525,
        "glszm_HighGrayLevelZoneEmphasis": 1126.2949346405228,
        "glszm_LargeAreaEmphasis": 29412.369553376906,
        "glszm_LargeAreaHighGrayLevelEmphasis": 47476259.433278866,
        "glszm_LargeAreaLowGrayLevelEmphasis": 18.26942849801794,
        "glszm_LowGrayLevelZoneEmphasis": 0.0032052378083292344,
        "glszm_SizeZoneNonUniformity": 1758.2380174291939,
        "glszm_SizeZoneNonUniformityNormalized": 0.47882298949596785,
        "glszm_SmallAreaEmphasis": 0.7194915992588795,
        "glszm_SmallAreaHighGrayLevelEmphasis": 766.1015055359381,
        "glszm_SmallAreaLowGrayLevelEmphasis": 0.002202785196679025,
        "glszm_ZoneEntropy": 6.629920192252785,
        "glszm_ZonePercentage": 0.1289914638001897,
        "glszm_ZoneVariance": 29352.269057173522,
        "ngtdm_Busyness": 1.1288777812698614,
        "ngtdm_Coarseness": 0.00027458997813250706,
        "ngtdm_Complexity": 1665.9510923750258,
        "ngtdm_Contrast": 0.03707750847138826,
        "ngtdm_Strength": 1.0998133665340608,
        "shape_Compactness1": 0.021468748894161963,
        "shape_Compactness2": 0.16376297483330562,
        "shape_Elongation": 0.9381183098636983,
        "shape_Flatness": 0.1941693719786198,
        "shape_LeastAxisLength": 16.958675998915783,
        "shape_MajorAxisLength": 87.33960369806994,
        "shape_Maximum2DDiameterColumn": 86.80940356400583,
        "shape_Maximum2DDiameterRow": 87.41752787329756,
        "shape_Maximum2DDiameterSlice": 98.18728462666493,
        "shape_Maximum3DDiameter": 98.18728462666493,
        "shape_MeshVolume": 81263.22951707813,
        "shape_MinorAxisLength": 81.93488140539858,
        "shape_SphericalDisproportion": 1.8277975619690403,
        "shape_Sphericity": 0.5471065400277288,
        "shape_SurfaceArea": 16583.45194913487,
        "shape_SurfaceVolumeRatio": 0.20407079619755603,
        "shape_VoxelVolume": 81517.73081071395
    ]

    func testFeaturesDefinedAlikeAgree() throws {
        let dir = try SharedData.url("ibsi1/ct_phantom/nifti")
        let image = try NIfTI.readImage(dir.appendingPathComponent("image.nii.gz"))
        var mask = try NIfTI.readLabelMap(dir.appendingPathComponent("mask.nii.gz")).map { $0 > 0 }
        let first = try XCTUnwrap(mask.boundingBox).lower.k + 10
        let n = mask.grid.size
        for k in 0..<n.nz where k < first || k > first + 4 {
            for t in (k * n.nx * n.ny)..<((k + 1) * n.nx * n.ny) { mask.voxels[t] = false }
        }
        XCTAssertEqual(mask.count, 28467)
        var minimum = Float.infinity
        for t in 0..<mask.voxels.count where mask.voxels[t] { minimum = min(minimum, image.voxels[t]) }
        let lower = 25 * (Double(minimum) / 25).rounded(.down)
        XCTAssertEqual(lower, -950)
        let settings = ExtractionSettings(
            mode: .volume3D, resampling: nil, resegmentation: .init(lowerBound: lower),
            discretisation: .fixedBinSize(width: 25), textureAggregations: [.volume3DAverage], ivhDiscretisation: .none)
        let features = try RadiomicsExtractor.extract(image: image, mask: mask, settings: settings).features
        var compared = 0, failures = [String]()
        for v in features {
            let name = FeatureCatalogTests.storeName(v)
            guard let py = FeatureCatalog.entry(storeName: name)?.pyradiomicsName else { continue }
            let key = String(py.dropFirst("original_".count))
            guard let reference = Self.pyradiomics[key] else {
                failures.append("\(name): PyRadiomics gave no \(key)")
                continue
            }
            compared += 1
            // Mesh features: the marching-cubes tables differ in ambiguous cubes (see the catalogue note).
            let meshBased = FeatureCatalog.entry(storeName: name)?.note?.contains("marching-cubes") == true
            let tolerance = meshBased ? 2e-3 : 1e-6
            if !(abs(v.value - reference) <= tolerance * max(1, abs(reference))) {
                failures.append("\(name) = \(v.value), PyRadiomics \(key) = \(reference)")
            }
        }
        print("PyRadiomics agreement: \(compared - failures.count)/\(compared) features agree")
        XCTAssertGreaterThan(compared, 90)
        XCTAssertTrue(failures.isEmpty, failures.joined(separator: "\n"))
        // Principal axes: PyRadiomics' covariance divides by N, LesionMap's by N - 1.
        for (tag, key) in [("morph_pca_maj_axis", "shape_MajorAxisLength"), ("morph_pca_min_axis", "shape_MinorAxisLength"),
                           ("morph_pca_least_axis", "shape_LeastAxisLength")] {
            let value = try XCTUnwrap(features.first { $0.ibsiTag == tag }).value
            XCTAssertEqual(value * (28466.0 / 28467).squareRoot(), try XCTUnwrap(Self.pyradiomics[key]), accuracy: 1e-9, tag)
        }
        // Kurtosis: PyRadiomics reports the plain fourth standardised moment, IBSI the excess over 3.
        let kurtosis = try XCTUnwrap(features.first { $0.ibsiTag == "stat_kurt" }).value
        XCTAssertEqual(kurtosis + 3, try XCTUnwrap(Self.pyradiomics["firstorder_Kurtosis"]), accuracy: 1e-9)
    }
}
