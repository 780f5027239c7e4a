/// The 3D convex hull of integer points (Quickhull with exact integer predicates).
///
/// Mesh vertices lie on a half-voxel lattice, so hull predicates are evaluated exactly in
/// 64-bit integers: no tolerance, no failure on the many coplanar points of voxel surfaces.
/// Before the construction, points that cannot be corners are dropped: those that are not corners
/// of the 2D hull of the points in their z-plane, then those not extreme along each lattice line
/// through them (a corner of the hull is a corner of every section of the set through it).
///
/// The hull is grown Quickhull-style: every point still outside is assigned to one face it sees,
/// and a face's farthest point is added next. When faces are replaced, only their points are
/// tested again, and only against the new faces: a point that sees a replaced face but none of
/// the new ones lies inside the grown hull.
struct ConvexHull {
    /// Corners of the hull: the points not in the convex hull of the other points, ordered by z, y, x.
    /// They do not depend on the order of the input.
    var vertices: [SIMD3<Int64>]
    /// Points of the hull surface that the faces use (the corners and possibly points on edges or faces).
    var surfacePoints: [SIMD3<Int64>]
    /// Outward-oriented triangles covering the hull surface, as indices into `surfacePoints`.
    var faces: [SIMD3<Int32>]

    init(points input: [SIMD3<Int32>]) {
        let pts = ConvexHull.lineExtremes(ConvexHull.planeCorners(input)).map { SIMD3<Int64>(Int64($0.x), Int64($0.y), Int64($0.z)) }
        guard pts.count >= 4, let seed = ConvexHull.initialTetrahedron(pts) else {
            vertices = pts.sorted(by: ConvexHull.zyxOrder)
            surfacePoints = vertices
            faces = []
            return
        }
        var builder = Quickhull(points: pts, seed: seed)
        builder.run()
        var remap = [Int32](repeating: -1, count: pts.count)
        var used = [SIMD3<Int64>]()
        var triangles = [SIMD3<Int32>]()
        for face in builder.faces where face.alive {
            var t = face.corners
            for s in 0..<3 {
                let v = Int(t[s])
                if remap[v] < 0 { remap[v] = Int32(used.count); used.append(pts[v]) }
                t[s] = remap[v]
            }
            triangles.append(t)
        }
        surfacePoints = used
        faces = triangles
        vertices = ConvexHull.corners(of: used, faces: triangles).sorted(by: ConvexHull.zyxOrder)
    }

    /// Volume (mm³) and area (mm²) of the hull when point units are half voxels of `spacing`.
    func measure(spacing: SIMD3<Double>) -> (volume: Double, area: Double) {
        let scale = spacing / 2
        let p = surfacePoints.map { SIMD3<Double>(Double($0.x), Double($0.y), Double($0.z)) * scale }
        var volume6 = 0.0, area2 = 0.0
        for f in faces {
            let p0 = p[Int(f.x)], p1 = p[Int(f.y)], p2 = p[Int(f.z)]
            let c = MorphologicalFeatures.cross(p1 - p0, p2 - p0)
            volume6 += (p0 * MorphologicalFeatures.cross(p1, p2)).sum()
            area2 += (c * c).sum().squareRoot()
        }
        return (volume6 / 6, area2 / 2)
    }

    static func zyxOrder(_ a: SIMD3<Int64>, _ b: SIMD3<Int64>) -> Bool {
        (a.z, a.y, a.x) < (b.z, b.y, b.x)
    }

    @inline(__always)
    static func cross(_ a: SIMD3<Int64>, _ b: SIMD3<Int64>) -> SIMD3<Int64> {
        SIMD3(a.y * b.z - a.z * b.y, a.z * b.x - a.x * b.z, a.x * b.y - a.y * b.x)
    }

    /// Six times the signed volume of tetrahedron (a, b, c, d): positive when d lies on the side
    /// of triangle (a, b, c) its counter-clockwise normal points to.
    @inline(__always)
    static func orient(_ a: SIMD3<Int64>, _ b: SIMD3<Int64>, _ c: SIMD3<Int64>, _ d: SIMD3<Int64>) -> Int64 {
        let u = b &- a, v = c &- a, w = d &- a
        return u.x * (v.y * w.z - v.z * w.y) - u.y * (v.x * w.z - v.z * w.x) + u.z * (v.x * w.y - v.y * w.x)
    }

