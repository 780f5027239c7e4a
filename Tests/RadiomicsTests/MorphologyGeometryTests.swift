import Foundation
import ImagingCore
import XCTest
@testable import Radiomics

/// The geometric parts of the morphology family (convex hull, surface mesh, enclosing ellipsoid,
/// moments) against brute-force definitions.
final class MorphologyGeometryTests: XCTestCase {
    /// A small linear congruential generator, so the cases are the same on every run.
    struct Random {
        var state: UInt64
        mutating func next(_ bound: Int) -> Int {
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            return Int((state >> 33) % UInt64(bound))
        }
    }

    /// Six times the hull volume, exactly.
    static func volume6(_ hull: ConvexHull) -> Int64 {
        hull.faces.reduce(0) { sum, f in
            let a = hull.surfacePoints[Int(f.x)], b = hull.surfacePoints[Int(f.y)], c = hull.surfacePoints[Int(f.z)]
            return sum + (a &* ConvexHull.cross(b, c)).wrappedSum()
        }
    }

    /// Checks that the faces form a closed, outward-oriented surface with every point on or below every face.
    func assertIsHull(_ hull: ConvexHull, of points: [SIMD3<Int32>], file: StaticString = #filePath, line: UInt = #line) {
        var edges = [SIMD2<Int32>: Int]()
        for f in hull.faces {
            for s in 0..<3 { edges[SIMD2(f[s], f[(s + 1) % 3]), default: 0] += 1 }
        }
        for (e, count) in edges {
            XCTAssertEqual(count, 1, "edge \(e) used twice", file: file, line: line)
            XCTAssertEqual(edges[SIMD2(e.y, e.x)], 1, "edge \(e) has no twin", file: file, line: line)
        }
        for f in hull.faces {
            let a = hull.surfacePoints[Int(f.x)], b = hull.surfacePoints[Int(f.y)], c = hull.surfacePoints[Int(f.z)]
            XCTAssertNotEqual(ConvexHull.cross(b &- a, c &- a), .zero, "degenerate face", file: file, line: line)
            for p in points {
                let q = SIMD3<Int64>(Int64(p.x), Int64(p.y), Int64(p.z))
                XCTAssertLessThanOrEqual(ConvexHull.orient(a, b, c, q), 0, "\(p) above a face", file: file, line: line)
            }
        }
        XCTAssertGreaterThan(Self.volume6(hull), 0, file: file, line: line)
    }

    func testHullOfLatticeCubeHasItsEightCorners() {
        var points = [SIMD3<Int32>]()
        for z in 0...2 { for y in 0...2 { for x in 0...2 { points.append(SIMD3(Int32(x), Int32(y), Int32(z))) } } }
        let hull = ConvexHull(points: points)
        assertIsHull(hull, of: points)
        XCTAssertEqual(Self.volume6(hull), 48)
        XCTAssertEqual(hull.vertices, [SIMD3(0, 0, 0), SIMD3(2, 0, 0), SIMD3(0, 2, 0), SIMD3(2, 2, 0),
                                       SIMD3(0, 0, 2), SIMD3(2, 0, 2), SIMD3(0, 2, 2), SIMD3(2, 2, 2)])
        let size = hull.measure(spacing: SIMD3(1, 2, 4))
        XCTAssertEqual(size.volume, 8, accuracy: 1e-12)
        XCTAssertEqual(size.area, 2 * (2 + 8 + 4), accuracy: 1e-12)
    }

    /// Random points on a small lattice (many coplanar and repeated points): the faces bound every
    /// point, and the corners are exactly the points whose removal shrinks the hull.
    func testHullOfRandomLatticePointsAgainstBruteForce() {
        var random = Random(state: 7)
        for trial in 0..<40 {
            let count = 6 + random.next(40), side = 3 + random.next(6)
            let points = (0..<count).map { _ in
                SIMD3<Int32>(Int32(random.next(side)), Int32(random.next(side)), Int32(random.next(side)))
            }
            let hull = ConvexHull(points: points)
            guard !hull.faces.isEmpty else { continue }
            assertIsHull(hull, of: points)
            let full = Self.volume6(hull)
            let distinct = Set(points.map { SIMD3<Int64>(Int64($0.x), Int64($0.y), Int64($0.z)) })
            let corners = distinct.filter { p in
                let rest = points.filter { SIMD3<Int64>(Int64($0.x), Int64($0.y), Int64($0.z)) != p }
                let smaller = ConvexHull(points: rest)
                return smaller.faces.isEmpty || Self.volume6(smaller) < full
            }
            XCTAssertEqual(Set(hull.vertices), corners, "trial \(trial)")
            XCTAssertEqual(hull.vertices, hull.vertices.sorted(by: ConvexHull.zyxOrder))
            // The corners do not depend on the order of the input.
            var shuffled = points
            for i in shuffled.indices.reversed() { shuffled.swapAt(i, random.next(i + 1)) }
            XCTAssertEqual(ConvexHull(points: shuffled).vertices, hull.vertices, "trial \(trial)")
        }
    }

