import Foundation
import ImagingCore

/// One contour of an RT structure: its geometric type and points in patient space (LPS, mm).
public struct RTContour: Hashable, Sendable {
    /// CLOSED_PLANAR, OPEN_PLANAR, OPEN_NONPLANAR or POINT.
    public var geometricType: String
    public var points: [Vector3]
    public init(geometricType: String = "CLOSED_PLANAR", points: [Vector3]) {
        self.geometricType = geometricType
        self.points = points
    }
}

/// One ROI of an RT Structure Set.
public struct RTROI: Hashable, Sendable {
    public var number: Int
    public var name: String
    /// RTROIInterpretedType (GTV, ORGAN, EXTERNAL, ...), nil when not given.
    public var interpretedType: String?
    /// ROIDisplayColor as RGB 0-255, nil when not given.
    public var color: [Int]?
    public var contours: [RTContour]

    public init(number: Int, name: String, interpretedType: String? = nil, color: [Int]? = nil,
                contours: [RTContour]) {
        self.number = number
        self.name = name
        self.interpretedType = interpretedType
        self.color = color
        self.contours = contours
    }

    /// The name as messages show it: control and format characters replaced, at most 64 characters.
    public var shownName: String { Redacted.label(name) }

    /// RTROIInterpretedType defined terms (PS3.3 C.8.8.8.1.1): the types that may be shown in messages.
    public static let interpretedTypeTerms: Set<String> = [
        "EXTERNAL", "PTV", "CTV", "GTV", "TREATED_VOLUME", "IRRAD_VOLUME", "OAR", "BOLUS", "AVOIDANCE", "ORGAN",
        "MARKER", "REGISTRATION", "ISOCENTER", "CONTRAST_AGENT", "CAVITY", "BRACHY_CHANNEL", "BRACHY_ACCESSORY",
        "BRACHY_SRC_APP", "BRACHY_CHNL_SHLD", "SUPPORT", "FIXATION", "DOSE_REGION", "CONTROL", "DOSE_MEASUREMENT",
    ]

    /// Whether this ROI is taken as a lesion when a structure set is expanded without a name.
    ///
    /// The rule: an ROI is a lesion when its RTROIInterpretedType is GTV, or its name contains
    /// "gtv", "tumor", "tumour" or "lesion" (case-insensitive; some planning systems type every
    /// ROI as ORGAN, GTVs included), or it has no type and its name contains none of "ctv", "ptv",
    /// "itv". Everything else is skipped: organs at risk (ORGAN, AVOIDANCE), EXTERNAL, support
    /// and marker structures, and the margin volumes CTV/PTV/ITV, which contain the lesion
    /// rather than being it.
    public var isLesion: Bool {
        let n = name.lowercased()
        let type = interpretedType?.uppercased() ?? ""
        if type == "GTV" || ["gtv", "tumor", "tumour", "lesion"].contains(where: n.contains) { return true }
        return type.isEmpty && !["ctv", "ptv", "itv"].contains(where: n.contains)
    }
}

/// Reads RT Structure Sets.
public enum RTStructReader {
    /// Every ROI of the structure set, in StructureSetROISequence order.
    public static func read(_ url: URL) throws -> [RTROI] {
        try read(url, including: { _ in true })
    }

    /// Every ROI's number, name, type and colour, without contours (contour data is not even loaded).
    public static func list(_ url: URL) throws -> [RTROI] {
        try read(url, including: { _ in true }, contours: false)
    }

    /// The ROIs for which `include` holds (judged on number, name and type before any contour is
    /// parsed, so large unwanted structures such as lungs cost nothing), in StructureSetROISequence order.
    public static func read(_ url: URL, including include: (RTROI) -> Bool) throws -> [RTROI] {
        try read(url, including: include, contours: true)
    }

