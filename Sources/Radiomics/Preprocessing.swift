import Foundation
import ImagingCore

/// One IBSI diagnostic value recorded during preprocessing, e.g. `int_mask_vox_count_reseg_roi`.
public struct DiagnosticValue: Sendable, Hashable {
    /// The IBSI diagnostic tag (as in the reference-value files).
    public var tag: String
    public var value: Double

    public init(tag: String, value: Double) {
        self.tag = tag
        self.value = value
    }
}

/// A region after resampling and re-segmentation, on a box of the (resampled) image grid.
///
/// The box holds the region plus a margin, so neighbourhood features (local intensity peaks)
/// can read intensities just outside the region. IBSI 1 keeps two masks: the morphological
/// mask (the resampled segmentation) and the intensity mask (morphological mask after
/// re-segmentation); shape features read the first, intensity features the second.
struct PreparedRegion {
    /// Grid of the box (a sub-grid of the resampled image grid).
    var grid: ImageGrid
    /// Intensity of every box voxel.
    var intensities: [Double]
    var morphMask: [Bool]
    var intensityMask: [Bool]

    /// The row extents of the intensity mask (`Preprocessor.rowExtents`), found once for the region and its
    /// response maps, which share the mask.
    func intensityExtents() -> [(lower: Int, upper: Int)] {
        MaskMemos.rowExtents.value(for: intensityMask, shape: [grid.size.nx, grid.size.ny, grid.size.nz]) {
            Preprocessor.rowExtents(intensityMask, size: grid.size)
        }
    }

    /// Intensities inside the intensity mask, in voxel order.
    ///
    /// Without a branch per voxel: every voxel of a row's extent is written at the next free place, which only
    /// a mask voxel then takes (the extents, one voxel more, bound the places written).
    func roiIntensities() -> [Double] {
        let nx = grid.size.nx
        let extents = intensityExtents()
        var capacity = 1
        for extent in extents where extent.lower <= extent.upper { capacity += extent.upper - extent.lower + 1 }
        return [Double](unsafeUninitializedCapacity: capacity) { out, initialised in
            var k = 0
            intensityMask.withUnsafeBufferPointer { mask in
                intensities.withUnsafeBufferPointer { x in
                    guard let out = out.baseAddress, let mask = mask.baseAddress, let x = x.baseAddress else { return }
                    // Every mask voxel lies within its row's extent.
                    for (row, extent) in extents.enumerated() where extent.lower <= extent.upper {
                        for n in (row * nx + extent.lower)...(row * nx + extent.upper) {
                            (out + k).initialize(to: x[n])
                            k &+= mask[n] ? 1 : 0
                        }
                    }
                }
            }
            initialised = k
        }
    }
}

/// A mask known only on a box of the image grid (false elsewhere), so that a lesion in a large
/// scan costs memory in proportion to its box.
struct PlacedMask {
    /// The mask on the box (its grid is the image's sub-grid of the box).
    let mask: Mask
    /// Image index of the box's first voxel.
    let offset: Index3
    /// Bounding box of the set voxels in image indices, nil when empty.
    let boundingBox: IndexBox?

    /// A whole-image mask, cropped to its bounding box (nil box for an empty mask).
    init(wholeImage m: Mask) {
        boundingBox = Preprocessor.boundingBox(m.voxels, size: m.grid.size)
        if let box = boundingBox {
            mask = Mask(grid: m.grid.subgrid(box), voxels: Preprocessor.crop(m.voxels, size: m.grid.size, to: box))
            offset = box.lower
        } else {
            mask = Mask(grid: m.grid.subgrid(IndexBox(lower: Index3(0, 0, 0), upper: Index3(0, 0, 0))),
                        voxels: [false])
            offset = Index3(0, 0, 0)
        }
    }

    init(mask: Mask, offset: Index3) {
        self.mask = mask
        self.offset = offset
        boundingBox = Preprocessor.boundingBox(mask.voxels, size: mask.grid.size).map { b in
            IndexBox(lower: Index3(b.lower.i + offset.i, b.lower.j + offset.j, b.lower.k + offset.k),
                     upper: Index3(b.upper.i + offset.i, b.upper.j + offset.j, b.upper.k + offset.k))
        }
    }

