/// Changes to a preset or settings file, as the command line offers them.
///
/// Each field left nil keeps the base settings' choice. The mode also picks the texture
/// aggregations that apply to it (2D: the per-slice and the 2.5D variants, which come from the
/// same slice matrices; 2.5D: its own; 3D: its own) and the kind of resampling (in-plane for
/// 2D and 2.5D, isotropic for 3D).
public struct SettingsOverrides: Hashable, Sendable {
    /// Fixed bin size (replaces the discretisation).
    public var binWidth: Double?
    /// Fixed bin number (replaces the discretisation).
    public var binCount: Int?
    /// Resampling spacing in mm: isotropic in 3D, in-plane in 2D and 2.5D.
    public var spacingMM: Double?
    /// Width of the peritumoral ring in mm; 0 removes the ring.
    public var ringWidthMM: Double?
    public var mode: ExtractionSettings.ComputationMode?
    /// The regions extracted (replaces the settings' `regions`).
    public var regions: [ExtractionSettings.Region]?
    /// The intratumoral core's erosion margin in mm; also switches the core on.
    public var coreMarginMM: Double?

    public init(binWidth: Double? = nil, binCount: Int? = nil, spacingMM: Double? = nil, ringWidthMM: Double? = nil,
                mode: ExtractionSettings.ComputationMode? = nil, regions: [ExtractionSettings.Region]? = nil,
                coreMarginMM: Double? = nil) {
        self.binWidth = binWidth
        self.binCount = binCount
        self.spacingMM = spacingMM
        self.ringWidthMM = ringWidthMM
        self.mode = mode
        self.regions = regions
        self.coreMarginMM = coreMarginMM
    }

    /// The regions of a `--regions` value: names separated by commas (`tumour,ring,core,tumour_ring`),
    /// case-insensitive; an unknown or empty name is refused, listing the names.
    public static func parseRegions(_ spec: String, option: String = "--regions") throws -> [ExtractionSettings.Region] {
        let names = ExtractionSettings.Region.allCases.map(\.rawValue)
        return try spec.split(separator: ",", omittingEmptySubsequences: false).map { part in
            let name = part.trimmingCharacters(in: .whitespaces).lowercased()
            guard let r = ExtractionSettings.Region(rawValue: name) else {
                throw RadiomicsError.invalidSettings("\(option) '\(spec)': \(name.isEmpty ? "an empty region name" : "unknown region '\(name)'"); regions: \(names.joined(separator: ", ")), separated by commas")
            }
            return r
        }
    }

    /// The texture aggregations computed in `mode`.
    public static func aggregations(for mode: ExtractionSettings.ComputationMode) -> [TextureAggregation] {
        switch mode {
        case .slice2D:
            return ExtractionSettings.aggregations(for: .slice2D) + ExtractionSettings.aggregations(for: .volume2_5D)
        case .volume2_5D, .volume3D:
            return ExtractionSettings.aggregations(for: mode)
        }
    }

    /// `base` with these changes, checked against `SettingsBounds`; throws
    /// `RadiomicsError.invalidSettings` listing every problem (contradictory options, values out of
    /// range, and problems of `base` itself), each naming its option.
    public func applied(to base: ExtractionSettings) throws -> ExtractionSettings {
        var s = base
        var problems: [String] = []
        if let binWidth, let binCount {
            problems.append("--bin-width \(ExtractionSettings.text(binWidth)) and --bin-count \(binCount): give a bin width or a bin count, not both")
        } else if let binWidth {
            s.discretisation = .fixedBinSize(width: binWidth)
        } else if let binCount {
            s.discretisation = .fixedBinNumber(count: binCount)
        }
        if let mode {
            s.mode = mode
            s.textureAggregations = Self.aggregations(for: mode)
            if let r = s.resampling, r.spacing.count >= 1 {
                let planar = mode != .volume3D
                if planar && !r.inPlaneOnly {
                    s.resampling?.inPlaneOnly = true
                    s.resampling?.spacing = [r.spacing[0], r.spacing.count > 1 ? r.spacing[1] : r.spacing[0], 0]
                } else if !planar && r.inPlaneOnly {
                    s.resampling?.inPlaneOnly = false
                    s.resampling?.spacing = [r.spacing[0], r.spacing[0], r.spacing[0]]
                }
            }
        }
        if let spacingMM {
            let interpolation = s.resampling?.interpolation ?? .linear
            let rounding = s.resampling?.roundIntensities ?? true
            let threshold = s.resampling?.maskThreshold ?? 0.5
            var r = s.mode == .volume3D
                ? ExtractionSettings.Resampling.isotropic(spacingMM, interpolation: interpolation, roundIntensities: rounding)
                : ExtractionSettings.Resampling.inPlane(spacingMM, interpolation: interpolation, roundIntensities: rounding)
            r.maskThreshold = threshold
            s.resampling = r
        }
        if let regions { s.regions = regions }
        if let ringWidthMM {
            if ringWidthMM == 0 {
                s.ring = nil
                // Regions of the base settings that need the ring go with it (regions given on the
                // command line stay, and a contradiction is reported below).
                if self.regions == nil { s.regions = s.regions?.filter { $0 != .ring && $0 != .tumourRing } }
            } else {
                var ring = s.ring ?? ExtractionSettings.RingSettings()
                ring.widthMM = ringWidthMM
                s.ring = ring
                if self.regions == nil, let r = s.regions, !r.contains(.ring) { s.regions = r + [.ring] }
            }
        }
        if let coreMarginMM {
            s.coreMarginMM = coreMarginMM
            if !s.extractedRegions.contains(.core) { s.regions = s.extractedRegions + [.core] }
        }
        problems += s.problems()
        guard problems.isEmpty else { throw RadiomicsError.invalidSettings(ExtractionSettings.listing(problems)) }
        return s
    }
}
