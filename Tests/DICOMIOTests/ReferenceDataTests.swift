import Cohort
import DICOMIO
import Foundation
import ImageIO
import ImagingCore
import TestSupport
import XCTest

/// DICOM series and RTSTRUCTs against the NIfTI versions of the same data.
final class ReferenceDataTests: XCTestCase {
    /// Loads a DICOM series and its RTSTRUCT ROI and compares them with the NIfTI image and mask.
    private func compare(dicom: String, rtstruct: String, roi: String, niftiImage: String, niftiMask: String,
                         label: String) throws {
        let series = try DICOMSeriesReader.read(try SharedData.url(dicom))
        let reference = try NIfTI.readImage(try SharedData.url(niftiImage))
        let g = series.image.grid, r = reference.grid
        print("\(label): DICOM \(g)\n\(label): NIfTI \(r)")
        XCTAssertEqual(g.size, r.size)
        XCTAssertLessThan((g.spacing - r.spacing).length, 1e-3)
        XCTAssertLessThan((g.origin - r.origin).length, 1e-3)
        XCTAssertLessThan(g.direction.maxDifference(to: r.direction), 1e-5)
        guard g.size == r.size else { return }
        let maxDiff = zip(series.image.voxels, reference.voxels).map { abs($0 - $1) }.max() ?? 0
        print("\(label): largest voxel difference DICOM vs NIfTI: \(maxDiff)")
        XCTAssertLessThanOrEqual(maxDiff, 1e-3)

        let masks = try DCMTKSource().contours(try SharedData.url(rtstruct), kind: .rtstruct, roi: roi, onto: g)
        XCTAssertEqual(masks.map(\.name), [roi])
        let maskURL = try SharedData.url(niftiMask)
        let referenceMask: Mask
        do {
            referenceMask = try NIfTI.readLabelMap(maskURL).map { $0 != 0 }
        } catch {
            XCTFail("\(label): the reference mask cannot be read, so the RTSTRUCT (\(masks[0].mask.count) voxels) cannot be compared: \(error)")
            return
        }
        let dice = masks[0].mask.dice(referenceMask)
        print("\(label): RTSTRUCT '\(roi)' \(masks[0].mask.count) voxels, NIfTI mask \(referenceMask.count) voxels, Dice \(dice)")
        XCTAssertGreaterThanOrEqual(dice, 0.99)
    }

    func testIBSIPhantomMatchesNIfTI() throws {
        try compare(dicom: "ibsi1/ct_phantom/dicom/image", rtstruct: "ibsi1/ct_phantom/dicom/rtstruct.dcm",
                    roi: "GTV-1", niftiImage: "ibsi1/ct_phantom/nifti/image.nii.gz",
                    niftiMask: "ibsi1/ct_phantom/nifti/mask.nii.gz", label: "ct_phantom")
    }

    func testSTS001MatchesNIfTI() throws {
        let nifti = try SharedData.url("sts_001/nifti")
        let files = try FileManager.default.contentsOfDirectory(atPath: nifti.path).sorted()
        print("sts_001/nifti holds \(files)")
        let image = files.first { $0.contains("image") } ?? files[0]
        let mask = files.first { $0.contains("mask") } ?? files[1]
        try compare(dicom: "sts_001/ct", rtstruct: "sts_001/rtstruct.dcm", roi: "GTV_Mass_CT",
                    niftiImage: "sts_001/nifti/" + image, niftiMask: "sts_001/nifti/" + mask, label: "sts_001")
    }
}
