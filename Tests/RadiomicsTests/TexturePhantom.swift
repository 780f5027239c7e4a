import Foundation
import ImagingCore
import Radiomics
import TestSupport
import XCTest

/// The IBSI 1 digital phantom as texture input, and its reference values.
///
/// The phantom's intensities are its grey levels (1...6, used as-is); the mask selects the ROI.
/// The two gzipped NIfTI files are read here with a minimal reader (gzip via `Process`), so
/// these tests do not depend on the image I/O target.
enum TexturePhantom {
    struct Reference {
        let tag: String
        let value: Double
        let tolerance: Double
    }

    static func roi() throws -> DiscretisedROI {
        let image = try readNIfTI("ibsi1/digital_phantom/image.nii.gz")
        let mask = try readNIfTI("ibsi1/digital_phantom/mask.nii.gz")
        guard image.size == mask.size else {
            throw PhantomError("digital phantom image \(image.size) and mask \(mask.size) differ in size")
        }
        let levels = zip(image.values, mask.values).map { $1 > 0 ? Int32($0.rounded()) : 0 }
        return DiscretisedROI(size: image.size, spacing: image.spacing, levels: levels,
                              binCount: Int(levels.max() ?? 0))
    }

    /// The phantom's reference values whose tag starts with `prefix`, skipping empty cells.
    static func references(prefix: String) throws -> [Reference] {
        let url = try SharedData.url("ibsi1/digital_phantom/reference_values.csv")
        let text = try String(contentsOf: url, encoding: .utf8)
        var result: [Reference] = []
        for line in text.split(whereSeparator: \.isNewline).dropFirst() {
            let cells = line.split(separator: ";", omittingEmptySubsequences: false).map {
                $0.trimmingCharacters(in: .whitespaces)
            }
            guard cells.count == 3, cells[2].hasPrefix(prefix), let value = Double(cells[0]) else { continue }
            result.append(Reference(tag: cells[2], value: value, tolerance: Double(cells[1]) ?? 0))
        }
        return result
    }

    /// `value` rounded to three significant digits, as the reference values are.
    static func threeSignificantDigits(_ value: Double) -> Double {
        guard value.isFinite, value != 0 else { return value }
        let exponent = Int(floor(log10(abs(value))))
        if exponent >= 2 {
            let unit = pow(10, Double(exponent - 2))
            return (value / unit).rounded() * unit
        }
        let scale = pow(10, Double(2 - exponent))
        return (value * scale).rounded() / scale
    }

    /// Compares `computed` with every reference of `family`, printing `family: matched/total`;
    /// returns the mismatches as readable lines.
    static func mismatches(_ family: FeatureFamily, computed: [FeatureValue]) throws -> [String] {
        let references = try references(prefix: family.ibsiPrefix + "_")
        var byTag: [String: FeatureValue] = [:]
        for value in computed { byTag[value.ibsiTag] = value }
        var failures: [String] = []
        for reference in references {
            guard let value = byTag[reference.tag] else {
                failures.append("\(reference.tag): not computed (reference \(reference.value))")
                continue
            }
            let rounded = threeSignificantDigits(value.value)
            let slack = reference.tolerance + 1e-12 * abs(reference.value)
            if !(abs(rounded - reference.value) <= slack) {
                failures.append("\(reference.tag): \(value.value) (rounded \(rounded)), reference \(reference.value) ± \(reference.tolerance)"
                                + (value.note.map { " [\($0)]" } ?? ""))
            }
        }
        print("\(family.rawValue): \(references.count - failures.count)/\(references.count)")
        return failures
    }

    private struct Volume {
        let size: Size3
        let spacing: Vector3
        let values: [Double]
    }

    struct PhantomError: Error, CustomStringConvertible {
        let description: String
        init(_ description: String) { self.description = description }
    }

    /// A little-endian NIfTI-1 volume, gzipped or not.
    private static func readNIfTI(_ relative: String) throws -> Volume {
        let url = try SharedData.url(relative)
        var data = try Data(contentsOf: url)
        if url.pathExtension == "gz" { data = try gunzip(url) }
        let bytes = [UInt8](data)
        func int16(_ at: Int) -> Int { Int(Int16(bitPattern: UInt16(bytes[at]) | UInt16(bytes[at + 1]) << 8)) }
        func float32(_ at: Int) -> Float {
            Float(bitPattern: UInt32(bytes[at]) | UInt32(bytes[at + 1]) << 8 | UInt32(bytes[at + 2]) << 16
                  | UInt32(bytes[at + 3]) << 24)
        }
        guard bytes.count >= 352, int16(0) == 348 || bytes[0] == 0x5C else {
            throw PhantomError("\(url.path) is not a little-endian NIfTI-1 file")
        }
        let size = Size3(int16(42), int16(44), max(int16(46), 1))
        let spacing = Vector3(Double(float32(80)), Double(float32(84)), Double(float32(88)))
        let datatype = int16(70)
        let offset = Int(float32(108))
        let slope = float32(112) == 0 ? 1.0 : Double(float32(112))
        let intercept = Double(float32(116))
        var values = [Double](repeating: 0, count: size.count)
        for index in 0..<size.count {
            let raw: Double
            switch datatype {
            case 2: raw = Double(bytes[offset + index])
            case 4: raw = Double(int16(offset + 2 * index))
            case 16: raw = Double(float32(offset + 4 * index))
            default: throw PhantomError("\(url.path): NIfTI datatype \(datatype) is not supported by the test reader")
            }
            values[index] = raw * slope + intercept
        }
        return Volume(size: size, spacing: spacing, values: values)
    }

    private static func gunzip(_ url: URL) throws -> Data {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["gzip", "-dc", url.path]
        let pipe = Pipe()
        process.standardOutput = pipe
        try process.run()
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else { throw PhantomError("gzip -dc \(url.path) failed") }
        return data
    }
}