    /// The mask's voxels on `box` (image indices), x fastest; false outside the known box.
    func voxels(in box: IndexBox) -> [Bool] {
        var out = [Bool](repeating: false, count: box.size.count)
        let n = mask.grid.size
        // The part of `box` that the known box covers.
        let iLo = max(box.lower.i, offset.i), iHi = min(box.upper.i, offset.i + n.nx - 1)
        let jLo = max(box.lower.j, offset.j), jHi = min(box.upper.j, offset.j + n.ny - 1)
        let kLo = max(box.lower.k, offset.k), kHi = min(box.upper.k, offset.k + n.nz - 1)
        guard iLo <= iHi, jLo <= jHi, kLo <= kHi else { return out }
        let width = box.size.nx, height = box.size.ny
        out.withUnsafeMutableBufferPointer { out in
            mask.voxels.withUnsafeBufferPointer { known in
                for k in kLo...kHi {
                    for j in jLo...jHi {
                        let from = ((k - offset.k) * n.ny + j - offset.j) * n.nx - offset.i
                        let to = ((k - box.lower.k) * height + j - box.lower.j) * width - box.lower.i
                        for i in iLo...iHi { out[to + i] = known[from + i] }
                    }
                }
            }
        }
        return out
    }
}

/// IBSI 1 preprocessing: resampling, mask partial-volume rule, re-segmentation.
enum Preprocessor {
    /// Radius (mm) of the 1 cm³ sphere of the local intensity peaks.
    static let peakRadiusMM = Foundation.pow(3000 / (4 * Double.pi), 1.0 / 3.0)

    /// The region after IBSI preprocessing. With a `modality`, settings that make no sense for it
    /// are refused first (`ModalityChecks.refusal`): rounding after interpolation in particular is
    /// never applied to PT or MR intensities, whoever calls.
    static func prepare(image: Volume<Float>, mask: PlacedMask, settings: ExtractionSettings,
                        context: String, modality: String? = nil) throws -> (region: PreparedRegion, diagnostics: [DiagnosticValue]) {
        if let modality, let refused = ModalityChecks.refusal(settings, modality: modality, labels: [context]) {
            throw refused
        }
        try image.grid.validate()
        guard let bbox = mask.boundingBox else { throw RadiomicsError.emptyMask(context) }
        var diag = [DiagnosticValue]()
        let grid = image.grid

        // Initial image and ROI.
        appendImageDiagnostics(&diag, size: grid.size, spacing: grid.spacing, stage: "init",
                               values: settings.wholeImageDiagnostics ? image.voxels.lazy.map(Double.init) : nil)

        // Resampling on the IBSI grid, on the lesion box only.
        let maps = try Resampler.axisMaps(for: grid, resampling: settings.resampling)
        let fullNew = Resampler.newGrid(of: grid, maps: maps)
        var region = resample(image: image, mask: mask, bbox: bbox, maps: maps, fullNew: fullNew,
                              settings: settings, wholeImage: false)
        // Right after resampling the intensity mask is the morphological mask.
        let interpROI = ROIStatistics(region, masksAreEqual: true)
        guard interpROI.morphCount > 0 else {
            throw RadiomicsError.emptyMask("\(context) after resampling to \(fullNew.spacing) mm")
        }
        if settings.resampling == nil {
            // The box holds the same voxels in the same order as the initial ROI, so the statistics agree.
            appendROIDiagnostics(&diag, interpROI, fullSize: grid.size, stage: "init")
        } else {
            let initMask = mask.voxels(in: bbox)
            let initRegion = PreparedRegion(
                grid: grid.subgrid(bbox), intensities: croppedDoubles(image.voxels, size: grid.size, to: bbox),
                morphMask: initMask, intensityMask: initMask)
            appendROIDiagnostics(&diag, ROIStatistics(initRegion, masksAreEqual: true), fullSize: grid.size, stage: "init")
        }
        if settings.wholeImageDiagnostics {
            let values = settings.resampling == nil ? image.voxels.map(Double.init)
                : resample(image: image, mask: mask, bbox: bbox, maps: maps, fullNew: fullNew,
                           settings: settings, wholeImage: true).intensities
            appendImageDiagnostics(&diag, size: fullNew.size, spacing: fullNew.spacing, stage: "interp",
                                   values: values)
        } else {
            appendImageDiagnostics(&diag, size: fullNew.size, spacing: fullNew.spacing, stage: "interp",
                                   values: [Double]?.none)
        }
        appendROIDiagnostics(&diag, interpROI, fullSize: fullNew.size, stage: "interp")

        // Re-segmentation of the intensity mask.
        let (intensityMask, removed) = resegment(region, settings.resegmentation)
        region.intensityMask = intensityMask
        let resegROI = removed == 0 ? interpROI : ROIStatistics(region, masksAreEqual: false)
        appendROIDiagnostics(&diag, resegROI, fullSize: fullNew.size, stage: "reseg")
        return (region, diag)
    }

