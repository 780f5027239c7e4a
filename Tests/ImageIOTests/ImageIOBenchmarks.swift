import Foundation
import ImageIO
import ImagingCore
import TestSupport
import XCTest

/// Reading speed on a full-size CT (512x512x134 int16, as LUNG1-001). Prints figures; runs only
/// with `LESIONMAP_BENCHMARK=1` (use a release build: `swift test -c release --filter ImageIOBenchmarks`).
final class ImageIOBenchmarks: XCTestCase {
    func testReadFullSizeCT() throws {
        guard ProcessInfo.processInfo.environment["LESIONMAP_BENCHMARK"] == "1" else {
            throw XCTSkip("benchmark: set LESIONMAP_BENCHMARK=1")
        }
        let dir = try SharedData.temporaryDirectory(for: self)
        let grid = ImageGrid(size: Size3(512, 512, 134), spacing: Vector3(0.977, 0.977, 3),
                             origin: Vector3(-250, -250, -600))
        var state: UInt32 = 1
        let voxels = (0..<grid.voxelCount).map { i -> Int16 in
            state = state &* 1_664_525 &+ 1_013_904_223
            return Int16(truncatingIfNeeded: (i / 512) % 2000 - 1000 + Int(state >> 28))
        }
        let ct = Volume<Int16>(grid: grid, voxels: voxels)
        for name in ["ct.nii", "ct.nii.gz"] {
            let url = dir.appendingPathComponent(name)
            let writeStart = Date()
            try NIfTI.write(ct, to: url)
            let writeSeconds = Date().timeIntervalSince(writeStart)
            let readStart = Date()
            let image = try NIfTI.readImage(url)
            let readSeconds = Date().timeIntervalSince(readStart)
            XCTAssertEqual(image.voxels[123_456], Float(voxels[123_456]))
            let bytes = (try FileManager.default.attributesOfItem(atPath: url.path)[.size] as? Int) ?? 0
            print(String(format: "ImageIO benchmark %@: 512x512x134 int16, file %.1f MB, write %.3f s, read %.3f s",
                         name, Double(bytes) / 1e6, writeSeconds, readSeconds))
        }
    }
}
