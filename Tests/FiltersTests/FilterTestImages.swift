import XCTest
import Filters
import ImagingCore

/// Small synthetic images and the box-versus-whole check shared by the filter tests.
enum FilterTestImages {
    /// A reproducible pseudo-random image in [-100, 100).
    static func random(_ size: Size3, spacing: Vector3 = Vector3(1, 1, 1), seed: UInt64 = 0x9E3779B97F4A7C15) -> Volume<Float> {
        let grid = ImageGrid(size: size, spacing: spacing)
        var state = seed
        let voxels = (0..<grid.voxelCount).map { _ -> Float in
            state = state &* 6364136223846793005 &+ 1442695040888963407
            return Float(state >> 40) / Float(1 << 24) * 200 - 100
        }
        return Volume(grid: grid, voxels: voxels)
    }

    /// Boxes inside, at the low corner and at the high corner of the image.
    static func boxes(_ size: Size3) -> [IndexBox] {
        [IndexBox(lower: Index3(size.nx / 3, size.ny / 3, size.nz / 3),
                  upper: Index3(size.nx / 2 + 1, size.ny / 2 + 1, size.nz / 2 + 1)),
         IndexBox(lower: Index3(0, 0, 0), upper: Index3(2, size.ny - 1, 1)),
         IndexBox(lower: Index3(size.nx - 3, size.ny - 2, size.nz - 2),
                  upper: Index3(size.nx - 1, size.ny - 1, size.nz - 1))]
    }

    /// The response over each box equals the whole response cropped to it (within `tolerance`; exact for
    /// direct convolutions, rounding-level for FFT ones).
    static func assertBoxEqualsCropped(_ filter: any ImageFilter, _ image: Volume<Float>, tolerance: Float = 0,
                                       file: StaticString = #filePath, line: UInt = #line) {
        let whole = filter.response(of: image)
        for box in boxes(image.size) {
            let part = filter.response(of: image, over: box)
            XCTAssertEqual(part.grid, image.grid.subgrid(box), file: file, line: line)
            let expected = whole.cropped(to: box).voxels
            let worst = zip(part.voxels, expected).map { abs($0 - $1) }.max() ?? 0
            XCTAssertLessThanOrEqual(worst, tolerance, "\(filter.token) over \(box)", file: file, line: line)
        }
    }
}
