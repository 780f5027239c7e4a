import Foundation
import ImagingCore
import Filters

/// Response maps of the settings' filters over a region's box (IBSI 2 order of operations: the
/// interpolated image is filtered; the ROI comes from the unfiltered intensities).
///
/// A response is computed over the region's box only: the filter reads the interpolated image over that
/// box grown by the filter's support (`margin`), clipped to the image. Where the grown box reaches the
/// image's edge the filter's boundary condition applies there, as for the whole image; elsewhere the
/// support never reaches the grown box's edge, so the response inside the region's box is the one the
/// whole image would give. Filters whose support is the whole image (defined in the Fourier domain)
/// read the whole interpolated image.
enum ResponseMaps {
    /// Voxels (on the filtered grid of `spacing` mm) the response at a voxel reads on each side, per axis;
    /// nil when the filter reads the whole image.
    static func margin(_ filter: FilterSpec, spacing: Vector3) -> Index3? {
        let planar = filter.dimensionality == .twoD
        func cube(_ r: Int) -> Index3 { Index3(r, r, planar ? 0 : r) }
        func mm(_ radius: Double) -> Index3 {
            func voxels(_ h: Double) -> Int { Int((radius / h).rounded(.up)) }
            return Index3(voxels(spacing.x), voxels(spacing.y), planar ? 0 : voxels(spacing.z))
        }
        switch filter {
        case .square, .squareRoot, .logarithm, .exponential:
            return Index3(0, 0, 0)
        case .gradient:
            return cube(GradientMagnitude.support)
        case .mean(let support, _, _):
            return cube(support / 2)
        case .laplacianOfGaussian(let sigma, let truncate, _, _):
            // The kernel reaches `truncate` standard deviations, plus a voxel for rounding.
            let m = mm(sigma * (truncate ?? FilterSpec.defaultTruncate))
            return Index3(m.i + 1, m.j + 1, planar ? 0 : m.k + 1)
        case .laws(let kernels, let delta, _, _, _):
            let half = (FilterSpec.lawsKernelNames(kernels)?.map { Int($0.dropFirst())! }.max() ?? 5) / 2
            return cube(half + (delta ?? 0))
        case .gabor(let sigma, let gamma, _, _, _, _, _, let planes, let truncate, _):
            // The kernel's square reaches ⌈m · max(σ, σ/γ)⌉ voxels (σ in voxels of the finest in-plane axis);
            // without a truncation it is as large as the image: the whole image is read.
            guard let m = truncate else { return nil }
            let finest = min(spacing.x, spacing.y, planes == true ? spacing.z : .infinity)
            let r = Int((m * max(sigma, sigma / gamma) / finest).rounded(.up)) + 1
            return planes == true ? Index3(r, r, r) : Index3(r, r, 0)
        case .wavelet:
            guard let w = filter.imageFilter as? SeparableWaveletFilter else { return nil }
            let r = w.supportRadius + 1
            return w.dimensionality == .twoD ? Index3(r, r, 0) : Index3(r, r, r)
        case .simoncelli(_, let margin, _, _):
            // The transformed domain: the box grown by the margin, or the whole image.
            guard let m = margin else { return nil }
            return cube(m)
        }
    }

    /// The box (indices of the filtered grid of `size`) a filter reads to give its response over `box`.
    static func filterBox(_ filter: FilterSpec, box: IndexBox, size: Size3, spacing: Vector3) -> IndexBox {
        guard let m = margin(filter, spacing: spacing) else {
            return IndexBox(lower: Index3(0, 0, 0), upper: Index3(size.nx - 1, size.ny - 1, size.nz - 1))
        }
        return box.expanded(by: m, within: size)
    }

