import Foundation
import ImagingCore

/// Draws the latent content of synthetic patients (body, lesions, infiltration, outcome) without
/// any voxels, so that it does not depend on the sampling grid and large cohorts plan instantly.
///
/// Per patient (all streams derived from the master seed and the patient number):
/// - kVp: 100 / 120 / 140 with probabilities 0.25 / 0.5 / 0.25.
/// - Lesion count n = 1 + Binomial(9, 0.33) (1...10); fewer when a lesion cannot be placed in 300 tries.
/// - Site weights: lung 0.30, liver 0.22, lymph_node 0.20, soft_tissue 0.12, bone 0.08, adrenal 0.08
///   (at most 2 bone and one adrenal lesion per side); nominal radius log-uniform in the site's range:
///   lung 4-25, liver 5-25, lymph_node 5-15, soft_tissue 5-15, bone 5-11, adrenal 5-14 mm.
/// - Placement: the centre and six interior probes must lie in the site's tissue (lung; liver;
///   mediastinal/hilar soft tissue or lung; fat or muscle of the body wall, 1.3 R + 4 to 1.3 R + 19 mm deep;
///   vertebral bone; adrenal gland or soft tissue), the bounding sphere plus 4 mm must lie inside the body
///   and the field of view, and bounding spheres of two lesions stay ≥ `minimumGapMM` apart.
/// - Infiltration: μ ~ Beta(2, 2) per patient, τ ~ U(0.3, 2.0) per patient, and per lesion
///   u = logistic(logit(μ) + τ z), z ~ N(0, 1).
/// - Irradiated lesions: one, or two (probability 0.3) when the patient has three or more lesions,
///   chosen uniformly.
public enum SyntheticPlanner {
    /// Smallest distance (mm) between the bounding spheres of two lesions, so peritumoral rings
    /// (6 mm) of different lesions barely meet.
    public static let minimumGapMM = 10.0

    struct Site {
        var location: SyntheticLocation
        var weight: Double
        var radius: ClosedRange<Double>
        var maxCount: Int
    }

    static let sites: [Site] = [
        Site(location: .lung, weight: 0.30, radius: 4...25, maxCount: 10),
        Site(location: .liver, weight: 0.22, radius: 5...25, maxCount: 10),
        Site(location: .lymphNode, weight: 0.20, radius: 5...15, maxCount: 10),
        Site(location: .softTissue, weight: 0.12, radius: 5...15, maxCount: 10),
        Site(location: .bone, weight: 0.08, radius: 5...11, maxCount: 2),
        Site(location: .adrenal, weight: 0.08, radius: 5...14, maxCount: 2),
    ]

    /// The patient with 0-based number `index` of a cohort with `options`.
    public static func patient(index: Int, options: SynthesisOptions) -> SyntheticPatient {
        let seed = SplitMix64.derive(options.seed, UInt64(index))
        var rng = SynthesisRandom(seed: SplitMix64.derive(seed, 1))
        let kvpDraw = rng.uniform()
        let kvp = kvpDraw < 0.25 ? 100 : (kvpDraw < 0.75 ? 120 : 140)
        let anatomy = SyntheticAnatomy(random: &rng)

        var lrng = SynthesisRandom(seed: SplitMix64.derive(seed, 2))
        let target = 1 + lrng.binomial(9, 0.33)
        let mu = lrng.beta(2, 2)
        let tau = lrng.uniform(0.3, 2.0)
        var shapes = [(SyntheticLocation, LesionShape)]()
        for _ in 0..<target {
            if let placed = place(avoiding: shapes, anatomy: anatomy, rng: &lrng) { shapes.append(placed) }
        }
        let logitMu = Foundation.log(mu / (1 - mu))
        var lesions = [SyntheticLesion]()
        for (n, (location, shape)) in shapes.enumerated() {
            let u = 1 / (1 + Foundation.exp(-(logitMu + tau * lrng.normal())))
            let label = n + 1
            lesions.append(SyntheticLesion(
                id: "L" + (label < 10 ? "0" : "") + String(label), label: Int32(label), location: location,
                shape: shape, infiltration: min(0.999, max(0.001, u)), irradiated: false, response: .SD,
                intensityOffset: 6 * lrng.normal(), fineScale: Foundation.exp(0.25 * lrng.normal()),
                coarseScale: Foundation.exp(0.25 * lrng.normal()),
                textureSeed: SplitMix64.derive(seed, 100, UInt64(label))))
        }

        var rrng = SynthesisRandom(seed: SplitMix64.derive(seed, 3))
        let irradiatedCount = lesions.count >= 3 && rrng.bernoulli(0.3) ? 2 : 1
        var candidates = Array(lesions.indices)
        for _ in 0..<irradiatedCount {
            let pick = candidates.remove(at: rrng.int(below: candidates.count))
            lesions[pick].irradiated = true
        }
        var patient = SyntheticPatient(
            id: SynthesisOptions.patientID(index), seed: seed, kvp: kvp, anatomy: anatomy,
            infiltrationCenter: mu, infiltrationSpread: tau, lesions: lesions,
            outcome: SyntheticOutcome(pfsMonths: 0, pfsEvent: false, osMonths: 0, osEvent: false,
                                      bestResponse: .SD, abscopalResponse: nil, linearPredictor: 0))
        var orng = SynthesisRandom(seed: SplitMix64.derive(seed, 4))
        SyntheticOutcomeModel.simulate(&patient, driver: options.outcomeDriver, rng: &orng)
        return patient
    }

    /// All patients of a cohort, in id order.
    public static func cohort(_ options: SynthesisOptions) throws -> [SyntheticPatient] {
        try options.validate()
        return (0..<options.patients).map { patient(index: $0, options: options) }
    }

