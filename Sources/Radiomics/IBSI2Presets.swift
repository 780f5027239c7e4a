import Foundation
import Filters

/// The IBSI 2 benchmark configurations as presets (Depeursinge et al., arXiv:2006.05470; the tables of
/// `../shared/data/README.md`):
///
/// - `ibsi2-phase1-<config>`: phase 1, one filter on a digital phantom (checkerboard, impulse, sphere), no
///   interpolation, no re-segmentation; the response map is what `lesionmap filter` writes, its intensity
///   statistics what `lesionmap features` gives.
/// - `ibsi2-phase2-<n><a|b>`: phase 2, the IBSI 1 CT phantom GTV: `a` slice by slice (2D filters) without
///   interpolation, `b` in 3D after tricubic-spline resampling to 1 mm; re-segmentation [-1000, 400] HU on the
///   unfiltered intensities; mirror boundary; intensity statistics of the response map (of the image itself
///   for configuration 1, which has no filter).
extension ExtractionSettings {
    /// Phase 1 configurations, in the table's order.
    public static let ibsi2Phase1Configurations = [
        "1a1", "1a2", "1a3", "1a4", "1b1", "2a", "2b", "2c", "3a1", "3a2", "3a3", "3b1", "3b2", "3b3", "3c1", "3c2",
        "3c3", "4a1", "4a2", "4b1", "4b2", "5a1", "5a2", "6a1", "6a2", "7a1", "7a2", "8a1", "8a2", "8a3",
    ]

    /// Phase 2 configurations: 1 (no filter) to 9, each in 2D (`a`) and 3D (`b`).
    public static let ibsi2Phase2Configurations = (1...9).flatMap { ["\($0)a", "\($0)b"] }

    /// The filter of a phase 1 configuration (lower case, e.g. `3b2`), nil for an unknown one.
    public static func ibsi2Phase1Filter(_ config: String) -> FilterSpec? {
        let boundaries: [String: BoundaryCondition] = ["1": .zero, "2": .nearest, "3": .periodic, "4": .mirror]
        func laws(_ kernels: String, _ variant: Character, _ boundary: BoundaryCondition) -> FilterSpec {
            .laws(kernels: kernels, energyDistance: variant == "3" ? 7 : nil, rotationInvariant: variant == "1" ? nil : true,
                  pooling: variant == "1" ? nil : .max, boundary: boundary)
        }
        switch config {
        case "1a1", "1a2", "1a3", "1a4":
            return .mean(support: 15, dimensions: .threeD, boundary: boundaries[String(config.last!)]!)
        case "1b1": return .mean(support: 15, dimensions: .twoD, boundary: .zero)
        case "2a": return .laplacianOfGaussian(sigmaMM: 3, truncate: 4, dimensions: .threeD, boundary: .zero)
        case "2b": return .laplacianOfGaussian(sigmaMM: 5, truncate: 4, dimensions: .threeD, boundary: .mirror)
        case "2c": return .laplacianOfGaussian(sigmaMM: 5, truncate: 4, dimensions: .twoD, boundary: .mirror)
        case "3a1", "3a2", "3a3": return laws("E5L5S5", config.last!, .zero)
        case "3b1", "3b2", "3b3": return laws("E3W5R5", config.last!, .mirror)
        case "3c1", "3c2", "3c3": return laws("L5S5", config.last!, .mirror)
        case "4a1":
            return .gabor(sigmaMM: 10, gamma: 0.5, lambdaMM: 4, thetaDegrees: 60, thetaStepDegrees: nil,
                          rotationInvariant: nil, pooling: nil, orthogonalPlanes: nil, truncate: nil, boundary: .zero)
        case "4a2":
            return .gabor(sigmaMM: 10, gamma: 0.5, lambdaMM: 4, thetaDegrees: 0, thetaStepDegrees: 45,
                          rotationInvariant: true, pooling: .mean, orthogonalPlanes: true, truncate: nil, boundary: .zero)
        case "4b1":
            return .gabor(sigmaMM: 20, gamma: 2.5, lambdaMM: 8, thetaDegrees: 225, thetaStepDegrees: nil,
                          rotationInvariant: nil, pooling: nil, orthogonalPlanes: nil, truncate: nil, boundary: .mirror)
        case "4b2":
            return .gabor(sigmaMM: 20, gamma: 2.5, lambdaMM: 8, thetaDegrees: 0, thetaStepDegrees: 22.5,
                          rotationInvariant: true, pooling: .mean, orthogonalPlanes: true, truncate: nil, boundary: .mirror)
        case "5a1", "5a2":
            return .wavelet(wavelet: "db2", subband: "LHL", level: 1, rotationInvariant: config == "5a2" ? true : nil,
                            pooling: config == "5a2" ? .mean : nil, boundary: .zero)
        case "6a1", "6a2":
            return .wavelet(wavelet: "coif1", subband: "HHL", level: 1, rotationInvariant: config == "6a2" ? true : nil,
                            pooling: config == "6a2" ? .mean : nil, boundary: .periodic)
        case "7a1": return .wavelet(wavelet: "haar", subband: "LLL", level: 2, rotationInvariant: true, pooling: .mean, boundary: .mirror)
        case "7a2": return .wavelet(wavelet: "haar", subband: "HHH", level: 2, rotationInvariant: true, pooling: .mean, boundary: .mirror)
        case "8a1", "8a2", "8a3":
            return .simoncelli(level: Int(String(config.last!))!, marginVoxels: nil, dimensions: .threeD, boundary: .periodic)
        default: return nil
        }
    }