    /// The surface points that are corners: those whose incident faces have normals spanning space
    /// (a point inside a facet has one normal direction, a point inside an edge two).
    static func corners(of points: [SIMD3<Int64>], faces: [SIMD3<Int32>]) -> [SIMD3<Int64>] {
        // Per point: the first normal, a second one not parallel to it, and whether a third leaves their plane.
        var first = [SIMD3<Int64>](repeating: .zero, count: points.count)
        var second = [SIMD3<Int64>](repeating: .zero, count: points.count)
        var spans = [Bool](repeating: false, count: points.count)
        for f in faces {
            let a = points[Int(f.x)]
            let normal = cross(points[Int(f.y)] &- a, points[Int(f.z)] &- a)
            for s in 0..<3 {
                let v = Int(f[s])
                if spans[v] { continue }
                if first[v] == .zero {
                    first[v] = normal
                } else if second[v] == .zero {
                    if cross(first[v], normal) != .zero { second[v] = normal }
                } else {
                    // The triple product can exceed 64 bits; the cross product cannot.
                    let c = cross(first[v], second[v])
                    let triple = Int128(c.x) * Int128(normal.x) + Int128(c.y) * Int128(normal.y)
                        + Int128(c.z) * Int128(normal.z)
                    if triple != 0 { spans[v] = true }
                }
            }
        }
        return points.indices.filter { spans[$0] }.map { points[$0] }
    }

