import Foundation
import ZlibSupport

/// 8-bit PNG images (greyscale or RGB), written in the project so reports need no image library.
public enum PNG {
    /// The 8-byte PNG file signature.
    static let signature: [UInt8] = [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]

    /// Encodes `width` x `height` greyscale pixels (row by row, top row first).
    public static func grey(width: Int, height: Int, pixels: [UInt8]) -> Data {
        precondition(pixels.count == width * height, "PNG: \(pixels.count) pixels for \(width)x\(height)")
        return encode(width: width, height: height, channels: 1, pixels: pixels)
    }

    /// Encodes `width` x `height` RGB pixels (3 bytes each, row by row, top row first).
    public static func rgb(width: Int, height: Int, pixels: [UInt8]) -> Data {
        precondition(pixels.count == 3 * width * height, "PNG: \(pixels.count) bytes for \(width)x\(height) RGB")
        return encode(width: width, height: height, channels: 3, pixels: pixels)
    }

    /// A `data:` URI for inline use in HTML.
    public static func dataURI(_ png: Data) -> String { "data:image/png;base64," + png.base64EncodedString() }

    private static func encode(width: Int, height: Int, channels: Int, pixels: [UInt8]) -> Data {
        precondition(width > 0 && height > 0, "PNG: empty image")
        var out = Data(signature)
        var header = Data()
        header.append(bigEndian: UInt32(width))
        header.append(bigEndian: UInt32(height))
        header.append(contentsOf: [8, channels == 1 ? 0 : 2, 0, 0, 0])  // depth 8, grey/RGB, deflate, adaptive, no interlace
        chunk("IHDR", header, into: &out)
        // Each scanline starts with its filter: "Up" (2) for all rows but the first, which compresses
        // smooth CT images well and is cheap.
        let stride = width * channels
        var raw = [UInt8]()
        raw.reserveCapacity((stride + 1) * height)
        for y in 0..<height {
            let row = y * stride
            if y == 0 {
                raw.append(0)
                raw.append(contentsOf: pixels[row..<(row + stride)])
            } else {
                raw.append(2)
                for x in 0..<stride { raw.append(pixels[row + x] &- pixels[row - stride + x]) }
            }
        }
        chunk("IDAT", Zlib.deflate(Data(raw), level: 6), into: &out)
        chunk("IEND", Data(), into: &out)
        return out
    }

    private static func chunk(_ type: String, _ data: Data, into out: inout Data) {
        out.append(bigEndian: UInt32(data.count))
        var typed = Data(type.utf8)
        typed.append(data)
        out.append(typed)
        out.append(bigEndian: Zlib.crc32(typed))
    }
}

extension Data {
    mutating func append(bigEndian v: UInt32) {
        append(contentsOf: [UInt8(v >> 24), UInt8((v >> 16) & 0xFF), UInt8((v >> 8) & 0xFF), UInt8(v & 0xFF)])
    }
}