    /// The filter of a phase 2 configuration (`3b`), nil for configuration 1 (no filter); the outer nil for an
    /// unknown configuration.
    public static func ibsi2Phase2Filter(_ config: String) -> FilterSpec?? {
        guard config.count == 2, let n = Int(String(config.first!)), (1...9).contains(n),
              let variant = config.last, variant == "a" || variant == "b" else { return nil }
        let planar = variant == "a"
        let dims: FilterDimensionality = planar ? .twoD : .threeD
        switch n {
        case 1: return .some(nil)
        case 2: return .mean(support: 5, dimensions: dims, boundary: .mirror)
        case 3: return .laplacianOfGaussian(sigmaMM: 1.5, truncate: 4, dimensions: dims, boundary: .mirror)
        case 4: return .laws(kernels: planar ? "L5E5" : "L5E5E5", energyDistance: 7, rotationInvariant: true, pooling: .max,
                             boundary: .mirror)
        case 5:
            // The kernel cut at 4 max(σ, σ/γ) = 20 mm, where the envelope is e^-8 of its peak: a response over the
            // lesion's neighbourhood (a kernel as large as the image, as phase 1's, makes 5B read and transform
            // the whole resampled scan 48 times: 140 s instead of seconds).
            return .gabor(sigmaMM: 5, gamma: 1.5, lambdaMM: 2, thetaDegrees: 0, thetaStepDegrees: 22.5,
                          rotationInvariant: true, pooling: .mean, orthogonalPlanes: planar ? nil : true, truncate: 4,
                          boundary: .mirror)
        case 6: return .wavelet(wavelet: "db3", subband: planar ? "LH" : "LLH", level: 1, rotationInvariant: true,
                                pooling: .mean, boundary: .mirror)
        case 7: return .wavelet(wavelet: "db3", subband: planar ? "HH" : "HHH", level: 2, rotationInvariant: true,
                                pooling: .mean, boundary: .mirror)
        default: return .simoncelli(level: n - 7, marginVoxels: nil, dimensions: dims, boundary: .mirror)
        }
    }

    /// The settings of an IBSI 2 preset name (`ibsi2-phase1-3b2`, `ibsi2-phase2-3b`), nil for another name.
    /// The settings may name a filter this version does not provide (`validated()` then says so).
    public static func ibsi2Preset(named name: String) -> ExtractionSettings? {
        let n = name.lowercased()
        if n.hasPrefix("ibsi2-phase1-") {
            guard let filter = ibsi2Phase1Filter(String(n.dropFirst("ibsi2-phase1-".count))) else { return nil }
            let planar = filter.dimensionality == .twoD
            return ExtractionSettings(
                mode: planar ? .slice2D : .volume3D, resampling: nil, resegmentation: .none,
                discretisation: .fixedBinNumber(count: 32), textureAggregations: aggregations(for: planar ? .slice2D : .volume3D),
                ivhDiscretisation: .none, ring: nil, families: [.intensity],
                filtering: Filtering(filters: [filter], families: [.intensity], original: false))
        }
        if n.hasPrefix("ibsi2-phase2-") {
            let config = String(n.dropFirst("ibsi2-phase2-".count))
            guard let filter = ibsi2Phase2Filter(config) else { return nil }
            let planar = config.hasSuffix("a")
            let mode: ComputationMode = planar ? .slice2D : .volume3D
            return ExtractionSettings(
                mode: mode, resampling: planar ? nil : .isotropic(1, interpolation: .bspline),
                resegmentation: Resegmentation(lowerBound: -1000, upperBound: 400),
                discretisation: .fixedBinNumber(count: 32), textureAggregations: aggregations(for: mode),
                ivhDiscretisation: .none, ring: nil, families: [.intensity],
                filtering: filter.map { Filtering(filters: [$0], families: [.intensity], original: false) })
        }
        return nil
    }

    /// Every IBSI 2 preset name, phase 1 then phase 2.
    public static let ibsi2PresetNames = ibsi2Phase1Configurations.map { "ibsi2-phase1-" + $0 }
        + ibsi2Phase2Configurations.map { "ibsi2-phase2-" + $0 }

    /// The IBSI 2 presets whose filters this version provides.
    public static var availableIBSI2PresetNames: [String] {
        ibsi2PresetNames.filter { ibsi2Preset(named: $0)?.problems().isEmpty == true }
    }
}
