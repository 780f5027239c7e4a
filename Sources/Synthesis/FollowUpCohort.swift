import Dispatch
import Foundation
import ImageIO
import ImagingCore

/// The follow-up part of a synthetic cohort (`SynthesisOptions.timepoints` > 0): follow-up scans, the manifest
/// with its `timepoint` column, and the truth of sizes and responses.
///
/// Files added to the baseline cohort:
/// - `images/<patient>_ct_dDDD.nii.gz`, `masks/<patient>_lesions_dDDD.nii.gz`: the scan on day DDD (060, 120, ...),
///   on the baseline's grid, labels = the lesions' baseline labels (new lesions: the next free labels);
/// - `lesions.csv` gains a `timepoint` column (days, 0 = baseline) after `lesion_id`, one row per present lesion
///   per scan (a vanished lesion has no row; `lesion_response` is given on baseline rows only);
/// - `truth_followup.csv`: per lesion and time point (vanished ones included), the true measurements and category;
/// - `truth_followup_patients.csv`: per patient and time point, the patient shift, the true RECIST 1.1 response
///   and both out-of-field (abscopal) responses (`SyntheticRECIST`).
/// `truth.csv` and `patients.csv` are the baseline files, unchanged.
extension SyntheticCohort {
    public static let followUpTruthFile = "truth_followup.csv"
    public static let followUpPatientTruthFile = "truth_followup_patients.csv"

    /// Every file a follow-up cohort adds to the baseline files (relative paths).
    static func followUpFiles(_ courses: [SyntheticCourse]) -> [String] {
        var out = [followUpTruthFile, followUpPatientTruthFile]
        for c in courses {
            for t in c.timepoints.dropFirst() {
                out.append(SyntheticFollowUp.imagePath(c.patient.id, day: t.day))
                out.append(SyntheticFollowUp.maskPath(c.patient.id, day: t.day))
            }
        }
        return out
    }

    /// Renders and writes every follow-up scan; returns per patient and follow-up the voxel counts of the present
    /// lesions (in the order of `SyntheticTimepoint.lesions`).
    static func writeFollowUpScans(_ courses: [SyntheticCourse], options: SynthesisOptions, into directory: URL) throws -> [[[Int]]] {
        let perPatient = options.followUps
        let jobs = courses.count * perPatient
        let results = FollowUpResults(count: jobs)
        DispatchQueue.concurrentPerform(iterations: jobs) { job in
            let course = courses[job / perPatient]
            let timepoint = course.timepoints[1 + job % perPatient]
            let scan = SyntheticFollowUp.render(course, at: timepoint, options: options)
            let id = course.patient.id
            do {
                try NIfTI.write(scan.ct, to: directory.appendingPathComponent(SyntheticFollowUp.imagePath(id, day: timepoint.day)))
                try NIfTI.write(scan.labels, to: directory.appendingPathComponent(SyntheticFollowUp.maskPath(id, day: timepoint.day)))
                results.store(job, .success(scan.lesionVoxelCounts))
            } catch {
                results.store(job, .failure(SynthesisError.writeFailed("patient \(id), day \(timepoint.day): \(error)")))
            }
        }
        let all = try results.all.map { try $0.get() }
        return courses.indices.map { p in Array(all[(p * perPatient)..<((p + 1) * perPatient)]) }
    }

    /// lesions.csv of a follow-up cohort: per patient, the baseline rows then each follow-up's present lesions.
    static func followUpLesionsCSV(_ courses: [SyntheticCourse]) -> String {
        var rows = [["patient_id", "lesion_id", "timepoint", "image", "mask", "roi", "location", "irradiated",
                     "lesion_response", "kvp"]]
        for c in courses {
            let p = c.patient
            for t in c.timepoints {
                for s in t.lesions where s.present {
                    let l = s.lesion
                    rows.append([p.id, l.id, String(t.day), SyntheticFollowUp.imagePath(p.id, day: t.day),
                                 SyntheticFollowUp.maskPath(p.id, day: t.day), String(l.label), l.location.rawValue,
                                 l.irradiated ? "1" : "0", t.day == 0 ? l.response.rawValue : "", String(p.kvp)])
                }
            }
        }
        return csv(rows)
    }

