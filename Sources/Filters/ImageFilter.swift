import ImagingCore

/// A convolutional filter of IBSI 2 (reference manual, arXiv:2006.05470): turns an intensity image into a
/// response map on the same grid.
///
/// A filter computes its response only over a box of the image (a lesion's bounding box plus a margin), reading
/// the image over that box grown by the filter's support and applying its boundary condition at the image's
/// edges, so filtering one lesion never allocates a map of the whole scan. The response over a box equals the
/// response over the whole image cropped to that box.
public protocol ImageFilter: Sendable {
    /// A readable name of the filter and its parameters, used in feature names and file names, for example
    /// `mean_s15`, `log_s1.5`, `laws_l5e5e5_energy_d7_invar_max`, `gabor_s10_g0.5_l4_t60_2d` (see README,
    /// "Filters").
    var token: String { get }

    /// The response map over `box` (on the image's sub-grid of `box`), or over the whole image when `box` is nil.
    /// `box` is clipped to the image. Values are accumulated in double precision and stored as Float.
    func response(of image: Volume<Float>, over box: IndexBox?) -> Volume<Float>
}

extension ImageFilter {
    /// The response map over the whole image.
    public func response(of image: Volume<Float>) -> Volume<Float> { response(of: image, over: nil) }
}

/// Whether a filter is applied in 3D or slice by slice in the axial plane (IBSI 2, section 2.2: a 2D filter
/// treats each slice as a separate image; voxels of other slices never enter a slice's response).
public enum FilterDimensionality: String, CaseIterable, Codable, Sendable {
    case threeD = "3d"
    case twoD = "2d"

    /// The voxel axes the filter acts along: x, y (and z in 3D).
    public var axes: [Int] { self == .threeD ? [0, 1, 2] : [0, 1] }

    /// Token suffix: empty for 3D, `_2d` slice by slice.
    var tokenSuffix: String { self == .threeD ? "" : "_2d" }
}

/// How the responses of a filter's rotated or oriented copies are combined voxel by voxel into one
/// rotation-invariant response (IBSI 2, section 2.4 "rotation invariance": max, mean pooling).
public enum Pooling: String, CaseIterable, Codable, Sendable {
    case max
    case mean
}

extension IndexBox {
    /// The whole grid of `size`.
    public static func whole(_ size: Size3) -> IndexBox {
        IndexBox(lower: Index3(0, 0, 0), upper: Index3(size.nx - 1, size.ny - 1, size.nz - 1))
    }

    /// This box clipped to a grid of `size` (precondition: they overlap).
    public func clipped(to size: Size3) -> IndexBox {
        let b = IndexBox(lower: Index3(max(0, lower.i), max(0, lower.j), max(0, lower.k)),
                         upper: Index3(min(size.nx - 1, upper.i), min(size.ny - 1, upper.j),
                                       min(size.nz - 1, upper.k)))
        precondition(b.lower.i <= b.upper.i && b.lower.j <= b.upper.j && b.lower.k <= b.upper.k,
                     "box \(self) lies outside the image \(size)")
        return b
    }

    /// This box grown by `before` voxels below and `after` voxels above along `axis` (not clipped).
    func grown(axis: Int, before: Int, after: Int) -> IndexBox {
        var b = self
        switch axis {
        case 0: b.lower.i -= before; b.upper.i += after
        case 1: b.lower.j -= before; b.upper.j += after
        default: b.lower.k -= before; b.upper.k += after
        }
        return b
    }

    func lower(_ axis: Int) -> Int { axis == 0 ? lower.i : (axis == 1 ? lower.j : lower.k) }
    func upper(_ axis: Int) -> Int { axis == 0 ? upper.i : (axis == 1 ? upper.j : upper.k) }
}

/// Converts a length in mm to voxels along an axis of `spacing` mm (IBSI 2: filter parameters are given in
/// physical units and converted with the grid spacing of the image being filtered).
@inline(__always)
func voxels(_ millimetres: Double, spacing: Double) -> Double { millimetres / spacing }

/// Conversions between the double-precision working values of filters and feature families and the single-precision
/// storage of images and response maps, element by element (`Float(x)`, `Double(x)`): the same values as `map`, in a
/// straight loop the optimiser vectorises (`map` appends one element at a time, about 15 instructions each; a
/// lesion's filtered-image extraction converts tens of millions).
public enum Precision {
    /// Each value rounded to single precision, as `Float(_:)` rounds it.
    public static func singles(_ values: [Double]) -> [Float] {
        [Float](unsafeUninitializedCapacity: values.count) { out, initialised in
            values.withUnsafeBufferPointer { v in
                for n in 0..<v.count { out[n] = Float(v[n]) }
            }
            initialised = values.count
        }
    }

    /// Each value in double precision (exactly).
    public static func doubles(_ values: [Float]) -> [Double] {
        [Double](unsafeUninitializedCapacity: values.count) { out, initialised in
            values.withUnsafeBufferPointer { v in
                for n in 0..<v.count { out[n] = Double(v[n]) }
            }
            initialised = values.count
        }
    }
}
