import Foundation
import ImagingCore

/// A lesion to draw on a patient's images: its mask on the image grid, colour and label, and
/// optionally its peritumoral ring.
public struct LesionOverlay: Sendable {
    public var lesionID: String
    public var label: String
    public var colour: String
    public var mask: Mask
    public var ring: Mask?
    /// Grey-level window for this lesion's own image (lung lesions are best seen in a lung window).
    public var window: DisplayWindow

    public init(lesionID: String, label: String, colour: String, mask: Mask, ring: Mask? = nil,
                window: DisplayWindow = .softTissue) {
        self.lesionID = lesionID; self.label = label; self.colour = colour; self.mask = mask; self.ring = ring
        self.window = window
    }
}

/// The report's views of a CT (or of a PET of the same study): projections over the whole scan and one
/// axial image per lesion, shown in radiological convention (patient right on the viewer's left, anterior
/// and superior up).
public enum LesionViews {
    /// Coronal maximum-intensity projection (anterior-posterior) with every lesion's projection outlined.
    /// `modality` ("CT", "PET") names the image in caption and text alternative; `window` its grey levels.
    public static func coronalMIP(_ image: Volume<Float>, lesions: [LesionOverlay], modality: String = "CT",
                                  window: DisplayWindow = .projection) -> ImagePanel {
        projection(image, lesions: lesions, along: 1, directions: ("R", "L", "S", "I"), name: "coronal",
                   modality: modality, window: window)
    }

    /// Axial maximum-intensity projection (superior-inferior) with every lesion's projection outlined.
    public static func axialMIP(_ image: Volume<Float>, lesions: [LesionOverlay], modality: String = "CT",
                                window: DisplayWindow = .projection) -> ImagePanel {
        projection(image, lesions: lesions, along: 2, directions: ("R", "L", "A", "P"), name: "axial",
                   modality: modality, window: window)
    }

    /// The maximum over canonical axis `axis` (1: posterior, 2: superior). Columns run towards the
    /// patient's left; rows run posterior (axial) or inferior (coronal: superior at the top).
    static func projection(_ image: Volume<Float>, lesions: [LesionOverlay], along axis: Int,
                           directions: (left: String, right: String, top: String, bottom: String), name: String,
                           modality: String, window: DisplayWindow) -> ImagePanel {
        let c = CanonicalAxes(image.grid)
        let (nx, ny, nz) = (c.size[0], c.size[1], c.size[2])
        let rowsAxis = axis == 1 ? 2 : 1
        let height = c.size[rowsAxis]
        var values = [Float](repeating: -.greatestFiniteMagnitude, count: nx * height)
        var outlines = lesions.map { _ in [Bool](repeating: false, count: nx * height) }
        let masks = lesions.map(\.mask.voxels)
        for z in 0..<nz {
            for y in 0..<ny {
                let row = axis == 1 ? nz - 1 - z : y
                for x in 0..<nx {
                    let n = c.linear(x, y, z)
                    let p = row * nx + x
                    values[p] = max(values[p], image.voxels[n])
                    for m in masks.indices where masks[m][n] { outlines[m][p] = true }
                }
            }
        }
        let slice = SliceImage(width: nx, height: height, pixelWidthMM: c.spacing[0], pixelHeightMM: c.spacing[rowsAxis], values: values)
        // The CT keeps its caption of before ("Coronal maximum-intensity projection"); other modalities are named.
        let what = "\(name) maximum-intensity projection"
        let caption = modality == "CT" ? what.prefix(1).uppercased() + what.dropFirst()
                                       : "\(modality) \(what) (\(window.name))"
        return ImagePanel(image: slice, window: window,
                          outlines: zip(lesions, outlines).map { Outline(mask: $1, colour: $0.colour, label: $0.label) },
                          directions: directions, caption: caption,
                          alt: "\(modality == "CT" ? "" : modality + " ")\(what) with \(lesions.count) lesion outlines")
    }

