import Foundation
import ImagingCore

/// One lesion of a synthetic patient at one time point.
public struct SyntheticLesionState: Sendable {
    /// The lesion as drawn at this time point: `shape.radius` is the baseline (or appearance) radius times `scale`;
    /// id, label, location, infiltration and irradiation are those of the baseline lesion.
    public var lesion: SyntheticLesion
    /// Size relative to the lesion's baseline (or, for a new lesion, its first appearance): every length of the
    /// shape is multiplied by it, the centre and orientation stay.
    public var scale: Double
    /// False once the lesion has vanished (nominal radius below `SyntheticFollowUp.vanishRadiusMM`): it is not
    /// drawn and has no manifest row at this time point.
    public var present: Bool
    /// True for a lesion that was not there at baseline.
    public var isNew: Bool
    /// Log size change per `SyntheticFollowUp.intervalDays` (the hidden growth rate r).
    public var growthRate: Double
    /// A responding lesion that swells at the first follow-up before shrinking (pseudoprogression, hidden).
    public var pseudoprogression: Bool = false
}

/// One scan of a synthetic patient: baseline (day 0) or a follow-up.
public struct SyntheticTimepoint: Sendable {
    /// Days from the baseline scan.
    public var day: Int
    /// Rigid translation (mm) of the patient in the scanner between the baseline and this scan:
    /// a point at patient position p is imaged at p + shift. Zero at baseline.
    public var shift: Vector3
    /// Every lesion known by this time point (baseline lesions in baseline order, then new lesions in the order
    /// they appeared), present or vanished.
    public var lesions: [SyntheticLesionState]
    /// Seed of this scan's noise field.
    public var noiseSeed: UInt64
}

/// A synthetic patient followed over time: the baseline scan and `SynthesisOptions.followUps` follow-ups.
public struct SyntheticCourse: Sendable {
    public var patient: SyntheticPatient
    /// Index 0 is the baseline.
    public var timepoints: [SyntheticTimepoint]
}

/// The follow-up model of `lesionmap synth --timepoints N`: how lesions grow, shrink, vanish and appear
/// between scans taken every `intervalDays` days, and how the patient lies in the scanner.
///
/// Growth. Each baseline lesion has the latent response score s of `SyntheticOutcomeModel`
/// (s = 3.5 (u − 0.5) + 1.0 · irradiated + N(0, 0.8²), u the hidden infiltration). Its size at follow-up k
/// (day 60 k) is the baseline shape scaled about its centre by
///
///     scale_k = min(cap, exp(k r + 0.06 ε_k)),   r = −0.25 (s_eff − 0.1),   ε_k ~ N(0, 1) independent,
///
/// so an infiltrated or irradiated lesion shrinks and an immune-desert lesion grows (s = −0.6: +19 % per
/// interval; s = 1.5: −30 % per interval). The jitter 0.06 ε_k is per scan (biological and positional noise),
/// not cumulative.
///
/// Abscopal effect. In a patient whose hidden `abscopal_response` is 1 (patients.csv; drawn with probability
/// logistic(−1 − 1.2 η), see `SyntheticOutcomeModel`), every non-irradiated lesion gets s_eff = s + 1.2 u:
/// out-of-field lesions shrink more the more infiltrated they are. Otherwise s_eff = s.
///
/// Pseudoprogression. A responding baseline lesion (s_eff > 0.4) swells at the first follow-up with probability
/// 0.2 (immune infiltration): at the first follow-up its size is the baseline size times a flare factor uniform in
/// 1.3-1.6 (times the jitter) instead of exp(r + jitter); from the second on it follows exp(k r + jitter) again,
/// smaller than its baseline. The draw uses its own stream, so nothing else
/// changes with it.
///
/// Complete response. A lesion whose nominal radius (baseline radius × scale) falls below `vanishRadiusMM`
/// (3 mm) has vanished: it is not drawn from then on (it never comes back), and it has no row in lesions.csv.
///
/// New lesions. At each follow-up a patient gets a new lesion with probability logistic(−2.2 + 0.8 η)
/// (η the patient's linear predictor: poor-prognosis patients progress with new lesions more often). It is
/// placed like a baseline lesion (site weights and tissue checks of `SyntheticPlanner`, but never a lymph node:
/// under RECIST 1.1 a new node counts only from 10 mm short axis), infiltration = the patient's centre μ, with a nominal radius
/// log-uniform in 4-8 mm at appearance, and grows afterwards by r = 0.2 + 0.05 N(0, 1) per interval (same jitter,
/// same cap). New lesions take the next free ids and labels (L11 after L10, or L05 after four baseline lesions).
///
/// Caps. A lesion's scale never exceeds `maximumScale` (2), and is capped so that its bounding sphere never
/// reaches a neighbour's (pairwise: (d − 2 mm) / (b_i + b_j), b the bounding radii at baseline) nor comes
/// within 2 mm of the field of view. New lesions are placed 10 mm clear of the capped extent of every earlier
/// lesion, at twice their appearance radius. So label maps never overlap and every drawn voxel is in the scan.
///
/// Patient position. Each follow-up shifts the whole patient (body and lesions) by a translation T with each
/// component uniform in ±`maximumShiftMM` (8 mm), clamped so that every lesion's capped extent stays inside the
/// field of view; the scanner grid (origin, spacing) is the baseline's. No rotation. So a lesion at patient
/// position p is at p + T in the follow-up image, and matching lesions by raw position is off by up to
/// 8 √3 ≈ 14 mm.
///
/// Other scan settings: same tube voltage as the baseline; new scan noise and new tumour texture fields
/// (seeds derived from the patient seed and the time point).
public enum SyntheticFollowUp {
    /// Days between two scans: follow-up k is taken on day `intervalDays * k`.
    public static let intervalDays = 60
    public static let maximumFollowUps = 10
    /// A lesion whose nominal radius falls below this has vanished (complete response).
    public static let vanishRadiusMM = 3.0
    public static let maximumScale = 2.0
    public static let maximumShiftMM = 8.0
    /// Per-scan jitter (SD of the log size).
    public static let jitterSD = 0.06
    /// Abscopal gain: s_eff = s + abscopalGain · u for non-irradiated lesions of abscopal patients.
    public static let abscopalGain = 1.2
    /// Probability that a responding lesion (s_eff > 0.4) swells at the first follow-up.
    public static let pseudoprogressionProbability = 0.2

