import Foundation
import Filters

/// One filter of the extraction settings, with its parameters, as a settings file writes it:
/// `{"laplacianOfGaussian": {"sigmaMM": 1.5}}`, `{"wavelet": {"wavelet": "coif1", "subband": "LLH"}}`,
/// `{"square": {}}`. Parameters left out take the default in brackets.
///
/// The IBSI 2 filters (Depeursinge et al., "Standardised convolutional filtering for radiomics",
/// arXiv:2006.05470) and the image types of PyRadiomics 3 (`imageType` in a PyRadiomics parameter file),
/// so that a PyRadiomics study can be expressed:
///
/// | PyRadiomics image type | settings |
/// |---|---|
/// | `LoG: {sigma: [1, 2, 3]}` | three `laplacianOfGaussian` filters, `sigmaMM` 1, 2, 3 |
/// | `Wavelet: {}` (coif1, level 1, 8 sub-bands) | eight `wavelet` filters, `wavelet` `coif1`, `subband` `LLH` ... `HHH`, `LLL` |
/// | `Square`, `SquareRoot`, `Logarithm`, `Exponential` | `square`, `squareRoot`, `logarithm`, `exponential` |
/// | `Gradient: {gradientUseSpacing: true}` | `gradient` (`useSpacing` true) |
///
/// The four-character IBSI 2 identifiers named below are unconfirmed: the reference manual's text could not be
/// checked; they are the codes a third-party IBSI 2 implementation (pictologics) lists (none for the separable
/// wavelets; 25BO comes from an unverified list). See each filter's type in `Filters`.
///
/// Every filter has a readable token naming its response map in feature names
/// (`<region>.<token>.<family>.<feature>`, e.g. `tumour.log_s1.5.intensity.mean`); see `token`.
public enum FilterSpec: Codable, Hashable, Sendable {
    /// IBSI 2 mean filter (S60F): the average over a cube (3D) or square (2D) of `support` voxels a side
    /// (odd). [dimensions 3D, boundary mirror]
    case mean(support: Int, dimensions: FilterDimensionality?, boundary: BoundaryCondition?)
    /// IBSI 2 Laplacian of Gaussian (L6PA): the Laplacian of a Gaussian of standard deviation `sigmaMM`
    /// (in mm, on the filtered grid), the kernel cut at `truncate` standard deviations.
    /// [truncate 4, dimensions 3D, boundary mirror]
    case laplacianOfGaussian(sigmaMM: Double, truncate: Double?, dimensions: FilterDimensionality?,
                             boundary: BoundaryCondition?)
    /// IBSI 2 Laws kernels (JTXT): the outer product of the 1D kernels named in `kernels` (`L5E5E5` in 3D,
    /// `L5S5` in 2D; kernels L3, E3, S3, L5, E5, S5, W5, R5, the first along x), optionally followed by the
    /// energy map (the mean absolute response over a cube of `2 * energyDistance + 1` voxels a side).
    /// [energyDistance none, rotationInvariant false, pooling max, boundary mirror]
    case laws(kernels: String, energyDistance: Int?, rotationInvariant: Bool?, pooling: Pooling?,
              boundary: BoundaryCondition?)
    /// IBSI 2 Gabor filter (Q88H), in the axial plane: Gaussian envelope `sigmaMM`, spatial aspect ratio
    /// `gamma`, wavelength `lambdaMM`, orientation `thetaDegrees`; the modulus of the complex response.
    /// Rotation-invariant: orientations `theta, theta + step, ...` below a full turn pooled, and with
    /// `orthogonalPlanes` the three orthogonal planes pooled too (a 3D filter). The kernel reaches
    /// `truncate` × max(sigma, sigma / gamma); without `truncate` it is as large as the image (the IBSI 2
    /// consensus maps are computed so), and a response then reads the whole image.
    /// [thetaDegrees 0, thetaStepDegrees none, rotationInvariant false, pooling mean, orthogonalPlanes false,
    /// truncate none, boundary mirror]
    case gabor(sigmaMM: Double, gamma: Double, lambdaMM: Double, thetaDegrees: Double?, thetaStepDegrees: Double?,
               rotationInvariant: Bool?, pooling: Pooling?, orthogonalPlanes: Bool?, truncate: Double?,
               boundary: BoundaryCondition?)
    /// IBSI 2 separable wavelets (undecimated; 25BO, unverified): `wavelet` `haar`, `dbN` (Daubechies) or `coifN`
    /// (Coiflet), the sub-band `subband` (one letter per axis from x: `L` low-pass, `H` high-pass; two letters
    /// filter each axial slice, three the volume) at decomposition `level`.
    /// [level 1, rotationInvariant false, pooling mean, boundary mirror]
    case wavelet(wavelet: String, subband: String, level: Int?, rotationInvariant: Bool?, pooling: Pooling?,
                 boundary: BoundaryCondition?)
    /// IBSI 2 Simoncelli non-separable wavelet (PRT7; an unverified list said PRQV), band-pass at decomposition `level`, defined in the
    /// Fourier domain: without `marginVoxels` over the whole image (the IBSI definition; a response reads the
    /// whole image), with it over the region's box grown by that many voxels (an approximation: the filter's
    /// tail beyond the margin is lost). [marginVoxels none, dimensions 3D, boundary mirror]
    case simoncelli(level: Int, marginVoxels: Int?, dimensions: FilterDimensionality?, boundary: BoundaryCondition?)
    /// PyRadiomics `Square`: `(x / sqrt(max |x|))²`, max over the image.
    case square
    /// PyRadiomics `SquareRoot`: `sqrt(c |x|)` with the sign of x, `c = max |x|` over the image.
    case squareRoot
    /// PyRadiomics `Logarithm`: `c log(|x| + 1) / log(c + 1)` with the sign of x, `c = max |x|`.
    case logarithm
    /// PyRadiomics `Exponential`: `exp(x log(c) / c)`, `c = max |x|`.
    case exponential
    /// PyRadiomics `Gradient`: the magnitude of the intensity gradient (central differences),
    /// in intensity per mm when `useSpacing`, else per voxel. [useSpacing true]
    case gradient(useSpacing: Bool?)

