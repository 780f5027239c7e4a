import Foundation
import ImagingCore
import XCTest
@testable import Radiomics

/// The fast paths of preprocessing, local intensity, statistics and run counting against plain
/// reference computations on pseudo-random regions of awkward shapes.
final class FastPathTests: XCTestCase {
    struct Random {
        var state: UInt64
        mutating func next() -> Double {
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            return Double(state >> 11) / Double(1 << 53)
        }
    }

    /// Levels 0...maxLevel, a voxel in the ROI with probability `density`.
    static func randomROI(_ size: Size3, levels maxLevel: Int32, density: Double, seed: UInt64) -> DiscretisedROI {
        var random = Random(state: seed)
        let levels = (0..<size.count).map { _ -> Int32 in
            random.next() < density ? 1 + Int32(random.next() * Double(maxLevel)) % maxLevel : 0
        }
        return DiscretisedROI(size: size, spacing: Vector3(1, 1, 1), levels: levels, binCount: Int(maxLevel))
    }

    /// Runs along `direction` by walking every line of the grid from its first voxel.
    static func referenceRuns(_ roi: DiscretisedROI, _ d: Offset3, slices: Range<Int>, width: Int) -> [Int32] {
        let n = roi.size
        var counts = [Int32](repeating: 0, count: roi.binCount * width)
        func level(_ x: Int, _ y: Int, _ z: Int) -> Int32 {
            x >= 0 && y >= 0 && z >= 0 && x < n.nx && y < n.ny && z < n.nz && slices.contains(z)
                ? roi.levels[(z * n.ny + y) * n.nx + x] : 0
        }
        for z in slices { for y in 0..<n.ny { for x in 0..<n.nx {
            let l = level(x, y, z)
            // Count each run once, from its first voxel.
            guard l > 0, level(x - d.dx, y - d.dy, z - d.dz) != l else { continue }
            var length = 1
            while level(x + length * d.dx, y + length * d.dy, z + length * d.dz) == l { length += 1 }
            counts[Int(l - 1) * width + length - 1] += 1
        } } }
        return counts
    }

    func testRunCountsMatchLineWalks() {
        let sizes = [Size3(1, 1, 1), Size3(1, 7, 3), Size3(5, 1, 4), Size3(7, 6, 1), Size3(9, 8, 5), Size3(23, 17, 6),
                     Size3(40, 3, 9)]
        var seed: UInt64 = 1
        for size in sizes {
            for (levels, density) in [(Int32(1), 0.9), (3, 0.6), (9, 0.3), (2, 1.0)] {
                seed += 1
                let roi = Self.randomROI(size, levels: levels, density: density, seed: seed)
                let grid = TextureGrid(roi)
                let width = max(size.nx, size.ny, size.nz)
                for direction in Offset3.planarDirections + Offset3.throughPlaneDirections {
                    let sliceRanges = direction.dz == 0 ? [0..<size.nz] + (0..<size.nz).map { $0..<($0 + 1) } : [0..<size.nz]
                    for slices in sliceRanges {
                        var matrix = LevelMatrix(greyLevels: grid.greyLevels, maxValue: width, voxelCount: 0)
                        GLRLM.countRuns(grid, direction, slices: slices, into: &matrix)
                        XCTAssertEqual(matrix.counts, Self.referenceRuns(roi, direction, slices: slices, width: width),
                                       "\(size) \(direction) \(slices)")
                        let lastUsed = matrix.counts.indices.filter { matrix.counts[$0] != 0 }.map { $0 % width + 1 }.max() ?? 0
                        XCTAssertEqual(matrix.usedColumns, lastUsed, "\(size) \(direction) \(slices)")
                    }
                }
            }
        }
    }

    func testPartCountMatchesConnectedComponentsOnLargerMasks() {
        for (n, density) in [(0, 0.05), (1, 0.2), (2, 0.3), (3, 0.5), (4, 0.8)] {
            let size = Size3(37 + n, 21, 9 + n)
            let mask = PreprocessingHelperTests.randomMask(size, density: density, seed: UInt64(40 + n))
            XCTAssertEqual(Preprocessor.partCount(mask.voxels, size: size), ConnectedComponents.label(mask).count, "\(n)")
        }
        // Two rings that touch only diagonally across slices are one part; apart by a slice they are two.
        var voxels = [Bool](repeating: false, count: 10 * 10 * 5)
        func set(_ i: Int, _ j: Int, _ k: Int) { voxels[(k * 10 + j) * 10 + i] = true }
        for i in 2...6 { set(i, 2, 0); set(i, 6, 0) }
        for j in 2...6 { set(2, j, 0); set(6, j, 0) }
        for i in 7...9 { set(i, 7, 1) }
        XCTAssertEqual(Preprocessor.partCount(voxels, size: Size3(10, 10, 5)), 1)
        set(0, 0, 3)
        XCTAssertEqual(Preprocessor.partCount(voxels, size: Size3(10, 10, 5)), 2)
    }

