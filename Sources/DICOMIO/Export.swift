import Foundation
import ImagingCore

/// A mask to export as an RTSTRUCT ROI or a SEG segment, with the caller's name and colour.
public struct ExportRegion: Sendable {
    public var name: String
    public var mask: Mask
    /// RGB 0-255.
    public var color: (Int, Int, Int)
    /// RTROIInterpretedType for RTSTRUCT export.
    public var interpretedType: String

    public init(name: String, mask: Mask, color: (Int, Int, Int) = (255, 0, 0), interpretedType: String = "GTV") {
        self.name = name
        self.mask = mask
        self.color = color
        self.interpretedType = interpretedType
    }
}

/// The header facts shared by exported objects: patient/study copied from the source series, new series.
private func writeCommon(_ d: DICOMItem, modality: String, sopClass: String, series: SeriesReference,
                         description: String) throws {
    let now = Date()
    let f = DateFormatter()
    f.locale = Locale(identifier: "en_US_POSIX")
    f.timeZone = TimeZone(identifier: "UTC")
    f.dateFormat = "yyyyMMdd"
    let date = f.string(from: now)
    f.dateFormat = "HHmmss"
    let time = f.string(from: now)
    try d.set(Tag.specificCharacterSet, "ISO_IR 192")
    for (tag, value) in series.exportAttributes where tag != Tag.specificCharacterSet { try d.set(tag, value) }
    for tag in [Tag.patientName, Tag.patientID, Tag.patientBirthDate, Tag.patientSex, Tag.studyDate, Tag.studyTime,
                Tag.referringPhysicianName, Tag.studyID, Tag.accessionNumber] where series.exportAttributes[tag] == nil {
        try d.set(tag, "")
    }
    try d.set(Tag.sopClassUID, sopClass)
    try d.set(Tag.sopInstanceUID, DICOMWriter.newUID())
    try d.set(Tag.modality, modality)
    try d.set(Tag.studyInstanceUID, series.studyInstanceUID)
    try d.set(Tag.seriesInstanceUID, DICOMWriter.newUID())
    try d.set(Tag.seriesNumber, 900)
    try d.set(Tag.instanceNumber, 1)
    try d.set(Tag.seriesDescription, description)
    try d.set(Tag.manufacturer, "LesionMap")
    try d.set(Tag.seriesDate, date)
    try d.set(Tag.seriesTime, time)
    try d.set(Tag.contentDate, date)
    try d.set(Tag.contentTime, time)
    try d.set(Tag.frameOfReferenceUID, series.frameOfReferenceUID)
}

private func checkGrid(_ regions: [ExportRegion], _ grid: ImageGrid, _ series: SeriesReference, _ url: URL) throws {
    guard !regions.isEmpty else { throw DICOMError(file: url, message: "nothing to export: no regions given") }
    guard series.sopInstanceUIDs.count == grid.size.nz else {
        throw DICOMError(file: url, message: "the series has \(series.sopInstanceUIDs.count) slices, the masks \(grid.size.nz)")
    }
    for r in regions {
        try grid.requireMatch(r.mask.grid, context: "region '\(r.name)'")
        if r.mask.isEmpty { throw DICOMError(file: url, message: "region '\(r.name)' is empty; nothing to export") }
    }
}

/// Writes RT Structure Sets referencing a loaded series.
public enum RTStructWriter {
    /// Exports masks as closed planar contours along voxel edges, one ROI per region, numbered from 1.
    /// Filling the contours back with the even-odd rule on voxel centres gives exactly the masks.
    public static func write(_ regions: [ExportRegion], referencing series: SeriesReference, grid: ImageGrid,
                             to url: URL, label: String = "LesionMap") throws {
        try checkGrid(regions, grid, series, url)
        let rois = regions.enumerated().map { n, r in
            RTROI(number: n + 1, name: r.name, interpretedType: r.interpretedType,
                  color: [r.color.0, r.color.1, r.color.2], contours: MaskContours.contours(of: r.mask))
        }
        try write(rois, referencing: series, grid: grid, to: url, label: label)
    }