    /// Default Laplacian-of-Gaussian cut-off, in standard deviations (IBSI 2: 4).
    public static let defaultTruncate = 4.0
}

// MARK: - Parameters with their defaults

extension FilterSpec {
    /// The filter's boundary condition (mirror when not given).
    public var boundaryCondition: BoundaryCondition {
        switch self {
        case .mean(_, _, let b), .laplacianOfGaussian(_, _, _, let b), .laws(_, _, _, _, let b),
             .gabor(_, _, _, _, _, _, _, _, _, let b), .wavelet(_, _, _, _, _, let b), .simoncelli(_, _, _, let b):
            return b ?? .mirror
        case .square, .squareRoot, .logarithm, .exponential, .gradient:
            return .nearest
        }
    }

    /// Slice by slice (2D) or volume (3D).
    public var dimensionality: FilterDimensionality {
        switch self {
        case .mean(_, let d, _), .laplacianOfGaussian(_, _, let d, _), .simoncelli(_, _, let d, _):
            return d ?? .threeD
        case .laws(let kernels, _, _, _, _):
            return FilterSpec.lawsKernelNames(kernels)?.count == 2 ? .twoD : .threeD
        case .gabor(_, _, _, _, _, _, _, let planes, _, _):
            // One plane: each axial slice alone; orthogonal planes: the volume.
            return planes == true ? .threeD : .twoD
        case .wavelet(_, let subband, _, _, _, _):
            return subband.count == 2 ? .twoD : .threeD
        case .square, .squareRoot, .logarithm, .exponential:
            return .threeD
        case .gradient:
            return .threeD
        }
    }

    /// The 1D Laws kernels named in `text` (`L5E5E5` -> L5, E5, E5), nil when it is not a sequence of them.
    public static func lawsKernelNames(_ text: String) -> [String]? {
        let upper = Array(text.uppercased())
        guard upper.count % 2 == 0, !upper.isEmpty else { return nil }
        var names: [String] = []
        for n in stride(from: 0, to: upper.count, by: 2) {
            let name = String(upper[n...n + 1])
            guard lawsKernels.contains(name) else { return nil }
            names.append(name)
        }
        return names
    }

