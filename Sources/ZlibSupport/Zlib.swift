import Foundation
internal import CZlib
internal import CDeflate

/// Why compressed data could not be decoded.
public struct ZlibError: Error, CustomStringConvertible, Equatable {
    /// What is wrong with the data, in words.
    public let message: String

    public init(_ message: String) { self.message = message }

    public var description: String { message }
}

/// The gzip container (RFC 1952), as written by `gzip` and used for `.nii.gz` and NRRD `gzip` encoding.
public enum Gzip {
    /// Whether `data` starts with the gzip magic bytes.
    public static func isGzip(_ data: Data) -> Bool {
        data.count >= 2 && data[data.startIndex] == 0x1f && data[data.startIndex + 1] == 0x8b
    }

    /// The uncompressed bytes of a gzip stream; concatenated members (as `cat a.gz b.gz`
    /// produces) are decoded one after another, and zero padding after the last member is ignored.
    ///
    /// Throws `ZlibError` for data that is not gzip, corrupt (including a wrong CRC or length
    /// check), or truncated.
    ///
    /// With a `limit`, decompression stops with an error as soon as the output exceeds `limit` bytes, so a
    /// small file that expands to gigabytes (a decompression bomb, or a header that does not match its data)
    /// costs at most `limit` plus one chunk of memory.
    public static func decompress(_ data: Data, limit: Int? = nil) throws -> Data {
        guard isGzip(data) else {
            throw ZlibError(data.isEmpty ? "gzip data is empty" : "not gzip data (missing 1f 8b magic bytes)")
        }
        // libdeflate decodes valid data; anything it refuses (damage, trailing bytes, the limit) is decoded
        // again by zlib, whose streaming decoder says what is wrong and where.
        if let fast = WholeBufferGzip.decompress(data, limit: limit) { return fast }
        return try ZStream.inflate(data, format: .gzip, limit: limit.map { ($0, false) })
    }

    /// The first `count` uncompressed bytes of a gzip stream (all of them when it is shorter), e.g. a
    /// file header read before deciding how much to decompress. The rest of the stream is neither
    /// decompressed nor checked; throws `ZlibError` for damage within the part that is read.
    public static func decompressPrefix(_ data: Data, count: Int) throws -> Data {
        guard isGzip(data) else {
            throw ZlibError(data.isEmpty ? "gzip data is empty" : "not gzip data (missing 1f 8b magic bytes)")
        }
        return try ZStream.inflate(data, format: .gzip, limit: (max(0, count), true))
    }

    /// The most bytes deflate can expand `compressedCount` bytes to (its maximum ratio is about 1032:1);
    /// a header that describes more data than this cannot be right.
    public static func maximumDecompressedSize(ofCompressed compressedCount: Int) -> Int {
        compressedCount.multipliedReportingOverflow(by: 1032).overflow ? .max : compressedCount * 1032 + 1024
    }

    /// `data` as a single gzip member at compression `level` (0 stores, 9 compresses most).
    public static func compress(_ data: Data, level: Int = 6) -> Data {
        ZStream.deflate(data, format: .gzip, level: level)
    }
}

/// Whole-buffer gzip decompression with libdeflate (about twice zlib's inflate speed, and its CRC-32 several times
/// faster), for the common case of valid data: every member decoded and checked (CRC-32 and length), straight
/// into an uninitialised output buffer sized from the gzip trailer. Returns nil, having thrown nothing away but
/// time, whenever the data is not a clean sequence of gzip members followed by nothing or zero padding, or the
/// output would exceed the limit: the caller then decodes with zlib and reports the problem.
enum WholeBufferGzip {
    static func decompress(_ data: Data, limit: Int?) -> Data? {
        guard let decompressor = libdeflate_alloc_decompressor() else { return nil }
        defer { libdeflate_free_decompressor(decompressor) }
        let cap = limit ?? Int.max
        return data.withUnsafeBytes { raw -> Data? in
            guard let input = raw.baseAddress, raw.count >= 18 else { return nil }
            // The last member's size (mod 2^32) from the trailer; several members grow the buffer as needed.
            let end = raw.count
            let isize = Int(raw[end - 4]) | Int(raw[end - 3]) << 8 | Int(raw[end - 2]) << 16 | Int(raw[end - 1]) << 24
            var capacity = max(1, min(isize, cap, Gzip.maximumDecompressedSize(ofCompressed: raw.count)))
            guard var output = malloc(capacity) else { return nil }
            var produced = 0, consumed = 0
            var succeeded = false
            defer { if !succeeded { free(output) } }
            while true {
                var inBytes = 0, outBytes = 0
                let result = libdeflate_gzip_decompress_ex(decompressor, input + consumed, raw.count - consumed,
                                                           output + produced, capacity - produced, &inBytes, &outBytes)
                if result == LIBDEFLATE_INSUFFICIENT_SPACE {
                    // More than the trailer said (an earlier member, or a wrong trailer): grow by half, within the limit.
                    guard capacity < cap else { return nil }
                    let grown = min(cap, capacity + max(1 << 18, capacity / 2))
                    guard let bigger = realloc(output, grown) else { return nil }
                    output = bigger
                    capacity = grown
                    continue
                }
                guard result == LIBDEFLATE_SUCCESS else { return nil }
                produced += outBytes
                consumed += inBytes
                let rest = UnsafeRawBufferPointer(rebasing: raw[consumed...])
                if rest.isEmpty { break }
                if rest.count >= 2 && rest[0] == 0x1f && rest[1] == 0x8b { continue }  // the next member
                guard rest.allSatisfy({ $0 == 0 }) else { return nil }
                break
            }
            succeeded = true
            return Data(bytesNoCopy: output, count: produced, deallocator: .free)
        }
    }
}

