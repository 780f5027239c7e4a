extension RegionFeatures {
    /// The region as `tag;value` lines, with the tags of the IBSI 1 reference-value files:
    /// the preprocessing diagnostics (`img_dim_x_init_img`, `int_mask_vox_count_reseg_roi`, ...),
    /// then every feature in extraction order (each texture aggregation the settings ask for).
    public var ibsiLines: [String] {
        diagnostics.map { "\($0.tag);\(FeatureText.number($0.value))" }
            + features.map { "\($0.ibsiTag);\(FeatureText.number($0.value))" }
    }
}

/// How feature values are written as text.
public enum FeatureText {
    /// Whole numbers without a fraction (`125256`), other values in the shortest form that reads
    /// back to the same `Double` (`0.5092`, `1e-06`), NaN as `NaN`, infinities as `inf` / `-inf`.
    public static func number(_ value: Double) -> String {
        if value.isNaN { return "NaN" }
        if value.isInfinite { return value > 0 ? "inf" : "-inf" }
        if value == value.rounded(), Swift.abs(value) < 1e15 { return String(Int64(value)) }
        return "\(value)"
    }
}
