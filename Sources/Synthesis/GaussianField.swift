import Foundation
import ImagingCore

/// Stationary Gaussian random fields: white noise smoothed by a separable Gaussian kernel,
/// rescaled to unit variance. Used for lesion texture and for correlated scan noise.
enum GaussianField {
    /// Normalised Gaussian weights of standard deviation `sigma` voxels (radius 3σ);
    /// `[1]` when σ < 0.3 voxel (the smoothing would be below the sampling).
    static func kernel(sigma: Double) -> [Float] {
        guard sigma >= 0.3 else { return [1] }
        let r = Int((3 * sigma).rounded(.up))
        var w = (-r...r).map { Foundation.exp(-Double($0 * $0) / (2 * sigma * sigma)) }
        let sum = w.reduce(0, +)
        w = w.map { $0 / sum }
        return w.map(Float.init)
    }

    /// A unit-variance field on `size` voxels with correlation lengths `sigma` (voxels per axis).
    static func sample(size: Size3, sigma: Vector3, rng: inout SynthesisRandom) -> [Float] {
        let kernels = (0..<3).map { kernel(sigma: sigma[$0]) }
        let pad = kernels.map { ($0.count - 1) / 2 }
        var dims = [size.nx + 2 * pad[0], size.ny + 2 * pad[1], size.nz + 2 * pad[2]]
        var data = [Float](repeating: 0, count: dims[0] * dims[1] * dims[2])
        rng.fillNormal(&data)
        var variance: Float = 1
        for axis in 0..<3 where kernels[axis].count > 1 {
            data = convolveValid(data, dims: &dims, axis: axis, kernel: kernels[axis])
            variance *= kernels[axis].reduce(0) { $0 + $1 * $1 }
        }
        let scale = 1 / variance.squareRoot()
        for n in data.indices { data[n] *= scale }
        return data
    }

    /// Convolution along `axis` keeping only outputs whose kernel lies fully inside the input.
    private static func convolveValid(_ input: [Float], dims: inout [Int], axis: Int, kernel: [Float]) -> [Float] {
        let r = (kernel.count - 1) / 2
        var outDims = dims
        outDims[axis] -= 2 * r
        let inStride = axis == 0 ? 1 : (axis == 1 ? dims[0] : dims[0] * dims[1])
        var out = [Float](repeating: 0, count: outDims[0] * outDims[1] * outDims[2])
        input.withUnsafeBufferPointer { src in
            out.withUnsafeMutableBufferPointer { dst in
                kernel.withUnsafeBufferPointer { w in
                    var o = 0
                    for k in 0..<outDims[2] {
                        for j in 0..<outDims[1] {
                            for i in 0..<outDims[0] {
                                // Output (i, j, k) reads input (i, j, k) + t along `axis`, t = 0..<2r+1.
                                let base = (k * dims[1] + j) * dims[0] + i
                                var acc: Float = 0
                                var p = base
                                for t in 0..<w.count {
                                    acc += w[t] * src[p]
                                    p += inStride
                                }
                                dst[o] = acc
                                o += 1
                            }
                        }
                    }
                }
            }
        }
        dims = outDims
        return out
    }
}