    func testHullOfCoplanarPointsHasNoFaces() {
        let points = (0..<10).map { SIMD3<Int32>(Int32($0 % 4), Int32($0 / 4), 3) }
        let hull = ConvexHull(points: points)
        XCTAssertTrue(hull.faces.isEmpty)
        XCTAssertEqual(hull.measure(spacing: SIMD3(1, 1, 1)).volume, 0)
    }
}

extension MorphologyGeometryTests {
    /// The minimum-volume ellipsoid around a box's corners has semi-axes √3 times the half sides
    /// (John's theorem: equal weights on the corners), whatever the box's orientation and the points inside.
    func testEnclosingEllipsoidOfABox() throws {
        let half = SIMD3<Double>(7, 4, 2.5)
        let angle = 0.4
        func rotated(_ p: SIMD3<Double>) -> SIMD3<Double> {
            SIMD3(cos(angle) * p.x - sin(angle) * p.y, sin(angle) * p.x + cos(angle) * p.y, p.z) + SIMD3(10, -3, 5)
        }
        var points = [SIMD3<Double>]()
        for c in 0..<8 {
            points.append(rotated(half * SIMD3(c & 1 == 0 ? -1 : 1, c & 2 == 0 ? -1 : 1, c & 4 == 0 ? -1 : 1)))
        }
        var random = Random(state: 3)
        for _ in 0..<50 {
            let f = SIMD3<Double>(Double(random.next(1000)), Double(random.next(1000)), Double(random.next(1000)))
            points.append(rotated(half * (f / 500 - 1)))
        }
        let expected = [half.x, half.y, half.z].map { $0 * 3.0.squareRoot() }
        let tight = try XCTUnwrap(MorphologicalFeatures.minimumVolumeEllipsoidAxes(points, tolerance: 1e-9))
        for (a, e) in zip(tight, expected) { XCTAssertEqual(a, e, accuracy: 1e-6 * e) }
        // At the default tolerance the volume is within 1e-3 (the stopping rule bounds it by (1 + 3e-4)²).
        let loose = try XCTUnwrap(MorphologicalFeatures.minimumVolumeEllipsoidAxes(points))
        XCTAssertEqual(loose.reduce(1, *) / expected.reduce(1, *), 1, accuracy: 1e-3)
    }

    /// An octahedron's ellipsoid passes through its six vertices; a flat set has none.
    func testEnclosingEllipsoidOfAnOctahedronAndOfAFlatSet() throws {
        let points: [SIMD3<Double>] = [SIMD3(5, 0, 0), SIMD3(-5, 0, 0), SIMD3(0, 3, 0), SIMD3(0, -3, 0),
                                       SIMD3(0, 0, 2), SIMD3(0, 0, -2), SIMD3(1, 1, 0.5)]
        let axes = try XCTUnwrap(MorphologicalFeatures.minimumVolumeEllipsoidAxes(points))
        for (a, e) in zip(axes, [5.0, 3, 2]) { XCTAssertEqual(a, e, accuracy: 1e-9) }
        XCTAssertNil(MorphologicalFeatures.minimumVolumeEllipsoidAxes(points.map { SIMD3($0.x, $0.y, 0) }))
    }
}

extension MorphologyGeometryTests {
    /// The marching-cubes mesh triangle by triangle: volume and area (compensated sums) and every vertex key.
    static func triangleMesh(_ mask: [Bool], size n: Size3, spacing s: Vector3)
        -> (volume: Double, area: Double, keys: Set<SIMD3<Int32>>) {
        func inside(_ i: Int, _ j: Int, _ k: Int) -> Bool {
            i >= 0 && j >= 0 && k >= 0 && i < n.nx && j < n.ny && k < n.nz && mask[(k * n.ny + j) * n.nx + i]
        }
        var volume = (sum: 0.0, error: 0.0), area = (sum: 0.0, error: 0.0)
        func accumulate(_ a: inout (sum: Double, error: Double), _ x: Double) {
            let t = a.sum + x
            a.error += abs(a.sum) >= abs(x) ? (a.sum - t) + x : (x - t) + a.sum
            a.sum = t
        }
        var keys = Set<SIMD3<Int32>>()
        for k in -1..<n.nz {
            for j in -1..<n.ny {
                for i in -1..<n.nx {
                    var config = 0
                    for c in 0..<8 where inside(i + (c & 1), j + (c >> 1) & 1, k + (c >> 2) & 1) { config |= 1 << c }
                    let tri = CubeTable.shared.triangles[config]
                    let p = tri.map { e -> SIMD3<Double> in
                        let m = CubeTable.edgeMidpoints[e]
                        keys.insert(SIMD3(Int32(2 * i) + m.x, Int32(2 * j) + m.y, Int32(2 * k) + m.z))
                        return SIMD3(Double(2 * i + Int(m.x)) * s.x, Double(2 * j + Int(m.y)) * s.y,
                                     Double(2 * k + Int(m.z)) * s.z) / 2
                    }
                    var t = 0
                    while t < p.count {
                        let normal = MorphologicalFeatures.cross(p[t + 1] - p[t], p[t + 2] - p[t])
                        accumulate(&area, (normal * normal).sum().squareRoot() / 2)
                        accumulate(&volume, (p[t] * MorphologicalFeatures.cross(p[t + 1], p[t + 2])).sum() / 6)
                        t += 3
                    }
                }
            }
        }
        return (volume.sum + volume.error, area.sum + area.error, keys)
    }