    /// File names of a scan taken `day` days after baseline (the baseline keeps `SyntheticCohort`'s names).
    public static func imagePath(_ patientID: String, day: Int) -> String {
        day == 0 ? SyntheticCohort.imagePath(patientID) : "images/\(patientID)_ct_d\(dayTag(day)).nii.gz"
    }
    public static func maskPath(_ patientID: String, day: Int) -> String {
        day == 0 ? SyntheticCohort.maskPath(patientID) : "masks/\(patientID)_lesions_d\(dayTag(day)).nii.gz"
    }
    static func dayTag(_ day: Int) -> String {
        let s = String(day)
        return String(repeating: "0", count: max(0, 3 - s.count)) + s
    }

    /// The hidden growth rate r of a baseline lesion (log size change per interval).
    public static func growthRate(_ lesion: SyntheticLesion, abscopalPatient: Bool) -> Double {
        var s = lesion.responseScore
        if abscopalPatient && !lesion.irradiated { s += abscopalGain * lesion.infiltration }
        return -0.25 * (s - 0.1)
    }

    /// The course of the `index`-th patient over `options.followUps` follow-ups. The baseline time point is
    /// exactly the baseline patient (scale 1, no shift, baseline noise seed).
    public static func course(_ patient: SyntheticPatient, options: SynthesisOptions) -> SyntheticCourse {
        let seed = patient.seed
        let fov = SyntheticAnatomy.fieldOfView
        let faces = (lo: Vector3(-fov.x / 2, -fov.y / 2, 0), hi: Vector3(fov.x / 2, fov.y / 2, fov.z))
        let abscopal = patient.outcome.abscopalResponse ?? false

        // Baseline lesions: rates and caps.
        var tracks = [Track]()
        for l in patient.lesions {
            var track = Track(lesion: l, rate: growthRate(l, abscopalPatient: abscopal), cap: maximumScale,
                              firstIndex: 0, isNew: false)
            var frng = SynthesisRandom(seed: SplitMix64.derive(seed, 10, UInt64(l.label)))
            let flares = frng.bernoulli(pseudoprogressionProbability)
            let factor = frng.uniform(1.3, 1.6)
            var s = l.responseScore
            if abscopal && !l.irradiated { s += abscopalGain * l.infiltration }
            if s > 0.4 && flares { track.flare = factor }
            tracks.append(track)
        }
        for i in tracks.indices {
            let b = tracks[i].lesion.shape.boundingRadius
            let c = tracks[i].lesion.shape.center
            var cap = maximumScale
            for a in 0..<3 {
                cap = min(cap, (c[a] - faces.lo[a] - 2) / b, (faces.hi[a] - c[a] - 2) / b)
            }
            for j in tracks.indices where j != i {
                let o = tracks[j].lesion.shape
                cap = min(cap, ((o.center - c).length - 2) / (o.boundingRadius + b))
            }
            tracks[i].cap = max(cap, 0)
        }

        var timepoints = [SyntheticTimepoint(
            day: 0, shift: .zero,
            lesions: tracks.map { SyntheticLesionState(lesion: $0.lesion, scale: 1, present: true, isNew: false,
                                                       growthRate: $0.rate, pseudoprogression: $0.flare > 1) },
            noiseSeed: SplitMix64.derive(seed, 5))]
        guard options.followUps > 0 else { return SyntheticCourse(patient: patient, timepoints: timepoints) }

        var vanished = Set<Int>()
        var nextLabel = (patient.lesions.map { Int($0.label) }.max() ?? 0) + 1
        for k in 1...options.followUps {
            // A new lesion, maybe.
            var nrng = SynthesisRandom(seed: SplitMix64.derive(seed, 7, UInt64(k)))
            let pNew = 1 / (1 + Foundation.exp(-(-2.2 + 0.8 * patient.outcome.linearPredictor)))
            if nrng.bernoulli(pNew),
               let track = newLesion(label: nextLabel, appearing: k, patient: patient, existing: tracks, rng: &nrng) {
                tracks.append(track)
                nextLabel += 1
            }
            // Sizes.
            var states = [SyntheticLesionState]()
            for (n, t) in tracks.enumerated() {
                let steps = k - t.firstIndex
                var jrng = SynthesisRandom(seed: SplitMix64.derive(seed, 9, UInt64(t.lesion.label), UInt64(k)))
                let jitter = steps == 0 ? 0 : jitterSD * jrng.normal()
                // A pseudoprogressing lesion is its baseline size times the flare at the first follow-up.
                let growth = steps == 1 && t.flare > 1 ? Foundation.log(t.flare) : Double(steps) * t.rate
                let scale = min(t.cap, Foundation.exp(growth + jitter))
                if t.lesion.shape.radius * scale < vanishRadiusMM { vanished.insert(n) }
                var l = t.lesion
                l.shape.radius = t.lesion.shape.radius * scale
                l.textureSeed = SplitMix64.derive(t.lesion.textureSeed, UInt64(k))
                states.append(SyntheticLesionState(lesion: l, scale: scale, present: !vanished.contains(n),
                                                   isNew: t.isNew, growthRate: t.rate, pseudoprogression: t.flare > 1))
            }
            // Patient shift, clamped so that every lesion's capped extent stays in the field of view.
            var srng = SynthesisRandom(seed: SplitMix64.derive(seed, 8, UInt64(k)))
            var shift = Vector3.zero
            for a in 0..<3 {
                let drawn = srng.uniform(-maximumShiftMM, maximumShiftMM)
                var lo = -maximumShiftMM, hi = maximumShiftMM
                for t in tracks {
                    let e = t.lesion.shape.boundingRadius * t.cap
                    lo = max(lo, faces.lo[a] - (t.lesion.shape.center[a] - e))
                    hi = min(hi, faces.hi[a] - (t.lesion.shape.center[a] + e))
                }
                shift[a] = lo <= hi ? min(hi, max(lo, drawn)) : 0
            }
            timepoints.append(SyntheticTimepoint(day: intervalDays * k, shift: shift, lesions: states,
                                                 noiseSeed: SplitMix64.derive(seed, 5, UInt64(k))))
        }
        return SyntheticCourse(patient: patient, timepoints: timepoints)
    }