    /// A new lesion clear of `placed`, or nil after 300 failed tries.
    static func place(avoiding placed: [(SyntheticLocation, LesionShape)], anatomy: SyntheticAnatomy,
                      rng: inout SynthesisRandom) -> (SyntheticLocation, LesionShape)? {
        let available = sites.filter { site in
            let used = placed.filter { $0.0 == site.location }.count
            return used < site.maxCount
        }
        let total = available.reduce(0) { $0 + $1.weight }
        for _ in 0..<300 {
            var pick = rng.uniform() * total
            var site = available[available.count - 1]
            for s in available {
                if pick < s.weight { site = s; break }
                pick -= s.weight
            }
            let radius = rng.logUniform(site.radius.lowerBound, site.radius.upperBound)
            guard let center = sampleCenter(site.location, radius: radius, placed: placed, anatomy: anatomy, rng: &rng) else { continue }
            let shape = LesionShape.random(center: center, radius: radius, location: site.location, rng: &rng)
            guard fits(shape, at: site.location, anatomy: anatomy) else { continue }
            let clear = placed.allSatisfy { other in
                (other.1.center - shape.center).length >= other.1.boundingRadius + shape.boundingRadius + minimumGapMM
            }
            if clear { return (site.location, shape) }
        }
        return nil
    }

    /// A candidate centre in the region where lesions of `location` occur.
    static func sampleCenter(_ location: SyntheticLocation, radius: Double, placed: [(SyntheticLocation, LesionShape)],
                             anatomy: SyntheticAnatomy, rng: inout SynthesisRandom) -> Vector3? {
        let s = anatomy.scale
        let fov = SyntheticAnatomy.fieldOfView
        switch location {
        case .lung:
            let side: Double = rng.bernoulli(0.5) ? -1 : 1
            let (la, lb) = anatomy.lungSemiAxes
            return Vector3(anatomy.lungCenterX(side: side) + rng.uniform(-la, la), rng.uniform(-lb, lb),
                           rng.uniform(60, fov.z))
        case .liver:
            return Vector3(rng.uniform(-120 * s, 36 * s), rng.uniform(-74 * s, 70 * s), rng.uniform(6, 98))
        case .lymphNode:
            let box = anatomy.mediastinumBox
            return Vector3(rng.uniform(box.x.lowerBound, box.x.upperBound), rng.uniform(box.y.lowerBound, box.y.upperBound),
                           rng.uniform(box.z.lowerBound, box.z.upperBound))
        case .softTissue:
            // Body wall: a point on the outline pulled inwards by the lesion's reach plus up to 15 mm.
            let (a, b) = anatomy.bodySemiAxes
            let depth = 1.3 * radius + 4 + rng.uniform(0, 15)
            let theta = 2 * Double.pi * rng.uniform()
            return Vector3((a - depth) * Foundation.cos(theta), anatomy.bodyCenterY + (b - depth) * Foundation.sin(theta),
                           rng.uniform(0, fov.z))
        case .bone:
            let (vx, vy) = anatomy.vertebraCenter
            let r = anatomy.vertebraRadius
            return Vector3(vx + rng.uniform(-r, r), vy + rng.uniform(-r, r), rng.uniform(0, fov.z))
        case .adrenal:
            let usedSides = placed.filter { $0.0 == .adrenal }.map { $0.1.center.x < 0 ? -1.0 : 1.0 }
            let free = [-1.0, 1.0].filter { !usedSides.contains($0) }
            guard !free.isEmpty else { return nil }
            let side = free[rng.int(below: free.count)]
            let c = anatomy.adrenalCenter(side: side)
            return c + Vector3(rng.uniform(-4, 4), rng.uniform(-6, 6), rng.uniform(-8, 8))
        }
    }

    /// Whether the shape sits in its site's tissue, inside the body and inside the field of view.
    static func fits(_ shape: LesionShape, at location: SyntheticLocation, anatomy: SyntheticAnatomy) -> Bool {
        let fov = SyntheticAnatomy.fieldOfView
        let reach = shape.boundingRadius + 4
        let c = shape.center
        guard c.z - reach >= 0, c.z + reach <= fov.z,
              abs(c.x) + reach <= fov.x / 2, abs(c.y) + reach <= fov.y / 2 else { return false }
        // The bounding sphere plus margin inside the body outline (checked on 14 directions).
        for d in boundaryDirections where anatomy.tissue(at: c + reach * d) == .air { return false }
        let allowed: Set<SyntheticTissue>
        switch location {
        case .lung: allowed = [.lung]
        case .liver: allowed = [.liver]
        case .lymphNode: allowed = [.softTissue, .lung]
        case .softTissue:
            allowed = [.fat, .softTissue]
        case .bone: allowed = [.cancellousBone, .corticalBone]
        case .adrenal: allowed = [.adrenal, .softTissue]
        }
        if location == .lymphNode || location == .bone {
            let t = anatomy.tissue(at: c)
            guard t == (location == .bone ? .cancellousBone : .softTissue) else { return false }
        }
        return shape.interiorProbes.allSatisfy { allowed.contains(anatomy.tissue(at: $0)) }
    }

    /// The 6 axis and 8 diagonal unit directions.
    static let boundaryDirections: [Vector3] = {
        var out = [Vector3]()
        for a in 0..<3 {
            var v = Vector3.zero; v[a] = 1; out.append(v)
            v[a] = -1; out.append(v)
        }
        let r = 1 / 3.0.squareRoot()
        for sx in [-r, r] { for sy in [-r, r] { for sz in [-r, r] { out.append(Vector3(sx, sy, sz)) } } }
        return out
    }()
}