    /// The boxes resampling works on: `newBox`, the lesion box `bbox` (original indices) on the new grid
    /// plus the margin of the local-intensity sphere (or the whole new grid when `wholeImage`), and
    /// `srcBox`, the original voxels the interpolation kernel reaches from it. The memory estimate
    /// (`ExtractionMemory`) reads the same boxes before anything is allocated.
    static func resamplingBoxes(bbox: IndexBox, gridSize: Size3, maps: [Resampler.AxisMap],
                                interpolation: ExtractionSettings.Interpolation,
                                wholeImage: Bool) -> (newBox: IndexBox, srcBox: IndexBox) {
        var newLower = [Int](repeating: 0, count: 3), newUpper = [Int](repeating: 0, count: 3)
        for axis in 0..<3 {
            let map = maps[axis]
            if wholeImage {
                newLower[axis] = 0; newUpper[axis] = map.newCount - 1
                continue
            }
            let margin = Int((peakRadiusMM / map.newSpacing).rounded(.up)) + 1
            let lo = Int(map.newIndex(Double(indexOf(bbox.lower, axis)) - 0.5).rounded(.down)) - margin
            let hi = Int(map.newIndex(Double(indexOf(bbox.upper, axis)) + 0.5).rounded(.up)) + margin
            newLower[axis] = max(0, lo)
            newUpper[axis] = min(map.newCount - 1, hi)
        }
        let newBox = IndexBox(lower: Index3(newLower[0], newLower[1], newLower[2]),
                              upper: Index3(newUpper[0], newUpper[1], newUpper[2]))
        return (newBox, sourceBox(newBox: newBox, gridSize: gridSize, maps: maps, interpolation: interpolation))
    }

    /// The original voxels the interpolation kernel reaches from `newBox` (indices of the new grid; for
    /// B-splines, with the prefilter's margin).
    static func sourceBox(newBox: IndexBox, gridSize: Size3, maps: [Resampler.AxisMap],
                          interpolation: ExtractionSettings.Interpolation) -> IndexBox {
        let newLower = [newBox.lower.i, newBox.lower.j, newBox.lower.k]
        let newUpper = [newBox.upper.i, newBox.upper.j, newBox.upper.k]
        let pad: Int
        switch interpolation {
        case .nearest: pad = 1
        case .linear: pad = 2
        case .cubic: pad = 3
        case .bspline: pad = Resampler.bSplineMargin
        }
        var srcLower = [Int](repeating: 0, count: 3), srcUpper = [Int](repeating: 0, count: 3)
        for axis in 0..<3 {
            let map = maps[axis], n = gridSize[axis]
            let cLo = map.oldIndex(newLower[axis]), cHi = map.oldIndex(newUpper[axis])
            let p = map.identity ? 0 : pad
            srcLower[axis] = max(0, Int(cLo.rounded(.down)) - p)
            srcUpper[axis] = min(n - 1, Int(cHi.rounded(.up)) + p)
        }
        return IndexBox(lower: Index3(srcLower[0], srcLower[1], srcLower[2]),
                        upper: Index3(srcUpper[0], srcUpper[1], srcUpper[2]))
    }

