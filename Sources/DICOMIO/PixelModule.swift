import Foundation

/// Checks that a file's Image Pixel module and rescale attributes describe its pixels consistently,
/// before any pixel is read.
///
/// A header that disagrees with its Pixel Data (Bits Allocated 8 over 16-bit data, Rows or Columns
/// wrong, Pixel Data cut short) would otherwise be decoded with the wrong layout and give plausible
/// but wrong values; a Rescale Slope of 0 makes every voxel the intercept. Each problem is refused
/// with a message naming the attribute and the numbers involved (never a value that could carry an
/// identifier).
enum PixelModule {
    /// What the pixels are expected to be.
    enum Kind {
        /// A slice of a CT or PET series: one greyscale sample, 8, 16 or 32 bits allocated.
        case greyscaleImage
        /// A BINARY segmentation: 1 bit allocated, bit-packed across frames.
        case binarySegmentation
        /// A FRACTIONAL segmentation: 8 bits allocated.
        case fractionalSegmentation
    }

    /// PhotometricInterpretation defined terms (PS3.3 C.7.6.3.1.2).
    static let photometricTerms: Set<String> = [
        "MONOCHROME1", "MONOCHROME2", "PALETTE COLOR", "RGB", "HSV", "ARGB", "CMYK", "YBR_FULL", "YBR_FULL_422",
        "YBR_PARTIAL_422", "YBR_PARTIAL_420", "YBR_ICT", "YBR_RCT",
    ]

    /// The first problem of the pixel description, or nil when it is consistent.
    ///
    /// MONOCHROME1 is accepted for images: it changes only how values are displayed, not the values
    /// the Rescale Slope and Intercept turn into HU or Bq/ml.
    static func problem(_ info: DICOMFile.PixelInfo, photometric: String?, numberOfFrames: [Double]?,
                        kind: Kind) -> String? {
        if let n = numberOfFrames {
            guard n.count == 1, let f = n.first, f >= 1, f == f.rounded(), f <= Double(Int32.max) else {
                return "NumberOfFrames (0028,0008) is not a positive whole number"
            }
        }
        guard info.rows > 0, info.columns > 0 else {
            return "Rows (0028,0010) or Columns (0028,0011) is 0: the file holds no image"
        }
        switch kind {
        case .greyscaleImage:
            guard info.samplesPerPixel == 1 else {
                return "has \(info.samplesPerPixel) samples per pixel (PhotometricInterpretation \(Redacted.code(photometric, known: photometricTerms))); only greyscale images are supported"
            }
            if let p = photometric?.uppercased(), !p.isEmpty, p != "MONOCHROME1", p != "MONOCHROME2" {
                return "PhotometricInterpretation (0028,0004) is \(Redacted.code(p, known: photometricTerms)); only greyscale (MONOCHROME1 or MONOCHROME2) images are supported"
            }
            guard [8, 16, 32].contains(info.bitsAllocated) else {
                return "BitsAllocated (0028,0100) is \(info.bitsAllocated); image slices need 8, 16 or 32"
            }
        case .binarySegmentation:
            guard info.bitsAllocated == 1 else {
                return "BINARY segmentation with BitsAllocated (0028,0100) \(info.bitsAllocated), expected 1"
            }
        case .fractionalSegmentation:
            guard info.bitsAllocated == 8 else {
                return "FRACTIONAL segmentation with BitsAllocated (0028,0100) \(info.bitsAllocated), expected 8"
            }
        }
        if kind != .greyscaleImage && info.samplesPerPixel != 1 {
            return "segmentation with \(info.samplesPerPixel) samples per pixel, expected 1"
        }
        guard info.bitsStored >= 1, info.bitsStored <= info.bitsAllocated else {
            return "BitsStored (0028,0101) is \(info.bitsStored) with BitsAllocated \(info.bitsAllocated); it must lie between 1 and BitsAllocated"
        }
        guard info.highBit >= info.bitsStored - 1, info.highBit < info.bitsAllocated else {
            return "HighBit (0028,0102) is \(info.highBit) with BitsStored \(info.bitsStored) and BitsAllocated \(info.bitsAllocated); it must lie between BitsStored - 1 and BitsAllocated - 1"
        }
        guard info.pixelRepresentation == 0 || info.pixelRepresentation == 1 else {
            return "PixelRepresentation (0028,0103) is \(info.pixelRepresentation); it must be 0 (unsigned) or 1 (signed)"
        }
        if let length = info.pixelDataLength {
            let values = info.rows * info.columns * info.samplesPerPixel * info.frames
            let expected = info.bitsAllocated == 1 ? (values + 7) / 8 : values * (info.bitsAllocated / 8)
            var layout = "Rows x Columns (\(info.rows) x \(info.columns))"
            if info.samplesPerPixel != 1 { layout += " x SamplesPerPixel (\(info.samplesPerPixel))" }
            if info.frames != 1 || kind != .greyscaleImage { layout += " x NumberOfFrames (\(info.frames))" }
            layout += " at BitsAllocated \(info.bitsAllocated)"
            if length == 0 {
                return "Pixel Data (7FE0,0010) is empty: the file holds no pixels (truncated or incompletely written?)"
            }
            if length < expected {
                return "Pixel Data (7FE0,0010) holds \(length) bytes, but \(layout) need \(expected): the file is truncated, or its Rows, Columns or BitsAllocated are wrong"
            }
            if length > expected + 1 {
                let ratio = Double(length) / Double(expected)
                let times = abs(ratio - ratio.rounded()) < 1e-9 ? " (\(Int(ratio.rounded())) times as many)" : ""
                return "Pixel Data (7FE0,0010) holds \(length) bytes\(times), but \(layout) describe \(expected): BitsAllocated, Rows, Columns, SamplesPerPixel or NumberOfFrames disagree with the pixel data, so its values cannot be read reliably"
            }
        }
        return nil
    }