    private static func read(_ url: URL, including include: (RTROI) -> Bool, contours: Bool) throws -> [RTROI] {
        // Contour data is loaded from the file only for the ROIs asked for.
        let file = try DICOMFile(reading: url, deferLength: 4096)
        let d = file.dataset
        let modality = d.string(Tag.modality) ?? ""
        guard modality == "RTSTRUCT" || d.string(Tag.sopClassUID) == SOPClass.rtStructureSet else {
            throw DICOMError(file: url, message: "is not an RT Structure Set (Modality \(Redacted.code(modality, known: Redacted.modalities)))")
        }
        var types: [Int: String] = [:]
        for o in d.items(Tag.rtROIObservationsSequence) {
            if let n = o.number(Tag.referencedROINumber)?.wholeNumber, let t = o.text(Tag.rtROIInterpretedType) { types[n] = t }
        }
        var rois = try d.items(Tag.structureSetROISequence).enumerated().compactMap { index, item -> RTROI? in
            guard let n = item.number(Tag.roiNumber) else { return nil }
            guard let number = n.wholeNumber else {
                throw DICOMError(file: url, message: "item \(index + 1) of the Structure Set ROI Sequence has an ROINumber "
                                 + "(3006,0022) that is not a whole number")
            }
            return RTROI(number: number, name: item.string(Tag.roiName) ?? "ROI \(number)", interpretedType: types[number],
                         contours: [])
        }.filter(include)
        let wanted = Dictionary(rois.enumerated().map { ($0.element.number, $0.offset) }, uniquingKeysWith: { a, _ in a })
        for rc in d.items(Tag.roiContourSequence) {
            guard let n = rc.number(Tag.referencedROINumber)?.wholeNumber, let slot = wanted[n] else { continue }
            if let color = try? rc.numbers(Tag.roiDisplayColor), color.count == 3, color.allSatisfy({ (0...255).contains($0) }) {
                rois[slot].color = color.map { Int($0) }
            }
            guard contours else { continue }
            let name = rois[slot].name, shown = Redacted.label(name)
            for (ci, c) in rc.items(Tag.contourSequence).enumerated() {
                guard let values = try? c.numbers(Tag.contourData) else {
                    throw DICOMError(file: url, message: "ROI '\(shown)': contour \(ci + 1) has ContourData (3006,0050) that is not a list of numbers", region: name)
                }
                guard values.count % 3 == 0 else {
                    throw DICOMError(file: url, message: "ROI '\(shown)': ContourData holds \(values.count) numbers, not a multiple of 3", region: name)
                }
                guard values.allSatisfy(\.isFinite) else {
                    throw DICOMError(file: url, message: "ROI '\(shown)': contour \(ci + 1) has a ContourData value that is not finite", region: name)
                }
                let points = stride(from: 0, to: values.count, by: 3).map { Vector3(values[$0], values[$0 + 1], values[$0 + 2]) }
                rois[slot].contours.append(RTContour(geometricType: (c.string(Tag.contourGeometricType) ?? "").uppercased(), points: points))
            }
        }
        return rois
    }

    /// The ROIs whose name matches `pattern`, case-insensitively: an exact name first, else a
    /// glob pattern where `*` matches any run of characters and `?` one character.
    public static func select(_ rois: [RTROI], name pattern: String) -> [RTROI] {
        let p = pattern.lowercased()
        let exact = rois.filter { $0.name.lowercased() == p }
        if !exact.isEmpty { return exact }
        return rois.filter { glob(Array(p), Array($0.name.lowercased())) }
    }

    private static func glob(_ p: [Character], _ s: [Character]) -> Bool {
        var pi = 0, si = 0, star = -1, mark = 0
        while si < s.count {
            if pi < p.count && (p[pi] == "?" || p[pi] == s[si]) { pi += 1; si += 1 }
            else if pi < p.count && p[pi] == "*" { star = pi; mark = si; pi += 1 }
            else if star >= 0 { pi = star + 1; mark += 1; si = mark }
            else { return false }
        }
        while pi < p.count && p[pi] == "*" { pi += 1 }
        return pi == p.count
    }
}

/// Turns RTSTRUCT contours into voxel masks.
///
/// Each closed planar contour must lie in the plane of one image slice (within 10% of the slice
/// spacing) and is filled on that slice by the even-odd rule on voxel centres: a voxel is inside
/// when a ray from its centre crosses the polygon an odd number of times. Contours of one ROI on
/// the same slice are combined by exclusive or, so an inner contour cuts a hole.
public enum ContourRasterizer {
    /// Largest allowed distance of a contour plane from a slice centre, as a fraction of the slice spacing.
    public static let planeTolerance = 0.1