    /// The resampled image's intensities on `newBox` (indices of the new grid, x fastest), interpolated and
    /// rounded as the settings say: the region's intensities, and what a filter reads around the region
    /// (`ResponseMaps`).
    static func resampledIntensities(image: Volume<Float>, newBox: IndexBox, maps: [Resampler.AxisMap],
                                     settings: ExtractionSettings) -> [Double] {
        let grid = image.grid
        guard settings.resampling != nil else { return croppedDoubles(image.voxels, size: grid.size, to: newBox) }
        let interpolation = settings.resampling?.interpolation ?? .nearest
        let srcBox = sourceBox(newBox: newBox, gridSize: grid.size, maps: maps, interpolation: interpolation)
        // The image samples the kernel reads; for B-splines, their coefficients on a box that goes
        // `bSplineEdgePadding` edge samples beyond each image end it reaches, as scipy pads.
        var imageBox = srcBox
        var values: [Double]
        if interpolation == .bspline {
            var lower = [imageBox.lower.i, imageBox.lower.j, imageBox.lower.k]
            var upper = [imageBox.upper.i, imageBox.upper.j, imageBox.upper.k]
            for axis in 0..<3 where !maps[axis].identity {
                if lower[axis] == 0 { lower[axis] = -Resampler.bSplineEdgePadding }
                if upper[axis] == grid.size[axis] - 1 { upper[axis] += Resampler.bSplineEdgePadding }
            }
            imageBox = IndexBox(lower: Index3(lower[0], lower[1], lower[2]), upper: Index3(upper[0], upper[1], upper[2]))
            values = edgeExtendedDoubles(image.voxels, size: grid.size, to: imageBox)
            for axis in 0..<3 where !maps[axis].identity {
                Resampler.bSplinePrefilter(&values, size: imageBox.size, axis: axis)
            }
        } else {
            values = crop(image.voxels, size: grid.size, to: srcBox).map(Double.init)
        }
        let newLower = [newBox.lower.i, newBox.lower.j, newBox.lower.k]
        let newUpper = [newBox.upper.i, newBox.upper.j, newBox.upper.k]
        let imageLower = [imageBox.lower.i, imageBox.lower.j, imageBox.lower.k]
        let imageTaps = (0..<3).map { axis in
            Resampler.taps(map: maps[axis], range: newLower[axis]...newUpper[axis], sourceLower: imageLower[axis],
                           sourceCount: imageBox.size[axis], interpolation: interpolation)
        }
        var out = Resampler.apply(values, size: imageBox.size, taps: imageTaps).values
        if settings.resampling?.roundIntensities == true {
            for n in 0..<out.count { out[n] = out[n].rounded() }
        }
        return out
    }

    /// Resamples the lesion box (plus the peak-sphere margin), or the whole image when `wholeImage`.
    static func resample(image: Volume<Float>, mask: PlacedMask, bbox: IndexBox, maps: [Resampler.AxisMap],
                                 fullNew: ImageGrid, settings: ExtractionSettings,
                                 wholeImage: Bool) -> PreparedRegion {
        let grid = image.grid
        let interpolation = settings.resampling?.interpolation ?? .nearest
        let (newBox, srcBox) = resamplingBoxes(bbox: bbox, gridSize: grid.size, maps: maps,
                                               interpolation: interpolation, wholeImage: wholeImage)
        let newLower = [newBox.lower.i, newBox.lower.j, newBox.lower.k]
        let newUpper = [newBox.upper.i, newBox.upper.j, newBox.upper.k]
        let srcLower = [srcBox.lower.i, srcBox.lower.j, srcBox.lower.k]
        let boxGrid = fullNew.subgrid(newBox)
        if settings.resampling == nil {
            // The new box holds the image's own voxels.
            let m = mask.voxels(in: newBox)
            return PreparedRegion(grid: boxGrid, intensities: croppedDoubles(image.voxels, size: grid.size, to: newBox),
                                  morphMask: m, intensityMask: m)
        }
        let srcMask = mask.voxels(in: srcBox)
        let out = resampledIntensities(image: image, newBox: newBox, maps: maps, settings: settings)
        let maskInterpolation: ExtractionSettings.Interpolation = interpolation == .nearest ? .nearest : .linear
        let maskTaps = (0..<3).map { axis in
            Resampler.taps(map: maps[axis], range: newLower[axis]...newUpper[axis], sourceLower: srcLower[axis],
                           sourceCount: srcBox.size[axis], interpolation: maskInterpolation)
        }
        let threshold = settings.resampling?.maskThreshold ?? 0.5
        let maskValues = Resampler.apply(srcMask.map { $0 ? 1.0 : 0.0 }, size: srcBox.size, taps: maskTaps)
        let morph = maskValues.values.map { $0 >= threshold - 1e-9 }
        return PreparedRegion(grid: boxGrid, intensities: out, morphMask: morph, intensityMask: morph)
    }

