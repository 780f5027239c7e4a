import Foundation
import ImagingCore
import XCTest

/// What SimpleITK reported for a file: `GetOrigin`, `GetSpacing`, `GetDirection` (row-major)
/// and `TransformIndexToPhysicalPoint` for some voxels.
struct SimpleITKGeometry {
    var origin: [Double]
    var spacing: [Double]
    var direction: [Double]
    var points: [(index: Index3, world: [Double])] = []
}

/// Asserts that `grid` matches SimpleITK's geometry: directions within 1e-6, origin, spacing and
/// voxel positions within `tolerance` mm.
func assertGrid(_ grid: ImageGrid, matches expected: SimpleITKGeometry, tolerance: Double = 1e-4,
                _ label: String, file: StaticString = #filePath, line: UInt = #line) {
    for a in 0..<3 {
        XCTAssertEqual(grid.origin[a], expected.origin[a], accuracy: tolerance, "\(label) origin[\(a)]", file: file, line: line)
        XCTAssertEqual(grid.spacing[a], expected.spacing[a], accuracy: 1e-6, "\(label) spacing[\(a)]", file: file, line: line)
        for c in 0..<3 {
            XCTAssertEqual(grid.direction[a, c], expected.direction[a * 3 + c], accuracy: 1e-6,
                           "\(label) direction[\(a), \(c)]", file: file, line: line)
        }
    }
    for (index, world) in expected.points {
        let w = grid.world(at: index)
        for a in 0..<3 {
            XCTAssertEqual(w[a], world[a], accuracy: tolerance, "\(label) world\(index)[\(a)]", file: file, line: line)
        }
    }
}