    /// The 1D Laws kernels IBSI 2 defines.
    public static let lawsKernels: Set<String> = ["L3", "E3", "S3", "L5", "E5", "S5", "W5", "R5"]

    /// Whether `name` is a wavelet the settings accept (the `Filters` library's table: `haar`, `db1` ... `db10`,
    /// `sym2` ... `sym10`, `coif1` ... `coif5`).
    public static func isKnownWavelet(_ name: String) -> Bool { Wavelet(named: name) != nil }
}

// MARK: - Tokens

extension FilterSpec {
    /// The filter's name in messages.
    public var kindName: String {
        switch self {
        case .mean: return "mean filter"
        case .laplacianOfGaussian: return "Laplacian of Gaussian"
        case .laws: return "Laws filter"
        case .gabor: return "Gabor filter"
        case .wavelet: return "wavelet"
        case .simoncelli: return "Simoncelli wavelet"
        case .square: return "square"
        case .squareRoot: return "square root"
        case .logarithm: return "logarithm"
        case .exponential: return "exponential"
        case .gradient: return "gradient"
        }
    }

    /// The IBSI 2 filter of the `Filters` library this filter is, nil for PyRadiomics' voxel-wise image types
    /// and gradient (computed here) and for parameters out of bounds (`problems(key:)` lists them).
    public var imageFilter: (any ImageFilter)? {
        guard problems(key: "").isEmpty else { return nil }
        switch self {
        case .mean(let support, let dimensions, let boundary):
            return MeanFilter(support: support, dimensionality: dimensions ?? .threeD, boundary: boundary ?? .mirror)
        case .laplacianOfGaussian(let sigma, let truncate, let dimensions, let boundary):
            return LaplacianOfGaussianFilter(sigma: sigma, truncation: truncate ?? FilterSpec.defaultTruncate,
                                             dimensionality: dimensions ?? .threeD, boundary: boundary ?? .mirror)
        case .laws(let kernels, let delta, let invariant, let pooling, let boundary):
            guard let parsed = LawsKernel.parse(kernels) else { return nil }
            return LawsFilter(kernels: parsed, rotationInvariant: invariant ?? false, pooling: pooling ?? .max,
                              energyDelta: delta, dimensionality: parsed.count == 2 ? .twoD : .threeD,
                              boundary: boundary ?? .mirror)
        case .gabor(let sigma, let gamma, let lambda, let theta, let step, let invariant, let pooling, let planes,
                    let truncate, let boundary):
            return GaborFilter(sigma: sigma, gamma: gamma, lambda: lambda, theta: theta ?? 0,
                               thetaStep: invariant == true ? step : nil, rotationInvariant: planes ?? false,
                               pooling: pooling ?? .mean, truncation: truncate,
                               dimensionality: planes == true ? .threeD : .twoD, boundary: boundary ?? .mirror)
        case .wavelet(let wavelet, let subband, let level, let invariant, let pooling, let boundary):
            return try? SeparableWaveletFilter(wavelet: wavelet, band: subband, level: level ?? 1,
                                               boundary: boundary ?? .mirror, rotationInvariant: invariant ?? false,
                                               pooling: pooling ?? .mean)
        case .simoncelli(let level, let margin, let dimensions, let boundary):
            return try? SimoncelliWavelet(level: level, dimensionality: dimensions ?? .threeD,
                                          boundary: boundary ?? .mirror, margin: margin)
        case .square, .squareRoot, .logarithm, .exponential, .gradient:
            return nil
        }
    }
}

