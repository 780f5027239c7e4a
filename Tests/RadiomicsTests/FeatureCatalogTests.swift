import Foundation
import ImageIO
import ImagingCore
import Radiomics
import TestSupport
import XCTest

/// The feature catalogue covers every feature an extraction produces, and its identifiers hold.
final class FeatureCatalogTests: XCTestCase {
    /// The store's naming rule (`CohortExtraction.storeName` in Pipeline): family, then the tag without its prefix.
    static func storeName(_ v: FeatureValue) -> String {
        v.family.rawValue + "." + v.ibsiTag.dropFirst(v.family.ibsiPrefix.count + 1)
    }

    func testEveryExtractedFeatureHasAnEntry() throws {
        let dir = try SharedData.url("mask_edge_cases")
        let image = try NIfTI.readImage(dir.appendingPathComponent("image.nii.gz"))
        let mask = try NIfTI.readLabelMap(dir.appendingPathComponent("disconnected_mask.nii.gz")).map { $0 > 0 }
        var everyAggregation = ExtractionSettings.clinicalDefault
        everyAggregation.textureAggregations = TextureAggregation.allCases
        everyAggregation.resampling = nil
        var produced = 0
        for settings in [ExtractionSettings.clinicalDefault, everyAggregation] {
            let result = try LesionFeatureExtractor.extract(image: image, lesions: [mask], settings: settings)[0]
            for region in [result.tumour, result.ring].compactMap({ $0 }) {
                for v in region.features {
                    produced += 1
                    let entry = try XCTUnwrap(FeatureCatalog.entry(storeName: Self.storeName(v)), Self.storeName(v))
                    XCTAssertEqual(entry.ibsiTag, v.ibsiTag)
                    XCTAssertEqual(entry.family, v.family)
                    XCTAssertEqual(entry.feature, v.name)
                }
            }
        }
        XCTAssertGreaterThan(produced, 600)
    }

    func testIdentifiersAndExamples() throws {
        let entries = FeatureCatalog.entries
        XCTAssertEqual(Set(entries.map(\.storeName)).count, entries.count, "store names are unique")
        // 104 non-texture features; GLCM 25 and GLRLM 16 in 6 aggregations; 16 + 16 + 5 + 17 in 3 dimensionalities.
        XCTAssertEqual(entries.count, 29 + 2 + 18 + 23 + 7 + (25 + 16) * 6 + (16 + 16 + 5 + 17) * 3)
        for e in entries {
            XCTAssertEqual(e.ibsiID.count, 4, e.storeName)
            XCTAssertTrue(e.ibsiID.allSatisfy { $0.isUppercase || $0.isNumber }, e.storeName)
            XCTAssertTrue(e.pyradiomicsName != nil || e.note != nil, "\(e.storeName): no PyRadiomics name and no note")
        }
        // One IBSI identifier per feature, the same across aggregations, different across features of a family.
        for family in FeatureFamily.allCases {
            var idOf: [String: String] = [:]
            for e in entries where e.family == family {
                if let id = idOf[e.feature] { XCTAssertEqual(id, e.ibsiID, e.storeName) } else { idOf[e.feature] = e.ibsiID }
            }
            XCTAssertEqual(Set(idOf.values).count, idOf.count, family.rawValue)
        }
        let max3D = try XCTUnwrap(FeatureCatalog.entry(storeName: "glcm.joint_max_3D_comb"))
        XCTAssertEqual(max3D.ibsiID, "GYBY")
        XCTAssertNil(max3D.pyradiomicsName, "PyRadiomics averages over directions; it has no merged GLCM")
        XCTAssertEqual(FeatureCatalog.entry(storeName: "glcm.joint_max_3D_avg")?.pyradiomicsName,
                       "original_glcm_MaximumProbability")
        XCTAssertEqual(FeatureCatalog.entry(storeName: "morphology.volume")?.ibsiID, "RNU0")
        XCTAssertEqual(FeatureCatalog.entry(storeName: "morphology.volume")?.pyradiomicsName, "original_shape_MeshVolume")
        XCTAssertEqual(FeatureCatalog.entry(storeName: "glszm.sze_3D")?.pyradiomicsName, "original_glszm_SmallAreaEmphasis")
        XCTAssertEqual(FeatureCatalog.entry(storeName: "ngldm.lde_3D")?.pyradiomicsName,
                       "original_gldm_SmallDependenceEmphasis")
        let kurtosis = try XCTUnwrap(FeatureCatalog.entry(storeName: "intensity.kurt"))
        XCTAssertNil(kurtosis.pyradiomicsName)
        XCTAssertTrue(kurtosis.note?.contains("+ 3") == true)
        XCTAssertNil(FeatureCatalog.entry(storeName: "glcm.joint_max"))
    }

    /// Every feature tag of the IBSI reference files names a catalogue entry.
    func testReferenceTagsAreInTheCatalogue() throws {
        let files = ["ibsi1/digital_phantom/reference_values.csv", "ibsi1/ct_phantom/reference_values_config_a.csv",
                     "ibsi1/ct_phantom/reference_values_config_c.csv"]
        let tags = Set(FeatureCatalog.entries.map(\.ibsiTag))
        for file in files {
            let reference = try ReferenceValues(url: try SharedData.url(file))
            for e in reference.entries where FeatureFamily.allCases.contains(where: { e.tag.hasPrefix($0.ibsiPrefix + "_") })
                && !CTPhantomTests.diagnosticPrefixes.contains(where: { e.tag.hasPrefix($0) }) {
                XCTAssertTrue(tags.contains(e.tag), "\(file): \(e.tag)")
            }
        }
    }
}
