import Foundation
import ImagingCore

/// A lobulated ellipsoid: the shape of one synthetic lesion.
///
/// With `q = A⁻¹ Rᵀ (p − c)` (`R` = `rotation`, `A` = diag(`radius` · `axes`)) and `û = q / |q|`,
/// a point `p` is inside when `|q| ≤ f(û)`, where `f(û) = 1 + Σ_k a_k exp(κ (û·b_k − 1))`:
/// an ellipsoid with the largest semi-axis `radius`, randomly rotated, whose radius is modulated by
/// smooth bumps (positive `a_k`: lobes, negative: indentations) centred on directions `b_k`.
/// Regular lesions have a few broad low bumps; irregular ones many sharper, larger ones.
public struct LesionShape: Sendable {
    /// One lobe (amplitude > 0) or indentation (amplitude < 0), centred on a unit direction of the lesion frame.
    public struct Bump: Sendable, Hashable {
        public var direction: Vector3
        public var amplitude: Double
    }

    public var center: Vector3
    /// Nominal radius (mm): the largest semi-axis before lobulation.
    public var radius: Double
    /// Semi-axes as fractions of `radius` (the largest is 1).
    public var axes: Vector3
    /// Columns are the lesion's principal axes in world coordinates.
    public var rotation: Matrix3 {
        didSet { frame = (rotation.column(0), rotation.column(1), rotation.column(2)) }
    }
    /// The columns of `rotation`, kept apart for the per-voxel inside test.
    private var frame: (Vector3, Vector3, Vector3)
    public var bumps: [Bump]
    /// Angular sharpness κ of the bumps (larger = narrower lobes).
    public var bumpSharpness: Double

    public init(center: Vector3, radius: Double, axes: Vector3, rotation: Matrix3, bumps: [Bump], bumpSharpness: Double) {
        self.center = center
        self.radius = radius
        self.axes = axes
        self.rotation = rotation
        self.frame = (rotation.column(0), rotation.column(1), rotation.column(2))
        self.bumps = bumps
        self.bumpSharpness = bumpSharpness
    }

    /// Radius (mm) of a sphere around `center` that holds the whole lesion.
    public var boundingRadius: Double {
        radius * (1 + bumps.reduce(0) { $0 + max(0, $1.amplitude) })
    }

    /// Volume of the underlying ellipsoid (mm³), without lobulation.
    public var nominalVolume: Double { 4 / 3 * Double.pi * pow(radius, 3) * axes.x * axes.y * axes.z }

    /// Position relative to the surface along the ray from the centre: < 1 inside, 1 on the surface.
    @inline(__always)
    public func normalizedRadius(_ p: Vector3) -> Double {
        let d = p - center
        // rotation^T * d: coordinates along the lesion axes.
        let v = Vector3(frame.0.dot(d), frame.1.dot(d), frame.2.dot(d))
        let q = Vector3(v.x / (radius * axes.x), v.y / (radius * axes.y), v.z / (radius * axes.z))
        let n = q.length
        guard n > 0 else { return 0 }
        let u = (1 / n) * q
        var f = 1.0
        for b in bumps { f += b.amplitude * Foundation.exp(bumpSharpness * (u.dot(b.direction) - 1)) }
        return n / max(f, 0.5)
    }

    /// Approximate signed distance (mm) to the surface along the ray from the centre (< 0 inside).
    @inline(__always)
    public func surfaceDistance(_ p: Vector3, normalizedRadius rho: Double) -> Double {
        guard rho > 0 else { return -radius }
        return (p - center).length * (rho - 1) / rho
    }

    /// A random shape of nominal `radius` at `center`. Lymph nodes are oval and smooth;
    /// other sites are irregular (many sharp lobes and indentations) with probability 0.3.
    static func random(center: Vector3, radius: Double, location: SyntheticLocation,
                       rng: inout SynthesisRandom) -> LesionShape {
        let oval = location == .lymphNode
        let minorRange = oval ? 0.55...0.85 : 0.65...1.0
        let axes = Vector3(1, rng.uniform(minorRange.lowerBound, minorRange.upperBound),
                           rng.uniform(minorRange.lowerBound, minorRange.upperBound))
        let rotation = rng.rotation()
        let irregular = !oval && rng.bernoulli(0.3)
        let count = irregular ? 6 + rng.int(below: 5) : 3 + rng.int(below: 4)
        var bumps = [Bump]()
        for _ in 0..<count {
            let amp = irregular ? rng.uniform(-0.12, 0.25) : rng.uniform(0.02, oval ? 0.06 : 0.12)
            bumps.append(Bump(direction: rng.unitVector(), amplitude: amp))
        }
        return LesionShape(center: center, radius: radius, axes: axes, rotation: rotation,
                           bumps: bumps, bumpSharpness: irregular ? 14 : 6)
    }

    /// Seven points inside the lesion (the centre and ±0.8 of each semi-axis), used to check its site.
    var interiorProbes: [Vector3] {
        var out = [center]
        for c in 0..<3 {
            let r = 0.8 * radius * axes[c]
            out.append(center + r * rotation.column(c))
            out.append(center - r * rotation.column(c))
        }
        return out
    }
}
