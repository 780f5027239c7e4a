import Foundation
import ImagingCore

/// Tissue classes of the synthetic body, with their CT numbers.
public enum SyntheticTissue: UInt8, CaseIterable, Sendable {
    case air, airway, fat, softTissue, lung, heart, aorta, liver, spleen, kidney, adrenal
    case cancellousBone, corticalBone, spinalCanal

    /// CT number (HU) at 120 kVp and its change per 20 kV *below* 120 kVp.
    ///
    /// Iodine-enhanced tissue and bone get brighter at lower tube voltage (photoelectric effect),
    /// fat gets darker, air and lung are unchanged. The values are round numbers in the range
    /// reported for contrast-enhanced portal-venous CT.
    public var huAt120AndShiftPer20kV: (hu: Double, shift: Double) {
        switch self {
        case .air: return (-1000, 0)
        case .airway: return (-990, 0)
        case .fat: return (-100, -6)
        case .softTissue: return (45, 3)
        case .lung: return (-850, 0)
        case .heart: return (120, 20)
        case .aorta: return (180, 35)
        case .liver: return (65, 6)
        case .spleen: return (75, 6)
        case .kidney: return (150, 25)
        case .adrenal: return (40, 4)
        case .cancellousBone: return (260, 40)
        case .corticalBone: return (900, 120)
        case .spinalCanal: return (15, 0)
        }
    }

    /// Mean CT number (HU) of the tissue for a scan at `kvp`.
    public func hu(kvp: Int) -> Double {
        let t = huAt120AndShiftPer20kV
        return t.hu + t.shift * Double(120 - kvp) / 20
    }

    /// Whether the tissue is inside the patient (everything but the air around the body).
    public var isInsideBody: Bool { self != .air }
}

/// A straight piece of a pulmonary vessel (a capsule of `radius` mm around segment a-b).
public struct VesselSegment: Sendable, Hashable {
    public var a: Vector3
    public var b: Vector3
    public var radius: Double

    /// Distance (mm) from `p` to the segment's axis.
    @inline(__always)
    func axisDistance(_ p: Vector3) -> Double {
        let ab = b - a
        let t = max(0, min(1, (p - a).dot(ab) / ab.dot(ab)))
        return (p - (a + t * ab)).length
    }
}

/// The analytic body of one synthetic patient: a thorax / upper-abdomen cross-section extruded
/// along z, in patient coordinates (LPS, mm; x towards the patient's left, y posterior, z superior,
/// z = 0 at the inferior edge of the field of view).
///
/// Elliptical body outline with a subcutaneous fat layer; vertebral body, posterior arch and spinal
/// canal; aorta; trachea above z = 125 mm; two lungs above dome-shaped hemidiaphragms (the right one
/// higher) with branching vessels; heart; liver under the right dome; spleen under the left dome;
/// kidneys and adrenal glands. `scale` (0.9-1.02) varies the patient's girth, `fatThickness` (8-18 mm)
/// the subcutaneous fat.
public struct SyntheticAnatomy: Sendable {
    /// The fixed field of view (mm) sampled by every synthetic scan.
    public static let fieldOfView = Vector3(264, 216, 192)

    public var scale: Double
    public var fatThickness: Double
    public var vessels: [VesselSegment]

    public init(scale: Double, fatThickness: Double, vessels: [VesselSegment]) {
        self.scale = scale
        self.fatThickness = fatThickness
        self.vessels = vessels
    }

    /// A random body (girth, fat layer, pulmonary vessel tree) drawn from `rng`.
    public init(random rng: inout SynthesisRandom) {
        scale = rng.uniform(0.9, 1.02)
        fatThickness = rng.uniform(8, 18)
        vessels = []
        vessels = Self.vesselTree(scale: scale, rng: &rng)
    }

    // Geometry, all in mm and scaled by `scale` in-plane.
    var bodyCenterY: Double { 5 }
    var bodySemiAxes: (Double, Double) { (125 * scale, 92 * scale) }
    var vertebraCenter: (Double, Double) { (0, 45 * scale) }
    var vertebraRadius: Double { 16 * scale }
    var canalCenter: (Double, Double) { (0, 45 * scale + 16 * scale + 9) }
    var aortaCenter: (Double, Double) { (16 * scale, 29 * scale - 13) }
    /// Centres of the right (x < 0) and left lung cross-sections.
    func lungCenterX(side: Double) -> Double { side * 64 * scale }
    var lungSemiAxes: (Double, Double) { (44 * scale, 62 * scale) }
    /// Hilum of the right (side -1) or left (side +1) lung.
    func hilum(side: Double) -> Vector3 { Vector3(side * 34 * scale, 2 * scale, 128) }
    func adrenalCenter(side: Double) -> Vector3 { Vector3(side * 34 * scale, 38 * scale, 60) }
    var mediastinumBox: (x: ClosedRange<Double>, y: ClosedRange<Double>, z: ClosedRange<Double>) {
        (-40 * scale...40 * scale, -40 * scale...35 * scale, 110...185)
    }

    /// Elliptic radius of the body outline at (x, y): < 1 inside the body.
    @inline(__always)
    public func bodyRadius(x: Double, y: Double) -> Double {
        let (a, b) = bodySemiAxes
        let u = x / a, v = (y - bodyCenterY) / b
        return (u * u + v * v).squareRoot()
    }

