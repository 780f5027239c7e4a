import Foundation
import ImagingCore
import Filters

/// The features of one region (a lesion or its peritumoral ring) with the preprocessing record.
public struct RegionFeatures: Sendable {
    /// Feature values in family order (`settings.families`), each family in IBSI order.
    public var features: [FeatureValue]
    /// IBSI diagnostic values of each preprocessing step (`img_dim_x_init_img`, ...).
    public var diagnostics: [DiagnosticValue]
    /// Conditions the caller may want to report (e.g. a disconnected mask computed as one ROI).
    public var warnings: [String]

    public init(features: [FeatureValue], diagnostics: [DiagnosticValue], warnings: [String]) {
        self.features = features
        self.diagnostics = diagnostics
        self.warnings = warnings
    }

    /// The value of a feature or diagnostic by its IBSI tag (e.g. `morph_volume`, `cm_joint_max_3D_comb`).
    public func value(ibsiTag tag: String) -> Double? {
        if let f = features.first(where: { $0.ibsiTag == tag }) { return f.value }
        return diagnostics.first(where: { $0.tag == tag })?.value
    }
}

/// IBSI 1 feature extraction for one region: preprocessing, then every requested family.
public enum RadiomicsExtractor {
    /// Features of `mask` on `image` (same grid).
    ///
    /// Only the mask's bounding box plus a margin is processed. An empty mask throws
    /// `RadiomicsError.emptyMask` naming `context` (pass e.g. "patient P1 lesion 3 (mask.nii.gz)");
    /// a mask of several disconnected parts is computed as one ROI, with a warning. With a `modality`
    /// (`CT`, `PT`, `MR`), settings that make no sense for it are refused (`ModalityChecks`):
    /// `RadiomicsError.modalityRefused`.
    public static func extract(image: Volume<Float>, mask: Mask, settings: ExtractionSettings,
                               context: String = "region", modality: String? = nil) throws -> RegionFeatures {
        do {
            try image.grid.requireMatch(mask.grid, context: context)
        } catch let error as ImagingError {
            throw RadiomicsError.gridMismatch(error.description)
        }
        return try extract(image: image, mask: PlacedMask(wholeImage: mask), settings: settings, context: context,
                           modality: modality)
    }

    /// Features of a mask known on a box of the image grid.
    static func extract(image: Volume<Float>, mask: PlacedMask, settings: ExtractionSettings,
                        context: String, modality: String?) throws -> RegionFeatures {
        let (region, diagnostics) = try Preprocessor.prepare(image: image, mask: mask, settings: settings,
                                                             context: context, modality: modality)
        var warnings = [String]()
        let parts = Preprocessor.partCount(mask.mask.voxels, size: mask.mask.grid.size)
        if parts > 1 {
            warnings.append("\(context): mask has \(parts) disconnected parts, computed as one region")
        }
        var features = [FeatureValue]()
        let roi = region.roiIntensities()
        if roi.isEmpty {
            warnings.append("\(context): no voxel left after re-segmentation; intensity features are NaN")
        }
        if settings.filtering?.original ?? true {
            features = familyFeatures(region, roi: roi, settings: settings)
        }
        if let filtering = settings.filtering {
            features += try responseMapFeatures(image: image, mask: mask, region: region, settings: settings,
                                                filtering: filtering, warnings: &warnings, context: context)
        }
        return RegionFeatures(features: features, diagnostics: diagnostics, warnings: warnings)
    }
}

extension RadiomicsExtractor {
    /// The features of `settings.families` on a prepared region whose intensity-mask intensities are `roi`.
    static func familyFeatures(_ region: PreparedRegion, roi: [Double], settings: ExtractionSettings) -> [FeatureValue] {
        var features = [FeatureValue]()
        var discretised: DiscretisedLevels?
        func levels() -> DiscretisedLevels {
            if let d = discretised { return d }
            let d = Discretiser.discretise(region, settings: settings)
            discretised = d
            return d
        }
        lazy var texture = Discretiser.textureROI(levels(), region: region)
            ?? (DiscretisedROI(size: Size3(1, 1, 1), spacing: region.grid.spacing, levels: [0], binCount: 1), [false])
        for family in settings.families {
            switch family {
            case .morphology:
                features += MorphologicalFeatures.features(region)
            case .localIntensity:
                features += LocalIntensity.features(region)
            case .intensity:
                features += IntensityStatistics.features(roi)
            case .histogram:
                let d = levels()
                features += IntensityHistogram.features(levels: d.roiLevels(), binCount: d.binCount)
            case .intensityVolumeHistogram:
                features += IntensityVolumeHistogram.features(
                    roi, discretisation: settings.ivhDiscretisation,
                    range: (settings.resegmentation.lowerBound, settings.resegmentation.upperBound))
            case .glcm, .glrlm, .glszm, .gldzm, .ngtdm, .ngldm:
                features += TextureFamilies.features(family, roi: texture.roi, morphologicalMask: texture.morphologicalMask,
                                                     aggregations: settings.textureAggregations)
            }
        }
        return features
    }