    /// The true measurements of every lesion of a course at every time point, on `grid`'s slices.
    static func measurements(_ course: SyntheticCourse, grid: ImageGrid) -> [[(SyntheticRECIST.Measurement, volumeML: Double)]] {
        // One surface table per lesion (its shape at the first time point it is drawn), scaled to the others.
        var surfaces = [Int32: (surface: ShapeSurface, scale: Double)]()
        return course.timepoints.map { t in
            let zs = (0..<grid.size.nz).map { grid.origin.z - t.shift.z + Double($0) * grid.spacing.z }
            return t.lesions.map { s -> (SyntheticRECIST.Measurement, volumeML: Double) in
                var long = 0.0, short = 0.0, volume = 0.0
                if s.present {
                    let shape = s.lesion.shape
                    if surfaces[s.lesion.label] == nil { surfaces[s.lesion.label] = (ShapeSurface(shape), s.scale) }
                    let (surface, tabulated) = surfaces[s.lesion.label]!
                    let scale = s.scale / tabulated
                    let reach = shape.boundingRadius
                    let heights = zs.map { $0 - shape.center.z }.filter { abs($0) <= reach }
                    (long, short) = surface.axialDiameters(heights: heights, scale: scale)
                    volume = surface.volume * scale * scale * scale / 1000
                }
                let l = s.lesion
                return (SyntheticRECIST.Measurement(lesionID: l.id, location: l.location, irradiated: l.irradiated,
                                                    isNew: s.isNew, present: s.present, longAxis: long, shortAxis: short),
                        volume)
            }
        }
    }