    /// Height (z, mm) of the hemidiaphragm dome of a side (-1 right, +1 left) at (x, y).
    @inline(__always)
    func diaphragmHeight(x: Double, y: Double, side: Double) -> Double {
        let (la, lb) = lungSemiAxes
        let u = (x - lungCenterX(side: side)) / la, v = y / lb
        let dome = max(0, 1 - u * u - v * v)
        return (side < 0 ? 72 : 60) + 26 * dome
    }

    @inline(__always)
    private static func inEllipse(_ x: Double, _ y: Double, _ cx: Double, _ cy: Double, _ a: Double, _ b: Double) -> Bool {
        let u = (x - cx) / a, v = (y - cy) / b
        return u * u + v * v <= 1
    }

    /// The tissue at world position `p`.
    public func tissue(at p: Vector3) -> SyntheticTissue {
        let x = p.x, y = p.y, z = p.z
        let s = scale
        let (a, b) = bodySemiAxes
        if !Self.inEllipse(x, y, 0, bodyCenterY, a, b) { return .air }
        if !Self.inEllipse(x, y, 0, bodyCenterY, a - fatThickness, b - fatThickness) { return .fat }
        // Spine.
        let (vx, vy) = vertebraCenter
        let dv = ((x - vx) * (x - vx) + (y - vy) * (y - vy)).squareRoot()
        if dv <= vertebraRadius { return dv > vertebraRadius - 2.5 ? .corticalBone : .cancellousBone }
        let (cx, cy) = canalCenter
        let dc = ((x - cx) * (x - cx) + (y - cy) * (y - cy)).squareRoot()
        if dc <= 7 { return .spinalCanal }
        if dc <= 11 && y > cy - 3 { return .corticalBone }
        let (ax, ay) = aortaCenter
        if (x - ax) * (x - ax) + (y - ay) * (y - ay) <= 121 * s * s { return .aorta }
        if z > 125 && x * x + (y + 4 * s) * (y + 4 * s) <= 81 * s * s { return .airway }
        // Abdomen below the diaphragm: kidneys and adrenals first (they lie behind the liver).
        for side in [-1.0, 1.0] {
            let kx = (x - side * 58 * s) / (20 * s), ky = (y - 52 * s) / (27 * s), kz = (z - 5) / 45
            if kx * kx + ky * ky + kz * kz <= 1 { return .kidney }
            let c = adrenalCenter(side: side)
            let ex = (x - c.x) / 5, ey = (y - c.y) / 9, ez = (z - c.z) / 11
            if ex * ex + ey * ey + ez * ez <= 1 { return .adrenal }
        }
        let hx = (x - 14 * s) / (46 * s), hy = (y + 24 * s) / (38 * s), hz = (z - 108) / 36
        if hx * hx + hy * hy + hz * hz <= 1 { return .heart }
        let (la, lb) = lungSemiAxes
        for side in [-1.0, 1.0] where Self.inEllipse(x, y, lungCenterX(side: side), 0, la, lb) {
            if z > diaphragmHeight(x: x, y: y, side: side) { return .lung }
        }
        let dome = x < 0 ? diaphragmHeight(x: x, y: y, side: -1) : diaphragmHeight(x: x, y: y, side: 1)
        if z >= 6 && z < dome - 2 && x < 40 * s && Self.inEllipse(x, y, -42 * s, -2 * s, 78 * s, 72 * s) {
            return .liver
        }
        if z >= 28 && z < diaphragmHeight(x: x, y: y, side: 1) - 2 && Self.inEllipse(x, y, 70 * s, 36 * s, 22 * s, 32 * s) {
            return .spleen
        }
        return .softTissue
    }

    /// Pulmonary vessel trees: five trunks per lung from the hilum, each branching twice
    /// (radius 4 mm shrinking by 0.65, length 40 mm shrinking by 0.7 per generation).
    static func vesselTree(scale s: Double, rng: inout SynthesisRandom) -> [VesselSegment] {
        var out = [VesselSegment]()
        func branch(_ start: Vector3, _ dir: Vector3, _ length: Double, _ radius: Double, _ depth: Int) {
            let end = start + length * dir
            out.append(VesselSegment(a: start, b: end, radius: radius))
            guard depth < 2 else { return }
            for _ in 0..<2 {
                let d = dir + 0.55 * rng.unitVector()
                branch(end, (1 / d.length) * d, length * 0.7, radius * 0.65, depth + 1)
            }
        }
        for side in [-1.0, 1.0] {
            let trunks = [Vector3(0.8, 0, 0.6), Vector3(1, 0.2, 0), Vector3(0.7, 0.1, -0.7),
                          Vector3(0.5, 0.6, -0.6), Vector3(0.6, -0.7, 0.1)]
            let h = Vector3(side * 34 * s, 2 * s, 128)
            for t in trunks {
                let d = Vector3(side * t.x, t.y, t.z) + 0.25 * rng.unitVector()
                branch(h, (1 / d.length) * d, 40 * s, 4, 0)
            }
        }
        return out
    }
}
