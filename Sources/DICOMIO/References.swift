import Foundation

/// Checks that an RTSTRUCT or SEG was made for the image series it is placed on.
///
/// Contours are placed by patient coordinates, so contours of another patient or another scan are
/// rasterised whenever their coordinates happen to fall inside the image. The check compares, without
/// ever showing them, the identifiers the contour object holds with the image's:
///
/// | check | compared | when it differs |
/// |---|---|---|
/// | patient | PatientID, when both are non-empty (de-identification often blanks it) | refused |
/// | frame of reference | RTSTRUCT: each used ROI's ReferencedFrameOfReferenceUID, else the ReferencedFrameOfReferenceSequence; SEG: FrameOfReferenceUID | refused |
/// | series | RTSTRUCT: RTReferencedSeriesSequence; SEG: ReferencedSeriesSequence (also under Studies Containing Other Referenced Instances) | refused, unless the frame of reference matches: then a warning (drawn on another series in the same coordinates, e.g. another reconstruction) |
/// | study | RTSTRUCT: RTReferencedStudySequence; SEG: its StudyInstanceUID and the other-studies sequence | as for the series |
/// | slices | the referenced SOP instances of the image's own series | a warning (slices replaced or re-exported) |
///
/// The frame of reference decides because it is what defines the coordinates: a contour in the image's
/// frame of reference is geometrically right whichever series it was drawn on. When the contour holds
/// neither a frame of reference nor a referenced series or study, nothing ties it to the image and a
/// warning says so (the contours are still used: older and stripped exports lack these attributes).
public enum ContourReferenceCheck {
    /// Throws a `DICOMError` (on the contour file) listing every failed check when the contour belongs
    /// to another patient or scan; returns warnings for what could not be confirmed.
    ///
    /// - Parameters:
    ///   - url: the RTSTRUCT or SEG file.
    ///   - image: the identifiers of the image series the contours are placed on.
    ///   - imageName: how messages name the image (its path as the manifest gives it).
    ///   - roiNumbers: for an RTSTRUCT, the ROIs in use (nil: all); other ROIs may lie in other frames of reference.
    public static func check(_ url: URL, against image: SeriesReference, imageName: String,
                             roiNumbers: Set<Int>? = nil) throws -> [String] {
        let file = try DICOMFile(reading: url, deferLength: 4096)
        let d = file.dataset
        let facts: Facts
        let modality = d.string(Tag.modality) ?? ""
        let sopClass = d.string(Tag.sopClassUID) ?? ""
        if modality == "RTSTRUCT" || sopClass == SOPClass.rtStructureSet {
            facts = rtstructFacts(d, roiNumbers: roiNumbers)
        } else if modality == "SEG" || sopClass == SOPClass.segmentation {
            facts = segFacts(d)
        } else {
            throw DICOMError(file: url, message: "is neither an RT Structure Set nor a DICOM Segmentation (Modality \(Redacted.code(modality, known: Redacted.modalities)))")
        }
        return try evaluate(facts, image: image, imageName: imageName, file: url)
    }

    /// What a contour object says about the image it was drawn on.
    struct Facts {
        var kind: String
        var patientID: String?
        /// Frame of reference of each used region (ROI name or "the SEG"), nil when it gives none.
        var frames: [(region: String, uid: String?)] = []
        /// Referenced series, and the SOP instances referenced within each.
        var series: [String: Set<String>] = [:]
        var studies: Set<String> = []
        /// RTSTRUCT: every frame of reference of ReferencedFrameOfReferenceSequence, when it lists several.
        var listedFrames: Set<String>?
    }

    static func rtstructFacts(_ d: DICOMItem, roiNumbers: Set<Int>?) -> Facts {
        var f = Facts(kind: "RTSTRUCT", patientID: d.text(Tag.patientID))
        let frameItems = d.items(Tag.referencedFrameOfReferenceSequence)
        let listed = frameItems.compactMap { $0.text(Tag.frameOfReferenceUID) }
        for frame in frameItems {
            for study in frame.items(Tag.rtReferencedStudySequence) {
                if let uid = study.text(Tag.referencedSOPInstanceUID) { f.studies.insert(uid) }
                for series in study.items(Tag.rtReferencedSeriesSequence) {
                    guard let uid = series.text(Tag.seriesInstanceUID) else { continue }
                    let instances = series.items(Tag.contourImageSequence).compactMap { $0.text(Tag.referencedSOPInstanceUID) }
                    f.series[uid, default: []].formUnion(instances)
                }
            }
        }
        for roi in d.items(Tag.structureSetROISequence) {
            guard let n = roi.number(Tag.roiNumber) else { continue }
            if let wanted = roiNumbers, !wanted.contains(Int(n)) { continue }
            let name = "ROI '\(Redacted.label(roi.string(Tag.roiName) ?? "ROI \(Int(n))"))'"
            if let uid = roi.text(Tag.referencedFrameOfReferenceUID) {
                f.frames.append((name, uid))
            } else if listed.count == 1 {
                f.frames.append((name, listed[0]))
            } else {
                f.frames.append((name, nil))
            }
        }
        // An ROI that does not say which of several listed frames of reference it lies in: the list must
        // include the image's.
        if listed.count > 1 { f.listedFrames = Set(listed) }
        return f
    }

