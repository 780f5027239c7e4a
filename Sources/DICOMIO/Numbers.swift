import Foundation

/// Conversions of numbers read from DICOM to `Int` that cannot trap: a header may hold NaN, infinities
/// or values far beyond `Int` (found by fuzzing: `Int(1e300)` stops the whole process).
extension Double {
    /// The value as an `Int` when it is a whole number within ±2^53; nil otherwise.
    var wholeNumber: Int? {
        guard isFinite, rounded() == self, abs(self) <= 9_007_199_254_740_992 else { return nil }
        return Int(self)
    }

    /// The value rounded by `rule` and clamped to `lower...upper` (NaN gives `lower`), for voxel indices.
    func clampedIndex(_ rule: FloatingPointRoundingRule, _ lower: Int, _ upper: Int) -> Int {
        guard !isNaN else { return lower }
        let r = rounded(rule)
        if r <= Double(lower) { return lower }
        if r >= Double(upper) { return upper }
        return Int(r)
    }
}
