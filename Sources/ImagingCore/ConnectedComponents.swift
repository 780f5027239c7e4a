/// 26-connected components of a binary mask.
///
/// Two voxels are connected when they share a face, an edge or a corner.
/// Components are numbered 1, 2, ... in the order in which their first voxel is
/// met scanning the grid x fastest, then y, then z: the numbering depends only on
/// the mask, never on memory layout or thread timing, so lesion ids derived from
/// it are stable from run to run.
public enum ConnectedComponents {
    /// A label map (0 = background) and the number of components.
    public static func label(_ mask: Mask) -> (labels: LabelMap, count: Int) {
        let n = mask.grid.size
        var labels = [Int32](repeating: 0, count: n.count)
        var next: Int32 = 0
        var stack = [Int]()
        for start in 0..<n.count where mask.voxels[start] && labels[start] == 0 {
            next += 1
            labels[start] = next
            stack.append(start)
            while let cur = stack.popLast() {
                let p = mask.grid.index(ofLinear: cur)
                for dk in -1...1 {
                    let k = p.k + dk
                    guard k >= 0 && k < n.nz else { continue }
                    for dj in -1...1 {
                        let j = p.j + dj
                        guard j >= 0 && j < n.ny else { continue }
                        for di in -1...1 {
                            let i = p.i + di
                            guard i >= 0 && i < n.nx else { continue }
                            let q = (k * n.ny + j) * n.nx + i
                            if mask.voxels[q] && labels[q] == 0 {
                                labels[q] = next
                                stack.append(q)
                            }
                        }
                    }
                }
            }
        }
        return (LabelMap(grid: mask.grid, voxels: labels), Int(next))
    }

    /// One mask per component, in component-number order.
    public static func split(_ mask: Mask) -> [Mask] {
        let (labels, count) = label(mask)
        guard count > 0 else { return [] }
        // Components are labelled 1...count, so the regions come in component-number order.
        return labels.labelRegions.map { labels.mask(of: $0) }
    }
}
