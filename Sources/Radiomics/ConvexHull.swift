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
        // Faces: corners, and planes kept apart so that the visibility scan reads them contiguously.
        // `normal · p - offset` is `orient(a, b, c, p)`; a dead face has a zero normal and an unreachable
        // offset, so no point sees it.
        struct Face { var a: Int, b: Int, c: Int, alive: Bool }
        var fs = [Face]()
        var nx = [Int64](), ny = [Int64](), nz = [Int64](), offsets = [Int64]()
        func add(_ a: Int, _ b: Int, _ c: Int) {
            let u = pts[b] &- pts[a], v = pts[c] &- pts[a]
            let normal = SIMD3(u.y * v.z - u.z * v.y, u.z * v.x - u.x * v.z, u.x * v.y - u.y * v.x)
            fs.append(Face(a: a, b: b, c: c, alive: true))
            nx.append(normal.x); ny.append(normal.y); nz.append(normal.z)
            offsets.append((normal &* pts[a]).wrappedSum())
        }
        func kill(_ f: Int) {
            fs[f].alive = false
            nx[f] = 0; ny[f] = 0; nz[f] = 0; offsets[f] = .max
        }
        let (i0, i1, i2, i3) = seed
        // Orient the seed faces outward (the fourth point lies behind each).
        for (a, b, c, d) in [(i0, i1, i2, i3), (i0, i1, i3, i2), (i0, i2, i3, i1), (i1, i2, i3, i0)] {
            if ConvexHull.orient(pts[a], pts[b], pts[c], pts[d]) > 0 { add(a, c, b) } else { add(a, b, c) }
        }
        let seedSet: Set<Int> = [i0, i1, i2, i3]
        var edgeSet = Set<Int64>()
        let n = Int64(pts.count)
        var visible = [Int]()
        var aliveCount = 4
        for p in 0..<pts.count where !seedSet.contains(p) {
            visible.removeAll(keepingCapacity: true)
            let (px, py, pz) = (pts[p].x, pts[p].y, pts[p].z)
            nx.withUnsafeBufferPointer { nx in
            ny.withUnsafeBufferPointer { ny in
            nz.withUnsafeBufferPointer { nz in
            offsets.withUnsafeBufferPointer { offsets in
                for f in 0..<offsets.count where nx[f] &* px &+ ny[f] &* py &+ nz[f] &* pz > offsets[f] {
                    visible.append(f)
                }
            }
            }
            }
            }
            guard !visible.isEmpty else { continue }
            edgeSet.removeAll(keepingCapacity: true)
            for f in visible {
                let x = fs[f]
                edgeSet.insert(Int64(x.a) * n + Int64(x.b))
                edgeSet.insert(Int64(x.b) * n + Int64(x.c))
                edgeSet.insert(Int64(x.c) * n + Int64(x.a))
                kill(f)
            }
            aliveCount -= visible.count
            for f in visible {
                let x = fs[f]
                for (u, v) in [(x.a, x.b), (x.b, x.c), (x.c, x.a)]
                where !edgeSet.contains(Int64(v) * n + Int64(u)) {
                    add(u, v, p)
                    aliveCount += 1
                }
            }
            // Drop dead faces (the living keep their order) once they are most of the list.
            if fs.count > 64 && fs.count > 2 * aliveCount {
                var w = 0
                for f in 0..<fs.count where fs[f].alive {
                    fs[w] = fs[f]; nx[w] = nx[f]; ny[w] = ny[f]; nz[w] = nz[f]; offsets[w] = offsets[f]
                    w += 1
                }
                fs.removeLast(fs.count - w); nx.removeLast(nx.count - w); ny.removeLast(ny.count - w)
                nz.removeLast(nz.count - w); offsets.removeLast(offsets.count - w)
            }
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

    /// Points extreme along every axis-parallel line through them, in input order.
    static func lineExtremes(_ pts: [SIMD3<Int32>]) -> [SIMD3<Int32>] {
        guard let first = pts.first else { return [] }
        var lo = first, hi = first
        for p in pts { lo = pointwiseMin(lo, p); hi = pointwiseMax(hi, p) }
        let size = (hi &- lo) &+ 1
        // Per axis, the lowest and highest coordinate on each line, indexed by the other two coordinates.
        let extremes = (0..<3).map { along -> [SIMD2<Int32>] in
            let u = (along + 1) % 3, v = (along + 2) % 3
            var e = [SIMD2<Int32>](repeating: SIMD2(Int32.max, Int32.min), count: Int(size[u]) * Int(size[v]))
            for p in pts {
                let key = Int(p[u] - lo[u]) * Int(size[v]) + Int(p[v] - lo[v])
                e[key] = SIMD2(min(e[key].x, p[along]), max(e[key].y, p[along]))
            }
            return e
        }
        return pts.filter { p in
            (0..<3).allSatisfy { a in
                let u = (a + 1) % 3, v = (a + 2) % 3
                let e = extremes[a][Int(p[u] - lo[u]) * Int(size[v]) + Int(p[v] - lo[v])]
                return p[a] == e.x || p[a] == e.y
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
