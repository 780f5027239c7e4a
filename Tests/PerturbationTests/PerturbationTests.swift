import XCTest
import ImagingCore
@testable import Perturbation

final class PerturbationTests: XCTestCase {
    /// A 40 x 40 x 20 grid of 1 x 1 x 2 mm voxels.
    let grid = ImageGrid(size: Size3(40, 40, 20), spacing: Vector3(1, 1, 2), origin: Vector3(-20, -20, 0))

    func sphere(radius: Double, centre: Vector3 = Vector3(0, 0, 20)) -> Mask {
        var m = Mask(grid: grid, repeating: false)
        for t in m.voxels.indices where (grid.world(at: grid.index(ofLinear: t)) - centre).length <= radius { m.voxels[t] = true }
        return m
    }

    func ramp(_ f: (Vector3) -> Double) -> Volume<Float> {
        var v = Volume<Float>(grid: grid, repeating: 0)
        for t in v.voxels.indices { v.voxels[t] = Float(f(grid.world(at: grid.index(ofLinear: t)))) }
        return v
    }

    func testListsParseAndPrintBack() throws {
        let all = try Perturbation.parseList("growth,noise,translate,rotate,contour")
        XCTAssertEqual(all.count, 20)
        XCTAssertEqual(all, Perturbation.defaults)
        for p in all + [.original, .contour(seed: 3, cellMM: 5), .contour(seed: 2, cellMM: nil)] {
            XCTAssertEqual(try Perturbation.parse(p.description), p, p.description)
        }
        XCTAssertEqual(try Perturbation.parseList("original, growth:-1.5, translate:0.5:0:0.25, rotate:15, contour:7:4"),
                       [.original, .growth(mm: -1.5), .translate(x: 0.5, y: 0, z: 0.25), .rotate(degrees: 15),
                        .contour(seed: 7, cellMM: 4)])
        XCTAssertThrowsError(try Perturbation.parseList("growth:0,blur,rotate:90,noise:1,noise:1,translate:2:0:0")) { error in
            let m = (error as? PerturbationError)?.message ?? ""
            for part in ["'growth:0'", "unknown perturbation 'blur'", "'rotate:90'", "'noise:1' is listed twice", "'translate:2:0:0'"] {
                XCTAssertTrue(m.contains(part), "\(part) missing from: \(m)")
            }
        }
    }

    /// White noise of SD 10 over a smooth image (a ramp and a step edge): the Haar/MAD estimate is within 3 %.
    func testNoiseEstimateRecoversWhiteNoiseLevel() {
        var random = PerturbationRandom(seed: 5)
        let big = ImageGrid(size: Size3(128, 128, 8), spacing: Vector3(1, 1, 2))
        var v = Volume<Float>(grid: big, repeating: 0)
        for t in v.voxels.indices {
            let p = big.index(ofLinear: t)
            v.voxels[t] = Float(0.5 * Double(p.i) + (p.j > 64 ? 200 : 0) + 10 * random.normal())
        }
        XCTAssertEqual(NoiseEstimate.chang(v), 10, accuracy: 0.3)
        // Without noise, only the edges remain: the median ignores them.
        XCTAssertEqual(NoiseEstimate.chang(v.map { ($0 / 1000).rounded() * 1000 }), 0, accuracy: 1e-9)
    }

    func testNoiseIsSeededAndHasTheGivenLevel() throws {
        let image = ramp { $0.x }
        let lesion = sphere(radius: 6)
        let box = IndexBox(lower: Index3(0, 0, 0), upper: Index3(39, 39, 19))
        func run(_ p: Perturbation, _ keys: [String]) throws -> [Float] {
            var r = PerturbationRandom(seed: 1, keys: keys)
            return try p.apply(image: image, lesion: lesion, others: nil, box: box, noiseSD: 12, random: &r).image.voxels
        }
        let a = try run(.noise(seed: 1), ["P1", "L1", "noise:1"])
        XCTAssertEqual(a, try run(.noise(seed: 1), ["P1", "L1", "noise:1"]))
        XCTAssertNotEqual(a, try run(.noise(seed: 2), ["P1", "L1", "noise:2"]))
        XCTAssertNotEqual(a, try run(.noise(seed: 1), ["P1", "L2", "noise:1"]))
        let diff = zip(a, image.voxels).map { Double($0 - $1) }
        let mean = diff.reduce(0, +) / Double(diff.count)
        let sd = (diff.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / Double(diff.count - 1)).squareRoot()
        XCTAssertEqual(mean, 0, accuracy: 0.3)
        XCTAssertEqual(sd, 12, accuracy: 0.3)
    }

    func testGrowthMovesTheContourByTheDistance() throws {
        let image = ramp { _ in 0 }
        let box = IndexBox(lower: Index3(0, 0, 0), upper: Index3(39, 39, 19))
        var r = PerturbationRandom(seed: 1)
        let lesion = sphere(radius: 8)
        let grown = try Perturbation.growth(mm: 2).apply(image: image, lesion: lesion, others: nil, box: box, noiseSD: 0, random: &r)
        let shrunk = try Perturbation.growth(mm: -2).apply(image: image, lesion: lesion, others: nil, box: box, noiseSD: 0, random: &r)
        // Within a voxel of the spheres of radius 10 and 6.
        XCTAssertEqual(grown.lesion.count, sphere(radius: 10).count, accuracy: sphere(radius: 10).count / 8)
        XCTAssertEqual(shrunk.lesion.count, sphere(radius: 6).count, accuracy: sphere(radius: 6).count / 4)
        XCTAssertTrue(shrunk.lesion.subtracting(lesion).isEmpty)
        XCTAssertTrue(lesion.subtracting(grown.lesion).isEmpty)
        // Growth does not take another lesion's voxels.
        let other = sphere(radius: 3, centre: Vector3(0, 10, 20))
        let beside = try Perturbation.growth(mm: 2).apply(image: image, lesion: lesion.subtracting(other), others: other,
                                                         box: box, noiseSD: 0, random: &r)
        XCTAssertTrue(beside.lesion.intersection(other).isEmpty)
        // An erosion larger than the lesion is refused, naming the perturbation.
        XCTAssertThrowsError(try Perturbation.growth(mm: -4).apply(image: image, lesion: sphere(radius: 2), others: nil,
                                                                  box: box, noiseSD: 0, random: &r)) { error in
            XCTAssertTrue("\(error)".contains("growth:-4 leaves no voxel"), "\(error)")
        }
    }

