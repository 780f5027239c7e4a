import Foundation
import ImagingCore

/// A lesion and what surrounds it on a box of its scan's grid: what a perturbation changes, and what
/// feature extraction then reads (the lesion for its own features; lesion, others and image for its ring).
public struct LesionNeighbourhood: Sendable {
    /// Intensities on the box.
    public var image: Volume<Float>
    /// The lesion on the box's grid.
    public var lesion: Mask
    /// The patient's other lesions of the same scan on the box's grid (peritumoral rings leave them out).
    public var others: Mask

    public init(image: Volume<Float>, lesion: Mask, others: Mask) {
        self.image = image; self.lesion = lesion; self.others = others
    }

    /// The box of `scan` that a lesion's features under perturbation need: the lesion's bounding box grown by
    /// `marginMM` (ring width, local-intensity sphere, how far the perturbations reach) plus two voxels for
    /// interpolation, clipped to the scan.
    public static func box(lesionBox: IndexBox, grid: ImageGrid, marginMM: Double) -> IndexBox {
        let sp = grid.spacing
        let margin = Index3(Int((marginMM / sp.x).rounded(.up)) + 2, Int((marginMM / sp.y).rounded(.up)) + 2,
                            Int((marginMM / sp.z).rounded(.up)) + 2)
        return lesionBox.expanded(by: margin, within: grid.size)
    }
}

extension Perturbation {
    /// The perturbed neighbourhood of `lesion` on `box`.
    ///
    /// - Parameters:
    ///   - image: the whole scan (geometric perturbations sample it beyond the box; samples beyond the scan
    ///     take the nearest edge voxel).
    ///   - lesion, others: on the scan's grid (`others`: union of the other lesions, nil when there are none).
    ///   - noiseSD: the image's noise level (`NoiseEstimate.chang`), for `noise`.
    ///   - random: the stream of this lesion and perturbation (`PerturbationRandom(seed:keys:)`).
    /// - Throws: `PerturbationError` when the perturbation leaves no voxel of the lesion (an erosion larger
    ///   than the lesion, a translation or rotation of a lesion thinner than a voxel).
    public func apply(image: Volume<Float>, lesion: Mask, others: Mask?, box: IndexBox, noiseSD: Double,
                      random: inout PerturbationRandom) throws -> LesionNeighbourhood {
        let boxGrid = image.grid.subgrid(box)
        let othersOnBox = others?.cropped(to: box) ?? Mask(grid: boxGrid, repeating: false)
        var out = LesionNeighbourhood(image: image.cropped(to: box), lesion: lesion.cropped(to: box), others: othersOnBox)
        switch self {
        case .original:
            break
        case .growth(let mm):
            // A grown lesion does not absorb the patient's other lesions (as the ring leaves them out).
            out.lesion = mm > 0 ? Morphology.dilate(out.lesion, radiusMM: mm).subtracting(othersOnBox)
                                : Morphology.erode(out.lesion, radiusMM: -mm)
        case .noise:
            let sd = Float(noiseSD)
            for t in out.image.voxels.indices { out.image.voxels[t] += sd * Float(random.normal()) }
        case .translate(let fx, let fy, let fz):
            let shift = Vector3(fx, fy, fz)
            out = GeometricTransform.resample(image: image, lesion: lesion, others: others, box: box) { p in p - shift }
        case .rotate(let degrees):
            guard let centre = lesion.cropped(to: box).centroid else { break }
            let grid = image.grid
            let theta = -degrees * Double.pi / 180  // the inverse rotation maps an output point to its source
            let c = Foundation.cos(theta), s = Foundation.sin(theta)
            out = GeometricTransform.resample(image: image, lesion: lesion, others: others, box: box) { p in
                let w = grid.world(atContinuousIndex: p) - centre
                let source = Vector3(c * w.x - s * w.y, s * w.x + c * w.y, w.z) + centre
                return grid.continuousIndex(ofWorld: source)
            }
        case .contour(_, let cellMM):
            out.lesion = ContourRandomisation.randomise(out.lesion, cellMM: cellMM ?? Self.defaultCellMM(spacing: image.grid.spacing),
                                                        random: &random)
        }
        guard !out.lesion.isEmpty else {
            throw PerturbationError("perturbation \(self) leaves no voxel of the lesion (\(lesion.count) voxels before)")
        }
        return out
    }
}
