import Foundation

/// The imaging modalities LesionMap distinguishes (extraction settings per modality, the manifest's
/// `modality` column), by their DICOM Modality codes.
///
/// What a modality changes is what its intensities mean: CT in Hounsfield units (whole numbers by
/// definition), PT in body-weight SUV (the DICOM reader converts PET series to SUVbw), MR in
/// arbitrary units. Scans of any other modality code (e.g. `OT`) are extracted only with settings
/// given for every modality (a plain preset or settings file).
public enum Modality {
    public static let ct = "CT"
    public static let pt = "PT"
    public static let mr = "MR"
    /// The modalities a per-modality preset or settings file may name, in display order.
    public static let known = [ct, pt, mr]

    /// The modality code of `name` (`ct`, `PT`, ...: case-insensitive), nil when it is not one of `known`.
    public static func code(_ name: String) -> String? {
        let upper = name.trimmingCharacters(in: .whitespaces).uppercased()
        return known.contains(upper) ? upper : nil
    }

    /// Whether the modality's intensities are physical quantities that are not whole numbers (PT in SUV)
    /// or arbitrary units (MR), so that rounding or a HU range would change what they measure.
    public static func isNonInteger(_ modality: String) -> Bool {
        let m = modality.uppercased()
        return m == pt || m == mr
    }

    /// The unit of the modality's intensities, for messages.
    public static func unit(_ modality: String) -> String {
        switch modality.uppercased() {
        case pt: return "SUV"
        case mr: return "arbitrary units"
        case ct: return "HU"
        default: return "its own units"
        }
    }
}
