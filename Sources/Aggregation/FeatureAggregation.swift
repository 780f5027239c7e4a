/// Chang et al. (2021)'s aggregation of any lesion feature to the patient: size and shape features are
/// summed over the lesions (they describe the burden), every other feature is averaged, either unweighted
/// or weighted by lesion volume.
///
/// A size or shape feature is one of the morphology family: `morph.<feature>` in the store, or
/// `<region>.morph.<feature>` as signatures and CSV exports name it.
public enum ChangAggregation: String, CaseIterable, Sendable, Codable {
    /// Shape/size features summed, others averaged.
    case unweighted = "chang_unweighted"
    /// Shape/size features summed, others volume-weighted.
    case volumeWeighted = "chang_volume_weighted"

    /// Whether `featureName` is a size or shape (morphology) feature.
    public static func isSizeOrShape(_ featureName: String) -> Bool {
        let parts = featureName.split(separator: ".")
        return parts.dropLast().contains("morph")
    }

    /// The patient value of the feature `featureName` from the patient's lesions; NaN lesions are ignored,
    /// and a patient with none gets NaN.
    public func aggregate(_ lesions: [LesionValue], featureName: String) -> Double {
        let valid = lesions.filter { $0.value.isFinite }
        guard !valid.isEmpty else { return .nan }
        if Self.isSizeOrShape(featureName) { return valid.reduce(0) { $0 + $1.value } }
        switch self {
        case .unweighted: return valid.reduce(0) { $0 + $1.value } / Double(valid.count)
        case .volumeWeighted: return Aggregator.weightedMean(valid)
        }
    }
}