    /// Trilinear interpolation is exact on a linear image: a translation by half a voxel in x shifts a ramp of
    /// slope 3 HU/mm by 1.5 HU; by a whole-voxel mix of fractions it is exact too.
    func testTranslationIsExactOnLinearImages() throws {
        let image = ramp { 3 * $0.x + 2 * $0.y - $0.z }
        let lesion = sphere(radius: 6)
        let box = IndexBox(lower: Index3(5, 5, 3), upper: Index3(34, 34, 16))
        var r = PerturbationRandom(seed: 1)
        let moved = try Perturbation.translate(x: 0.5, y: 0.25, z: 0.5).apply(image: image, lesion: lesion, others: nil,
                                                                             box: box, noiseSD: 0, random: &r)
        let original = image.cropped(to: box)
        for (a, b) in zip(moved.image.voxels, original.voxels) {
            XCTAssertEqual(Double(a), Double(b) - 3 * 0.5 - 2 * 0.25 + 1 * 0.5 * 2, accuracy: 1e-4)
        }
        XCTAssertEqual(moved.lesion.grid, original.grid)
        XCTAssertEqual(Double(moved.lesion.count), Double(lesion.count), accuracy: Double(lesion.count) * 0.15)
        let still = try Perturbation.translate(x: 0, y: 0, z: 0).apply(image: image, lesion: lesion, others: nil,
                                                                      box: box, noiseSD: 0, random: &r)
        XCTAssertEqual(still.image.voxels, original.voxels)
        XCTAssertEqual(still.lesion.voxels, lesion.cropped(to: box).voxels)
    }

    /// A rotation by 90 degrees about z turns a lesion long in x into one long in y, and the image with it.
    func testRotationTurnsImageAndMaskAboutTheLesion() throws {
        var bar = Mask(grid: grid, repeating: false)
        for t in bar.voxels.indices {
            let w = grid.world(at: grid.index(ofLinear: t))
            if abs(w.x) <= 8, abs(w.y) <= 2, abs(w.z - 20) <= 2 { bar.voxels[t] = true }
        }
        let image = ramp { $0.x }
        let box = IndexBox(lower: Index3(0, 0, 0), upper: Index3(39, 39, 19))
        var r = PerturbationRandom(seed: 1)
        let turned = try Perturbation.rotate(degrees: 90).apply(image: image, lesion: bar, others: nil, box: box, noiseSD: 0, random: &r)
        let b = turned.lesion.boundingBox!
        XCTAssertEqual(b.size.nx, 5)
        XCTAssertEqual(b.size.ny, 17)
        XCTAssertEqual(turned.lesion.count, bar.count)
        // The x ramp becomes a y ramp through the centroid (0, 0): value(x, y) = ±y.
        let centre = grid.linearIndex(20, 20, 10), up = grid.linearIndex(20, 25, 10)
        XCTAssertEqual(abs(Double(turned.image.voxels[up] - turned.image.voxels[centre])), 5, accuracy: 1e-4)
        XCTAssertEqual(Double(turned.image.voxels[grid.linearIndex(25, 20, 10)] - turned.image.voxels[centre]), 0, accuracy: 1e-4)
    }

    /// Contour randomisation keeps the core, never reaches beyond a cell, and keeps the volume on average.
    func testContourRandomisationKeepsVolumeOnAverage() throws {
        let lesion = sphere(radius: 9)
        let image = ramp { _ in 0 }
        let box = IndexBox(lower: Index3(0, 0, 0), upper: Index3(39, 39, 19))
        var counts: [Double] = []
        var changed = 0
        for seed in 1...40 {
            let p = Perturbation.contour(seed: seed, cellMM: 3)
            var r = PerturbationRandom(seed: 1, keys: ["P", "L", p.description])
            let out = try p.apply(image: image, lesion: lesion, others: nil, box: box, noiseSD: 0, random: &r).lesion
            counts.append(Double(out.count))
            if out.voxels != lesion.voxels { changed += 1 }
            // The core (more than a cell diagonal inside) is kept; nothing beyond a cell diagonal outside is added.
            XCTAssertTrue(sphere(radius: 9 - 2 * 3 * 3.0.squareRoot()).subtracting(out).isEmpty)
            XCTAssertTrue(out.subtracting(sphere(radius: 9 + 2 * 3 * 3.0.squareRoot())).isEmpty)
        }
        XCTAssertEqual(changed, 40)
        let mean = counts.reduce(0, +) / Double(counts.count)
        XCTAssertEqual(mean, Double(lesion.count), accuracy: Double(lesion.count) * 0.03)
        // The same seed and keys give the same contour.
        var r1 = PerturbationRandom(seed: 1, keys: ["P", "L", "contour:1"]), r2 = r1
        XCTAssertEqual(ContourRandomisation.randomise(lesion, cellMM: 3, random: &r1).voxels,
                       ContourRandomisation.randomise(lesion, cellMM: 3, random: &r2).voxels)
    }
}
