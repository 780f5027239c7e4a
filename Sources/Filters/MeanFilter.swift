import ImagingCore

/// Mean filter (IBSI 2 reference manual, section "Mean filter"; phase 1 configurations 1A1-1A4 and 1B1).
///
/// g(x) = 1 / M^d for x in the cube (or square, in 2D) of M voxels per side centred on the voxel, 0
/// elsewhere: each voxel becomes the mean of its M^d neighbourhood, the image being padded at its edges by
/// the boundary condition. The support M is an odd number of voxels (IBSI 2 defines it in voxels, not mm).
/// Separable: M-tap box kernels along each axis.
///
/// IBSI 2 identifier: S60F — unconfirmed: the reference manual's text (arXiv:2006.05470) could not be read
/// here; the code is the one a third-party IBSI 2 implementation (pictologics) lists for this filter.
public struct MeanFilter: ImageFilter, Hashable {
    public var support: Int
    public var dimensionality: FilterDimensionality
    public var boundary: BoundaryCondition

    public init(support: Int, dimensionality: FilterDimensionality = .threeD, boundary: BoundaryCondition = .mirror) {
        precondition(support >= 1 && support % 2 == 1, "the mean filter's support must be an odd number of voxels")
        self.support = support
        self.dimensionality = dimensionality
        self.boundary = boundary
    }

    /// `mean_s<M>` (`_2d` appended slice by slice).
    public var token: String { "mean_s\(support)" + dimensionality.tokenSuffix }

    public var kernel: SeparableKernel {
        let k = Kernel1D([Double](repeating: 1 / Double(support), count: support))
        return SeparableKernel(x: k, y: k, z: dimensionality == .threeD ? k : nil)
    }

    public func response(of image: Volume<Float>, over box: IndexBox?) -> Volume<Float> {
        let box = box?.clipped(to: image.size) ?? .whole(image.size)
        return kernel.apply(to: image, over: box, boundary: boundary).volume(on: image.grid)
    }
}