    private static func indexOf(_ p: Index3, _ axis: Int) -> Int { axis == 0 ? p.i : (axis == 1 ? p.j : p.k) }

    /// The intensity mask after range and outlier re-segmentation, and how many voxels of the
    /// morphological mask it removed.
    static func resegment(_ region: PreparedRegion,
                          _ reseg: ExtractionSettings.Resegmentation) -> (mask: [Bool], removed: Int) {
        var m = region.morphMask
        let lo = reseg.lowerBound ?? -.infinity, hi = reseg.upperBound ?? .infinity
        guard lo > -.infinity || hi < .infinity || reseg.outlierSigma != nil else { return (m, 0) }
        var removed = 0
        for n in 0..<m.count where m[n] {
            let x = region.intensities[n]
            if x < lo || x > hi { m[n] = false; removed += 1 }
        }
        if let sigma = reseg.outlierSigma {
            var s = 0.0, s2 = 0.0, count = 0.0
            for n in 0..<m.count where m[n] {
                let x = region.intensities[n]
                s += x; s2 += x * x; count += 1
            }
            if count > 0 {
                let mean = s / count
                let sd = max(0, s2 / count - mean * mean).squareRoot()
                for n in 0..<m.count where m[n] {
                    let x = region.intensities[n]
                    if x < mean - sigma * sd || x > mean + sigma * sd { m[n] = false; removed += 1 }
                }
            }
        }
        return (m, removed)
    }

    private static func appendImageDiagnostics<S: Sequence>(_ diag: inout [DiagnosticValue], size: Size3,
                                                            spacing: Vector3, stage: String,
                                                            values: S?) where S.Element == Double {
        let axes = ["x", "y", "z"]
        for a in 0..<3 { diag.append(DiagnosticValue(tag: "img_dim_\(axes[a])_\(stage)_img", value: Double(size[a]))) }
        for a in 0..<3 { diag.append(DiagnosticValue(tag: "vox_dim_\(axes[a])_\(stage)_img", value: spacing[a])) }
        guard let values else { return }
        var s = 0.0, n = 0.0, lo = Double.infinity, hi = -Double.infinity
        for x in values { s += x; n += 1; lo = min(lo, x); hi = max(hi, x) }
        diag.append(DiagnosticValue(tag: "mean_int_\(stage)_img", value: s / n))
        diag.append(DiagnosticValue(tag: "min_int_\(stage)_img", value: lo))
        diag.append(DiagnosticValue(tag: "max_int_\(stage)_img", value: hi))
    }

    /// The ROI diagnostics of one preprocessing stage.
    struct ROIStatistics {
        /// Bounding-box extents (voxels per axis) of the intensity and the morphological mask.
        var intensityBox: [Double], morphBox: [Double]
        var count = 0, morphCount = 0
        /// Sum (in voxel order), minimum and maximum of the intensity-mask intensities.
        var sum = 0.0, lowest = Double.infinity, highest = -Double.infinity