    /// truth_followup.csv and truth_followup_patients.csv.
    static func followUpTruth(_ courses: [SyntheticCourse], baselineCounts: [[Int]], followUpCounts: [[[Int]]],
                              options: SynthesisOptions) -> (lesions: String, patients: String) {
        let grid = options.grid
        let voxelML = grid.voxelVolume / 1000
        let measured = MeasurementResults(count: courses.count)
        DispatchQueue.concurrentPerform(iterations: courses.count) { p in
            measured.store(p, measurements(courses[p], grid: grid))
        }
        var lesionRows = [["patient_id", "lesion_id", "timepoint", "present", "new", "location", "irradiated",
                           "infiltration", "growth_rate", "scale", "center_x_mm", "center_y_mm", "center_z_mm",
                           "diameter_mm", "short_axis_mm", "recist_measure_mm", "volume_ml", "voxel_volume_ml",
                           "diameter_change_pct", "measure_change_pct", "target", "category", "category_vs_baseline",
                           "pseudoprogression"]]
        var patientRows = [["patient_id", "timepoint", "shift_x_mm", "shift_y_mm", "shift_z_mm", "targets",
                            "sum_diameters_mm", "baseline_sum_mm", "nadir_sum_mm", "sum_change_pct", "new_lesions",
                            "recist", "abscopal_any_lesion", "abscopal_recist", "abscopal_recist_category"]]
        func pct(_ now: Double, _ base: Double) -> String { base > 0 ? fixed(100 * (now - base) / base, 2) : "" }
        func flag(_ b: Bool?) -> String { b.map { $0 ? "1" : "0" } ?? "" }
        let allMeasured = measured.all
        for (p, course) in courses.enumerated() {
            let series = allMeasured[p]
            let ms = series.map { $0.map(\.0) }
            let thickness = grid.spacing.z
            let assessments = SyntheticRECIST.assess(ms, sliceThickness: thickness)
            let abscopal = SyntheticRECIST.abscopal(ms, sliceThickness: thickness)
            let targets = Set(SyntheticRECIST.targets(ms[0], sliceThickness: thickness))
            // Per-lesion nadir before each time point (baseline included).
            var nadirs = [String: Double]()
            let id = course.patient.id
            for (k, t) in course.timepoints.enumerated() {
                let counts = k == 0 ? baselineCounts[p] : followUpCounts[p][k - 1]
                var present = 0
                for (n, s) in t.lesions.enumerated() {
                    let (m, volume) = series[k][n]
                    let base = s.isNew ? nil : ms[0][n]
                    let voxels = s.present ? counts[present] : 0
                    if s.present { present += 1 }
                    let c = s.lesion.shape.center + t.shift
                    lesionRows.append([
                        id, s.lesion.id, String(t.day), s.present ? "1" : "0", s.isNew ? "1" : "0",
                        s.lesion.location.rawValue, s.lesion.irradiated ? "1" : "0", fixed(s.lesion.infiltration, 4),
                        fixed(s.growthRate, 4), fixed(s.scale, 4), fixed(c.x, 2), fixed(c.y, 2), fixed(c.z, 2),
                        fixed(m.present ? m.longAxis : 0, 2), fixed(m.present ? m.shortAxis : 0, 2), fixed(m.measure, 2),
                        fixed(volume, 3), fixed(Double(voxels) * voxelML, 3),
                        k == 0 || base == nil ? "" : pct(m.present ? m.longAxis : 0, base!.longAxis),
                        k == 0 || base == nil ? "" : pct(m.measure, base!.measure),
                        targets.contains(s.lesion.id) && !s.isNew ? "1" : "0",
                        k == 0 ? "" : SyntheticRECIST.lesionCategory(baseline: base, nadir: nadirs[s.lesion.id], now: m),
                        k == 0 ? "" : SyntheticRECIST.lesionCategory(baseline: base, now: m),
                        s.pseudoprogression ? "1" : "0"])
                    nadirs[s.lesion.id] = min(nadirs[s.lesion.id] ?? .infinity, m.measure)
                }
                let sh = t.shift
                if k == 0 {
                    let sum = targets.isEmpty ? 0 : ms[0].filter { targets.contains($0.lesionID) }.reduce(0) { $0 + $1.measure }
                    patientRows.append([id, "0", fixed(sh.x, 2), fixed(sh.y, 2), fixed(sh.z, 2), String(targets.count),
                                        fixed(sum, 2), fixed(sum, 2), fixed(sum, 2), "", "0", "", "", "", ""])
                } else {
                    let a = assessments[k - 1], ab = abscopal[k - 1]
                    patientRows.append([id, String(t.day), fixed(sh.x, 2), fixed(sh.y, 2), fixed(sh.z, 2),
                                        String(a.targets.count), fixed(a.sum, 2), fixed(a.baselineSum, 2),
                                        fixed(a.nadir, 2), pct(a.sum, a.baselineSum), String(a.newLesions), a.response,
                                        flag(ab.any), flag(ab.recist), ab.category ?? ""])
                }
            }
        }
        return (csv(lesionRows), csv(patientRows))
    }
}

/// Results filled concurrently, one slot per job.
private final class FollowUpResults: @unchecked Sendable {
    private var slots: [Result<[Int], Error>?]
    private let lock = NSLock()

    init(count: Int) { slots = Array(repeating: nil, count: count) }

    func store(_ index: Int, _ result: Result<[Int], Error>) {
        lock.lock(); defer { lock.unlock() }
        slots[index] = result
    }

    var all: [Result<[Int], Error>] {
        lock.lock(); defer { lock.unlock() }
        return slots.map { $0 ?? .failure(SynthesisError.writeFailed("a follow-up scan was not generated")) }
    }
}

private final class MeasurementResults: @unchecked Sendable {
    typealias Series = [[(SyntheticRECIST.Measurement, volumeML: Double)]]
    private var slots: [Series]
    private let lock = NSLock()

    init(count: Int) { slots = Array(repeating: [], count: count) }

    func store(_ index: Int, _ series: Series) {
        lock.lock(); defer { lock.unlock() }
        slots[index] = series
    }

    var all: [Series] {
        lock.lock(); defer { lock.unlock() }
        return slots
    }
}
