import Foundation

/// Body-weight standardised uptake value (SUVbw) of a PET series, as the QIBA vendor-neutral SUV
/// pseudo-code and the DICOM PET Image and PET Isotope modules (PS3.3 C.8.9.1, C.8.9.2) define it.
///
///     SUVbw = A x W / D(t_ref)
///     A      = (stored value x Rescale Slope + Rescale Intercept), slice by slice: activity concentration, Bq/ml
///     W      = Patient's Weight (0010,1030) x 1000: body weight, g
///     D(t)   = Radionuclide Total Dose (0018,1074) x 2^(-(t - t_inj) / Radionuclide Half Life (0018,1075)): Bq
///
/// so every voxel of slice k is multiplied by `factors[k]` = W / D(t_ref) (g/Bq; with A in Bq/ml, SUV in g/ml).
/// The reference time t_ref is what the image is decay-corrected to (Decay Correction (0054,1102)):
/// - `START`: the series start: Series Date/Time (0008,0021/0031), or the earliest Acquisition Date/Time
///   (0008,0022/0032) of the series' slices when earlier (QIBA: a post-processed series whose series time
///   is its creation time);
/// - `ADMIN`: the injection itself: D(t_ref) = the total dose, no decay;
/// - `NONE` (not decay-corrected): each slice's own Acquisition Date/Time, and when Actual Frame Duration
///   (0018,1242, ms) is given, the decay during the frame, averaged: D x 2^(-(t_k - t_inj)/T) x (1 - e^(-λ T_f)) / (λ T_f)
///   with λ = ln 2 / T and T_f the frame duration in s, since the slice holds the mean activity over its frame.
/// The injection time t_inj is Radiopharmaceutical Start DateTime (0018,1078) when it gives a plausible elapsed
/// time (below), else Radiopharmaceutical Start Time (0018,1072) on the series date (as QIBA's pseudo-code
/// does: de-identification often shifts the date of the DateTime but not the series date); a start time later in
/// the day than the scan reference is taken on the day before (injected before midnight, scanned after it) when
/// that puts the injection at most 6 h before the reference. When neither is plausible the series is refused. All of these come from the first
/// item of Radiopharmaceutical Information Sequence (0054,0016).
///
/// Units (0054,1001):
/// - `BQML`: the formula above;
/// - `GML`: already SUV (QIBA takes it for SUVbw): factor 1;
/// - `CNTS` with the Philips private attributes (private creator "Philips PET Private Group", group 7053):
///   SUV Scale Factor (7053,1000) multiplies the rescaled value into SUVbw directly, slice by slice; else
///   Activity Concentration Scale Factor (7053,1009) multiplies it into Bq/ml, and the BQML formula follows;
/// - anything else (CNTS without those factors, NONE, CPS, PROPCNTS, ...) is refused.
/// Corrected Image (0028,0051) must list ATTN, and DECY unless Decay Correction is NONE (and not then).
///
/// Missing or implausible values are refused, never guessed (a wrong SUV would look right): weight outside
/// 0.5 to 500 kg (a weight in grams, say), dose outside 1 MBq to 50 GBq (a dose in MBq), half-life outside
/// 10 s to 10^7 s, an injection after the reference time or more than 10 half-lives before it. Messages name
/// the attribute and never its value (weights, dates and times describe the patient).
enum SUV {
    /// Plausible ranges, in the units DICOM uses.
    static let weightKg = 0.5...500.0
    static let doseBq = 1e6...5e10
    static let halfLifeSeconds = 10.0...1e7
    static let maxHalfLivesElapsed = 10.0
    /// A start time (without date) after the reference is read as the day before only within this window.
    static let midnightWindowSeconds = 6.0 * 3600

    /// The attributes the factor depends on, as one text, to compare slices (never shown).
    static func attributes(_ d: DICOMItem) -> String {
        let info = d.firstItem(Tag.radiopharmaceuticalInformationSequence)
        return [d.string(Tag.units), d.string(Tag.decayCorrection), d.string(Tag.correctedImage), d.string(Tag.patientWeight),
                info?.string(Tag.radionuclideTotalDose), info?.string(Tag.radionuclideHalfLife),
                info?.string(Tag.radiopharmaceuticalStartTime), info?.string(Tag.radiopharmaceuticalStartDateTime)]
            .map { ($0 ?? "").trimmingCharacters(in: .whitespaces) }.joined(separator: "\u{1}")
    }