    static func segFacts(_ d: DICOMItem) -> Facts {
        var f = Facts(kind: "SEG", patientID: d.text(Tag.patientID))
        f.frames = [("the SEG", d.text(Tag.frameOfReferenceUID))]
        func addSeries(_ item: DICOMItem) {
            for series in item.items(Tag.referencedSeriesSequence) {
                guard let uid = series.text(Tag.seriesInstanceUID) else { continue }
                let instances = series.items(Tag.referencedInstanceSequence).compactMap { $0.text(Tag.referencedSOPInstanceUID) }
                f.series[uid, default: []].formUnion(instances)
            }
        }
        if !d.items(Tag.referencedSeriesSequence).isEmpty, let own = d.text(Tag.studyInstanceUID) { f.studies.insert(own) }
        addSeries(d)
        for study in d.items(Tag.studiesContainingOtherReferencedInstancesSequence) {
            if let uid = study.text(Tag.studyInstanceUID) { f.studies.insert(uid) }
            addSeries(study)
        }
        return f
    }

    static func evaluate(_ f: Facts, image: SeriesReference, imageName: String, file: URL) throws -> [String] {
        var refused: [String] = []
        var warnings: [String] = []
        let the = "the \(f.kind)"

        if let theirs = f.patientID, let ours = image.exportAttributes[Tag.patientID], !ours.isEmpty, theirs != ours {
            refused.append("its PatientID differs from the image's (another patient)")
        }

        // Frame of reference: confirmed when every used region's is the image's.
        var frameChecked = false, frameMismatch: [String] = []
        if !image.frameOfReferenceUID.isEmpty {
            for (region, uid) in f.frames {
                if let uid {
                    frameChecked = true
                    if uid != image.frameOfReferenceUID { frameMismatch.append(region) }
                } else if let listed = f.listedFrames {
                    frameChecked = true
                    if !listed.contains(image.frameOfReferenceUID) { frameMismatch.append(region) }
                }
            }
        }
        if !frameMismatch.isEmpty {
            let which = f.kind == "SEG" ? "FrameOfReferenceUID" : "FrameOfReferenceUID of " + frameMismatch.joined(separator: ", ")
            refused.append("its frame of reference differs from the image's (\(which)): its coordinates belong to another scan")
        }
        let sameFrame = frameChecked && frameMismatch.isEmpty

        let seriesChecked = !f.series.isEmpty
        let seriesMatch = f.series[image.seriesInstanceUID] != nil
        let studyChecked = !f.studies.isEmpty && !image.studyInstanceUID.isEmpty
        let studyMatch = f.studies.contains(image.studyInstanceUID)
        // A matching series settles it (series UIDs are unique); the study counts only without a series reference.
        let seriesMismatch = seriesChecked && !seriesMatch
        let studyMismatch = !seriesChecked && studyChecked && !studyMatch
        if seriesMismatch || studyMismatch {
            let what = seriesMismatch
                ? "was drawn on another image series (none of its referenced SeriesInstanceUIDs is the image's)"
                : "refers to another study (its referenced StudyInstanceUID is not the image's)"
            if sameFrame {
                warnings.append("\(the) \(what), in the same frame of reference as image \(imageName): placed by patient coordinates")
            } else {
                refused.append("it " + what + (frameChecked ? "" : ", and no FrameOfReferenceUID confirms that it shares the image's coordinates"))
            }
        }
        if seriesMatch, let referenced = f.series[image.seriesInstanceUID], !referenced.isEmpty {
            let missing = referenced.subtracting(image.sopInstanceUIDs).count
            if missing > 0 {
                warnings.append("\(missing) of the \(referenced.count) slices \(the) references are not in image \(imageName), although the series is the same (slices replaced or re-exported?)")
            }
        }
        if !frameChecked && !seriesChecked && !studyChecked && refused.isEmpty {
            warnings.append("\(the) holds no frame of reference and no referenced series or study, so nothing confirms that it was drawn on image \(imageName): placed by patient coordinates unchecked")
        }
        if !refused.isEmpty {
            throw DICOMError(file: file, message: "\(the) does not belong to image \(imageName): " + refused.joined(separator: "; ")
                             + ". Contours of another patient or scan are refused (they would be placed wherever their coordinates fall inside the image). "
                             + "Identifier values are not shown; if image and contours were de-identified separately, de-identify them together so that their UIDs stay consistent.")
        }
        return warnings
    }
}