    /// Writes ROIs with the given contours (any contours: used to build test files too).
    public static func write(_ rois: [RTROI], referencing series: SeriesReference, grid: ImageGrid, to url: URL,
                             label: String = "LesionMap") throws {
        let file = DICOMFile()
        let d = file.dataset
        try writeCommon(d, modality: "RTSTRUCT", sopClass: SOPClass.rtStructureSet, series: series,
                        description: label)
        try d.set(Tag.structureSetLabel, String(label.prefix(16)))
        try d.set(Tag.structureSetDate, d.string(Tag.contentDate) ?? "")
        try d.set(Tag.structureSetTime, d.string(Tag.contentTime) ?? "")
        let frame = try d.append(Tag.referencedFrameOfReferenceSequence)
        try frame.set(Tag.frameOfReferenceUID, series.frameOfReferenceUID)
        let study = try frame.append(Tag.rtReferencedStudySequence)
        try study.set(Tag.referencedSOPClassUID, SOPClass.studyComponentManagement)
        try study.set(Tag.referencedSOPInstanceUID, series.studyInstanceUID)
        let refSeries = try study.append(Tag.rtReferencedSeriesSequence)
        try refSeries.set(Tag.seriesInstanceUID, series.seriesInstanceUID)
        for uid in series.sopInstanceUIDs {
            let image = try refSeries.append(Tag.contourImageSequence)
            try image.set(Tag.referencedSOPClassUID, series.sopClassUID)
            try image.set(Tag.referencedSOPInstanceUID, uid)
        }
        for roi in rois {
            let s = try d.append(Tag.structureSetROISequence)
            try s.set(Tag.roiNumber, roi.number)
            try s.set(Tag.referencedFrameOfReferenceUID, series.frameOfReferenceUID)
            try s.set(Tag.roiName, roi.name)
            try s.set(Tag.roiGenerationAlgorithm, "AUTOMATIC")
            let rc = try d.append(Tag.roiContourSequence)
            try rc.set(Tag.roiDisplayColor, (roi.color ?? [255, 0, 0]).map(String.init).joined(separator: "\\"))
            try rc.set(Tag.referencedROINumber, roi.number)
            for (n, c) in roi.contours.enumerated() {
                let item = try rc.append(Tag.contourSequence)
                try item.set(Tag.contourNumber, n + 1)
                let k = Int(grid.continuousIndex(ofWorld: c.points.first ?? grid.origin).z.rounded())
                if k >= 0 && k < series.sopInstanceUIDs.count {
                    let image = try item.append(Tag.contourImageSequence)
                    try image.set(Tag.referencedSOPClassUID, series.sopClassUID)
                    try image.set(Tag.referencedSOPInstanceUID, series.sopInstanceUIDs[k])
                }
                try item.set(Tag.contourGeometricType, c.geometricType)
                try item.set(Tag.numberOfContourPoints, c.points.count)
                try item.set(Tag.contourData, DICOMWriter.ds(c.points.flatMap { [$0.x, $0.y, $0.z] }))
            }
            let o = try d.append(Tag.rtROIObservationsSequence)
            try o.set(Tag.observationNumber, roi.number)
            try o.set(Tag.referencedROINumber, roi.number)
            try o.set(Tag.rtROIInterpretedType, roi.interpretedType ?? "")
            try o.set(Tag.roiInterpreter, "")
        }
        try file.save(to: url)
    }
}