/// The zlib container (RFC 1950): a deflate stream with an Adler-32 check, as PNG's IDAT data uses.
public enum Zlib {
    /// `data` as one zlib stream at compression `level` (0 stores, 9 compresses most).
    public static func deflate(_ data: Data, level: Int = 6) -> Data {
        ZStream.deflate(data, format: .zlib, level: level)
    }

    /// The uncompressed bytes of one zlib stream; throws `ZlibError` when the stream is
    /// corrupt, truncated, or followed by extra bytes.
    public static func inflate(_ data: Data) throws -> Data {
        guard !data.isEmpty else { throw ZlibError("zlib data is empty") }
        return try ZStream.inflate(data, format: .zlib)
    }

    /// CRC-32 (the ISO 3309 / PNG / gzip polynomial) of `data`, continuing from `crc`
    /// so that a checksum can be built over several pieces.
    public static func crc32(_ data: Data, continuing crc: UInt32 = 0) -> UInt32 {
        var value = UInt(crc)
        ZStream.forEachPiece(of: data) { pointer, count in
            value = CZlib.crc32(value, pointer, uInt(count))
        }
        return UInt32(truncatingIfNeeded: value)
    }

    /// Adler-32 of `data`, continuing from `adler` (1 for a fresh checksum).
    public static func adler32(_ data: Data, continuing adler: UInt32 = 1) -> UInt32 {
        var value = UInt(adler)
        ZStream.forEachPiece(of: data) { pointer, count in
            value = CZlib.adler32(value, pointer, uInt(count))
        }
        return UInt32(truncatingIfNeeded: value)
    }
}

/// Chunked deflate/inflate over zlib's `z_stream`: the input is read in place and the
/// output grows in fixed-size steps, so peak memory is the input plus the output.
enum ZStream {
    enum Format {
        case gzip, zlib
        var windowBits: Int32 { self == .gzip ? 15 + 16 : 15 }
        var name: String { self == .gzip ? "gzip" : "zlib" }
    }

    /// zlib counts bytes in 32-bit fields; larger buffers are fed in pieces of this size.
    static let maxPiece = 1 << 30
    static let outputChunk = 1 << 18

    static func forEachPiece(of data: Data, _ body: (UnsafePointer<Bytef>, Int) -> Void) {
        data.withUnsafeBytes { raw in
            guard let base = raw.baseAddress?.assumingMemoryBound(to: Bytef.self) else { return }
            var offset = 0
            while offset < raw.count {
                let n = min(maxPiece, raw.count - offset)
                body(base + offset, n)
                offset += n
            }
        }
    }

    static func deflate(_ input: Data, format: Format, level: Int) -> Data {
        var stream = z_stream()
        let clamped = Int32(max(0, min(9, level)))
        let initResult = czlib_deflate_init2(&stream, clamped, format.windowBits)
        precondition(initResult == Z_OK, "zlib deflateInit2 failed (\(initResult)): out of memory")
        defer { deflateEnd(&stream) }
        var output = Data()
        var chunk = [UInt8](repeating: 0, count: outputChunk)
        input.withUnsafeBytes { raw in
            var window = InputWindow(raw)
            while true {
                let result = step(&stream, &window, &chunk, &output) { stream, allFed in
                    CZlib.deflate(&stream, allFed ? Z_FINISH : Z_NO_FLUSH)
                }
                switch result.code {
                case Z_STREAM_END: return
                case Z_OK, Z_BUF_ERROR: continue
                default: preconditionFailure("zlib deflate failed (\(result.code)) on valid input")
                }
            }
        }
        return output
    }

    /// The part of the input handed to zlib so far; zlib's 32-bit counters see it in pieces.
    struct InputWindow {
        let base: UnsafePointer<Bytef>?
        let total: Int
        /// Bytes handed to zlib so far.
        var fed = 0

        init(_ raw: UnsafeRawBufferPointer) {
            base = raw.baseAddress.map { UnsafePointer($0.assumingMemoryBound(to: Bytef.self)) }
            total = raw.count
        }

        /// Gives zlib the next piece once it has consumed the previous one.
        mutating func refill(_ stream: inout z_stream) {
            guard stream.avail_in == 0, fed < total, let base else { return }
            let n = min(maxPiece, total - fed)
            stream.next_in = UnsafeMutablePointer(mutating: base + fed)
            stream.avail_in = uInt(n)
            fed += n
        }