    /// The response of `filter` over `box` from `values` (the image on `readBox`, which holds `box`),
    /// x fastest on `box`. `singles` are `values` in single precision when the caller has them (the convolutional
    /// filters read those; nil: converted here). `maxAbsolute` is the image's largest |intensity| (PyRadiomics'
    /// voxel-wise image types scale by it).
    static func response(_ filter: FilterSpec, values: [Double], singles: [Float]? = nil, readBox: IndexBox,
                         box: IndexBox, spacing: Vector3, maxAbsolute: Double) throws -> [Double] {
        let inner = IndexBox(lower: Index3(box.lower.i - readBox.lower.i, box.lower.j - readBox.lower.j,
                                           box.lower.k - readBox.lower.k),
                             upper: Index3(box.upper.i - readBox.lower.i, box.upper.j - readBox.lower.j,
                                           box.upper.k - readBox.lower.k))
        let size = readBox.size
        switch filter {
        case .square, .squareRoot, .logarithm, .exponential:
            let transform: IntensityTransform
            switch filter {
            case .square: transform = .square
            case .squareRoot: transform = .squareRoot
            case .logarithm: transform = .logarithm
            default: transform = .exponential
            }
            return transform.apply(Preprocessor.crop(values, size: size, to: inner), maxAbsolute: maxAbsolute)
        case .gradient(let useSpacing):
            return GradientMagnitude(useSpacing: useSpacing ?? true).response(values, size: size, spacing: spacing,
                                                                              box: inner)
        case .mean, .laplacianOfGaussian, .laws, .gabor, .wavelet, .simoncelli:
            guard let imageFilter = filter.imageFilter else {
                throw RadiomicsError.invalidSettings("filter \(filter.token): not available in this build")
            }
            // The read box stands for the image: its edges are the image's where it was clipped to it, and
            // farther from `box` than the filter's support elsewhere.
            let grid = ImageGrid(size: size, spacing: spacing)
            let image = Volume(grid: grid, voxels: singles ?? Precision.singles(values))
            return Precision.doubles(imageFilter.response(of: image, over: inner).voxels)
        }
    }

    /// The responses over `box` of the separable wavelet sub-bands among `filters` that share a decomposition
    /// with another one, by their index in `filters` (the others are left to `response`), from `singles` (the image
    /// on `readBox` in single precision). Each equals what
    /// `response` gives for that filter alone (`SeparableWaveletFilter.responses` computes the same passes, once
    /// for the sub-bands that share them).
    static func sharedWaveletResponses(_ filters: [FilterSpec], singles: [Float], readBox: IndexBox, box: IndexBox,
                                       spacing: Vector3) -> [Int: Volume<Float>] {
        var wavelets = [(index: Int, filter: SeparableWaveletFilter)]()
        for (n, f) in filters.enumerated() {
            if case .wavelet = f, let w = f.imageFilter as? SeparableWaveletFilter { wavelets.append((n, w)) }
        }
        guard wavelets.count > 1 else { return [:] }
        let inner = IndexBox(lower: Index3(box.lower.i - readBox.lower.i, box.lower.j - readBox.lower.j,
                                           box.lower.k - readBox.lower.k),
                             upper: Index3(box.upper.i - readBox.lower.i, box.upper.j - readBox.lower.j,
                                           box.upper.k - readBox.lower.k))
        let image = Volume(grid: ImageGrid(size: readBox.size, spacing: spacing), voxels: singles)
        let maps = SeparableWaveletFilter.responses(of: wavelets.map(\.filter), image: image, over: inner)
        var out = [Int: Volume<Float>]()
        for (w, map) in zip(wavelets, maps) { out[w.index] = map }
        return out
    }