/// Writes BINARY DICOM Segmentations referencing a loaded series.
public enum SEGWriter {
    /// One segment per region, numbered from 1; one bit-packed frame per segment and slice holding any voxel.
    public static func write(_ regions: [ExportRegion], referencing series: SeriesReference, grid: ImageGrid,
                             to url: URL, label: String = "LesionMap") throws {
        try checkGrid(regions, grid, series, url)
        let file = DICOMFile()
        let d = file.dataset
        try writeCommon(d, modality: "SEG", sopClass: SOPClass.segmentation, series: series, description: label)
        try d.set(Tag.imageType, "DERIVED\\PRIMARY")
        try d.set(Tag.manufacturerModelName, "LesionMap")
        try d.set(Tag.deviceSerialNumber, "0")
        try d.set(Tag.softwareVersions, "1")
        try d.set(Tag.contentLabel, "LESIONMAP")
        try d.set(Tag.contentDescription, String(label.prefix(64)))
        try d.set(Tag.contentCreatorName, "")
        try d.set(Tag.samplesPerPixel, 1)
        try d.set(Tag.photometricInterpretation, "MONOCHROME2")
        try d.set(Tag.rows, grid.size.ny)
        try d.set(Tag.columns, grid.size.nx)
        try d.set(Tag.bitsAllocated, 1)
        try d.set(Tag.bitsStored, 1)
        try d.set(Tag.highBit, 0)
        try d.set(Tag.pixelRepresentation, 0)
        try d.set(Tag.lossyImageCompression, "00")
        try d.set(Tag.segmentationType, "BINARY")
        let refSeries = try d.append(Tag.referencedSeriesSequence)
        try refSeries.set(Tag.seriesInstanceUID, series.seriesInstanceUID)
        for uid in series.sopInstanceUIDs {
            let inst = try refSeries.append(Tag.referencedInstanceSequence)
            try inst.set(Tag.referencedSOPClassUID, series.sopClassUID)
            try inst.set(Tag.referencedSOPInstanceUID, uid)
        }
        let dimensionUID = DICOMWriter.newUID()
        try d.append(Tag.dimensionOrganizationSequence).set(Tag.dimensionOrganizationUID, dimensionUID)
        for (pointer, group) in [(Tag.referencedSegmentNumber, Tag.segmentIdentificationSequence),
                                 (Tag.imagePositionPatient, Tag.planePositionSequence)] {
            let idx = try d.append(Tag.dimensionIndexSequence)
            try idx.set(Tag.dimensionOrganizationUID, dimensionUID)
            try idx.setTag(Tag.dimensionIndexPointer, pointer)
            try idx.setTag(Tag.functionalGroupPointer, group)
        }
        for (n, r) in regions.enumerated() {
            let s = try d.append(Tag.segmentSequence)
            try s.set(Tag.segmentNumber, n + 1)
            try s.set(Tag.segmentLabel, r.name)
            try s.set(Tag.segmentAlgorithmType, "AUTOMATIC")
            let category = try s.append(Tag.segmentedPropertyCategoryCodeSequence)
            try category.set(Tag.codeValue, "49755003")
            try category.set(Tag.codingSchemeDesignator, "SCT")
            try category.set(Tag.codeMeaning, "Morphologically Abnormal Structure")
            let type = try s.append(Tag.segmentedPropertyTypeCodeSequence)
            try type.set(Tag.codeValue, "108369006")
            try type.set(Tag.codingSchemeDesignator, "SCT")
            try type.set(Tag.codeMeaning, "Neoplasm")
            try s.set(Tag.recommendedDisplayCIELabValue, CIELab.dicom(r.color).map(String.init).joined(separator: "\\"))
        }
        let shared = try d.append(Tag.sharedFunctionalGroupsSequence)
        let row = grid.direction.column(0), col = grid.direction.column(1)
        try shared.append(Tag.planeOrientationSequence)
            .set(Tag.imageOrientationPatient, DICOMWriter.ds([row.x, row.y, row.z, col.x, col.y, col.z]))
        let measures = try shared.append(Tag.pixelMeasuresSequence)
        try measures.set(Tag.pixelSpacing, DICOMWriter.ds([grid.spacing.y, grid.spacing.x]))
        try measures.set(Tag.sliceThickness, DICOMWriter.ds([grid.spacing.z]))
        try measures.set(Tag.spacingBetweenSlices, DICOMWriter.ds([grid.spacing.z]))

        let perSlice = grid.size.nx * grid.size.ny
        var bits: [UInt8] = []
        var bitCount = 0
        var frames = 0
        for (n, r) in regions.enumerated() {
            for k in 0..<grid.size.nz {
                let slice = r.mask.voxels[(k * perSlice)..<((k + 1) * perSlice)]
                guard slice.contains(true) else { continue }
                frames += 1
                let fg = try d.append(Tag.perFrameFunctionalGroupsSequence)
                let derivation = try fg.append(Tag.derivationImageSequence)
                let source = try derivation.append(Tag.sourceImageSequence)
                try source.set(Tag.referencedSOPClassUID, series.sopClassUID)
                try source.set(Tag.referencedSOPInstanceUID, series.sopInstanceUIDs[k])
                let purpose = try source.append(Tag.purposeOfReferenceCodeSequence)
                try purpose.set(Tag.codeValue, "121322")
                try purpose.set(Tag.codingSchemeDesignator, "DCM")
                try purpose.set(Tag.codeMeaning, "Source image for image processing operation")
                let code = try derivation.append(Tag.derivationCodeSequence)
                try code.set(Tag.codeValue, "113076")
                try code.set(Tag.codingSchemeDesignator, "DCM")
                try code.set(Tag.codeMeaning, "Segmentation")
                try fg.append(Tag.frameContentSequence).set(Tag.dimensionIndexValues, "\(n + 1)\\\(k + 1)")
                let p = grid.world(at: Index3(0, 0, k))
                try fg.append(Tag.planePositionSequence).set(Tag.imagePositionPatient, DICOMWriter.ds([p.x, p.y, p.z]))
                try fg.append(Tag.segmentIdentificationSequence).set(Tag.referencedSegmentNumber, n + 1)
                for v in slice {
                    if bitCount % 8 == 0 { bits.append(0) }
                    if v { bits[bits.count - 1] |= UInt8(1 << (bitCount % 8)) }
                    bitCount += 1
                }
            }
        }
        try d.set(Tag.numberOfFrames, frames)
        if bits.count % 2 == 1 { bits.append(0) }
        try file.setPixelBytes(bits, words: false)
        try file.save(to: url)
    }
}

