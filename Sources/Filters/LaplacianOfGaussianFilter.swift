import Foundation
import ImagingCore

/// Laplacian of Gaussian filter (IBSI 2 reference manual, section "Laplacian of Gaussian"; phase 1
/// configurations 2A, 2B, 2C).
///
/// g(x) = -(1/σ²) (2πσ²)^(-d/2) (d - |x|²/σ²) exp(-|x|²/(2σ²)), with x in voxels, σ = σ_mm / spacing and d = 3
/// (or 2, slice by slice), sampled on the voxel grid and truncated at a radius of ⌊mσ + ½⌋ voxels (m the
/// truncation in σ, 4 by default). It responds to blobs of radius about σ√d: negative on bright blobs. The kernel is
/// not rescaled to sum to zero or multiplied by σ², as the manual defines it.
///
/// Since ∇²G = Σ_a ∂²G/∂x_a², the kernel is the sum of d separable kernels (the second derivative of a 1D
/// Gaussian along one axis, the Gaussian along the others), applied as d sets of 1D passes. On an anisotropic
/// grid σ is converted to voxels per axis.
///
/// IBSI 2 identifier: L6PA — unconfirmed: the reference manual's text (arXiv:2006.05470) could not be read
/// here; the code is the one a third-party IBSI 2 implementation (pictologics) lists for this filter.
public struct LaplacianOfGaussianFilter: ImageFilter, Hashable {
    /// Standard deviation of the Gaussian in mm.
    public var sigma: Double
    /// Truncation radius in units of σ.
    public var truncation: Double
    public var dimensionality: FilterDimensionality
    public var boundary: BoundaryCondition

    public init(sigma: Double, truncation: Double = 4, dimensionality: FilterDimensionality = .threeD,
                boundary: BoundaryCondition = .mirror) {
        precondition(sigma > 0 && truncation > 0, "the LoG needs a positive sigma and truncation")
        self.sigma = sigma
        self.truncation = truncation
        self.dimensionality = dimensionality
        self.boundary = boundary
    }

    /// `log_s<σ mm>` (`_t<m>` when the truncation is not 4; `_2d` slice by slice).
    public var token: String {
        "log_s\(formatParameter(sigma))" + (truncation == 4 ? "" : "_t\(formatParameter(truncation))")
            + dimensionality.tokenSuffix
    }

    /// The 1D Gaussian G(x) = exp(-x²/(2s²)) / (s√(2π)) and its second derivative (x²/s⁴ - 1/s²) G(x) for σ = `s`
    /// voxels, over -R...R with R = ⌊m s + ½⌋.
    public static func kernels(sigmaVoxels s: Double, truncation m: Double) -> (gaussian: Kernel1D, second: Kernel1D) {
        let r = Int((m * s + 0.5).rounded(.down))
        let xs = (-r...r).map(Double.init)
        let g = xs.map { exp(-$0 * $0 / (2 * s * s)) / (s * (2 * Double.pi).squareRoot()) }
        let d2 = zip(xs, g).map { x, gx in (x * x / (s * s * s * s) - 1 / (s * s)) * gx }
        return (Kernel1D(g), Kernel1D(d2))
    }

    /// The d separable terms whose sum is the kernel.
    public func terms(spacing: Vector3) -> [SeparableKernel] {
        let sp = [spacing.x, spacing.y, spacing.z]
        let axes = dimensionality.axes
        let per = sp.map { Self.kernels(sigmaVoxels: voxels(sigma, spacing: $0), truncation: truncation) }
        return axes.map { a in
            var ks: [Kernel1D?] = [nil, nil, nil]
            for b in axes { ks[b] = b == a ? per[b].second : per[b].gaussian }
            return SeparableKernel(x: ks[0], y: ks[1], z: ks[2])
        }
    }

    public func response(of image: Volume<Float>, over box: IndexBox?) -> Volume<Float> {
        let box = box?.clipped(to: image.size) ?? .whole(image.size)
        let terms = terms(spacing: image.grid.spacing)
        // Every term has the same support (the same radius per axis): read the image once. Terms sharing their
        // z kernel (the Gaussian, for the x and y second derivatives in 3D) share that pass, the block's largest.
        let block = FilterBlock.read(image, over: terms[0].support(of: box), boundary: boundary)
        var alongZ = [Kernel1D: FilterBlock]()
        func term(_ t: SeparableKernel) -> FilterBlock {
            var b = block
            if let kz = t.kernels[2] {
                if let done = alongZ[kz] {
                    b = done
                } else {
                    b = b.convolved(along: 2, with: kz)
                    alongZ[kz] = b
                }
            }
            if let ky = t.kernels[1] { b = b.convolved(along: 1, with: ky) }
            if let kx = t.kernels[0] { b = b.convolved(along: 0, with: kx) }
            return b
        }
        var sum = term(terms[0])
        for t in terms.dropFirst() {
            let r = term(t)
            sum.values.withUnsafeMutableBufferPointer { s in
                r.values.withUnsafeBufferPointer { v in for n in 0..<s.count { s[n] += v[n] } }
            }
        }
        return sum.volume(on: image.grid)
    }
}

/// A parameter as written in tokens: integers without a decimal point, others as Swift prints them (`1.5`).
func formatParameter(_ v: Double) -> String {
    v == v.rounded() && abs(v) < 1e9 ? String(Int(v)) : String(v)
}
