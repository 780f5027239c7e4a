import Foundation
import ImagingCore

/// The noise level of an image, for the `noise` perturbation.
///
/// Wavelet-based estimator of Donoho & Johnstone (1994) as used by Chang, Yu & Vetterli (IEEE Trans Image
/// Process 2000) and by MIRP's `estimate_image_noise(method="chang")`: the finest diagonal detail band of a
/// one-level Haar transform in every axial slice, d = (x₀₀ − x₁₀ − x₀₁ + x₁₁) / 2 over non-overlapping 2 × 2
/// blocks, holds almost only noise; for white Gaussian noise of SD σ each d has SD σ, and
///
///     σ̂ = median(|d|) / 0.6745
///
/// (0.6745 = Φ⁻¹(0.75), the median of |Z|), robust to the edges and structures that make a few d large.
/// Blocks holding a voxel at or below `floor` (e.g. the −1024 HU padding outside a CT's field of view) are
/// skipped. The estimate is of the image's in-plane white-noise component: noise correlated over
/// neighbouring voxels (smooth reconstruction kernels) is partly invisible to it, so it tends to be an
/// underestimate there.
public enum NoiseEstimate {
    /// σ̂ of `image` (in its units, HU for CT); 0 when no block qualifies.
    public static func chang(_ image: Volume<Float>, floor: Float = -1024) -> Double {
        let n = image.grid.size
        guard n.nx >= 2, n.ny >= 2 else { return 0 }
        var d: [Float] = []
        d.reserveCapacity((n.nx / 2) * (n.ny / 2) * n.nz)
        image.voxels.withUnsafeBufferPointer { v in
            for k in 0..<n.nz {
                for j in stride(from: 0, to: n.ny - 1, by: 2) {
                    let r0 = (k * n.ny + j) * n.nx, r1 = r0 + n.nx
                    for i in stride(from: 0, to: n.nx - 1, by: 2) {
                        let a = v[r0 + i], b = v[r0 + i + 1], c = v[r1 + i], e = v[r1 + i + 1]
                        if min(min(a, b), min(c, e)) <= floor { continue }
                        d.append(abs(a - b - c + e) / 2)
                    }
                }
            }
        }
        guard !d.isEmpty else { return 0 }
        let m = d.count / 2
        let sorted = d.sorted()
        let median = d.count % 2 == 1 ? Double(sorted[m]) : (Double(sorted[m - 1]) + Double(sorted[m])) / 2
        return median / 0.6744897501960817
    }
}