        /// Statistics of `region`; `masksAreEqual` when its two masks hold the same voxels.
        init(_ region: PreparedRegion, masksAreEqual: Bool) {
            let size = region.grid.size
            let extents = rowExtents(region.intensityMask, size: size)
            intensityBox = Self.boxSize(extents, size: size)
            var count = 0, sum = 0.0, lowest = Double.infinity, highest = -Double.infinity
            region.intensityMask.withUnsafeBufferPointer { mask in
                region.intensities.withUnsafeBufferPointer { x in
                    for (row, extent) in extents.enumerated() where extent.lower <= extent.upper {
                        for t in (row * size.nx + extent.lower)...(row * size.nx + extent.upper) where mask[t] {
                            count += 1; sum += x[t]; lowest = min(lowest, x[t]); highest = max(highest, x[t])
                        }
                    }
                }
            }
            (self.count, self.sum, self.lowest, self.highest) = (count, sum, lowest, highest)
            if masksAreEqual {
                morphBox = intensityBox
                morphCount = count
                return
            }
            let morphExtents = rowExtents(region.morphMask, size: size)
            morphBox = Self.boxSize(morphExtents, size: size)
            var morphCount = 0
            region.morphMask.withUnsafeBufferPointer { mask in
                for (row, extent) in morphExtents.enumerated() where extent.lower <= extent.upper {
                    for t in (row * size.nx + extent.lower)...(row * size.nx + extent.upper) where mask[t] { morphCount += 1 }
                }
            }
            self.morphCount = morphCount
        }

        /// Extent (voxels per axis) of the rows' extents; zeros when all are empty.
        private static func boxSize(_ extents: [(lower: Int, upper: Int)], size: Size3) -> [Double] {
            var lo = (i: Int.max, j: Int.max, k: Int.max), hi = (i: -1, j: -1, k: -1)
            for (row, extent) in extents.enumerated() where extent.lower <= extent.upper {
                let j = row % size.ny, k = row / size.ny
                lo = (min(lo.i, extent.lower), min(lo.j, j), min(lo.k, k))
                hi = (max(hi.i, extent.upper), max(hi.j, j), max(hi.k, k))
            }
            return hi.i < 0 ? [0, 0, 0] : [Double(hi.i - lo.i + 1), Double(hi.j - lo.j + 1), Double(hi.k - lo.k + 1)]
        }
    }

    private static func appendROIDiagnostics(_ diag: inout [DiagnosticValue], _ roi: ROIStatistics,
                                             fullSize: Size3, stage: String) {
        let axes = ["x", "y", "z"]
        for a in 0..<3 {
            diag.append(DiagnosticValue(tag: "int_mask_dim_\(axes[a])_\(stage)_roi", value: Double(fullSize[a])))
        }
        for a in 0..<3 { diag.append(DiagnosticValue(tag: "int_mask_bb_dim_\(axes[a])_\(stage)_roi", value: roi.intensityBox[a])) }
        for a in 0..<3 {
            diag.append(DiagnosticValue(tag: "morph_mask_bb_dim_\(axes[a])_\(stage)_roi", value: roi.morphBox[a]))
        }
        let count = roi.count
        diag.append(DiagnosticValue(tag: "int_mask_vox_count_\(stage)_roi", value: Double(count)))
        diag.append(DiagnosticValue(tag: "morph_mask_vox_count_\(stage)_roi", value: Double(roi.morphCount)))
        diag.append(DiagnosticValue(tag: "int_mask_mean_int_\(stage)_roi", value: count == 0 ? .nan : roi.sum / Double(count)))
        diag.append(DiagnosticValue(tag: "int_mask_min_int_\(stage)_roi", value: count == 0 ? .nan : roi.lowest))
        diag.append(DiagnosticValue(tag: "int_mask_max_int_\(stage)_roi", value: count == 0 ? .nan : roi.highest))
    }