    /// The part of a region's box (indices of the box) its response maps are computed over: the box of its
    /// masks, grown in y and z by the local-intensity sphere's reach when that family is asked for (then with the
    /// box's whole x extent); the whole box when a filter's values depend on the box they are computed over (a
    /// Simoncelli wavelet with a margin: its transform's domain grows with the box; a Gabor filter: its FFT
    /// convolution's size follows the box, and FFT sizes round differently in the last bits).
    ///
    /// No family reads a map beyond: the intensity families read the intensity mask, the texture families the
    /// morphological mask's box, local intensity the spheres around the intensity mask's voxels. The box's own
    /// margin (the sphere's reach plus a voxel, for any interpolation) costs every filter a few more rows and
    /// slices for nothing. The response at a voxel does not depend on the box asked for (the image read is the
    /// same), so the maps hold the very values they held over the whole box. With local intensity x is kept
    /// whole: it sums each row from the box's first voxel, and so keeps its sums.
    static func mapBox(_ region: PreparedRegion, families: [FeatureFamily], filters: [FilterSpec]) -> IndexBox {
        let n = region.grid.size, whole = IndexBox.whole(n)
        let dependsOnBox = filters.contains {
            switch $0 {
            case .simoncelli(_, let margin, _, _): return margin != nil
            case .gabor: return true
            default: return false
            }
        }
        guard !dependsOnBox, let morph = Preprocessor.boundingBox(region.morphMask, size: n) else { return whole }
        var lower = morph.lower, upper = morph.upper
        if let roi = Preprocessor.boundingBox(region.intensityMask, size: n) {
            lower = Index3(min(lower.i, roi.lower.i), min(lower.j, roi.lower.j), min(lower.k, roi.lower.k))
            upper = Index3(max(upper.i, roi.upper.i), max(upper.j, roi.upper.j), max(upper.k, roi.upper.k))
        }
        guard families.contains(.localIntensity) else { return IndexBox(lower: lower, upper: upper) }
        let reach = LocalIntensity.reach(spacing: region.grid.spacing)
        return IndexBox(lower: Index3(0, max(0, lower.j - reach.rows), max(0, lower.k - reach.slices)),
                        upper: Index3(n.nx - 1, min(n.ny - 1, upper.j + reach.rows), min(n.nz - 1, upper.k + reach.slices)))
    }

    /// Whether every value is finite (no infinity, no NaN): their exponent bits are never all ones. One pass that
    /// counts without branching (vectorised), so the search for the first bad value runs only when there is one.
    static func allFinite(_ values: [Double]) -> Bool {
        let exponent: UInt64 = 0x7FF0_0000_0000_0000
        var bad = 0
        values.withUnsafeBufferPointer { v in
            for x in v { bad &+= x.bitPattern & exponent == exponent ? 1 : 0 }
        }
        return bad == 0
    }

    /// The largest |intensity| of `image`.
    static func maxAbsolute(_ image: Volume<Float>) -> Double {
        var m: Float = 0
        for x in image.voxels { m = max(m, Swift.abs(x)) }
        return Double(m)
    }
}

extension PreparedRegion {
    /// The region on `box` (indices of its grid), its masks and intensities cropped to it.
    func cropped(to box: IndexBox) -> PreparedRegion {
        let n = grid.size
        guard box != .whole(n) else { return self }
        return PreparedRegion(grid: grid.subgrid(box), intensities: Preprocessor.crop(intensities, size: n, to: box),
                              morphMask: Preprocessor.crop(morphMask, size: n, to: box),
                              intensityMask: Preprocessor.crop(intensityMask, size: n, to: box))
    }
}

/// A whole image's response map (`lesionmap filter`): for viewing, and for conformance with the IBSI 2 phase 1
/// response maps.
public enum FilteredImage {
    /// The response of the settings' one filter (`filtering.filters`) over the whole image, after the settings'
    /// resampling (the map is on the resampled grid, the image's own grid without resampling). Throws
    /// `RadiomicsError.invalidSettings` when the settings hold no filter or several.
    public static func responseMap(of image: Volume<Float>, settings: ExtractionSettings) throws -> Volume<Float> {
        let filters = settings.filtering?.filters ?? []
        guard filters.count == 1, let filter = filters.first else {
            throw RadiomicsError.invalidSettings(filters.isEmpty
                ? "the settings name no filter (filtering.filters); a response map needs one"
                : "the settings name \(filters.count) filters (\(filters.map(\.token).joined(separator: ", "))); a response map is written for one filter at a time")
        }
        let settings = try settings.validated()
        try image.grid.validate()
        let maps = try Resampler.axisMaps(for: image.grid, resampling: settings.resampling)
        let grid = Resampler.newGrid(of: image.grid, maps: maps)
        let whole = IndexBox.whole(grid.size)
        let values = Preprocessor.resampledIntensities(image: image, newBox: whole, maps: maps, settings: settings)
        let response = try ResponseMaps.response(filter, values: values, readBox: whole, box: whole, spacing: grid.spacing,
                                                 maxAbsolute: ResponseMaps.maxAbsolute(image))
        return Volume(grid: grid, voxels: Precision.singles(response))
    }
}