/// sRGB (0-255) to DICOM's scaled CIELab (D65), as RecommendedDisplayCIELabValue stores it.
enum CIELab {
    static func dicom(_ rgb: (Int, Int, Int)) -> [Int] {
        func linear(_ c: Int) -> Double {
            let v = Double(max(0, min(255, c))) / 255
            return v <= 0.04045 ? v / 12.92 : pow((v + 0.055) / 1.055, 2.4)
        }
        let r = linear(rgb.0), g = linear(rgb.1), b = linear(rgb.2)
        let x = (0.4124 * r + 0.3576 * g + 0.1805 * b) / 0.95047
        let y = 0.2126 * r + 0.7152 * g + 0.0722 * b
        let z = (0.0193 * r + 0.1192 * g + 0.9505 * b) / 1.08883
        func f(_ t: Double) -> Double { t > 216.0 / 24389 ? cbrt(t) : (24389.0 / 27 * t + 16) / 116 }
        let l = 116 * f(y) - 16, a = 500 * (f(x) - f(y)), bb = 200 * (f(y) - f(z))
        return [Int((l * 65535 / 100).rounded()), Int(((a + 128) * 65535 / 255).rounded()),
                Int(((bb + 128) * 65535 / 255).rounded())].map { max(0, min(65535, $0)) }
    }
}

/// Closed contours along the voxel edges of a mask, slice by slice.
enum MaskContours {
    /// Every boundary between inside and outside voxels of each slice, chained into closed loops with
    /// collinear vertices removed. Each boundary edge belongs to exactly one loop, so even-odd filling
    /// of the loops reproduces the slice exactly (holes included).
    static func contours(of mask: Mask) -> [RTContour] {
        let g = mask.grid
        let nx = g.size.nx, ny = g.size.ny
        var out: [RTContour] = []
        for k in 0..<g.size.nz {
            func inside(_ i: Int, _ j: Int) -> Bool { i >= 0 && j >= 0 && i < nx && j < ny && mask[i, j, k] }
            // Corner (a, b) sits at continuous index (a - 0.5, b - 0.5); edges run with the inside on the left.
            var outgoing: [Int: [Int]] = [:]
            func key(_ a: Int, _ b: Int) -> Int { b * (nx + 1) + a }
            var edgeCount = 0
            for j in 0..<ny {
                for i in 0..<nx where mask[i, j, k] {
                    if !inside(i, j - 1) { outgoing[key(i, j), default: []].append(key(i + 1, j)); edgeCount += 1 }
                    if !inside(i + 1, j) { outgoing[key(i + 1, j), default: []].append(key(i + 1, j + 1)); edgeCount += 1 }
                    if !inside(i, j + 1) { outgoing[key(i + 1, j + 1), default: []].append(key(i, j + 1)); edgeCount += 1 }
                    if !inside(i - 1, j) { outgoing[key(i, j + 1), default: []].append(key(i, j)); edgeCount += 1 }
                }
            }
            guard edgeCount > 0 else { continue }
            for start in outgoing.keys.sorted() {
                while let firstNext = outgoing[start]?.popLast() {
                    var loop = [start]
                    var current = firstNext
                    while current != start {
                        loop.append(current)
                        current = outgoing[current]!.popLast()!
                    }
                    // Remove collinear vertices.
                    var corners: [Int] = []
                    let m = loop.count
                    for t in 0..<m {
                        let p = loop[(t + m - 1) % m], c = loop[t], q = loop[(t + 1) % m]
                        let d1 = (c % (nx + 1) - p % (nx + 1), c / (nx + 1) - p / (nx + 1))
                        let d2 = (q % (nx + 1) - c % (nx + 1), q / (nx + 1) - c / (nx + 1))
                        if d1.0 * d2.1 - d1.1 * d2.0 != 0 { corners.append(c) }
                    }
                    let points = corners.map { c in
                        g.world(atContinuousIndex: Vector3(Double(c % (nx + 1)) - 0.5, Double(c / (nx + 1)) - 0.5, Double(k)))
                    }
                    out.append(RTContour(points: points))
                }
            }
        }
        return out
    }
}
