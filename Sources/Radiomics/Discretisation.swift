import ImagingCore

/// Grey levels of a prepared region (IBSI 1, section 2.7), shared by the intensity histogram,
/// the texture families and (with its own settings) the intensity-volume histogram.
struct DiscretisedLevels {
    /// Grey level per box voxel: `1...binCount` inside the intensity mask, 0 outside.
    var levels: [Int32]
    /// Number of grey levels Ng.
    var binCount: Int

    /// The levels of the intensity-mask voxels (`count` of them), in voxel order.
    func roiLevels(count: Int) -> [Int32] {
        var out = [Int32]()
        out.reserveCapacity(count)
        levels.withUnsafeBufferPointer { levels in
            for l in levels where l > 0 { out.append(l) }
        }
        return out
    }
}

enum Discretiser {
    /// Discretises the intensity-mask voxels of `region`.
    ///
    /// Fixed bin size: `floor((x - lower) / width) + 1`, `lower` the lower re-segmentation bound or,
    /// without one, the ROI minimum; Ng is the highest level present. Fixed bin number:
    /// `floor(Ng (x - min) / (max - min)) + 1` with the maximum mapped to Ng (all 1 when max = min).
    static func discretise(_ region: PreparedRegion, settings: ExtractionSettings) -> DiscretisedLevels {
        let size = region.grid.size
        // Every voxel of the intensity mask lies within its row's extent; they are visited in voxel order.
        let extents = region.intensityExtents()
        func forEachROIVoxel(_ body: (Int) -> Void) {
            region.intensityMask.withUnsafeBufferPointer { mask in
                for (row, extent) in extents.enumerated() where extent.lower <= extent.upper {
                    for n in (row * size.nx + extent.lower)...(row * size.nx + extent.upper) where mask[n] { body(n) }
                }
            }
        }
        var levels = [Int32](repeating: 0, count: region.intensityMask.count)
        var binCount = 0
        region.intensities.withUnsafeBufferPointer { x in
            var lo = Double.infinity, hi = -Double.infinity
            forEachROIVoxel { n in lo = min(lo, x[n]); hi = max(hi, x[n]) }
            guard lo <= hi else { return }
            levels.withUnsafeMutableBufferPointer { levels in
                switch settings.discretisation {
                case .fixedBinSize(let width):
                    let lower = settings.resegmentation.lowerBound ?? lo
                    var top: Int32 = 1
                    forEachROIVoxel { n in
                        let b = Int32(max(1, ((x[n] - lower) / width).rounded(.down) + 1))
                        levels[n] = b
                        top = max(top, b)
                    }
                    binCount = Int(top)
                case .fixedBinNumber(let count):
                    let ng = max(1, count)
                    forEachROIVoxel { n in
                        if hi > lo {
                            let b = (Double(ng) * (x[n] - lo) / (hi - lo)).rounded(.down) + 1
                            levels[n] = Int32(min(Double(ng), max(1, b)))
                        } else {
                            levels[n] = 1
                        }
                    }
                    binCount = ng
                }
            }
        }
        return DiscretisedLevels(levels: levels, binCount: binCount)
    }

    /// The ROI for texture families: the levels and the morphological mask, cropped to the bounding
    /// box of the morphological mask (which holds the intensity mask). Nil when the region is empty.
    static func textureROI(_ d: DiscretisedLevels,
                           region: PreparedRegion) -> (roi: DiscretisedROI, morphologicalMask: [Bool])? {
        let size = region.grid.size
        // The morphological mask does not change from one response map to the next: cropped once.
        let cropped = MaskMemos.morphologicalCrop.value(for: region.morphMask, shape: [size.nx, size.ny, size.nz]) {
            Preprocessor.boundingBox(region.morphMask, size: size).map {
                (box: $0, mask: Preprocessor.crop(region.morphMask, size: size, to: $0))
            }
        }
        guard let cropped else { return nil }
        let (box, morph) = (cropped.box, cropped.mask)
        let levels = Preprocessor.crop(d.levels, size: size, to: box)
        return (DiscretisedROI(size: box.size, spacing: region.grid.spacing, levels: levels,
                               binCount: max(d.binCount, 1)), morph)
    }
}