    /// The axial image through `lesion`'s centroid, cropped around it with a margin, showing the
    /// lesion, its ring (dashed) and any other lesion on that slice; `modality` names the image in the
    /// text alternative (and, unless CT, in the caption).
    public static func axialSlice(_ image: Volume<Float>, lesion: LesionOverlay, others: [LesionOverlay],
                                  marginMM: Double = 15, minimumFieldMM: Double = 50, modality: String = "CT") -> ImagePanel? {
        let c = CanonicalAxes(image.grid)
        let (nx, ny, nz) = (c.size[0], c.size[1], c.size[2])
        var sum = 0.0, count = 0
        var lo = [Int.max, Int.max], hi = [-1, -1]
        var slicesWithLesion = Set<Int>()
        for z in 0..<nz {
            for y in 0..<ny {
                for x in 0..<nx where lesion.mask.voxels[c.linear(x, y, z)] {
                    sum += Double(z); count += 1
                    lo[0] = min(lo[0], x); hi[0] = max(hi[0], x); lo[1] = min(lo[1], y); hi[1] = max(hi[1], y)
                    slicesWithLesion.insert(z)
                }
            }
        }
        guard count > 0 else { return nil }
        let centroid = sum / Double(count)
        let z = slicesWithLesion.min { abs(Double($0) - centroid) < abs(Double($1) - centroid) }!
        // Crop: lesion box plus margin, at least the minimum field, within the image.
        var box = [(0, 0), (0, 0)]
        for a in 0..<2 {
            let extent = Double(hi[a] - lo[a] + 1) * c.spacing[a]
            let field = max(extent + 2 * marginMM, minimumFieldMM)
            let n = min(Int((field / c.spacing[a]).rounded(.up)), c.size[a])
            let centre = Double(lo[a] + hi[a]) / 2
            var start = Int((centre - Double(n - 1) / 2).rounded())
            start = min(max(start, 0), c.size[a] - n)
            box[a] = (start, start + n - 1)
        }
        let w = box[0].1 - box[0].0 + 1, h = box[1].1 - box[1].0 + 1
        var values = [Float](repeating: 0, count: w * h)
        func plane(_ mask: Mask) -> [Bool] {
            var out = [Bool](repeating: false, count: w * h)
            for y in 0..<h { for x in 0..<w where mask.voxels[c.linear(box[0].0 + x, box[1].0 + y, z)] { out[y * w + x] = true } }
            return out
        }
        for y in 0..<h { for x in 0..<w { values[y * w + x] = image.voxels[c.linear(box[0].0 + x, box[1].0 + y, z)] } }
        var outlines: [Outline] = []
        if let ring = lesion.ring { outlines.append(Outline(mask: plane(ring), colour: "#4dd0e1", dashed: true, lineWidth: 1.5)) }
        for o in others {
            let m = plane(o.mask)
            if m.contains(true) { outlines.append(Outline(mask: m, colour: o.colour, label: o.label, lineWidth: 1.2)) }
        }
        outlines.append(Outline(mask: plane(lesion.mask), colour: lesion.colour, label: lesion.label, lineWidth: 2.2))
        let slice = SliceImage(width: w, height: h, pixelWidthMM: c.spacing[0], pixelHeightMM: c.spacing[1], values: values)
        let zWorld = image.grid.world(atContinuousIndex: c.sourceIndex(Double(box[0].0), Double(box[1].0), Double(z))).z
        return ImagePanel(image: slice, window: lesion.window, outlines: outlines, directions: ("R", "L", "A", "P"),
                          caption: "\(modality == "CT" ? "" : modality + " ")axial slice through the centroid, z = \(String(format: "%.1f", zWorld)) mm; \(lesion.window.name) window\(lesion.ring == nil ? "" : "; dashed: peritumoral ring")",
                          alt: "axial \(modality) slice through lesion \(lesion.lesionID) with lesion\(lesion.ring == nil ? "" : " and ring") contours")
    }
}

/// The grid's axes reordered and flipped to the nearest patient axes (L, P, S), so that views are
/// drawn the same way whatever the storage order. Oblique grids use their nearest axes.
struct CanonicalAxes {
    /// For canonical axis a (0 = towards patient left, 1 = posterior, 2 = superior): the grid axis and
    /// whether it runs the other way.
    let source: [(axis: Int, flipped: Bool)]
    let size: [Int]
    let spacing: [Double]
    private let base: Int
    private let stride: (Int, Int, Int)

    init(_ grid: ImageGrid) {
        var map: [(axis: Int, flipped: Bool)?] = [nil, nil, nil]
        for j in 0..<3 {
            let d = grid.direction.column(j)
            let comps = [d.x, d.y, d.z]
            let a = (0..<3).max { abs(comps[$0]) < abs(comps[$1]) }!
            if map[a] == nil { map[a] = (j, comps[a] < 0) }
        }
        source = map.contains { $0 == nil } ? [(0, false), (1, false), (2, false)] : map.map { $0! }
        size = source.map { grid.size[$0.axis] }
        spacing = source.map { grid.spacing[$0.axis] }
        let gridStride = [1, grid.size.nx, grid.size.nx * grid.size.ny]
        var b = 0
        var st = [0, 0, 0]
        for a in 0..<3 {
            let s = source[a]
            st[a] = s.flipped ? -gridStride[s.axis] : gridStride[s.axis]
            if s.flipped { b += (size[a] - 1) * gridStride[s.axis] }
        }
        base = b
        stride = (st[0], st[1], st[2])
    }

    /// The grid index (continuous) of canonical index (x, y, z).
    func sourceIndex(_ x: Double, _ y: Double, _ z: Double) -> Vector3 {
        var idx = [0.0, 0, 0]
        for (a, v) in [x, y, z].enumerated() {
            let s = source[a]
            idx[s.axis] = s.flipped ? Double(size[a] - 1) - v : v
        }
        return Vector3(idx[0], idx[1], idx[2])
    }

    /// The linear voxel index of canonical index (x, y, z).
    @inline(__always)
    func linear(_ x: Int, _ y: Int, _ z: Int) -> Int { base + x * stride.0 + y * stride.1 + z * stride.2 }
}