    /// The features of every response map of `filtering` (IBSI 2 order of operations): the interpolated
    /// image is filtered over the region's box plus the filters' support; the families read the response
    /// inside the region's intensity mask, which comes from the unfiltered intensities. Each value carries
    /// its filter's token.
    static func responseMapFeatures(image: Volume<Float>, mask: PlacedMask, region: PreparedRegion,
                                    settings: ExtractionSettings, filtering: ExtractionSettings.Filtering,
                                    warnings: inout [String], context: String) throws -> [FeatureValue] {
        guard let bbox = mask.boundingBox, !filtering.filters.isEmpty else { return [] }
        let maps = try Resampler.axisMaps(for: image.grid, resampling: settings.resampling)
        let fullNew = Resampler.newGrid(of: image.grid, maps: maps)
        let (box, _) = Preprocessor.resamplingBoxes(bbox: bbox, gridSize: image.grid.size, maps: maps,
                                                    interpolation: settings.resampling?.interpolation ?? .nearest,
                                                    wholeImage: false)
        precondition(box.size == region.grid.size, "the region's box is the resampling box")
        // One read of the interpolated image, over the largest box any filter needs.
        var readBox = box
        for filter in filtering.filters {
            let b = ResponseMaps.filterBox(filter, box: box, size: fullNew.size, spacing: fullNew.spacing)
            readBox = IndexBox(lower: Index3(min(readBox.lower.i, b.lower.i), min(readBox.lower.j, b.lower.j),
                                             min(readBox.lower.k, b.lower.k)),
                               upper: Index3(max(readBox.upper.i, b.upper.i), max(readBox.upper.j, b.upper.j),
                                             max(readBox.upper.k, b.upper.k)))
        }
        let values = Preprocessor.resampledIntensities(image: image, newBox: readBox, maps: maps, settings: settings)
        // The convolutional filters read the image in single precision (as images are stored): converted once for all.
        let singles = Precision.singles(values)
        let needsMax = filtering.filters.contains {
            switch $0 {
            case .square, .squareRoot, .logarithm, .exponential: return true
            default: return false
            }
        }
        let maxAbsolute = needsMax ? ResponseMaps.maxAbsolute(image) : 0
        let responseSettings = settings.responseMapSettings(filtering)
        // The maps are computed over the part of the box the families read (the image read stays the box's).
        let part = ResponseMaps.mapBox(region, families: responseSettings.families, filters: filtering.filters)
        let mapRegion = region.cropped(to: part)
        let mapBox = IndexBox(lower: Index3(box.lower.i + part.lower.i, box.lower.j + part.lower.j, box.lower.k + part.lower.k),
                              upper: Index3(box.lower.i + part.upper.i, box.lower.j + part.upper.j, box.lower.k + part.upper.k))
        // Sub-bands of one separable wavelet decomposition share the passes they have in common (the 8 bands of
        // a 3D level: 14 passes instead of 24): computed together up front, kept in single precision until used.
        var shared = ResponseMaps.sharedWaveletResponses(filtering.filters, singles: singles, readBox: readBox, box: mapBox,
                                                         spacing: fullNew.spacing)
        var features = [FeatureValue]()
        for (n, filter) in filtering.filters.enumerated() {
            var response = mapRegion
            if let map = shared.removeValue(forKey: n) {
                response.intensities = Precision.doubles(map.voxels)
            } else {
                response.intensities = try ResponseMaps.response(filter, values: values, singles: singles, readBox: readBox,
                                                                 box: mapBox, spacing: fullNew.spacing, maxAbsolute: maxAbsolute)
            }
            let roi = response.roiIntensities()
            let token = filter.token
            if !ResponseMaps.allFinite(roi), let bad = roi.first(where: { !$0.isFinite }) {
                warnings.append("\(context): response map \(token) holds a non-finite value (\(bad)) in the region")
            }
            features += familyFeatures(response, roi: roi, settings: responseSettings).map {
                var v = $0
                v.filter = token
                return v
            }
        }
        return features
    }
}

/// The calls into the texture families, in one place (IBSI 1 defaults: distance 1, coarseness 0).
enum TextureFamilies {
    static func features(_ family: FeatureFamily, roi: DiscretisedROI, morphologicalMask: [Bool],
                         aggregations: [TextureAggregation]) -> [FeatureValue] {
        switch family {
        case .glcm: return GLCM.features(roi, aggregations: aggregations, distance: 1)
        case .glrlm: return GLRLM.features(roi, aggregations: aggregations)
        case .glszm: return GLSZM.features(roi, aggregations: aggregations)
        case .gldzm: return GLDZM.features(roi, morphologicalMask: morphologicalMask, aggregations: aggregations)
        case .ngtdm: return NGTDM.features(roi, aggregations: aggregations, distance: 1)
        case .ngldm: return NGLDM.features(roi, aggregations: aggregations, distance: 1, coarseness: 0)
        case .morphology, .localIntensity, .intensity, .histogram, .intensityVolumeHistogram: return []
        }
    }
}
