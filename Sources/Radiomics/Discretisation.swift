import ImagingCore

/// Grey levels of a prepared region (IBSI 1, section 2.7), shared by the intensity histogram,
/// the texture families and (with its own settings) the intensity-volume histogram.
struct DiscretisedLevels {
    /// Grey level per box voxel: `1...binCount` inside the intensity mask, 0 outside.
    var levels: [Int32]
    /// Number of grey levels Ng.
    var binCount: Int

    /// The levels of the intensity-mask voxels, in voxel order.
    ///
    /// Without a branch per voxel: each level is written at the next free place, which only a level above 0
    /// then takes (room for every box voxel, and one more).
    func roiLevels() -> [Int32] {
        [Int32](unsafeUninitializedCapacity: levels.count + 1) { out, initialised in
            var k = 0
            levels.withUnsafeBufferPointer { levels in
                guard let out = out.baseAddress else { return }
                for l in levels {
                    (out + k).initialize(to: l)
                    k &+= l > 0 ? 1 : 0
                }
            }
            initialised = k
        }
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
        let (lo, hi) = intensityRange(region, extents: extents)
        if lo <= hi, case .fixedBinSize(let width) = settings.discretisation,
           let fast = fixedBinSizeLevels(region, extents: extents, lower: settings.resegmentation.lowerBound ?? lo,
                                         width: width) {
            return fast
        }
        var levels = [Int32](repeating: 0, count: region.intensityMask.count)
        var binCount = 0
        region.intensities.withUnsafeBufferPointer { x in
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

    /// The lowest and highest intensity of the intensity-mask voxels (NaN skipped; `(∞, -∞)` when there is none),
    /// four voxels at a time (`LaneExtremes`). Which of +0 and -0 is kept changes no level (`x - ±0` and `±0 - x`
    /// are the same number but for a zero's sign, which `floor(...) + 1` drops).
    private static func intensityRange(_ region: PreparedRegion,
                                       extents: [(lower: Int, upper: Int)]) -> (lo: Double, hi: Double) {
        let nx = region.grid.size.nx
        var lanes = LaneExtremes()
        var lo = Double.infinity, hi = -Double.infinity
        region.intensities.withUnsafeBufferPointer { x in
            region.intensityMask.withUnsafeBufferPointer { mask in
                guard let x = x.baseAddress, let mask = mask.baseAddress else { return }
                let bytes = UnsafeRawPointer(mask)
                for (row, extent) in extents.enumerated() where extent.lower <= extent.upper {
                    var n = row * nx + extent.lower
                    let end = row * nx + extent.upper + 1
                    while n + 4 <= end {
                        let v = UnsafeRawPointer(x + n).loadUnaligned(as: LaneExtremes.Lanes.self)
                        let inside = SIMD4<Int64>(truncatingIfNeeded: bytes.loadUnaligned(fromByteOffset: n, as: SIMD4<UInt8>.self)) .!= 0
                        lanes.add(v, where: inside)
                        n += 4
                    }
                    while n < end {
                        if mask[n] { lo = min(lo, x[n]); hi = max(hi, x[n]) }
                        n += 1
                    }
                }
            }
        }
        return lanes.range(with: lo, hi)
    }

    /// Fixed-bin-size levels `max(1, floor((x - lower) / width) + 1)` in one branch-free pass over each row's
    /// extent, four voxels at a time in vector lanes (the same IEEE operations in each lane), every box voxel
    /// written once (0 outside the intensity mask) instead of zero-filled first. A level is made exact from its
    /// whole double by adding 2^52 and taking the low 32 bits; nil when a level reaches 2^31 (the scalar path then
    /// traps on it as before).
    private static func fixedBinSizeLevels(_ region: PreparedRegion, extents: [(lower: Int, upper: Int)],
                                           lower: Double, width: Double) -> DiscretisedLevels? {
        let nx = region.grid.size.nx
        let total = region.intensityMask.count
        var top: Int32 = 1
        var overflow: UInt8 = 0
        let levels = [Int32](unsafeUninitializedCapacity: total) { out, initialised in
            initialised = total
            region.intensities.withUnsafeBufferPointer { x in
                region.intensityMask.withUnsafeBufferPointer { mask in
                    guard let out = out.baseAddress, let x = x.baseAddress, let mask = mask.baseAddress else { return }
                    typealias Lanes = SIMD4<Double>
                    let flags = UnsafeRawPointer(mask)
                    let lowers = Lanes(repeating: lower), widths = Lanes(repeating: width), ones = Lanes(repeating: 1)
                    let magic = Lanes(repeating: 0x1p52), limit = Lanes(repeating: 0x1p31)
                    var top4 = SIMD4<Int32>(repeating: 1), over4 = SIMDMask<SIMD4<Int64>>(repeating: false)
                    var zeroFrom = 0
                    for (row, extent) in extents.enumerated() where extent.lower <= extent.upper {
                        let first = row * nx + extent.lower, end = row * nx + extent.upper + 1
                        (out + zeroFrom).initialize(repeating: 0, count: first - zeroFrom)
                        var n = first
                        while n + 4 <= end {
                            let b = ((UnsafeRawPointer(x + n).loadUnaligned(as: Lanes.self) - lowers) / widths)
                                .rounded(.down) + ones
                            let level = ones.replacing(with: b, where: b .>= ones)  // `max(1, b)`: 1 for NaN
                            let inside = flags.loadUnaligned(fromByteOffset: n, as: SIMD4<UInt8>.self)  // 0 or 1
                            let whole = SIMD4<Int32>(truncatingIfNeeded: unsafeBitCast(level + magic, to: SIMD4<UInt64>.self))
                            let kept = whole &* SIMD4<Int32>(truncatingIfNeeded: inside)
                            UnsafeMutableRawPointer(out + n).storeBytes(of: kept, as: SIMD4<Int32>.self)
                            top4.replace(with: kept, where: kept .> top4)
                            over4 .|= (level .>= limit) .& (SIMD4<Int64>(truncatingIfNeeded: inside) .!= 0)
                            n += 4
                        }
                        while n < end {
                            let b = ((x[n] - lower) / width).rounded(.down) + 1
                            let level = b >= 1 ? b : 1
                            let inside = mask[n]
                            let whole = Int32(truncatingIfNeeded: (level + 0x1p52).bitPattern)
                            out[n] = inside ? whole : 0
                            top = max(top, inside ? whole : 0)
                            overflow |= inside && !(level < 0x1p31) ? 1 : 0
                            n += 1
                        }
                        zeroFrom = end
                    }
                    top = max(top, top4.max())
                    overflow |= any(over4) ? 1 : 0
                    (out + zeroFrom).initialize(repeating: 0, count: total - zeroFrom)
                }
            }
        }
        guard overflow == 0 else { return nil }
        return DiscretisedLevels(levels: levels, binCount: Int(top))
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
