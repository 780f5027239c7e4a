/// Binary morphology with a ball of a radius in millimetres.
///
/// The structuring element is the set of voxel offsets whose physical length is at
/// most the radius, so anisotropic voxels (e.g. 0.8 x 0.8 x 3 mm) are respected:
/// a 5 mm dilation grows 6 voxels in-plane but only 1 voxel across slices.
/// Both operations run in time linear in the voxel count, whatever the radius,
/// through an exact Euclidean distance transform (Felzenszwalb & Huttenlocher 2012)
/// in physical units.
public enum Morphology {
    /// Voxels within `radius` mm of the mask (centre to centre). The result stays on the mask's grid;
    /// crop with a margin first when the ball may reach beyond the image edge.
    public static func dilate(_ mask: Mask, radiusMM radius: Double) -> Mask {
        guard radius > 0 else { return mask }
        let d2 = squaredDistanceTransform(to: mask.voxels, grid: mask.grid)
        let r2 = radius * radius * (1 + 1e-12)
        return Mask(grid: mask.grid, voxels: d2.map { $0 <= r2 })
    }

    /// Voxels of the mask whose whole ball of `radius` mm lies inside the mask.
    /// Outside the image counts as inside (as ITK's default), so a mask touching the
    /// image edge is not eroded from that side.
    public static func erode(_ mask: Mask, radiusMM radius: Double) -> Mask {
        guard radius > 0 else { return mask }
        let background = mask.voxels.map { !$0 }
        guard background.contains(true) else { return mask }
        let d2 = squaredDistanceTransform(to: background, grid: mask.grid)
        let r2 = radius * radius * (1 + 1e-12)
        return Mask(grid: mask.grid, voxels: d2.map { $0 > r2 })
    }

    /// Squared physical distance (mm²) from every voxel centre to the nearest voxel where `feature` is true;
    /// `.infinity` everywhere when no voxel is set.
    public static func squaredDistanceTransform(to feature: [Bool], grid: ImageGrid) -> [Double] {
        let n = grid.size
        var f = feature.map { $0 ? 0.0 : Double.infinity }
        guard feature.contains(true) else { return f }
        let maxLen = max(n.nx, n.ny, n.nz)
        var line = [Double](repeating: 0, count: maxLen)
        var out = [Double](repeating: 0, count: maxLen)
        var v = [Int](repeating: 0, count: maxLen)
        var z = [Double](repeating: 0, count: maxLen + 1)
        // One pass per axis: stride and count of lines along that axis.
        let passes: [(len: Int, stride: Int, spacing: Double)] = [
            (n.nx, 1, grid.spacing.x), (n.ny, n.nx, grid.spacing.y), (n.nz, n.nx * n.ny, grid.spacing.z),
        ]
        for pass in passes {
            for start in lineStarts(size: n, stride: pass.stride) {
                for t in 0..<pass.len { line[t] = f[start + t * pass.stride] }
                distance1D(line, count: pass.len, spacing: pass.spacing, out: &out, v: &v, z: &z)
                for t in 0..<pass.len { f[start + t * pass.stride] = out[t] }
            }
        }
        return f
    }

    /// First linear index of every line along the axis whose stride is `stride`.
    private static func lineStarts(size n: Size3, stride: Int) -> [Int] {
        var starts = [Int]()
        if stride == 1 {
            for k in 0..<n.nz { for j in 0..<n.ny { starts.append((k * n.ny + j) * n.nx) } }
        } else if stride == n.nx {
            for k in 0..<n.nz { for i in 0..<n.nx { starts.append(k * n.ny * n.nx + i) } }
        } else {
            for j in 0..<n.ny { for i in 0..<n.nx { starts.append(j * n.nx + i) } }
        }
        return starts
    }

    /// 1D squared distance transform of sampled function `f` (lower envelope of parabolas).
    private static func distance1D(_ f: [Double], count: Int, spacing h: Double,
                                   out d: inout [Double], v: inout [Int], z: inout [Double]) {
        var k = -1
        for q in 0..<count where f[q].isFinite {
            let xq = Double(q) * h
            if k < 0 {
                k = 0; v[0] = q; z[0] = -.infinity; z[1] = .infinity
                continue
            }
            var s = 0.0
            while true {
                let xv = Double(v[k]) * h
                s = ((f[q] + xq * xq) - (f[v[k]] + xv * xv)) / (2 * (xq - xv))
                if s <= z[k] && k > 0 { k -= 1 } else { break }
            }
            if s <= z[k] {  // k == 0 and the new parabola dominates everywhere
                v[0] = q; z[0] = -.infinity; z[1] = .infinity
            } else {
                k += 1; v[k] = q; z[k] = s; z[k + 1] = .infinity
            }
        }
        guard k >= 0 else {
            for q in 0..<count { d[q] = .infinity }
            return
        }
        var j = 0
        for q in 0..<count {
            let xq = Double(q) * h
            while z[j + 1] < xq { j += 1 }
            let dx = xq - Double(v[j]) * h
            d[q] = dx * dx + f[v[j]]
        }
    }
}
