import Foundation

/// PyRadiomics' voxel-wise image types (PyRadiomics 3 `imageoperations.get<Type>Image`), exactly as
/// PyRadiomics defines them; IBSI 2 has no counterpart. Each maps an intensity `x` to a new one with a
/// constant `c = max |x|` over the image (PyRadiomics: over the image it filters, the whole image when it
/// is not resampled), so that the result keeps the image's range.
public enum IntensityTransform: String, CaseIterable, Codable, Sendable {
    /// PyRadiomics `Square`: `(x / sqrt(c))²`.
    case square
    /// PyRadiomics `SquareRoot`: `sqrt(c x)` for `x >= 0`, `-sqrt(-c x)` for `x < 0`.
    case squareRoot
    /// PyRadiomics `Logarithm`: `c log(x + 1) / log(c + 1)` for `x >= 0`, `-c log(1 - x) / log(c + 1)` for
    /// `x < 0` (PyRadiomics divides by the largest |log| of the image, which is `log(c + 1)`).
    case logarithm
    /// PyRadiomics `Exponential`: `exp(x log(c) / c)`.
    case exponential

    /// The transform of `x` for the image constant `c = max |x|` (c > 0).
    @inline(__always)
    public func apply(_ x: Double, maxAbsolute c: Double) -> Double {
        switch self {
        case .square:
            let coefficient = 1 / c.squareRoot()
            let y = coefficient * x
            return y * y
        case .squareRoot:
            return x > 0 ? (x * c).squareRoot() : (x < 0 ? -(-x * c).squareRoot() : x)
        case .logarithm:
            let scale = c / Foundation.log(c + 1)
            return x > 0 ? Foundation.log(x + 1) * scale : (x < 0 ? -Foundation.log(-(x - 1)) * scale : x)
        case .exponential:
            return Foundation.exp(Foundation.log(c) / c * x)
        }
    }

    /// `values` transformed for the image constant `c = max |x|`; every value stays finite for finite input
    /// as long as `c > 0` (an all-zero image is returned unchanged, as its transforms are all 0 or 1:
    /// PyRadiomics divides by zero there).
    public func apply(_ values: [Double], maxAbsolute c: Double) -> [Double] {
        guard c > 0, c.isFinite else {
            return self == .exponential ? values.map { _ in 1 } : values.map { _ in 0 }
        }
        return values.map { apply($0, maxAbsolute: c) }
    }
}