    func testLocalIntensityPeaksMatchSpheresVoxelByVoxel() throws {
        // Anisotropic voxels whose centres never sit on the sphere's surface; ROI voxels reach the box
        // edge, so some spheres are clipped.
        let size = Size3(19, 16, 9), spacing = Vector3(1.1, 1.3, 2.7)
        var random = Random(state: 99)
        var intensities = [Double](), mask = [Bool]()
        for t in 0..<size.count {
            intensities.append((random.next() * 400).rounded() - 200)
            let k = t / (size.nx * size.ny)
            mask.append(k >= 1 && random.next() < 0.4)
        }
        // The maximum twice, so that the local peak takes the larger of two sphere means.
        intensities[(4 * size.ny + 8) * size.nx + 9] = 500
        intensities[(6 * size.ny + 2) * size.nx + 1] = 500
        mask[(4 * size.ny + 8) * size.nx + 9] = true
        mask[(6 * size.ny + 2) * size.nx + 1] = true
        let region = PreparedRegion(grid: ImageGrid(size: size, spacing: spacing), intensities: intensities,
                                    morphMask: mask, intensityMask: mask)
        let r = Preprocessor.peakRadiusMM
        var global = -Double.infinity, local = -Double.infinity
        for k in 0..<size.nz { for j in 0..<size.ny { for i in 0..<size.nx where mask[(k * size.ny + j) * size.nx + i] {
            var sum = 0.0, count = 0.0
            for kk in 0..<size.nz { for jj in 0..<size.ny { for ii in 0..<size.nx {
                let dx = Double(ii - i) * spacing.x, dy = Double(jj - j) * spacing.y, dz = Double(kk - k) * spacing.z
                if dx * dx + dy * dy + dz * dz <= r * r {
                    sum += intensities[(kk * size.ny + jj) * size.nx + ii]
                    count += 1
                }
            } } }
            global = max(global, sum / count)
            if intensities[(k * size.ny + j) * size.nx + i] == 500 { local = max(local, sum / count) }
        } } }
        let features = LocalIntensity.features(region)
        XCTAssertEqual(try XCTUnwrap(features.first { $0.name == "peak_glob" }).value, global, accuracy: 1e-9 * abs(global))
        XCTAssertEqual(try XCTUnwrap(features.first { $0.name == "peak_loc" }).value, local, accuracy: 1e-9 * abs(local))
    }

    func testPreparationWithoutResamplingKeepsTheImageVoxels() throws {
        let size = Size3(30, 25, 12)
        var random = Random(state: 5)
        let image = Volume<Float>(grid: ImageGrid(size: size, spacing: Vector3(0.8, 0.8, 2.5)),
                                  voxels: (0..<size.count).map { _ in Float((random.next() * 1000).rounded() - 500) })
        var maskVoxels = [Bool](repeating: false, count: size.count)
        for k in 4...7 { for j in 9...15 { for i in 11...19 { maskVoxels[(k * size.ny + j) * size.nx + i] = true } } }
        let mask = Mask(grid: image.grid, voxels: maskVoxels)
        let settings = ExtractionSettings(resegmentation: .init(lowerBound: -100, upperBound: 300))
        let (region, diagnostics) = try Preprocessor.prepare(image: image, mask: PlacedMask(wholeImage: mask),
                                                            settings: settings, context: "test")
        let roi = maskVoxels.indices.filter { maskVoxels[$0] }.map { Double(image.voxels[$0]) }
        let kept = roi.filter { $0 >= -100 && $0 <= 300 }
        func value(_ tag: String) -> Double? { diagnostics.first { $0.tag == tag }?.value }
        XCTAssertEqual(value("int_mask_vox_count_init_roi"), Double(roi.count))
        XCTAssertEqual(value("int_mask_vox_count_interp_roi"), Double(roi.count))
        XCTAssertEqual(value("int_mask_vox_count_reseg_roi"), Double(kept.count))
        XCTAssertEqual(value("morph_mask_vox_count_reseg_roi"), Double(roi.count))
        XCTAssertEqual(value("int_mask_mean_int_init_roi"), roi.reduce(0, +) / Double(roi.count))
        XCTAssertEqual(value("int_mask_mean_int_reseg_roi"), kept.reduce(0, +) / Double(kept.count))
        XCTAssertEqual(value("int_mask_max_int_reseg_roi"), kept.max())
        XCTAssertEqual(value("morph_mask_bb_dim_x_reseg_roi"), 9)
        XCTAssertEqual(value("int_mask_bb_dim_z_init_roi"), 4)
        XCTAssertEqual(region.roiIntensities(), kept)
    }

    func testRobustDeviationsMatchTheirDefinitions() {
        var random = Random(state: 17)
        let values = (0..<999).map { _ in (random.next() * 300).rounded() - 100 }
        let d = Distribution(values)
        let p10 = d.percentile(10), p90 = d.percentile(90)
        let inner = values.filter { $0 >= p10 && $0 <= p90 }
        let innerMean = inner.reduce(0, +) / Double(inner.count)
        let rmad = inner.map { abs($0 - innerMean) }.reduce(0, +) / Double(inner.count)
        XCTAssertEqual(d.robustMeanAbsoluteDeviation, rmad, accuracy: 1e-9)
        XCTAssertEqual(d.meanAbsoluteDeviation, values.map { abs($0 - d.mean) }.reduce(0, +) / 999, accuracy: 1e-9)
        XCTAssertEqual(d.medianAbsoluteDeviation, values.map { abs($0 - d.percentile(50)) }.reduce(0, +) / 999, accuracy: 1e-9)
        XCTAssertTrue(Distribution([]).robustMeanAbsoluteDeviation.isNaN)
    }
}