    public static func mask(_ roi: RTROI, on grid: ImageGrid, file: URL? = nil) throws -> Mask {
        func fail(_ m: String) -> DICOMError { DICOMError(file: file, message: "ROI '\(Redacted.label(roi.name))': \(m)", region: roi.name) }
        guard !roi.contours.isEmpty else { throw fail("has no contours") }
        let n = grid.size
        var mask = Mask(grid: grid, repeating: false)
        for (ci, c) in roi.contours.enumerated() {
            let label = "contour \(ci + 1) of \(roi.contours.count)"
            switch c.geometricType {
            case "CLOSED_PLANAR", "":
                break
            case "POINT":
                throw fail("\(label) is a POINT, which marks a location, not a region")
            default:
                throw fail("\(label) is \(c.geometricType), not a closed contour; only CLOSED_PLANAR contours enclose a region")
            }
            guard c.points.count >= 3 else {
                throw fail("\(label) has \(c.points.count) point\(c.points.count == 1 ? "" : "s"); a closed contour needs at least 3")
            }
            let idx = c.points.map { grid.continuousIndex(ofWorld: $0) }
            let ks = idx.map(\.z)
            let kMin = ks.min()!, kMax = ks.max()!
            if kMax - kMin > planeTolerance {
                throw fail("\(label) is not parallel to the image slices (it spans \(SeriesGeometry.fmt((kMax - kMin) * grid.spacing.z)) mm across them): oblique contours are not supported")
            }
            let kc = (kMin + kMax) / 2
            // A contour far beyond the image (or beyond Int) gets an index outside it: refused below.
            let k = kc.clampedIndex(.toNearestOrAwayFromZero, -1, n.nz)
            let z = c.points[0]
            if k < 0 || k >= n.nz {
                throw fail("\(label) at \(z) lies outside the image's \(n.nz) slices (index \(SeriesGeometry.fmt(kc)))")
            }
            if abs(kc - Double(k)) > planeTolerance {
                throw fail("\(label) at \(z) lies between slices \(k - (kc < Double(k) ? 1 : 0)) and \(k + (kc > Double(k) ? 1 : 0)) (index \(SeriesGeometry.fmt(kc))), not on a slice plane")
            }
            let xs = idx.map(\.x), ys = idx.map(\.y)
            if xs.max()! < -0.5 || xs.min()! > Double(n.nx) - 0.5 || ys.max()! < -0.5 || ys.min()! > Double(n.ny) - 0.5 {
                throw fail("\(label) at \(z) lies outside the image in-plane")
            }
            fill(xs: xs, ys: ys, slice: k, into: &mask)
        }
        return mask
    }

    /// Toggles the voxels of slice `k` whose centres lie inside the polygon (even-odd rule).
    static func fill(xs: [Double], ys: [Double], slice k: Int, into mask: inout Mask) {
        let nx = mask.grid.size.nx, ny = mask.grid.size.ny
        let count = xs.count
        let j0 = ys.min()!.clampedIndex(.up, 0, ny), j1 = ys.max()!.clampedIndex(.down, -1, ny - 1)
        guard j0 <= j1 else { return }
        var crossings: [Double] = []
        let base = k * nx * ny
        mask.voxels.withUnsafeMutableBufferPointer { v in
            for j in j0...j1 {
                let y = Double(j)
                crossings.removeAll(keepingCapacity: true)
                var a = count - 1
                for b in 0..<count {
                    let ya = ys[a], yb = ys[b]
                    if (ya > y) != (yb > y) {
                        crossings.append(xs[a] + (y - ya) * (xs[b] - xs[a]) / (yb - ya))
                    }
                    a = b
                }
                crossings.sort()
                var p = 0
                while p + 1 < crossings.count {
                    let i0 = crossings[p].clampedIndex(.up, 0, nx)
                    let i1 = crossings[p + 1].clampedIndex(.up, 0, nx) - 1
                    if i0 <= i1 {
                        let row = base + j * nx
                        for i in i0...i1 { v[row + i].toggle() }
                    }
                    p += 2
                }
            }
        }
    }
}
