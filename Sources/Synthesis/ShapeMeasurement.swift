import Foundation
import ImagingCore

/// True RECIST measurements of a drawn `LesionShape` on the axial slices of a scan, computed from the continuous
/// shape (not from voxels), for the truth files of synthetic follow-up.
///
/// The shape is star-shaped about its centre: along a ray c + t d the normalised radius ρ is proportional to t
/// (`LesionShape.normalizedRadius`), so the surface point in direction d is c + d / ρ(c + d). The surface is
/// tabulated on 2° of azimuth φ × 1° of elevation θ (the boundary points are then within about R (1 − cos 1°) ≈
/// 0.006 mm of the section's extreme points for R = 40 mm). The section of the shape by an axial plane z = z₀ is bounded
/// by the surface points with z = z₀: on every meridian (fixed φ) each sign change of z(θ) − z₀ between neighbouring
/// elevations gives one boundary point (linear interpolation). On those points (in mm, in the plane):
/// - long axis = the largest distance between two of them (the diameter of the section);
/// - short axis = the longest chord of their convex hull perpendicular to the long axis (RECIST 1.1 short axis);
/// - volume = ∫ t*³/3 dΩ over the table (the lobulated shape, not its ellipsoid).
/// The planes are the centres of the scan's slices (the shape is drawn by testing voxel centres), so the truth is the
/// measurement "as drawn" on those slices; a voxel measurement differs from it by at most about one in-plane voxel
/// diagonal. Scaling the shape about its centre scales the table, so one table serves every time point.
struct ShapeSurface {
    static let azimuths = 180
    static let elevations = 181
    /// Surface offsets from the centre (mm) at unit scale, `elevations` per azimuth, azimuth-major.
    let offsets: [Vector3]
    /// Volume (mm³) at unit scale.
    let volume: Double

    init(_ shape: LesionShape) {
        var out = [Vector3]()
        out.reserveCapacity(Self.azimuths * Self.elevations)
        var volume = 0.0
        let dPhi = 2 * Double.pi / Double(Self.azimuths)
        let dTheta = Double.pi / Double(Self.elevations - 1)
        for a in 0..<Self.azimuths {
            let phi = Double(a) * dPhi
            for e in 0..<Self.elevations {
                let theta = -Double.pi / 2 + Double(e) * dTheta
                let d = Vector3(cos(theta) * cos(phi), cos(theta) * sin(phi), sin(theta))
                let rho = shape.normalizedRadius(shape.center + d)
                let t = rho > 0 ? 1 / rho : 0
                out.append(t * d)
                // Trapezoid weights in θ (half at the poles), midpoint in φ.
                let w = (e == 0 || e == Self.elevations - 1) ? 0.5 : 1.0
                volume += w * t * t * t / 3 * cos(theta) * dTheta * dPhi
            }
        }
        offsets = out
        self.volume = volume
    }

    /// Boundary points (x, y offsets from the centre, mm) of the section at height `h` above the centre, for the
    /// shape scaled by `scale`.
    func section(height h: Double, scale: Double) -> [(Double, Double)] {
        var points = [(Double, Double)]()
        for a in 0..<Self.azimuths {
            let base = a * Self.elevations
            var previous = scale * offsets[base].z - h
            for e in 1..<Self.elevations {
                let p = offsets[base + e]
                let value = scale * p.z - h
                if (previous < 0) != (value < 0) {
                    let q = offsets[base + e - 1]
                    let f = previous / (previous - value)
                    points.append((scale * (q.x + f * (p.x - q.x)), scale * (q.y + f * (p.y - q.y))))
                }
                previous = value
            }
        }
        return points
    }

    /// Long and short axis (mm) of the section with the longest long axis among the planes at `heights` (relative
    /// to the centre); zeros when no plane cuts the shape.
    func axialDiameters(heights: [Double], scale: Double) -> (long: Double, short: Double) {
        var best: (long: Double, short: Double) = (0, 0)
        for h in heights {
            let hull = Self.convexHull(section(height: h, scale: scale))
            guard hull.count >= 2 else { continue }
            var long = 0.0, ends = (0, 0)
            for i in 0..<hull.count {
                for j in (i + 1)..<hull.count {
                    let dx = hull[i].0 - hull[j].0, dy = hull[i].1 - hull[j].1
                    let d = (dx * dx + dy * dy).squareRoot()
                    if d > long { long = d; ends = (i, j) }
                }
            }
            if long > best.long {
                best = (long, Self.perpendicularChord(hull, from: hull[ends.0], to: hull[ends.1]))
            }
        }
        return best
    }

    /// Convex hull (Andrew's monotone chain), counter-clockwise, without collinear points.
    static func convexHull(_ points: [(Double, Double)]) -> [(Double, Double)] {
        let p = points.sorted { $0.0 != $1.0 ? $0.0 < $1.0 : $0.1 < $1.1 }
        guard p.count > 2 else { return p }
        func cross(_ o: (Double, Double), _ a: (Double, Double), _ b: (Double, Double)) -> Double {
            (a.0 - o.0) * (b.1 - o.1) - (a.1 - o.1) * (b.0 - o.0)
        }
        var lower = [(Double, Double)](), upper = [(Double, Double)]()
        for q in p {
            while lower.count >= 2 && cross(lower[lower.count - 2], lower[lower.count - 1], q) <= 0 { lower.removeLast() }
            lower.append(q)
        }
        for q in p.reversed() {
            while upper.count >= 2 && cross(upper[upper.count - 2], upper[upper.count - 1], q) <= 0 { upper.removeLast() }
            upper.append(q)
        }
        return Array(lower.dropLast() + upper.dropLast())
    }

    /// The longest chord of a convex polygon perpendicular to the segment a-b: the chord length along the
    /// perpendicular is a concave piecewise-linear function of the position along a-b, so its maximum is at
    /// the projection of a vertex.
    static func perpendicularChord(_ hull: [(Double, Double)], from a: (Double, Double), to b: (Double, Double)) -> Double {
        let len = ((b.0 - a.0) * (b.0 - a.0) + (b.1 - a.1) * (b.1 - a.1)).squareRoot()
        guard len > 0, hull.count >= 3 else { return 0 }
        let e = ((b.0 - a.0) / len, (b.1 - a.1) / len)
        let n = (-e.1, e.0)
        let along = hull.map { $0.0 * e.0 + $0.1 * e.1 }
        let across = hull.map { $0.0 * n.0 + $0.1 * n.1 }
        var best = 0.0
        for t in along {
            var lo = Double.infinity, hi = -Double.infinity
            for i in hull.indices {
                let j = (i + 1) % hull.count
                let (t0, t1) = (along[i], along[j])
                guard min(t0, t1) <= t, t <= max(t0, t1) else { continue }
                let s = t1 == t0 ? [across[i], across[j]] : [across[i] + (t - t0) / (t1 - t0) * (across[j] - across[i])]
                for v in s { lo = min(lo, v); hi = max(hi, v) }
            }
            if hi > lo { best = max(best, hi - lo) }
        }
        return best
    }
}
