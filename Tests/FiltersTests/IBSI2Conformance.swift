import Foundation
import XCTest
import Filters
import ImageIO
import ImagingCore
import TestSupport

/// Reading the IBSI 2 phase 1 phantoms and consensus response maps (`../shared/data/ibsi2`) and comparing a
/// filter's response with them voxel by voxel.
enum IBSI2 {
    static func phantom(_ name: String) throws -> Volume<Float> {
        try NIfTI.readImage(SharedData.url("ibsi2/phantoms/\(name)/image.nii.gz"))
    }

    static func responseMap(_ file: String) throws -> Volume<Float> {
        try NIfTI.readImage(SharedData.url("ibsi2/response_maps/\(file).nii.gz"))
    }

    /// Asserts that every voxel of `filter`'s response to `phantom` is within 0.001 of the consensus map `file`
    /// (the IBSI 2 phase 1 criterion), printing "matched/total" and the largest difference.
    static func assertConforms(_ filter: any ImageFilter, phantom name: String, map file: String,
                               configuration: String, file sourceFile: StaticString = #filePath,
                               line: UInt = #line) throws {
        let image = try phantom(name)
        let reference = try responseMap(file)
        let response = filter.response(of: image)
        XCTAssertEqual(response.size, reference.size, file: sourceFile, line: line)
        var matched = 0
        var worst = 0.0
        var worstIndex = 0
        for n in reference.voxels.indices {
            let d = abs(Double(response.voxels[n]) - Double(reference.voxels[n]))
            if d <= 0.001 { matched += 1 }
            if d > worst { worst = d; worstIndex = n }
        }
        let total = reference.voxels.count
        let at = reference.grid.index(ofLinear: worstIndex)
        print("IBSI 2 phase 1 \(configuration) (\(filter.token)): \(matched)/\(total) voxels within 0.001; "
              + "largest difference \(worst) at \(at) (ours \(response.voxels[worstIndex]), "
              + "reference \(reference.voxels[worstIndex]))")
        XCTAssertEqual(matched, total, "\(configuration): \(total - matched) voxels differ by more than 0.001 "
                       + "(largest \(worst) at \(at))", file: sourceFile, line: line)
    }
}
