import Foundation
import ImagingCore

/// Settings that do not fit the modality of a lesion's scan, refused or warned before any work.
///
/// Refused on PT (SUV) and MR (arbitrary units), whose intensities are not whole numbers of a fixed
/// scale as CT's HU are:
/// - rounding interpolated intensities (`resampling.roundIntensities`): SUV 20.83 would become 21;
/// - a re-segmentation range with a negative bound (`resegmentation.lowerBound`/`upperBound`): a HU
///   range such as [-1000, 3000]; SUV and MR magnitudes are not negative, so such a range was meant for CT;
/// - the intensity-volume histogram on a unit grid (`ivhDiscretisation` none), which rounds each
///   intensity to a whole number.
///
/// Warned on PT and MR: a ring air threshold below 0 (`ring.excludeBelowIntensity`, e.g. -950 HU),
/// which removes nothing there. Warned on every modality, per lesion (`greyLevelWarning`): a
/// discretisation that leaves fewer than 8 or more than 1,000 grey levels in the lesion.
public enum ModalityChecks {
    /// Fewest and most grey levels a lesion should span after discretisation: below 8 texture
    /// matrices hold one or two distinct levels (IBSI 1 and PyRadiomics practice starts at 8 bins);
    /// above 1,000 they are sparse (most co-occurrences counted once) and large.
    public static let advisedGreyLevels = 8...1000

    /// The settings that make no sense on `modality`, one phrase each naming the setting (empty when none).
    public static func refusals(_ s: ExtractionSettings, modality: String) -> [String] {
        guard Modality.isNonInteger(modality) else { return [] }
        let unit = Modality.unit(modality)
        let number = ExtractionSettings.text
        var out: [String] = []
        if let r = s.resampling, r.roundIntensities {
            let example = modality.uppercased() == Modality.pt ? "; SUV 20.83 would become 21" : ""
            out.append("resampling.roundIntensities is true: interpolated intensities would be rounded to whole numbers (right for CT in HU\(example)); \(modality) intensities (\(unit)) are never rounded")
        }
        let rs = s.resegmentation
        if [rs.lowerBound, rs.upperBound].contains(where: { ($0 ?? 0) < 0 }) {
            let range = "[\(rs.lowerBound.map(number) ?? "-inf"), \(rs.upperBound.map(number) ?? "inf")]"
            out.append("re-segmentation range \(range) (resegmentation.lowerBound, upperBound) is a HU range: \(unit) are never negative, so it was meant for CT")
        }
        if case .none = s.ivhDiscretisation {
            out.append("the intensity-volume histogram on a unit grid (ivhDiscretisation none) rounds each intensity to a whole number; give it a fixed bin size or number for \(modality)")
        }
        return out
    }

    /// The settings that are pointless on `modality`, one phrase each naming the setting (empty when none).
    public static func warnings(_ s: ExtractionSettings, modality: String) -> [String] {
        guard Modality.isNonInteger(modality), let air = s.ring?.excludeBelowIntensity, air < 0 else { return [] }
        return ["ring air threshold \(ExtractionSettings.text(air)) (ring.excludeBelowIntensity) is a HU value: no \(modality) voxel (\(Modality.unit(modality))) is below it, so it removes nothing"]
    }

    /// What to use instead, for a refusal message.
    static func advice(_ modality: String) -> String {
        switch modality.uppercased() {
        case Modality.pt: return "use settings made for PET, e.g. --preset ct=default,pt=pet-default"
        case Modality.mr: return "use settings made for MR, e.g. --preset ct=default,mr=mr-default"
        default: return "use settings made for \(modality)"
        }
    }

    /// The refusal of `settings` for the lesions `labels` on a `modality` scan: one line per lesion
    /// naming it, the modality and every setting at fault; nil when nothing is refused.
    public static func refusal(_ settings: ExtractionSettings, modality: String, labels: [String]) -> RadiomicsError? {
        let problems = refusals(settings, modality: modality)
        guard !problems.isEmpty else { return nil }
        let text = problems.joined(separator: "; ") + "; " + advice(modality)
        return .modalityRefused(labels.map { "\($0), \(modality) scan: \(text)" }.joined(separator: "\n"))
    }

    /// The number of grey levels a lesion whose (re-segmented) intensities run from `lowest` to
    /// `highest` spans after discretisation: the levels from the bin of the lowest to the bin of the
    /// highest intensity (fixed bin size, bins starting at the lower re-segmentation bound or the
    /// lesion minimum), or the bin number (fixed bin number; 1 for a constant lesion).
    public static func greyLevels(lowest: Double, highest: Double, settings: ExtractionSettings) -> Int {
        switch settings.discretisation {
        case .fixedBinSize(let width):
            let lower = settings.resegmentation.lowerBound ?? lowest
            func bin(_ x: Double) -> Double { max(1, ((x - lower) / width).rounded(.down) + 1) }
            let span = bin(highest) - bin(lowest) + 1
            return span.isFinite ? Int(min(span, Double(Int32.max))) : Int(Int32.max)
        case .fixedBinNumber(let count):
            return highest > lowest ? count : 1
        }
    }

    /// Families that read discretised grey levels (the intensity histogram and every texture family).
    static func usesGreyLevels(_ s: ExtractionSettings) -> Bool {
        s.families.contains { ![.morphology, .localIntensity, .intensity, .intensityVolumeHistogram].contains($0) }
    }

    /// A warning when the lesion's grey levels fall outside `advisedGreyLevels`, naming the lesion
    /// (`label`), the setting and the count; nil otherwise, when the settings compute no family that
    /// reads grey levels, when the lesion has no intensity left (NaN bounds), or when it is constant
    /// (one level whatever the settings).
    public static func greyLevelWarning(lowest: Double, highest: Double, settings: ExtractionSettings,
                                        label: String, modality: String?) -> String? {
        guard usesGreyLevels(settings), lowest.isFinite, highest.isFinite, highest > lowest else { return nil }
        let n = greyLevels(lowest: lowest, highest: highest, settings: settings)
        guard !advisedGreyLevels.contains(n) else { return nil }
        let number = ExtractionSettings.text
        let setting: String
        switch settings.discretisation {
        case .fixedBinSize(let w): setting = "bin width \(number(w)) (--bin-width, discretisation.fixedBinSize.width)"
        case .fixedBinNumber(let c): setting = "bin count \(c) (--bin-count, discretisation.fixedBinNumber.count)"
        }
        let range = "intensities \(short(lowest)) to \(short(highest))\(modality.map { " \(Modality.unit($0)) on a \($0) scan" } ?? "")"
        let few = n < advisedGreyLevels.lowerBound
        let change: String
        if case .fixedBinSize = settings.discretisation {
            change = few ? "a smaller bin width" : "a larger bin width"
        } else {
            change = few ? "a bin count of \(advisedGreyLevels.lowerBound) or more" : "a bin count of \(advisedGreyLevels.upperBound) or fewer"
        }
        let advice = few
            ? "fewer than \(advisedGreyLevels.lowerBound): its texture is nearly uniform by construction; use \(change)"
            : "more than \(advisedGreyLevels.upperBound): texture matrices are sparse and large; use \(change)"
        return "\(label): \(setting) leaves \(n) grey level\(n == 1 ? "" : "s") in the lesion (\(range)), \(advice)"
    }

    /// A number with at most 4 significant digits, for messages.
    static func short(_ x: Double) -> String {
        x == x.rounded() && abs(x) < 1e15 ? String(Int(x)) : String(format: "%.4g", x)
    }
}