    /// The corners of the 2D convex hull of each z-plane's points, plane by plane.
    static func planeCorners(_ input: [SIMD3<Int32>]) -> [SIMD3<Int32>] {
        func before(_ a: SIMD3<Int32>, _ b: SIMD3<Int32>) -> Bool { (a.z, a.y, a.x) < (b.z, b.y, b.x) }
        let pts = zip(input, input.dropFirst()).allSatisfy { !before($1, $0) } ? input : input.sorted(by: before)
        // Twice the signed area of (o, a, b) in the (y, x) plane, the order the points are sorted in.
        func turn(_ o: SIMD3<Int32>, _ a: SIMD3<Int32>, _ b: SIMD3<Int32>) -> Int64 {
            Int64(a.y - o.y) * Int64(b.x - o.x) - Int64(a.x - o.x) * Int64(b.y - o.y)
        }
        var out = [SIMD3<Int32>]()
        var chain = [SIMD3<Int32>]()
        var start = 0
        while start < pts.count {
            var end = start + 1
            while end < pts.count && pts[end].z == pts[start].z { end += 1 }
            if end - start < 3 {
                out += pts[start..<end]
                start = end
                continue
            }
            // Andrew's monotone chain, one side forwards and the other backwards, strict turns only.
            for pass in 0..<2 {
                chain.removeAll(keepingCapacity: true)
                for t in 0..<(end - start) {
                    let p = pts[pass == 0 ? start + t : end - 1 - t]
                    while chain.count >= 2 && turn(chain[chain.count - 2], chain[chain.count - 1], p) <= 0 {
                        chain.removeLast()
                    }
                    chain.append(p)
                }
                out += chain.dropLast()
            }
            start = end
        }
        return out
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
            let c = cross(pts[i1] &- pts[i0], pts[p] &- pts[i0])
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

/// Quickhull state: faces with their planes, neighbours and outside points.
///
/// A face is a counter-clockwise triangle (seen from outside) of point indices; `neighbours[f][s]`
/// is the face across its edge from corner s to corner s + 1. Each point still outside the hull
/// belongs to the list of one face it sees (`head`, `next`).
private struct Quickhull {
    struct Face {
        var corners: SIMD3<Int32>
        var neighbours = SIMD3<Int32>(repeating: -1)
        var normal: SIMD3<Int64>
        var offset: Int64
        var alive = true
        /// First point of the outside list, the farthest point and its height.
        var head: Int32 = -1, farthest: Int32 = -1
        var farthestHeight: Int64 = 0
        /// The step that found the face visible (+) or not (-) from its point.
        var mark: Int32 = 0
    }

    let points: [SIMD3<Int64>]
    var faces = [Face]()
    var next: [Int32]

    init(points: [SIMD3<Int64>], seed: (Int, Int, Int, Int)) {
        self.points = points
        next = [Int32](repeating: -1, count: points.count)
        let (i0, i1, i2, i3) = seed
        // Orient the seed faces outward (the fourth point lies behind each).
        for (a, b, c, d) in [(i0, i1, i2, i3), (i0, i1, i3, i2), (i0, i2, i3, i1), (i1, i2, i3, i0)] {
            if ConvexHull.orient(points[a], points[b], points[c], points[d]) > 0 {
                addFace(Int32(a), Int32(c), Int32(b))
            } else {
                addFace(Int32(a), Int32(b), Int32(c))
            }
        }
        for f in 0..<4 {
            for s in 0..<3 {
                let u = faces[f].corners[s], v = faces[f].corners[(s + 1) % 3]
                faces[f].neighbours[s] = Int32((0..<4).first { g in
                    g != f && (0..<3).contains { faces[g].corners[$0] == v && faces[g].corners[($0 + 1) % 3] == u }
                }!)
            }
        }
        let seedSet: Set<Int> = [i0, i1, i2, i3]
        for p in 0..<points.count where !seedSet.contains(p) {
            assign(Int32(p), among: 0..<4)
        }
    }

    /// How far `p` lies above the plane of `face` (scaled by the normal's length; > 0 when it sees the face).
    @inline(__always)
    func height(_ face: Face, _ p: Int) -> Int64 {
        let q = points[p], n = face.normal
        return n.x &* q.x &+ n.y &* q.y &+ n.z &* q.z &- face.offset
    }

    @discardableResult
    mutating func addFace(_ a: Int32, _ b: Int32, _ c: Int32) -> Int {
        let pa = points[Int(a)]
        let normal = ConvexHull.cross(points[Int(b)] &- pa, points[Int(c)] &- pa)
        faces.append(Face(corners: SIMD3(a, b, c), normal: normal, offset: (normal &* pa).wrappedSum()))
        return faces.count - 1
    }

    /// Puts `p` on the outside list of the first face in `range` it sees; a point that sees none is dropped.
    mutating func assign(_ p: Int32, among range: Range<Int>) {
        for f in range {
            let h = height(faces[f], Int(p))
            if h > 0 {
                next[Int(p)] = faces[f].head
                faces[f].head = p
                if h > faces[f].farthestHeight { faces[f].farthestHeight = h; faces[f].farthest = p }
                return
            }
        }
    }

    mutating func run() {
        var pending = Array(0..<4)
        var stamp: Int32 = 0
        var visible = [Int]()
        var horizon = [(face: Int, slot: Int)]()
        var outside = [Int32]()
        var newFrom = [Int32](repeating: -1, count: points.count)
        while let f = pending.popLast() {
            guard faces[f].alive, faces[f].head >= 0 else { continue }
            let p = Int(faces[f].farthest)
            stamp += 1
            // Faces seen from p: a connected patch around f, bounded by the horizon.
            visible.removeAll(keepingCapacity: true)
            horizon.removeAll(keepingCapacity: true)
            visible.append(f)
            faces[f].mark = stamp
            var at = 0
            while at < visible.count {
                let g = visible[at]
                at += 1
                for s in 0..<3 {
                    let h = Int(faces[g].neighbours[s])
                    let mark = faces[h].mark
                    if mark == stamp { continue }
                    if mark != -stamp && height(faces[h], p) > 0 {
                        faces[h].mark = stamp
                        visible.append(h)
                    } else {
                        faces[h].mark = -stamp
                        horizon.append((g, s))
                    }
                }
            }
            // Cone of new faces from the horizon to p.
            let firstNew = faces.count
            for (g, s) in horizon {
                let u = faces[g].corners[s], v = faces[g].corners[(s + 1) % 3]
                let outer = Int(faces[g].neighbours[s])
                let n = addFace(u, v, Int32(p))
                faces[n].neighbours[0] = Int32(outer)
                for t in 0..<3 where faces[outer].neighbours[t] == Int32(g) { faces[outer].neighbours[t] = Int32(n) }
                newFrom[Int(u)] = Int32(n)
            }
            for n in firstNew..<faces.count {
                let m = Int(newFrom[Int(faces[n].corners[1])])
                faces[n].neighbours[1] = Int32(m)
                faces[m].neighbours[2] = Int32(n)
            }
            // The points of the replaced faces go to the new faces (or are inside now).
            outside.removeAll(keepingCapacity: true)
            for g in visible {
                faces[g].alive = false
                var q = faces[g].head
                while q >= 0 { outside.append(q); q = next[Int(q)] }
                faces[g].head = -1
            }
            for q in outside where Int(q) != p { assign(q, among: firstNew..<faces.count) }
            for n in firstNew..<faces.count where faces[n].head >= 0 { pending.append(n) }
        }
    }
}