    /// Random masks (blobs and noise, rows wider than a word, voxels on the box faces): the mesh
    /// volume and area from configuration counts equal the triangle sums, and the vertex keys are the
    /// ends of the lattice lines of the full vertex set.
    func testMeshAgainstTriangleByTriangleSums() {
        var random = Random(state: 11)
        for trial in 0..<12 {
            let n = Size3(1 + random.next(trial < 4 ? 9 : 140), 1 + random.next(12), 1 + random.next(10))
            let spacing = Vector3(0.5 + Double(random.next(100)) / 50, 0.5 + Double(random.next(100)) / 50, 1.25)
            let density = random.next(100)
            let centre = SIMD3<Double>(Double(n.nx), Double(n.ny), Double(n.nz)) / 2
            var mask = [Bool]()
            for k in 0..<n.nz {
                for j in 0..<n.ny {
                    for i in 0..<n.nx {
                        let d = (SIMD3<Double>(Double(i), Double(j), Double(k)) - centre) / (centre + 1)
                        mask.append((d * d).sum() < 0.8 ? random.next(100) >= density / 4 : random.next(100) < density / 3)
                    }
                }
            }
            let mesh = SurfaceMesh(mask: mask, size: n, spacing: spacing)
            let reference = Self.triangleMesh(mask, size: n, spacing: spacing)
            XCTAssertEqual(mesh.volume, reference.volume, accuracy: 1e-13 * max(reference.volume, 1), "trial \(trial)")
            XCTAssertEqual(mesh.area, reference.area, accuracy: 1e-13 * max(reference.area, 1), "trial \(trial)")
            var ends = [SIMD2<Int32>: (SIMD3<Int32>, SIMD3<Int32>)]()
            for p in reference.keys {
                let line = SIMD2(p.y, p.z)
                let e = ends[line] ?? (p, p)
                ends[line] = (p.x < e.0.x ? p : e.0, p.x > e.1.x ? p : e.1)
            }
            let expected = Set(ends.values.flatMap { [$0.0, $0.1] })
            XCTAssertEqual(Set(mesh.vertexKeys), expected, "trial \(trial)")
            XCTAssertEqual(mesh.vertexKeys.count, expected.count, "trial \(trial)")
            XCTAssertEqual(mesh.vertexKeys, mesh.vertexKeys.sorted { ($0.z, $0.y, $0.x) < ($1.z, $1.y, $1.x) })
        }
    }

    /// Exact moments of the mask's voxel indices give the sample covariance of the voxel centres.
    func testIndexMomentsAgainstTwoPassCovariance() {
        var random = Random(state: 5)
        let n = Size3(150, 7, 6), spacing = Vector3(0.7, 1.1, 2.5)
        let mask = (0..<n.count).map { _ in random.next(3) != 0 }
        var points = [SIMD3<Double>]()
        for k in 0..<n.nz { for j in 0..<n.ny { for i in 0..<n.nx where mask[(k * n.ny + j) * n.nx + i] {
            points.append(SIMD3(Double(i) * spacing.x, Double(j) * spacing.y, Double(k) * spacing.z))
        } } }
        let moments = MorphologicalFeatures.IndexMoments(PackedMask(mask, size: n))
        XCTAssertEqual(Int(moments.count), points.count)
        let mean = points.reduce(SIMD3<Double>(), +) / Double(points.count)
        let m = moments.mean(spacing: spacing)
        for a in 0..<3 { XCTAssertEqual(m[a], mean[a], accuracy: 1e-12 * abs(mean[a])) }
        let cov = moments.covariance(spacing: spacing)
        for r in 0..<3 {
            for c in 0..<3 {
                let direct = points.reduce(0.0) { $0 + ($1[r] - mean[r]) * ($1[c] - mean[c]) } / Double(points.count - 1)
                XCTAssertEqual(cov[r][c], direct, accuracy: 1e-10 * max(abs(direct), 1))
            }
        }
    }
}
