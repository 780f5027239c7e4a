import Foundation
import ImageIO
import ImagingCore
import Radiomics
import TestSupport
import XCTest

/// The `tag;value` output of `lesionmap features --format ibsi` and the command-line setting overrides.
final class IBSITextTests: XCTestCase {
    /// The command's path for `--preset ibsi-digital-phantom --format ibsi`: preset, overrides, whole-image
    /// diagnostics, single-lesion extraction, IBSI lines; every reference value must match.
    func testDigitalPhantomLinesMatchEveryReferenceValue() throws {
        let dir = try SharedData.url("ibsi1/digital_phantom")
        let image = try NIfTI.readImage(dir.appendingPathComponent("image.nii.gz"))
        let mask = try NIfTI.readLabelMap(dir.appendingPathComponent("mask.nii.gz")).mask(label: 1)
        var settings = try SettingsOverrides().applied(to: try ExtractionSettings.preset(named: "ibsi-digital-phantom"))
        settings.wholeImageDiagnostics = true
        let result = try LesionFeatureExtractor.extract(image: image, lesions: [mask], settings: settings)[0]
        var values: [String: Double] = [:]
        for line in result.tumour.ibsiLines {
            let cells = line.split(separator: ";", omittingEmptySubsequences: false)
            XCTAssertEqual(cells.count, 2, line)
            let tag = String(cells[0])
            XCTAssertNil(values[tag], "\(tag) written twice")
            values[tag] = Double(cells[1])
        }
        let reference = try ReferenceValues(url: dir.appendingPathComponent("reference_values.csv"))
        let outcome = reference.compare(prefixes: [""]) { values[$0] }
        print("digital phantom via --format ibsi: \(outcome.matched)/\(outcome.total) matched")
        XCTAssertEqual(outcome.total, reference.entries.count)
        XCTAssertGreaterThan(outcome.total, 480)
        XCTAssertEqual(outcome.matched, outcome.total, outcome.failures.joined(separator: "; "))
    }

    func testNumbersAreWrittenExactlyAndShort() {
        XCTAssertEqual(FeatureText.number(125256), "125256")
        XCTAssertEqual(FeatureText.number(-3), "-3")
        XCTAssertEqual(FeatureText.number(0.509), "0.509")
        XCTAssertEqual(Double(FeatureText.number(1.0 / 3)), 1.0 / 3)
        XCTAssertEqual(FeatureText.number(.nan), "NaN")
        XCTAssertEqual(FeatureText.number(-.infinity), "-inf")
    }

    func testOverridesOfModeSpacingBinsAndRing() throws {
        let c = ExtractionSettings.ibsiC
        let twoD = try SettingsOverrides(mode: .slice2D).applied(to: c)
        XCTAssertEqual(twoD.mode, .slice2D)
        XCTAssertEqual(twoD.textureAggregations, [.slice2DAverage, .slice2DMerged, .volume2_5DAverage, .volume2_5DMerged])
        XCTAssertEqual(twoD.resampling?.inPlaneOnly, true)
        XCTAssertEqual(twoD.resampling?.spacing, [2, 2, 0])
        XCTAssertEqual(twoD.resampling?.interpolation, .linear)

        let threeD = try SettingsOverrides(spacingMM: 1.5, mode: .volume3D).applied(to: ExtractionSettings.ibsiB)
        XCTAssertEqual(threeD.resampling?.spacing, [1.5, 1.5, 1.5])
        XCTAssertEqual(threeD.resampling?.inPlaneOnly, false)
        XCTAssertEqual(threeD.textureAggregations, [.volume3DAverage, .volume3DMerged])

        let inPlane = try SettingsOverrides(spacingMM: 1, mode: .volume2_5D).applied(to: .ibsiDigitalPhantom)
        XCTAssertEqual(inPlane.resampling?.spacing, [1, 1, 0])
        XCTAssertEqual(inPlane.textureAggregations, [.volume2_5DAverage, .volume2_5DMerged])

        XCTAssertEqual(try SettingsOverrides(binCount: 16).applied(to: c).discretisation, .fixedBinNumber(count: 16))
        XCTAssertEqual(try SettingsOverrides(binWidth: 10).applied(to: c).discretisation, .fixedBinSize(width: 10))
        XCTAssertEqual(try SettingsOverrides(ringWidthMM: 5).applied(to: c).ring?.widthMM, 5)
        XCTAssertNil(try SettingsOverrides(ringWidthMM: 0).applied(to: .clinicalDefault).ring)
        XCTAssertEqual(try SettingsOverrides().applied(to: .clinicalDefault), .clinicalDefault)

        for bad in [SettingsOverrides(binWidth: 25, binCount: 32), SettingsOverrides(binWidth: 0),
                    SettingsOverrides(binCount: 0), SettingsOverrides(spacingMM: -1), SettingsOverrides(ringWidthMM: -2)] {
            XCTAssertThrowsError(try bad.applied(to: c)) { error in
                guard case .invalidSettings? = error as? RadiomicsError else { return XCTFail("\(error)") }
            }
        }
    }
}