extension FilterSpec {
    /// The response map's readable name in feature names, lower case, without spaces: the `Filters` library's
    /// token for the IBSI 2 filters (`mean_s5`, `log_s1.5`, `laws_l5e5e5_energy_d7_invar_max`,
    /// `gabor_s5_g1.5_l2_t0_step22.5_invar_mean`, `wavelet_db3_llh_l1_invar`, `wavelet_simoncelli_l1`; see README
    /// "Filters"), PyRadiomics' image type names for the others (`square`, `squareroot`, `logarithm`,
    /// `exponential`, `gradient`). The boundary condition is not part of the token: two filters differing only
    /// there are refused. (For parameters out of bounds, a token of the same form for messages.)
    ///
    /// Tokens hold letters, digits, `_` and `.` (sigmas such as 1.5): feature names are split on the known
    /// region names and the family, never on the dots of a token.
    public var token: String {
        if let filter = imageFilter { return filter.token }
        let n = { (x: Double) in FilterSpec.number(x) }
        var parts: [String]
        var explicitDims = false
        let defaultPooling = Pooling.mean
        var pooling: Pooling? = nil
        switch self {
        case .mean(let support, _, _):
            parts = ["mean", "\(support)"]
            explicitDims = true
        case .laplacianOfGaussian(let sigma, let truncate, _, _):
            parts = ["log", "s" + n(sigma)]
            if let t = truncate, t != FilterSpec.defaultTruncate { parts.append("t" + n(t)) }
            explicitDims = true
        case .laws(let kernels, let delta, let invariant, let p, _):
            parts = ["laws", kernels.lowercased()]
            if let d = delta { parts.append("energy_d\(d)") }
            if invariant == true { parts += ["invar", (p ?? .max).rawValue] }
        case .gabor(let sigma, let gamma, let lambda, let theta, let step, let invariant, let p, let planes, _, _):
            parts = ["gabor", "s" + n(sigma), "g" + n(gamma), "l" + n(lambda)]
            if invariant == true {
                parts.append("t" + n(step ?? 0))
                parts.append("invar")
            } else {
                parts.append("t" + n(theta ?? 0))
            }
            if planes == true { parts.append("3d") }
            pooling = invariant == true ? p : nil
        case .wavelet(let wavelet, let subband, let level, let invariant, let p, _):
            parts = ["wavelet", wavelet.lowercased(), subband.lowercased(), "l\(level ?? 1)"]
            if invariant == true { parts.append("invar") }
            pooling = invariant == true ? p : nil
        case .simoncelli(let level, _, _, _):
            parts = ["simoncelli", "l\(level)"]
            explicitDims = true
        case .square: return "square"
        case .squareRoot: return "squareroot"
        case .logarithm: return "logarithm"
        case .exponential: return "exponential"
        case .gradient(let useSpacing): return useSpacing == false ? "gradient_voxel" : "gradient"
        }
        if let p = pooling, p != defaultPooling { parts.append(p.rawValue) }
        if explicitDims && dimensionality == .twoD { parts.append("2d") }
        return parts.joined(separator: "_")
    }

    /// A parameter in a token: whole numbers without a fraction, others in the shortest form.
    static func number(_ x: Double) -> String {
        x.isFinite && x == x.rounded() && Swift.abs(x) < 1e15 ? String(Int(x)) : "\(x)"
    }
}

// MARK: - Bounds

/// The documented ranges of filter parameters.
public enum FilterBounds {
    /// Mean filter support in voxels (odd); IBSI 2 uses 5 and 15.
    public static let meanSupport = 1...51
    /// Gaussian widths (LoG sigma, Gabor sigma) in mm; IBSI 2 uses 1.5 to 20 mm, PyRadiomics studies 1 to 5 mm.
    public static let sigmaMM = 0.0...50.0
    /// LoG cut-off in standard deviations (IBSI 2: 4).
    public static let truncate = 0.0...10.0
    /// Laws energy-map distance in voxels (IBSI 2: 7).
    public static let energyDistance = 1...25
    /// Wavelet and Simoncelli decomposition levels (IBSI 2: 1 to 3).
    public static let level = 1...4
    /// Gabor wavelength in mm.
    public static let lambdaMM = 0.0...100.0
    /// Gabor aspect ratio.
    public static let gamma = 0.0...10.0
}