    /// A lesion's rate, growth cap and first time point.
    struct Track {
        var lesion: SyntheticLesion
        var rate: Double
        var cap: Double
        var firstIndex: Int
        var isNew: Bool
        /// Size factor at the first follow-up (pseudoprogression), 1 otherwise.
        var flare: Double = 1
    }

    /// A new lesion appearing at follow-up `k`, placed 10 mm clear of the capped extent of every earlier lesion
    /// (at its own maximum size), or nil when no place is found in 300 tries.
    static func newLesion(label: Int, appearing k: Int, patient: SyntheticPatient, existing: [Track],
                          rng: inout SynthesisRandom) -> Track? {
        let anatomy = patient.anatomy
        // The placed list at capped extents (`place` and `sampleCenter` read bounding radii and sites).
        let placed = existing.map { t -> (SyntheticLocation, LesionShape) in
            var s = t.lesion.shape
            s.radius *= t.cap
            return (t.lesion.location, s)
        }
        // Not lymph nodes: a new node counts under RECIST 1.1 only from 10 mm short axis, so new lesions of other
        // sites keep every new lesion unequivocal.
        let sites = SyntheticPlanner.sites.filter { site in
            site.location != .lymphNode && placed.filter { $0.0 == site.location }.count < site.maxCount
        }
        let total = sites.reduce(0) { $0 + $1.weight }
        let radius = rng.logUniform(4, 8)
        let fov = SyntheticAnatomy.fieldOfView
        for _ in 0..<300 {
            var pick = rng.uniform() * total
            var site = sites[sites.count - 1]
            for s in sites {
                if pick < s.weight { site = s; break }
                pick -= s.weight
            }
            let reachRadius = maximumScale * radius
            guard let center = SyntheticPlanner.sampleCenter(site.location, radius: reachRadius, placed: placed,
                                                             anatomy: anatomy, rng: &rng) else { continue }
            var shape = LesionShape.random(center: center, radius: reachRadius, location: site.location, rng: &rng)
            guard SyntheticPlanner.fits(shape, at: site.location, anatomy: anatomy) else { continue }
            let margin = maximumShiftMM + 2 + shape.boundingRadius
            guard abs(center.x) + margin <= fov.x / 2, abs(center.y) + margin <= fov.y / 2,
                  center.z - margin >= 0, center.z + margin <= fov.z else { continue }
            let clear = placed.allSatisfy { other in
                (other.1.center - shape.center).length >= other.1.boundingRadius + shape.boundingRadius
                    + SyntheticPlanner.minimumGapMM
            }
            guard clear else { continue }
            shape.radius = radius
            let u = patient.infiltrationCenter
            let lesion = SyntheticLesion(
                id: "L" + (label < 10 ? "0" : "") + String(label), label: Int32(label), location: site.location,
                shape: shape, infiltration: u, irradiated: false, response: .PD, responseScore: 0,
                intensityOffset: 6 * rng.normal(), fineScale: Foundation.exp(0.25 * rng.normal()),
                coarseScale: Foundation.exp(0.25 * rng.normal()),
                textureSeed: SplitMix64.derive(patient.seed, 100, UInt64(label)))
            return Track(lesion: lesion, rate: 0.2 + 0.05 * rng.normal(), cap: maximumScale, firstIndex: k, isNew: true)
        }
        return nil
    }

    /// The patient as seen at `timepoint` (present lesions only), for `SyntheticScanModel`.
    static func patient(_ course: SyntheticCourse, at timepoint: SyntheticTimepoint) -> SyntheticPatient {
        var p = course.patient
        p.lesions = timepoint.lesions.filter(\.present).map(\.lesion)
        return p
    }

    /// Renders a follow-up scan on the cohort grid: the patient is rendered on the grid displaced by −shift
    /// (patient coordinates), and the voxels are written on the unshifted scanner grid.
    static func render(_ course: SyntheticCourse, at timepoint: SyntheticTimepoint, options: SynthesisOptions) -> SyntheticScan {
        let grid = options.grid
        var shifted = grid
        shifted.origin = grid.origin - timepoint.shift
        let scan = SyntheticScanModel.render(patient(course, at: timepoint), grid: shifted, noiseSeed: timepoint.noiseSeed)
        return SyntheticScan(ct: Volume(grid: grid, voxels: scan.ct.voxels),
                             labels: LabelMap(grid: grid, voxels: scan.labels.voxels),
                             lesionVoxelCounts: scan.lesionVoxelCounts)
    }
}
