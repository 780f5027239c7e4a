import ImagingCore

/// Grey levels of a prepared region (IBSI 1, section 2.7), shared by the intensity histogram,
/// the texture families and (with its own settings) the intensity-volume histogram.
struct DiscretisedLevels {
    /// Grey level per box voxel: `1...binCount` inside the intensity mask, 0 outside.
    var levels: [Int32]
    /// Number of grey levels Ng.
    var binCount: Int
}

enum Discretiser {
    /// Discretises the intensity-mask voxels of `region`.
    ///
    /// Fixed bin size: `floor((x - lower) / width) + 1`, `lower` the lower re-segmentation bound or,
    /// without one, the ROI minimum; Ng is the highest level present. Fixed bin number:
    /// `floor(Ng (x - min) / (max - min)) + 1` with the maximum mapped to Ng (all 1 when max = min).
    static func discretise(_ region: PreparedRegion, settings: ExtractionSettings) -> DiscretisedLevels {
        let mask = region.intensityMask, x = region.intensities
        var lo = Double.infinity, hi = -Double.infinity
        for n in 0..<mask.count where mask[n] { lo = min(lo, x[n]); hi = max(hi, x[n]) }
        var levels = [Int32](repeating: 0, count: mask.count)
        guard lo <= hi else { return DiscretisedLevels(levels: levels, binCount: 0) }
        switch settings.discretisation {
        case .fixedBinSize(let width):
            let lower = settings.resegmentation.lowerBound ?? lo
            var top: Int32 = 1
            for n in 0..<mask.count where mask[n] {
                let b = Int32(max(1, ((x[n] - lower) / width).rounded(.down) + 1))
                levels[n] = b
                top = max(top, b)
            }
            return DiscretisedLevels(levels: levels, binCount: Int(top))
        case .fixedBinNumber(let count):
            let ng = max(1, count)
            for n in 0..<mask.count where mask[n] {
                if hi > lo {
                    let b = (Double(ng) * (x[n] - lo) / (hi - lo)).rounded(.down) + 1
                    levels[n] = Int32(min(Double(ng), max(1, b)))
                } else {
                    levels[n] = 1
                }
            }
            return DiscretisedLevels(levels: levels, binCount: ng)
        }
    }

    /// The ROI for texture families: the levels and the morphological mask, cropped to the bounding
    /// box of the morphological mask (which holds the intensity mask). Nil when the region is empty.
    static func textureROI(_ d: DiscretisedLevels,
                           region: PreparedRegion) -> (roi: DiscretisedROI, morphologicalMask: [Bool])? {
        let size = region.grid.size
        guard let box = Preprocessor.boundingBox(region.morphMask, size: size) else { return nil }
        let levels = Preprocessor.crop(d.levels, size: size, to: box)
        let morph = Preprocessor.crop(region.morphMask, size: size, to: box)
        return (DiscretisedROI(size: box.size, spacing: region.grid.spacing, levels: levels,
                               binCount: max(d.binCount, 1)), morph)
    }
}