extension FilterSpec {
    /// Every problem with this filter's parameters, each naming `key` (its place in the settings file, e.g.
    /// `filtering.filters[0]`); empty when the filter is valid.
    public func problems(key: String) -> [String] {
        var out: [String] = []
        let n = { (x: Double) in FilterSpec.number(x) }
        func check(_ name: String, _ value: Double, _ r: ClosedRange<Double>, open: Bool = true, unit: String = "") {
            if !(value.isFinite && (open ? value > r.lowerBound : value >= r.lowerBound) && value <= r.upperBound) {
                out.append("\(kindName) \(name) \(n(value))\(unit) (\(key).\(name)): must be \(open ? "greater than" : "at least") \(n(r.lowerBound)) and at most \(n(r.upperBound))\(unit)")
            }
        }
        switch self {
        case .mean(let support, _, _):
            if !FilterBounds.meanSupport.contains(support) || support % 2 == 0 {
                out.append("mean filter support \(support) (\(key).support): must be an odd number of voxels, \(FilterBounds.meanSupport.lowerBound) to \(FilterBounds.meanSupport.upperBound) (IBSI 2: 5 or 15)")
            }
        case .laplacianOfGaussian(let sigma, let truncate, _, _):
            check("sigmaMM", sigma, FilterBounds.sigmaMM, unit: " mm")
            if let t = truncate { check("truncate", t, FilterBounds.truncate) }
        case .laws(let kernels, let delta, _, _, _):
            if let names = FilterSpec.lawsKernelNames(kernels) {
                if !(2...3).contains(names.count) {
                    out.append("Laws kernels '\(kernels)' (\(key).kernels): name two kernels (2D, e.g. L5S5) or three (3D, e.g. E5L5S5)")
                }
            } else {
                out.append("Laws kernels '\(kernels)' (\(key).kernels): must be two or three of \(FilterSpec.lawsKernels.sorted().joined(separator: ", ")), e.g. L5E5E5")
            }
            if let d = delta, !FilterBounds.energyDistance.contains(d) {
                out.append("Laws energy distance \(d) (\(key).energyDistance): must be \(FilterBounds.energyDistance.lowerBound) to \(FilterBounds.energyDistance.upperBound) voxels (IBSI 2: 7)")
            }
        case .gabor(let sigma, let gamma, let lambda, let theta, let step, let invariant, _, _, let truncate, _):
            if let t = truncate { check("truncate", t, FilterBounds.truncate) }
            check("sigmaMM", sigma, FilterBounds.sigmaMM, unit: " mm")
            check("gamma", gamma, FilterBounds.gamma)
            check("lambdaMM", lambda, FilterBounds.lambdaMM, unit: " mm")
            if let t = theta, !t.isFinite {
                out.append("Gabor orientation \(n(t)) (\(key).thetaDegrees): must be a finite angle in degrees")
            }
            if invariant == true {
                if let s = step {
                    check("thetaStepDegrees", s, 0...180, unit: " degrees")
                } else {
                    out.append("rotation-invariant Gabor filter (\(key).rotationInvariant): needs thetaStepDegrees, the step between pooled orientations (IBSI 2: 22.5 or 45)")
                }
            }
        case .wavelet(let wavelet, let subband, let level, _, _, _):
            if !FilterSpec.isKnownWavelet(wavelet) {
                out.append("wavelet '\(wavelet)' (\(key).wavelet): must be haar, db1 ... db10, sym2 ... sym10 or coif1 ... coif5")
            }
            let letters = subband.uppercased()
            if !(2...3).contains(letters.count) || letters.contains(where: { $0 != "L" && $0 != "H" }) {
                out.append("wavelet sub-band '\(subband)' (\(key).subband): one letter L or H per axis from x, two letters (2D, e.g. LH) or three (3D, e.g. LLH)")
            }
            if let l = level, !FilterBounds.level.contains(l) {
                out.append("wavelet level \(l) (\(key).level): must be \(FilterBounds.level.lowerBound) to \(FilterBounds.level.upperBound)")
            }
        case .simoncelli(let level, let margin, _, _):
            if let m = margin, !(0...256).contains(m) {
                out.append("Simoncelli margin \(m) voxels (\(key).marginVoxels): must be 0 to 256 (leave it out for the whole image)")
            }
            if !FilterBounds.level.contains(level) {
                out.append("Simoncelli level \(level) (\(key).level): must be \(FilterBounds.level.lowerBound) to \(FilterBounds.level.upperBound)")
            }
        case .square, .squareRoot, .logarithm, .exponential, .gradient:
            break
        }
        return out
    }
}

// MARK: - Filtered images in the extraction settings