    /// Rescale slope and intercept of an image (1 and 0 when absent), or the reason they cannot be used.
    ///
    /// Refused: a slope of 0 (every voxel would become the intercept), values that are not finite
    /// numbers, empty or multi-valued elements, and a Modality LUT Sequence (a lookup table LesionMap
    /// does not apply, so values would stay raw stored values).
    static func rescale(_ d: DICOMItem) -> Result<(slope: Double, intercept: Double), RescaleProblem> {
        if d.has(Tag.modalityLUTSequence) {
            return .failure(RescaleProblem(message: "holds a Modality LUT Sequence (0028,3000); only RescaleSlope/RescaleIntercept are supported, a lookup table is not applied"))
        }
        func value(_ tag: DICOMTag, _ name: String, default fallback: Double) -> Result<Double, RescaleProblem> {
            guard d.has(tag) else { return .success(fallback) }
            guard let values = try? d.numbers(tag) else {
                return .failure(RescaleProblem(message: "\(name) \(tag) is not a number"))
            }
            guard values.count == 1 else {
                return .failure(RescaleProblem(message: values.isEmpty ? "\(name) \(tag) is present but empty"
                                                : "\(name) \(tag) holds \(values.count) values, expected one"))
            }
            guard values[0].isFinite else {
                return .failure(RescaleProblem(message: "\(name) \(tag) is not a finite number (\(values[0]))"))
            }
            return .success(values[0])
        }
        let slope: Double
        switch value(Tag.rescaleSlope, "RescaleSlope", default: 1) {
        case .failure(let p): return .failure(p)
        case .success(let s): slope = s
        }
        if slope == 0 {
            return .failure(RescaleProblem(message: "RescaleSlope (0028,1053) is 0: every voxel would get the value of RescaleIntercept, a constant image whose features mean nothing"))
        }
        switch value(Tag.rescaleIntercept, "RescaleIntercept", default: 0) {
        case .failure(let p): return .failure(p)
        case .success(let intercept): return .success((slope, intercept))
        }
    }

    struct RescaleProblem: Error { var message: String }
}