    /// For each row (fixed y and z, index `z * ny + y`) of `mask` on a grid of `size`, the first and last
    /// x of a set voxel; `lower > upper` for a row without one.
    static func rowExtents(_ mask: [Bool], size: Size3) -> [(lower: Int, upper: Int)] {
        var extents = [(lower: Int, upper: Int)](repeating: (1, 0), count: size.ny * size.nz)
        mask.withUnsafeBufferPointer { m in
            guard let base = m.baseAddress else { return }
            let bytes = UnsafeRawPointer(base)
            for row in 0..<(size.ny * size.nz) {
                if let extent = rowExtent(m, bytes, start: row * size.nx, count: size.nx) { extents[row] = extent }
            }
        }
        return extents
    }

    /// The first and last set element of `m[start ..< start + count]` (positions within the row), nil when
    /// none is set; empty stretches are skipped 32 and then eight at a time (`bytes` is `m`'s storage, a
    /// Bool being one byte, 0 or 1).
    @inline(__always)
    static func rowExtent(_ m: UnsafeBufferPointer<Bool>, _ bytes: UnsafeRawPointer, start: Int, count: Int)
        -> (lower: Int, upper: Int)? {
        func word(_ offset: Int) -> UInt64 { bytes.loadUnaligned(fromByteOffset: start + offset, as: UInt64.self) }
        var first = 0
        while first + 32 <= count && word(first) | word(first + 8) | word(first + 16) | word(first + 24) == 0 {
            first += 32
        }
        while first + 8 <= count && word(first) == 0 { first += 8 }
        while first < count && !m[start + first] { first += 1 }
        guard first < count else { return nil }
        var last = count - 1
        while !m[start + last] { last -= 1 }
        return (first, last)
    }

    /// The tightest box holding the set voxels of `mask` (x fastest on a grid of `size`), nil when none is set.
    static func boundingBox(_ mask: [Bool], size: Size3) -> IndexBox? {
        var lo = (i: Int.max, j: Int.max, k: Int.max), hi = (i: -1, j: -1, k: -1)
        mask.withUnsafeBufferPointer { m in
            guard let base = m.baseAddress else { return }
            let bytes = UnsafeRawPointer(base)
            for k in 0..<size.nz {
                for j in 0..<size.ny {
                    guard let (first, last) = rowExtent(m, bytes, start: (k * size.ny + j) * size.nx, count: size.nx)
                    else { continue }
                    lo = (min(lo.i, first), min(lo.j, j), min(lo.k, k))
                    hi = (max(hi.i, last), max(hi.j, j), max(hi.k, k))
                }
            }
        }
        return hi.i < 0 ? nil : IndexBox(lower: Index3(lo.i, lo.j, lo.k), upper: Index3(hi.i, hi.j, hi.k))
    }

