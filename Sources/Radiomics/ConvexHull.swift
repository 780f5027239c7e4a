/// The 3D convex hull of integer points (incremental construction with exact integer predicates).
///
/// Mesh vertices lie on a half-voxel lattice, so hull predicates are evaluated exactly in
/// 64-bit integers: no tolerance, no failure on the many coplanar points of voxel surfaces.
/// Before the construction, points that are not extreme along each lattice line through them are
/// dropped (a hull vertex can never lie strictly between two points of the set).
struct ConvexHull {
    /// Hull vertices (a subset of the input points).
    var vertices: [SIMD3<Int64>]
    /// Outward-oriented triangles as indices into `vertices`.
    var faces: [SIMD3<Int32>]

    init(points input: [SIMD3<Int32>]) {
        let pts = ConvexHull.lineExtremes(input).map { SIMD3<Int64>(Int64($0.x), Int64($0.y), Int64($0.z)) }
        vertices = []
        faces = []
        guard pts.count >= 4, let seed = ConvexHull.initialTetrahedron(pts) else {
            vertices = pts
            return
        }
        struct Face { var a: Int, b: Int, c: Int, alive: Bool }
        var fs = [Face]()
        let (i0, i1, i2, i3) = seed
        // Orient the seed faces outward (the fourth point lies behind each).
        for (a, b, c, d) in [(i0, i1, i2, i3), (i0, i1, i3, i2), (i0, i2, i3, i1), (i1, i2, i3, i0)] {
            if ConvexHull.orient(pts[a], pts[b], pts[c], pts[d]) > 0 {
                fs.append(Face(a: a, b: c, c: b, alive: true))
            } else {
                fs.append(Face(a: a, b: b, c: c, alive: true))
            }
        }
        let seedSet: Set<Int> = [i0, i1, i2, i3]
        var edgeSet = Set<Int64>()
        let n = Int64(pts.count)
        for p in 0..<pts.count where !seedSet.contains(p) {
            edgeSet.removeAll(keepingCapacity: true)
            var visible = [Int]()
            for f in 0..<fs.count where fs[f].alive {
                if ConvexHull.orient(pts[fs[f].a], pts[fs[f].b], pts[fs[f].c], pts[p]) > 0 { visible.append(f) }
            }
            guard !visible.isEmpty else { continue }
            for f in visible {
                let x = fs[f]
                edgeSet.insert(Int64(x.a) * n + Int64(x.b))
                edgeSet.insert(Int64(x.b) * n + Int64(x.c))
                edgeSet.insert(Int64(x.c) * n + Int64(x.a))
                fs[f].alive = false
            }
            for f in visible {
                let x = fs[f]
                for (u, v) in [(x.a, x.b), (x.b, x.c), (x.c, x.a)]
                where !edgeSet.contains(Int64(v) * n + Int64(u)) {
                    fs.append(Face(a: u, b: v, c: p, alive: true))
                }
            }
            if fs.count > 64 && fs.count > 4 * fs.lazy.filter(\.alive).count { fs.removeAll { !$0.alive } }
        }
        // Keep used vertices only.
        var remap = [Int: Int32]()
        for f in fs where f.alive {
            for v in [f.a, f.b, f.c] where remap[v] == nil {
                remap[v] = Int32(vertices.count)
                vertices.append(pts[v])
            }
            faces.append(SIMD3<Int32>(remap[f.a]!, remap[f.b]!, remap[f.c]!))
        }
    }

    /// Six times the signed volume of tetrahedron (a, b, c, d): positive when d lies on the side
    /// of triangle (a, b, c) its counter-clockwise normal points to.
    @inline(__always)
    static func orient(_ a: SIMD3<Int64>, _ b: SIMD3<Int64>, _ c: SIMD3<Int64>, _ d: SIMD3<Int64>) -> Int64 {
        let u = b &- a, v = c &- a, w = d &- a
        return u.x * (v.y * w.z - v.z * w.y) - u.y * (v.x * w.z - v.z * w.x) + u.z * (v.x * w.y - v.y * w.x)
    }

    /// Points extreme along every axis-parallel line through them.
    static func lineExtremes(_ pts: [SIMD3<Int32>]) -> [SIMD3<Int32>] {
        func extremes(_ along: Int) -> [SIMD2<Int32>: (Int32, Int32)] {
            var d = [SIMD2<Int32>: (Int32, Int32)]()
            let u = (along + 1) % 3, v = (along + 2) % 3
            for p in pts {
                let key = SIMD2<Int32>(p[u], p[v])
                if let e = d[key] { d[key] = (min(e.0, p[along]), max(e.1, p[along])) } else {
                    d[key] = (p[along], p[along])
                }
            }
            return d
        }
        let ex = (0..<3).map(extremes)
        return pts.filter { p in
            (0..<3).allSatisfy { a in
                let e = ex[a][SIMD2<Int32>(p[(a + 1) % 3], p[(a + 2) % 3])]!
                return p[a] == e.0 || p[a] == e.1
            }
        }
    }

    /// Four points spanning a tetrahedron of positive volume, or nil when all are coplanar.
    static func initialTetrahedron(_ pts: [SIMD3<Int64>]) -> (Int, Int, Int, Int)? {
        func dist2(_ a: SIMD3<Int64>, _ b: SIMD3<Int64>) -> Int64 { let d = a &- b; return (d &* d).wrappedSum() }
        let i0 = 0
        var i1 = 0
        for p in 0..<pts.count where dist2(pts[p], pts[i0]) > dist2(pts[i1], pts[i0]) { i1 = p }
        guard i1 != i0 else { return nil }
        var i2 = -1, best: Int64 = 0
        for p in 0..<pts.count {
            let u = pts[i1] &- pts[i0], v = pts[p] &- pts[i0]
            let c = SIMD3<Int64>(u.y * v.z - u.z * v.y, u.z * v.x - u.x * v.z, u.x * v.y - u.y * v.x)
            let a = (c &* c).wrappedSum()
            if a > best { best = a; i2 = p }
        }
        guard i2 >= 0 else { return nil }
        var i3 = -1
        best = 0
        for p in 0..<pts.count {
            let o = abs(orient(pts[i0], pts[i1], pts[i2], pts[p]))
            if o > best { best = o; i3 = p }
        }
        guard i3 >= 0 else { return nil }
        return (i0, i1, i2, i3)
    }
}