        /// Bytes zlib has actually consumed.
        func position(_ stream: z_stream) -> Int { fed - Int(stream.avail_in) }
    }

    /// One zlib call with fresh output space: refills the input, runs `call` (told whether all input
    /// has been handed over) and appends what it produced to `output`.
    private static func step(_ stream: inout z_stream, _ window: inout InputWindow, _ chunk: inout [UInt8],
                             _ output: inout Data, _ call: (inout z_stream, Bool) -> Int32) -> (code: Int32, produced: Int) {
        window.refill(&stream)
        let allFed = window.fed == window.total
        let (code, produced) = chunk.withUnsafeMutableBufferPointer { out -> (Int32, Int) in
            stream.next_out = out.baseAddress
            stream.avail_out = uInt(out.count)
            let r = call(&stream, allFed)
            return (r, out.count - Int(stream.avail_out))
        }
        output.append(contentsOf: chunk[0..<produced])
        return (code, produced)
    }

    /// `limit`: the most output wanted, and whether reaching it ends decoding quietly (a prefix) or is an error.
    ///
    /// zlib writes straight into the output (sized from the gzip trailer, grown when that is wrong), so
    /// the data is decompressed in one pass with no intermediate copy; the output never holds more than
    /// one byte beyond the limit.
    static func inflate(_ input: Data, format: Format, limit: (bytes: Int, prefix: Bool)? = nil) throws -> Data {
        var stream = z_stream()
        guard czlib_inflate_init2(&stream, format.windowBits) == Z_OK else {
            throw ZlibError("zlib could not start decompressing (out of memory)")
        }
        defer { inflateEnd(&stream) }
        // At most one byte past the limit is ever asked for: enough to tell that the limit is exceeded.
        let cap = limit.map { $0.bytes + 1 } ?? .max
        var output = Data(count: max(1, min(expectedSize(of: input, format: format), cap)))
        var produced = 0
        try input.withUnsafeBytes { raw in
            guard !raw.isEmpty else { return }
            var window = InputWindow(raw)
            let total = raw.count
            while true {
                if produced == output.count {
                    // The trailer's size hint was short (or absent): grow by half, within the cap.
                    output.count = min(cap, output.count + max(outputChunk, output.count / 2))
                }
                window.refill(&stream)
                let before = produced
                let result = output.withUnsafeMutableBytes { out -> Int32 in
                    let base = out.baseAddress!.assumingMemoryBound(to: Bytef.self)
                    let space = min(maxPiece, out.count - produced)
                    stream.next_out = base + produced
                    stream.avail_out = uInt(space)
                    let r = CZlib.inflate(&stream, Z_NO_FLUSH)
                    produced += space - Int(stream.avail_out)
                    return r
                }
                let position = window.position(stream)
                if let limit, produced > limit.bytes {
                    if limit.prefix {
                        produced = limit.bytes
                        return
                    }
                    throw ZlibError("\(format.name) data decompresses to more than \(limit.bytes) bytes")
                }
                switch result {
                case Z_OK:
                    continue
                case Z_STREAM_END:
                    let rest = UnsafeRawBufferPointer(rebasing: raw[position...])
                    if rest.isEmpty { return }
                    if format == .gzip && rest.count >= 2 && rest[0] == 0x1f && rest[1] == 0x8b {
                        inflateReset(&stream)  // next member of a multi-member gzip file
                        continue
                    }
                    if format == .gzip && rest.allSatisfy({ $0 == 0 }) { return }
                    throw ZlibError("\(rest.count) unexpected bytes after the end of the \(format.name) stream "
                                    + "(at byte \(position) of \(total))")
                case Z_BUF_ERROR where produced == before:
                    throw ZlibError("\(format.name) data is truncated: the stream ends after \(total) bytes "
                                    + "without its end marker")
                case Z_BUF_ERROR:
                    continue
                case Z_NEED_DICT:
                    throw ZlibError("\(format.name) stream needs a preset dictionary, which is not supported")
                case Z_MEM_ERROR:
                    throw ZlibError("out of memory while decompressing \(format.name) data")
                default:
                    let reason = stream.msg.map { String(cString: $0) } ?? "error \(result)"
                    throw ZlibError("\(format.name) data is corrupt at byte \(position) of \(total): \(reason)")
                }
            }
        }
        output.count = produced
        return output
    }

    /// A capacity hint for the output: gzip records the (mod 2^32) size of its last member
    /// in the final four bytes. Capped by deflate's maximum ratio so a corrupt trailer
    /// cannot ask for an absurd allocation.
    private static func expectedSize(of input: Data, format: Format) -> Int {
        let ceiling = input.count * 1032 + 1024
        guard format == .gzip, input.count >= 18 else { return min(ceiling, 4 * input.count) }
        let end = input.endIndex
        let isize = Int(input[end - 4]) | Int(input[end - 3]) << 8 | Int(input[end - 2]) << 16
            | Int(input[end - 1]) << 24
        return min(isize, ceiling)
    }
}