    /// The factor turning each slice's rescaled values into SUVbw, in slice order.
    ///
    /// The header facts are read from the first slice (`d`); every slice must agree on them (a series whose slices
    /// disagree on units, decay correction, weight, dose, half-life or injection time is refused, naming the slice).
    static func factors(_ d: DICOMItem, slices: [SliceHeader], file: URL) throws -> [Double] {
        func fail(_ m: String, at url: URL? = nil) -> DICOMError {
            DICOMError(file: url ?? file, message: "cannot compute body-weight SUV: \(m)")
        }
        if let first = slices.first?.suvAttributes, let odd = slices.first(where: { $0.suvAttributes != first }) {
            throw fail("this slice disagrees with \(file.lastPathComponent) on Units, Decay Correction, Corrected Image, Patient's Weight or the Radiopharmaceutical Information (dose, half-life, injection time); one SUV conversion cannot serve both", at: odd.url)
        }
        // Coded values are quoted only when they are defined terms (`Redacted.code`).
        let units = (d.string(Tag.units) ?? "").uppercased()
        let knownUnits: Set<String> = ["CNTS", "NONE", "CM2", "CM2ML", "PCNT", "CPS", "BQML", "MGMINML", "UMOLMINML", "MLMING",
                                       "MLG", "1CM", "UMOLML", "PROPCNTS", "PROPCPS", "MLMINML", "MLML", "GML", "STDDEV"]
        // Multiplier from the rescaled value to Bq/ml, per slice (1 for BQML).
        var toBqml = [Double](repeating: 1, count: slices.count)
        switch units {
        case "GML":
            return [Double](repeating: 1, count: slices.count)
        case "BQML":
            break
        case "CNTS":
            if slices.allSatisfy({ $0.philipsSUVScaleFactor != nil }) {
                return try slices.map { s in
                    let f = s.philipsSUVScaleFactor!
                    guard f.isFinite, f > 0 else { throw fail("the Philips SUV Scale Factor (7053,1000) is not a positive number", at: s.url) }
                    return f
                }
            }
            if slices.allSatisfy({ $0.philipsActivityScaleFactor != nil }) {
                toBqml = try slices.map { s in
                    let f = s.philipsActivityScaleFactor!
                    guard f.isFinite, f > 0 else {
                        throw fail("the Philips Activity Concentration Scale Factor (7053,1009) is not a positive number", at: s.url)
                    }
                    return f
                }
            } else {
                let lacking = slices.first { $0.philipsSUVScaleFactor == nil && $0.philipsActivityScaleFactor == nil }
                throw fail("Units (0054,1001) is 'CNTS' (counts) without the Philips private SUV Scale Factor (7053,1000) or Activity Concentration Scale Factor (7053,1009) (private creator 'Philips PET Private Group') on every slice, so counts cannot be turned into activity; expected BQML (Bq/ml), or export the series in Bq/ml or SUV from the scanner",
                           at: lacking?.url)
            }
        default:
            throw fail("Units (0054,1001) is \(Redacted.code(units, known: knownUnits)), expected BQML (Bq/ml), GML (already SUV) or Philips CNTS with its scale factors")
        }

        let decayCorrection = (d.string(Tag.decayCorrection) ?? "").uppercased()
        guard ["START", "ADMIN", "NONE"].contains(decayCorrection) else {
            throw fail("Decay Correction (0054,1102) is \(Redacted.code(decayCorrection, known: [])), expected START, ADMIN or NONE")
        }
        let corrected = (d.string(Tag.correctedImage) ?? "").uppercased().split(separator: "\\").map {
            $0.trimmingCharacters(in: .whitespaces)
        }
        let knownCorrections: Set<String> = ["DECY", "ATTN", "SCAT", "DTIM", "MOTN", "PMOT", "CLN", "RAN", "RADL", "DCAL", "NORM"]
        let shown = corrected.isEmpty ? "empty" : corrected.map { Redacted.code($0, known: knownCorrections) }.joined(separator: ", ")
        guard corrected.contains("ATTN") else {
            throw fail("Corrected Image (0028,0051) is \(shown); attenuation correction (ATTN) is required for quantitative uptake")
        }
        if decayCorrection == "NONE" {
            guard !corrected.contains("DECY") else {
                throw fail("Corrected Image (0028,0051) lists decay correction (DECY) but Decay Correction (0054,1102) is NONE: the header contradicts itself")
            }
        } else if !corrected.contains("DECY") {
            throw fail("Corrected Image (0028,0051) is \(shown); decay correction (DECY) is required when Decay Correction (0054,1102) is \(decayCorrection)")
        }

        guard let weight = d.number(Tag.patientWeight), weight > 0 else { throw fail("Patient's Weight (0010,1030) is missing or zero") }
        guard weight.isFinite, weightKg.contains(weight) else {
            throw fail("Patient's Weight (0010,1030) is implausible (outside \(weightKg.lowerBound) to \(Int(weightKg.upperBound)) kg; grams instead of kilograms?)")
        }
        guard let info = d.firstItem(Tag.radiopharmaceuticalInformationSequence) else {
            throw fail("Radiopharmaceutical Information Sequence (0054,0016) is missing")
        }
        guard let dose = info.number(Tag.radionuclideTotalDose), dose > 0 else {
            throw fail("Radionuclide Total Dose (0018,1074) is missing or zero")
        }
        guard dose.isFinite, doseBq.contains(dose) else {
            throw fail("Radionuclide Total Dose (0018,1074) is implausible (outside 1 MBq to 50 GBq; DICOM gives it in Bq, not MBq)")
        }
        let grams = weight * 1000
        if decayCorrection == "ADMIN" {
            return toBqml.map { $0 * grams / dose }
        }

        guard let halfLife = info.number(Tag.radionuclideHalfLife), halfLife > 0 else {
            throw fail("Radionuclide Half Life (0018,1075) is missing or zero")
        }
        guard halfLife.isFinite, halfLifeSeconds.contains(halfLife) else {
            throw fail("Radionuclide Half Life (0018,1075) is implausible (outside 10 s to 10^7 s; DICOM gives it in seconds)")
        }
        guard let seriesDate = d.text(Tag.seriesDate), let seriesTime = d.text(Tag.seriesTime),
              let seriesStart = DICOMTime.seconds(date: seriesDate, time: seriesTime) else {
            throw fail("Series Date/Time is missing or malformed")
        }
        // The injection: a full date-time, else a time of day on the series date (the day before when later in the day).
        let startDateTime = info.text(Tag.radiopharmaceuticalStartDateTime).flatMap { DICOMTime.seconds(dateTime: $0) }
        let startTime = info.text(Tag.radiopharmaceuticalStartTime).flatMap { DICOMTime.seconds(date: seriesDate, time: $0) }
        guard startDateTime != nil || startTime != nil else {
            throw fail("Radiopharmaceutical Start Time (0018,1072) / Start DateTime (0018,1078) is missing")
        }
        func plausible(_ t: Double) -> Bool { t >= 0 && t <= maxHalfLivesElapsed * halfLife }
        func elapsed(to reference: Double, at url: URL?) throws -> Double {
            var candidates: [Double] = []
            if let startDateTime { candidates.append(reference - startDateTime) }
            if let startTime {
                var t = reference - startTime
                if t < 0, t + 86400 <= midnightWindowSeconds { t += 86400 }
                candidates.append(t)
            }
            if let t = candidates.first(where: plausible) { return t }
            guard candidates[0] >= 0 else {
                throw fail("injection time (Radiopharmaceutical Start DateTime/Time) is after the scan reference time", at: url)
            }
            throw fail("the scan reference time is more than \(Int(maxHalfLivesElapsed)) half-lives after the injection time (Radiopharmaceutical Start DateTime/Time); the dates or times are wrong", at: url)
        }

        if decayCorrection == "START" {
            var reference = seriesStart
            let acquisitions = slices.compactMap { s -> Double? in
                guard let t = s.acquisitionTime else { return nil }
                return DICOMTime.seconds(date: s.acquisitionDate ?? seriesDate, time: t)
            }
            if let earliest = acquisitions.min(), earliest < reference { reference = earliest }
            let decayed = dose * pow(2, -(try elapsed(to: reference, at: nil)) / halfLife)
            return toBqml.map { $0 * grams / decayed }
        }

        // NONE: each slice at its own acquisition time, averaged over its frame.
        let lambda = log(2) / halfLife
        return try zip(slices, toBqml).map { s, m in
            guard let time = s.acquisitionTime,
                  let t = DICOMTime.seconds(date: s.acquisitionDate ?? seriesDate, time: time) else {
                throw fail("Decay Correction (0054,1102) is NONE, so each slice's Acquisition Date/Time (0008,0022/0032) is needed, and this slice's is missing or malformed", at: s.url)
            }
            var decayed = dose * pow(2, -(try elapsed(to: t, at: s.url)) / halfLife)
            if let ms = s.frameDurationMS, ms.isFinite, ms > 0 {
                let x = lambda * ms / 1000
                decayed *= -expm1(-x) / x
            }
            return m * grams / decayed
        }
    }
}
