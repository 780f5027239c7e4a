import Foundation
import ImagingCore

/// PyRadiomics `Gradient` image type: the magnitude of the intensity gradient, as SimpleITK's
/// `GradientMagnitudeImageFilter` computes it: central differences along each axis,
/// `|∇x| = sqrt(Σ_a ((x[i + e_a] - x[i - e_a]) / (2 h_a))²)`, with `h_a` the spacing in mm
/// (`useSpacing`, PyRadiomics' `gradientUseSpacing`, default true) or 1, and the edge voxel repeated
/// outside the image (ITK's zero-flux Neumann boundary, IBSI 2 "nearest"). No IBSI 2 identifier.
public struct GradientMagnitude: Sendable, Hashable {
    public var useSpacing: Bool

    public init(useSpacing: Bool = true) { self.useSpacing = useSpacing }

    /// Voxels the response at a voxel reads on each side along each axis.
    public static let support = 1

    /// The gradient magnitude over `box` of `values` (a grid of `size`, x fastest, spacing `spacing`),
    /// x fastest on the box; voxels outside `values` are those of the nearest edge.
    public func response(_ values: [Double], size: Size3, spacing: Vector3, box: IndexBox) -> [Double] {
        precondition(values.count == size.count, "values must cover the grid")
        let h = useSpacing ? spacing : Vector3(1, 1, 1)
        let sx = 1 / (2 * h.x), sy = 1 / (2 * h.y), sz = 1 / (2 * h.z)
        let nx = size.nx, ny = size.ny, nz = size.nz, plane = nx * ny
        var out = [Double]()
        out.reserveCapacity(box.size.count)
        values.withUnsafeBufferPointer { x in
            for k in box.lower.k...box.upper.k {
                for j in box.lower.j...box.upper.j {
                    for i in box.lower.i...box.upper.i {
                        let n = (k * ny + j) * nx + i
                        var sum = 0.0
                        // An axis of one voxel has no gradient (ITK: the difference of the edge with itself).
                        if nx > 1 {
                            let d = (x[i < nx - 1 ? n + 1 : n] - x[i > 0 ? n - 1 : n]) * sx
                            sum += d * d
                        }
                        if ny > 1 {
                            let d = (x[j < ny - 1 ? n + nx : n] - x[j > 0 ? n - nx : n]) * sy
                            sum += d * d
                        }
                        if nz > 1 {
                            let d = (x[k < nz - 1 ? n + plane : n] - x[k > 0 ? n - plane : n]) * sz
                            sum += d * d
                        }
                        out.append(sum.squareRoot())
                    }
                }
            }
        }
        return out
    }
}