    /// The number of 26-connected parts of `mask` (as `ConnectedComponents` counts them); the
    /// extractor needs the count only, not the labels.
    ///
    /// The set voxels of each row form runs; a union-find over the runs joins each run with the
    /// runs it touches (x ranges within one voxel) in the four neighbouring rows that come before
    /// it, so the work grows with the number of runs, not of voxels.
    static func partCount(_ mask: [Bool], size n: Size3) -> Int {
        let rowCount = n.ny * n.nz
        // Runs of row r: runStart[rowRuns[r]..<rowRuns[r + 1]] ... runEnd (inclusive x).
        var runStart = [Int32](), runEnd = [Int32]()
        var rowRuns = [Int32](repeating: 0, count: rowCount + 1)
        mask.withUnsafeBufferPointer { m in
            guard let base = m.baseAddress else { return }
            let bytes = UnsafeRawPointer(base)
            let ones = UInt64(0x0101_0101_0101_0101)
            for row in 0..<rowCount {
                let start = row * n.nx
                var x = 0
                while x < n.nx {
                    // Stretches of equal voxels eight at a time (a Bool is one byte, 0 or 1).
                    while x + 8 <= n.nx && bytes.loadUnaligned(fromByteOffset: start + x, as: UInt64.self) == 0 { x += 8 }
                    while x < n.nx && !m[start + x] { x += 1 }
                    guard x < n.nx else { break }
                    let first = x
                    while x + 8 <= n.nx && bytes.loadUnaligned(fromByteOffset: start + x, as: UInt64.self) == ones { x += 8 }
                    while x < n.nx && m[start + x] { x += 1 }
                    runStart.append(Int32(first))
                    runEnd.append(Int32(x - 1))
                }
                rowRuns[row + 1] = Int32(runStart.count)
            }
        }
        var parent = (0..<Int32(runStart.count)).map { $0 }
        var parts = runStart.count
        func root(_ a: Int) -> Int {
            var a = a
            while parent[a] != Int32(a) {
                parent[a] = parent[Int(parent[a])]
                a = Int(parent[a])
            }
            return a
        }
        for k in 0..<n.nz {
            for j in 0..<n.ny {
                let row = k * n.ny + j
                let runs = Int(rowRuns[row])..<Int(rowRuns[row + 1])
                guard !runs.isEmpty else { continue }
                // Earlier rows that touch this one: (j - 1, k) and (j - 1...j + 1, k - 1).
                for (dj, dk) in [(-1, 0), (-1, -1), (0, -1), (1, -1)] {
                    let jj = j + dj, kk = k + dk
                    guard jj >= 0, jj < n.ny, kk >= 0 else { continue }
                    let other = kk * n.ny + jj
                    var b = Int(rowRuns[other])
                    let bEnd = Int(rowRuns[other + 1])
                    var a = runs.lowerBound
                    // Merge the two sorted run lists, joining runs whose x ranges touch.
                    while a < runs.upperBound && b < bEnd {
                        if runEnd[b] + 1 < runStart[a] { b += 1; continue }
                        if runEnd[a] + 1 < runStart[b] { a += 1; continue }
                        let ra = root(a), rb = root(b)
                        if ra != rb {
                            parent[max(ra, rb)] = Int32(min(ra, rb))
                            parts -= 1
                        }
                        if runEnd[a] < runEnd[b] { a += 1 } else { b += 1 }
                    }
                }
            }
        }
        return parts
    }

    /// The values of `box` from values on a grid of `size` (x fastest), as doubles.
    static func croppedDoubles(_ values: [Float], size: Size3, to box: IndexBox) -> [Double] {
        let width = box.size.nx
        return [Double](unsafeUninitializedCapacity: box.size.count) { out, count in
            values.withUnsafeBufferPointer { values in
                var to = 0
                for k in box.lower.k...box.upper.k {
                    for j in box.lower.j...box.upper.j {
                        let from = (k * size.ny + j) * size.nx + box.lower.i
                        for i in 0..<width { out[to + i] = Double(values[from + i]) }
                        to += width
                    }
                }
            }
            count = box.size.count
        }
    }

    /// The values of `box` from values on a grid of `size` (x fastest), as doubles; `box` may reach
    /// beyond the grid, where each voxel takes the value of the nearest grid voxel.
    static func edgeExtendedDoubles(_ values: [Float], size: Size3, to box: IndexBox) -> [Double] {
        let n = box.size
        let columns = (box.lower.i...box.upper.i).map { min(max($0, 0), size.nx - 1) }
        var out = [Double](repeating: 0, count: n.count)
        var to = 0
        for k in box.lower.k...box.upper.k {
            let kk = min(max(k, 0), size.nz - 1)
            for j in box.lower.j...box.upper.j {
                let row = (kk * size.ny + min(max(j, 0), size.ny - 1)) * size.nx
                for i in columns { out[to] = Double(values[row + i]); to += 1 }
            }
        }
        return out
    }

    /// The values of `box` from values on a grid of `size` (x fastest).
    static func crop<T>(_ values: [T], size: Size3, to box: IndexBox) -> [T] {
        var out = [T]()
        out.reserveCapacity(box.size.count)
        for k in box.lower.k...box.upper.k {
            for j in box.lower.j...box.upper.j {
                let start = (k * size.ny + j) * size.nx + box.lower.i
                out.append(contentsOf: values[start..<(start + box.size.nx)])
            }
        }
        return out
    }
}