extension ExtractionSettings {
    /// Features of filtered images (response maps): which filters, which families on each response map,
    /// and whether the unfiltered image keeps its own features.
    ///
    /// Order of operations (IBSI 2, section 3): the image is interpolated, the interpolated image filtered;
    /// the ROI (morphological and intensity masks, re-segmentation) comes from the unfiltered intensities;
    /// the families read the response inside that ROI. A response map is computed only over the region's
    /// box plus the filter's support, never the whole scan.
    public struct Filtering: Codable, Hashable, Sendable {
        /// The filters, each giving one response map named by its token; at least one.
        public var filters: [FilterSpec]
        /// Families computed on every response map, in this order (intensity statistics by default).
        /// Morphology is not allowed: it does not read intensities, so it is that of the unfiltered image.
        public var families: [FeatureFamily]
        /// Grey-level discretisation of the response maps for the histogram and texture families; nil
        /// takes the image's (`discretisation`). A fixed bin size starts at the response's minimum in the ROI
        /// (re-segmentation bounds are intensities of the unfiltered image, not of the response).
        public var discretisation: Discretisation?
        /// Whether the unfiltered image keeps its own features (PyRadiomics image type `Original`); when
        /// false, only the response maps' features are computed.
        public var original: Bool

        public init(filters: [FilterSpec], families: [FeatureFamily] = [.intensity],
                    discretisation: Discretisation? = nil, original: Bool = true) {
            self.filters = filters
            self.families = families
            self.discretisation = discretisation
            self.original = original
        }

        enum CodingKeys: String, CodingKey { case filters, families, discretisation, original }

        public init(from decoder: Decoder) throws {
            let c = try decoder.container(keyedBy: CodingKeys.self)
            filters = try c.decode([FilterSpec].self, forKey: .filters)
            families = try c.decodeIfPresent([FeatureFamily].self, forKey: .families) ?? [.intensity]
            discretisation = try c.decodeIfPresent(Discretisation.self, forKey: .discretisation)
            original = try c.decodeIfPresent(Bool.self, forKey: .original) ?? true
        }
    }

    /// The settings a response map's families run with: its own discretisation, no re-segmentation bounds
    /// (they are intensities of the unfiltered image), the same texture aggregations.
    func responseMapSettings(_ filtering: Filtering) -> ExtractionSettings {
        var s = self
        s.discretisation = filtering.discretisation ?? discretisation
        s.resegmentation = .none
        s.families = filtering.families
        s.filtering = nil
        s.ring = nil
        return s
    }

    /// Problems of the `filtering` block, each naming its key.
    func filteringProblems() -> [String] {
        guard let f = filtering else { return [] }
        var out: [String] = []
        if f.filters.isEmpty {
            out.append("filters (filtering.filters): at least one filter is needed (leave filtering out for none)")
        }
        for (n, filter) in f.filters.enumerated() {
            let key = "filtering.filters[\(n)]"
            out += filter.problems(key: key)
        }
        var seen: [String: Int] = [:]
        for (n, filter) in f.filters.enumerated() {
            if let first = seen[filter.token] {
                out.append("filters \(first) and \(n) (filtering.filters): both give the response map '\(filter.token)'; list each filter once")
            } else {
                seen[filter.token] = n
            }
        }
        if f.families.isEmpty {
            out.append("response-map families (filtering.families): at least one is needed (intensity statistics: [\"intensity\"])")
        }
        if f.families.contains(.morphology) {
            out.append("response-map families (filtering.families): morphology does not read intensities; it is computed on the image (families)")
        }
        if let d = f.discretisation {
            switch d {
            case .fixedBinSize(let width) where !(width.isFinite && width > 0):
                out.append("response-map bin width \(Self.text(width)) (filtering.discretisation.fixedBinSize.width): must be a number greater than 0")
            case .fixedBinNumber(let count) where !SettingsBounds.greyLevels.contains(count):
                out.append("response-map bin count \(count) (filtering.discretisation.fixedBinNumber.count): must be \(SettingsBounds.greyLevels.lowerBound) to \(SettingsBounds.greyLevels.upperBound)")
            default: break
            }
        }
        return out
    }
}
