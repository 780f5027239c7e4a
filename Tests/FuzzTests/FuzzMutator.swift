import Foundation
import ZlibSupport

/// SplitMix64: a small, fast, seedable generator. Input `i` of a run draws from a generator seeded with
/// (run seed, i), so any input can be regenerated from its index alone.
struct FuzzRNG {
    private var state: UInt64

    init(seed: UInt64) { state = seed }

    /// The generator of input `index` of a run seeded with `runSeed`.
    init(runSeed: UInt64, index: Int) {
        var g = FuzzRNG(seed: runSeed ^ 0x9E37_79B9_7F4A_7C15)
        for _ in 0..<2 { _ = g.next() }
        state = g.next() &+ UInt64(truncatingIfNeeded: index) &* 0xD1B5_4A32_D192_ED03
        _ = next()
    }

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// Uniform in 0..<n (n > 0).
    mutating func below(_ n: Int) -> Int { Int(next() % UInt64(max(1, n))) }

    mutating func chance(_ p: Double) -> Bool { Double(next() >> 11) / Double(1 << 53) < p }

    mutating func pick<T>(_ items: [T]) -> T { items[below(items.count)] }

    /// A length biased towards small values: 1..max, usually under 16.
    mutating func smallLength(max: Int) -> Int {
        guard max > 1 else { return 1 }
        let cap = chance(0.8) ? min(max, 16) : max
        return 1 + below(cap)
    }
}

/// The on-disk formats the mutator knows the structure of.
enum FuzzFormat: String, Codable, Sendable {
    /// An uncompressed single-file NIfTI-1 image.
    case nifti
    /// A gzip-compressed NIfTI-1 image (mutated inside the compression, or the compressed bytes themselves).
    case niftiGz
    /// A NRRD header, with or without attached data.
    case nrrd
    /// The raw voxel bytes of a detached NRRD.
    case rawData
    /// Gzip-compressed voxel bytes of a detached NRRD.
    case gzipData
    /// A cohort manifest CSV.
    case csv
    /// A DICOM Part 10 file.
    case dicom
}

/// Seeded random mutations: generic byte-level ones (bit flips, interesting values, chunk deletion,
/// duplication, insertion, truncation, splicing) and structure-aware ones per format (NIfTI header
/// fields, NRRD header lines, CSV cells/rows/columns/quoting, DICOM element lengths/VRs/tags/values,
/// transfer syntax and pixel data). One to four mutations are stacked per input.
struct FuzzMutator {
    /// Other inputs of the same format, for splicing.
    var spliceSources: [Data] = []

    func mutate(_ input: Data, format: FuzzFormat, rng: inout FuzzRNG) -> Data {
        var data = input
        let rounds = rng.chance(0.5) ? 1 : 1 + rng.below(4)
        for _ in 0..<rounds {
            data = mutateOnce(data, format: format, rng: &rng)
        }
        return data
    }

    private func mutateOnce(_ data: Data, format: FuzzFormat, rng: inout FuzzRNG) -> Data {
        // Structure-aware mutations keep the input parseable enough to reach the deeper checks.
        if rng.chance(0.6) {
            switch format {
            case .nifti: return NIfTIMutations.mutate(data, rng: &rng)
            case .niftiGz:
                if rng.chance(0.85), let plain = try? Gzip.decompress(data) {
                    let mutated = rng.chance(0.7) ? NIfTIMutations.mutate(plain, rng: &rng)
                        : Self.generic(plain, rng: &rng, splice: [])
                    var packed = Gzip.compress(mutated, level: 1)
                    if rng.chance(0.1) { packed = GzipMutations.mutate(packed, rng: &rng) }
                    return packed
                }
                return GzipMutations.mutate(data, rng: &rng)
            case .nrrd: return NRRDMutations.mutate(data, rng: &rng)
            case .gzipData:
                if rng.chance(0.5), let plain = try? Gzip.decompress(data) {
                    return Gzip.compress(Self.generic(plain, rng: &rng, splice: []), level: 1)
                }
                return GzipMutations.mutate(data, rng: &rng)
            case .rawData: return Self.generic(data, rng: &rng, splice: spliceSources)
            case .csv: return CSVMutations.mutate(data, rng: &rng)
            case .dicom: return DICOMMutations.mutate(data, rng: &rng)
            }
        }
        return Self.generic(data, rng: &rng, splice: spliceSources)
    }

    // MARK: - Generic byte mutations

    static let interestingBytes: [UInt8] = [0, 1, 0x7F, 0x80, 0xFF, 0x20, 0x0A, 0x0D, 0x22, 0x2C, 0x5C, 0x30, 0x39]
    static let interestingIntegers: [Int64] = [
        0, 1, -1, 2, 3, 7, 8, 15, 16, 31, 32, 63, 64, 127, 128, 255, 256, 348, 352, 511, 512, 1023, 1024,
        32767, 32768, -32768, 65535, 65536, 0x7FFF_FFFF, -0x8000_0000, 0xFFFF_FFFF, 0x1_0000_0000,
        0x7FFF_FFFF_FFFF_FFFF, Int64.min, 1 << 40,
    ]

    static func generic(_ input: Data, rng: inout FuzzRNG, splice: [Data]) -> Data {
        var bytes = [UInt8](input)
        if bytes.isEmpty { return Data([rng.pick(interestingBytes)]) }
        switch rng.below(11) {
        case 0:  // flip one bit
            let i = rng.below(bytes.count)
            bytes[i] ^= 1 << UInt8(rng.below(8))
        case 1:  // set a byte to an interesting value
            bytes[rng.below(bytes.count)] = rng.pick(interestingBytes)
        case 2:  // set a random byte
            bytes[rng.below(bytes.count)] = UInt8(truncatingIfNeeded: rng.next())
        case 3:  // an interesting 2, 4 or 8 byte integer, either byte order
            let width = rng.pick([2, 4, 8])
            guard bytes.count >= width else { break }
            let at = rng.below(bytes.count - width + 1)
            let value = UInt64(bitPattern: rng.pick(interestingIntegers))
            let big = rng.chance(0.3)
            for b in 0..<width {
                let shift = UInt64(8 * (big ? width - 1 - b : b))
                bytes[at + b] = UInt8(truncatingIfNeeded: value >> shift)
            }
        case 4:  // delete a chunk
            let n = rng.smallLength(max: max(1, bytes.count / 4))
            let at = rng.below(bytes.count)
            bytes.removeSubrange(at..<min(bytes.count, at + n))
        case 5:  // duplicate a chunk
            let n = rng.smallLength(max: max(1, min(bytes.count, 4096)))
            let from = rng.below(bytes.count)
            let chunk = Array(bytes[from..<min(bytes.count, from + n)])
            bytes.insert(contentsOf: chunk, at: rng.below(bytes.count + 1))
        case 6:  // insert random bytes
            let n = rng.smallLength(max: 64)
            let chunk = (0..<n).map { _ in rng.chance(0.5) ? rng.pick(interestingBytes) : UInt8(truncatingIfNeeded: rng.next()) }
            bytes.insert(contentsOf: chunk, at: rng.below(bytes.count + 1))
        case 7:  // truncate
            bytes.removeSubrange(rng.below(bytes.count)...)
        case 8:  // splice with another input of the same format
            if let other = splice.isEmpty ? nil : rng.pick(splice), !other.isEmpty {
                let cut = rng.below(bytes.count)
                let from = rng.below(other.count)
                bytes = Array(bytes[..<cut]) + Array(other[from...])
            } else {
                bytes[rng.below(bytes.count)] ^= 0xFF
            }
        case 9:  // overwrite a run of bytes with one value
            let n = rng.smallLength(max: 256)
            let at = rng.below(bytes.count)
            let value = rng.pick(interestingBytes)
            for i in at..<min(bytes.count, at + n) { bytes[i] = value }
        default:  // replace an ASCII number with an interesting one
            return replaceNumber(Data(bytes), rng: &rng)
        }
        return Data(bytes)
    }

    static let interestingNumberTexts = [
        "0", "-0", "1", "-1", "2", "3", "0.5", "-0.5", "1e-300", "1e308", "1e309", "-1e309", "nan", "NaN", "inf",
        "-inf", "Infinity", "2147483647", "2147483648", "-2147483649", "4294967296", "9223372036854775807",
        "9223372036854775808", "18446744073709551616", "65535", "65536", "32767", "1099511627776", "0x10", "1,5",
        "", " ", "+", "-", ".", "1.2.3", "١٢", "1e", "00000000000000000000000000001",
    ]

    /// Replaces one run of ASCII digits (with sign, point and exponent) by an interesting number text.
    static func replaceNumber(_ data: Data, rng: inout FuzzRNG) -> Data {
        let bytes = [UInt8](data)
        var runs: [Range<Int>] = []
        var i = 0
        while i < bytes.count && runs.count < 4096 {
            if (0x30...0x39).contains(bytes[i]) {
                var start = i
                if start > 0 && (bytes[start - 1] == 0x2D || bytes[start - 1] == 0x2B) { start -= 1 }
                var end = i
                while end < bytes.count, (0x30...0x39).contains(bytes[end]) || bytes[end] == 0x2E
                    || bytes[end] == 0x65 || bytes[end] == 0x45 { end += 1 }
                runs.append(start..<end)
                i = end
            } else {
                i += 1
            }
        }
        guard !runs.isEmpty else { return data }
        let run = rng.pick(runs)
        var out = Array(bytes[..<run.lowerBound])
        out += Array(rng.pick(interestingNumberTexts).utf8)
        out += Array(bytes[run.upperBound...])
        return Data(out)
    }
}

// MARK: - Gzip containers

enum GzipMutations {
    /// Damages a gzip stream where readers look: header flags, the deflate data, the CRC and ISIZE trailer,
    /// a second member, trailing bytes.
    static func mutate(_ data: Data, rng: inout FuzzRNG) -> Data {
        var bytes = [UInt8](data)
        guard bytes.count >= 18 else { return FuzzMutator.generic(data, rng: &rng, splice: []) }
        switch rng.below(6) {
        case 0:  // header flags (FEXTRA, FNAME, FCOMMENT, FHCRC) and method
            bytes[rng.pick([2, 3])] = rng.pick([0, 1, 2, 4, 8, 16, 0x1F, 0xFF])
        case 1:  // ISIZE claims a huge size
            let n = bytes.count
            let v = UInt32(truncatingIfNeeded: rng.pick(FuzzMutator.interestingIntegers))
            for b in 0..<4 { bytes[n - 4 + b] = UInt8(truncatingIfNeeded: v >> (8 * UInt32(b))) }
        case 2:  // CRC
            bytes[bytes.count - 8 + rng.below(4)] ^= 0x5A
        case 3:  // a second member: the stream again, or its start
            let extra = rng.chance(0.5) ? bytes : Array(bytes[..<(10 + rng.below(bytes.count - 10))])
            bytes += extra
        case 4:  // trailing garbage or zero padding
            bytes += (0..<(1 + rng.below(32))).map { _ in rng.chance(0.5) ? 0 : UInt8(truncatingIfNeeded: rng.next()) }
        default:  // damage the deflate data itself
            let i = 10 + rng.below(bytes.count - 18)
            bytes[i] ^= UInt8(1 << rng.below(8))
        }
        return Data(bytes)
    }
}

// MARK: - NIfTI-1 headers

enum NIfTIMutations {
    enum Kind { case int16, int32, float32, uint8, magic }
    /// (offset, kind, name) of every header field a reader interprets.
    static let fields: [(Int, Kind)] = {
        var f: [(Int, Kind)] = [(0, .int32)]
        for i in 0..<8 { f.append((40 + 2 * i, .int16)) }      // dim
        f += [(68, .int16), (70, .int16), (72, .int16), (74, .int16)]  // intent_code, datatype, bitpix, slice_start
        for i in 0..<8 { f.append((76 + 4 * i, .float32)) }     // pixdim
        f += [(108, .float32), (112, .float32), (116, .float32), (120, .int16), (122, .uint8), (123, .uint8),
              (124, .float32), (128, .float32)]
        f += [(252, .int16), (254, .int16)]                      // qform_code, sform_code
        for i in 0..<6 { f.append((256 + 4 * i, .float32)) }    // quatern b c d, qoffset x y z
        for i in 0..<12 { f.append((280 + 4 * i, .float32)) }   // srow_x/y/z
        f.append((344, .magic))
        return f
    }()

    static let interestingFloats: [Float] = [
        0, -0.0, 1, -1, 0.5, 2, 3, 1e-45, 1e-30, 1e-7, 1e30, .greatestFiniteMagnitude, -.greatestFiniteMagnitude,
        .infinity, -.infinity, .nan, 2147483648, 4294967296, 9.2233720e18, 32767, 65535, 347, 348, 351.5, 352,
        353, 356, 368, 1e9, 0.70710678, -0.70710678, 1.0000001,
    ]
    static let datatypes: [Int64] = [0, 1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 768, 1024, 1280, 1536, 1792, 2048,
                                     2304, 32767, -1]

    static func mutate(_ data: Data, rng: inout FuzzRNG) -> Data {
        var bytes = [UInt8](data)
        guard bytes.count >= 348 else { return FuzzMutator.generic(data, rng: &rng, splice: []) }
        let big = (Int(bytes[0]) << 24 | Int(bytes[1]) << 16 | Int(bytes[2]) << 8 | Int(bytes[3])) == 348
        // Mostly the file's byte order; sometimes the other one, as a corrupt writer might.
        let writeBig = rng.chance(0.9) ? big : !big
        func store(_ value: UInt64, at offset: Int, width: Int) {
            for b in 0..<width {
                let shift = UInt64(8 * (writeBig ? width - 1 - b : b))
                bytes[offset + b] = UInt8(truncatingIfNeeded: value >> shift)
            }
        }
        let choice = rng.below(10)
        if choice == 0 {  // size the image past what the file holds, or to zero
            let axis = 1 + rng.below(3)
            store(UInt64(UInt16(bitPattern: Int16(truncatingIfNeeded: rng.pick([0, -1, 2, 255, 1000, 32767, -32768])))),
                  at: 40 + 2 * axis, width: 2)
        } else if choice == 1 {  // datatype and a matching or mismatching bitpix
            let t = rng.pick(datatypes)
            store(UInt64(UInt16(truncatingIfNeeded: t)), at: 70, width: 2)
            if rng.chance(0.5) {
                store(UInt64(rng.pick([0, 1, 8, 16, 32, 64, 128, 255] as [UInt16])), at: 72, width: 2)
            }
        } else if choice == 2 {  // the extension flag and a fake extension
            if bytes.count >= 352 {
                bytes[348] = rng.pick([0, 1, 0xFF])
                if bytes.count >= 360 && rng.chance(0.5) {
                    store(UInt64(UInt32(bitPattern: Int32(truncatingIfNeeded: rng.pick(FuzzMutator.interestingIntegers)))),
                          at: 352, width: 4)
                }
            }
        } else {
            let (offset, kind) = rng.pick(fields)
            switch kind {
            case .int16:
                let v: Int64 = offset == 70 ? rng.pick(datatypes) : rng.pick(FuzzMutator.interestingIntegers + [4, 5, 6])
                store(UInt64(UInt16(truncatingIfNeeded: v)), at: offset, width: 2)
            case .int32:
                let v = rng.pick([348, 540, 0, -1, 0x5C01_0000, Int64(bytes.count)])
                store(UInt64(UInt32(truncatingIfNeeded: v)), at: offset, width: 4)
            case .float32:
                var f = rng.pick(interestingFloats)
                if offset == 108 && rng.chance(0.3) { f = Float(bytes.count + rng.below(5) - 2) }
                store(UInt64(f.bitPattern), at: offset, width: 4)
            case .uint8:
                bytes[offset] = rng.chance(0.5) ? UInt8(rng.below(16)) : UInt8(truncatingIfNeeded: rng.next())
            case .magic:
                let magic = rng.pick(["n+1\0", "ni1\0", "n+2\0", "\0\0\0\0", "n+1X", "N+1\0"])
                for (i, b) in magic.utf8.enumerated() { bytes[344 + i] = b }
            }
        }
        return Data(bytes)
    }
}

// MARK: - NRRD headers

enum NRRDMutations {
    static let fieldValues: [String: [String]] = [
        "type": ["short", "unsigned short", "uchar", "signed char", "int", "uint", "float", "double", "longlong",
                 "ulonglong", "block", "int128", "", "float float", "unsigned", "long double"],
        "dimension": ["0", "1", "2", "3", "4", "-1", "16", "99999999999999999999", "3.0", "three"],
        "sizes": ["0 0 0", "-1 2 3", "2147483647 2147483647 2", "9223372036854775807 2 2", "65536 65536 65536",
                  "3 4", "3 4 5 6", "1e3 2 2", "1 1 1", "4294967296 4294967296 1", "3037000500 3037000500 1",
                  "1 1 1099511627776", "", "  4   3   2  "],
        "encoding": ["raw", "gzip", "gz", "ascii", "text", "hex", "bzip2", "bz2", "", "RAW"],
        "endian": ["little", "big", "middle", "", "BIG"],
        "space": ["left-posterior-superior", "right-anterior-superior", "left-anterior-superior", "LPS", "RAS",
                  "scanner-xyz", "3D-right-handed", "right-anterior-superior-time", "left-posterior", "", "lpst"],
        "space dimension": ["3", "2", "4", "0", "-3"],
        "space directions": ["(1,0,0) (0,1,0) (0,0,1)", "(0,0,0) (0,1,0) (0,0,1)", "(nan,0,0) (0,1,0) (0,0,1)",
                             "(1e308,1e308,1e308) (0,1,0) (0,0,1)", "none (1,0,0) (0,1,0)", "(1,0) (0,1) (0,0)",
                             "((((", ")", "(1,0,0) (1,0,0) (0,0,1)", "(inf,0,0) (0,1,0) (0,0,1)",
                             "(1,0,0)(0,1,0)(0,0,1)", "(1,0,0) (0,1,0) (0,0,1) (0,0,0)", "none none none",
                             "(1e-320,0,0) (0,1e-320,0) (0,0,1e-320)", "(,,) (,,) (,,)"],
        "space origin": ["(0,0,0)", "(nan,0,0)", "(1e400,0,0)", "(0,0)", "none", "(1,2,3) (4,5,6)", "(", ""],
        "spacings": ["1 1 1", "0 1 1", "-1 1 1", "nan 1 1", "1 1", "inf inf inf", "1e-320 1 1"],
        "data file": ["/dev/zero", "/dev/urandom", "fifo", "missing.raw", ".", "..", "LIST", "data%03d.raw 0 2 1",
                      "/", "/proc/self/mem", "/nonexistent/x.raw"],
        "byte skip": ["-1", "0", "1", "99999999999", "-2", "9223372036854775807", "-9223372036854775808", "x"],
        "line skip": ["0", "1", "99999999999", "-1", "9223372036854775807"],
        "kinds": ["domain domain domain", "vector domain domain", "space space space", "domain domain",
                  "RGB-color domain domain", "none none none"],
    ]

    /// Header mutations: a field's value, a line deleted, duplicated, added or damaged, the magic,
    /// the blank line that ends an attached header, line endings. Data bytes after the header are mutated generically.
    static func mutate(_ data: Data, rng: inout FuzzRNG) -> Data {
        let bytes = [UInt8](data)
        // Split into header text (up to and including the blank line) and attached data.
        var headerEnd = bytes.count
        var i = 0
        while i + 1 < bytes.count {
            if bytes[i] == 0x0A && bytes[i + 1] == 0x0A { headerEnd = i + 2; break }
            if i + 2 < bytes.count && bytes[i] == 0x0A && bytes[i + 1] == 0x0D && bytes[i + 2] == 0x0A {
                headerEnd = i + 3; break
            }
            i += 1
        }
        let payload = Array(bytes[headerEnd...])
        if !payload.isEmpty && rng.chance(0.2) {
            return Data(bytes[..<headerEnd]) + FuzzMutator.generic(Data(payload), rng: &rng, splice: [])
        }
        var lines = String(decoding: bytes[..<headerEnd], as: UTF8.self).components(separatedBy: "\n")
        // lines ends with ["", ""] for an attached header (the blank line), [""] for a detached one.
        let bodyCount = lines.count - (headerEnd < bytes.count || lines.last == "" ? 1 : 0)
        guard bodyCount > 1 else { return FuzzMutator.generic(data, rng: &rng, splice: []) }
        let fieldLines = (1..<bodyCount).filter { lines[$0].contains(": ") }
        switch rng.below(9) {
        case 0, 1, 2:  // a known field gets an interesting value (added when absent)
            let (name, values) = rng.pick(Array(fieldValues).sorted { $0.key < $1.key })
            let line = "\(name): \(rng.pick(values))"
            if let at = fieldLines.first(where: { lines[$0].lowercased().hasPrefix(name + ":") }) {
                lines[at] = line
            } else {
                lines.insert(line, at: 1 + rng.below(bodyCount - 1))
            }
        case 3:  // delete a line (possibly the blank line ending the header)
            lines.remove(at: 1 + rng.below(lines.count - 1))
        case 4:  // duplicate a line
            let at = 1 + rng.below(bodyCount - 1)
            lines.insert(lines[at], at: at)
        case 5:  // damage a line's syntax
            let at = 1 + rng.below(bodyCount - 1)
            let damaged = [lines[at].replacingOccurrences(of: ": ", with: ":"),
                           lines[at].replacingOccurrences(of: ": ", with: ":= "),
                           "#" + lines[at], lines[at] + "\r", String(lines[at].prefix(rng.below(lines[at].count + 1))),
                           lines[at] + String(repeating: " 7", count: 1 + rng.below(8)), lines[at] + "\u{0}"]
            lines[at] = rng.pick(damaged)
        case 6:  // the magic line
            lines[0] = rng.pick(["NRRD0001", "NRRD0004", "NRRD0005", "NRRD", "NRRD000", "nrrd0004", "NRRD9999", ""])
        case 7:  // CRLF or CR-only line endings
            let joined = lines.joined(separator: rng.chance(0.5) ? "\r\n" : "\r")
            return Data(joined.utf8) + Data(payload)
        default:  // replace a number somewhere in the header
            let text = Data(lines.joined(separator: "\n").utf8)
            return FuzzMutator.replaceNumber(text, rng: &rng) + Data(payload)
        }
        return Data(lines.joined(separator: "\n").utf8) + Data(payload)
    }
}

// MARK: - CSV manifests

enum CSVMutations {
    static let cellValues = [
        "", " ", "\"", "\"\"", "\"a,b\"", "a,b", "\"multi\nline\"", "NaN", "nan", "inf", "-inf", "-0", "1e309", "-1",
        "0", "1", "2", "99999999999999999999999", "yes", "no", "maybe", "TRUE", "CR", "PR", "SD", "PD", "XX",
        "abscopal", "lung", "liver", "bone", "other", "lymph node", "P\u{0}X", "\u{0}", "\u{FEFF}", "\u{7}",
        "../../etc/passwd", "/dev/zero", "/dev/null", "fifo", "images", ".", "..", "/", "missing.nii.gz",
        "série-é", "\u{1F600}", "e\u{301}", String(repeating: "x", count: 5000), "\r", "\t", "=1+1", "GTV*", "[",
        "120", "0.0001", "1e-300",
    ]
    static let columnNames = ["cov_x", "cov_", "unknown", "patient_id", "lesion_id", "", "kvp", "roi", "image",
                              "mask", "os_months", "os_event", "pfs_months", " patient_id ", "\"quoted\"", "cov_age"]

    static func mutate(_ data: Data, rng: inout FuzzRNG) -> Data {
        let text = String(decoding: data, as: UTF8.self)
        var rows = text.components(separatedBy: "\n").map { $0.components(separatedBy: ",") }
        if rows.last == [""] { rows.removeLast() }
        guard !rows.isEmpty else { return FuzzMutator.generic(data, rng: &rng, splice: []) }
        func render() -> Data { Data((rows.map { $0.joined(separator: ",") }.joined(separator: "\n") + "\n").utf8) }
        switch rng.below(12) {
        case 0, 1, 2, 3:  // a cell gets an interesting value
            let r = rng.below(rows.count)
            guard !rows[r].isEmpty else { break }
            rows[r][rng.below(rows[r].count)] = rng.pick(cellValues)
        case 4:  // delete a row (possibly the header)
            rows.remove(at: rng.below(rows.count))
        case 5:  // duplicate a row, sometimes many times
            let r = rng.below(rows.count)
            let copies = rng.chance(0.9) ? 1 : 200 + rng.below(2000)
            rows.insert(contentsOf: Array(repeating: rows[r], count: copies), at: r)
        case 6:  // delete a column from the header only, or from every row
            let c = rng.below(max(1, rows[0].count))
            let all = rng.chance(0.5)
            for r in rows.indices where (all || r == 0) && c < rows[r].count { rows[r].remove(at: c) }
        case 7:  // add a column
            let name = rng.pick(columnNames)
            rows[0].append(name)
            if rng.chance(0.7) {
                for r in 1..<max(1, rows.count) where r < rows.count { rows[r].append(rng.pick(cellValues)) }
            }
        case 8:  // rename a header cell
            guard !rows[0].isEmpty else { break }
            rows[0][rng.below(rows[0].count)] = rng.pick(columnNames)
        case 9:  // line endings, BOM, an unbalanced quote
            let rendered = String(decoding: render(), as: UTF8.self)
            switch rng.below(4) {
            case 0: return Data(rendered.replacingOccurrences(of: "\n", with: "\r\n").utf8)
            case 1: return Data(rendered.replacingOccurrences(of: "\n", with: "\r").utf8)
            case 2: return Data(("\u{FEFF}" + rendered).utf8)
            default:
                var b = [UInt8](rendered.utf8)
                b.insert(0x22, at: rng.below(b.count + 1))
                return Data(b)
            }
        case 10:  // bytes that are not UTF-8
            var b = [UInt8](render())
            b.insert(contentsOf: rng.pick([[0xFF], [0xC3], [0xED, 0xA0, 0x80], [0xF4, 0x90, 0x80, 0x80], [0x00]]),
                     at: rng.below(b.count + 1))
            return Data(b)
        default:  // swap two rows
            let a = rng.below(rows.count), b = rng.below(rows.count)
            rows.swapAt(a, b)
        }
        return render()
    }
}

// MARK: - DICOM

/// One element found by `DICOMWalker`, with the byte ranges of its parts.
struct DICOMElementSpan {
    var group: UInt16
    var element: UInt16
    /// Offset of the two VR characters (explicit VR only).
    var vrOffset: Int?
    var lengthOffset: Int
    var lengthWidth: Int
    var valueOffset: Int
    /// Declared length (0xFFFFFFFF: undefined).
    var length: UInt32
    var start: Int
    var isItem: Bool
}

/// A tolerant walk over a little-endian DICOM file (explicit or implicit VR, detected per element),
/// descending into sequences and items and skipping encapsulated pixel fragments. Stops at the first
/// inconsistency; the spans found so far are what the mutator works on.
enum DICOMWalker {
    static let longVRs: Set<String> = ["OB", "OD", "OF", "OL", "OV", "OW", "SQ", "SV", "UC", "UN", "UR", "UT", "UV"]
    static let allVRs = ["AE", "AS", "AT", "CS", "DA", "DS", "DT", "FL", "FD", "IS", "LO", "LT", "OB", "OD", "OF",
                         "OL", "OV", "OW", "PN", "SH", "SL", "SQ", "SS", "ST", "SV", "TM", "UC", "UI", "UL", "UN",
                         "UR", "US", "UT", "UV"]

    static func walk(_ b: [UInt8]) -> [DICOMElementSpan] {
        var spans: [DICOMElementSpan] = []
        var p = (b.count > 132 && b[128] == 0x44 && b[129] == 0x49 && b[130] == 0x43 && b[131] == 0x4D) ? 132 : 0
        var inFragments = false
        func u16(_ o: Int) -> UInt16 { UInt16(b[o]) | UInt16(b[o + 1]) << 8 }
        func u32(_ o: Int) -> UInt32 { UInt32(u16(o)) | UInt32(u16(o + 2)) << 16 }
        while p + 8 <= b.count && spans.count < 20000 {
            let group = u16(p), element = u16(p + 2)
            if group == 0xFFFE {
                let length = u32(p + 4)
                spans.append(DICOMElementSpan(group: group, element: element, vrOffset: nil, lengthOffset: p + 4,
                                              lengthWidth: 4, valueOffset: p + 8, length: length, start: p, isItem: true))
                if element == 0xE0DD { inFragments = false }
                if element == 0xE000 && inFragments && length != 0xFFFF_FFFF {
                    p += 8 + Int(length)  // a pixel fragment: skip its bytes
                } else {
                    p += 8  // item or delimiter: descend
                }
                continue
            }
            let vr = String(decoding: b[(p + 4)..<(p + 6)], as: UTF8.self)
            let explicit = allVRs.contains(vr)
            var span: DICOMElementSpan
            if explicit && longVRs.contains(vr) {
                guard p + 12 <= b.count else { break }
                span = DICOMElementSpan(group: group, element: element, vrOffset: p + 4, lengthOffset: p + 8,
                                        lengthWidth: 4, valueOffset: p + 12, length: u32(p + 8), start: p, isItem: false)
            } else if explicit {
                span = DICOMElementSpan(group: group, element: element, vrOffset: p + 4, lengthOffset: p + 6,
                                        lengthWidth: 2, valueOffset: p + 8, length: UInt32(u16(p + 6)), start: p,
                                        isItem: false)
            } else {
                span = DICOMElementSpan(group: group, element: element, vrOffset: nil, lengthOffset: p + 4,
                                        lengthWidth: 4, valueOffset: p + 8, length: u32(p + 4), start: p, isItem: false)
            }
            spans.append(span)
            if span.length == 0xFFFF_FFFF {
                if group == 0x7FE0 && element == 0x0010 { inFragments = true }
                p = span.valueOffset  // sequence or encapsulated pixel data of undefined length: descend
            } else if explicit && vr == "SQ" {
                p = span.valueOffset  // defined-length sequence: descend into its items
            } else {
                let next = span.valueOffset + Int(span.length)
                guard next <= b.count else { break }
                p = next
            }
        }
        return spans
    }
}

enum DICOMMutations {
    static let transferSyntaxes = [
        "1.2.840.10008.1.2", "1.2.840.10008.1.2.1", "1.2.840.10008.1.2.2", "1.2.840.10008.1.2.1.99",
        "1.2.840.10008.1.2.4.50", "1.2.840.10008.1.2.4.51", "1.2.840.10008.1.2.4.57", "1.2.840.10008.1.2.4.70",
        "1.2.840.10008.1.2.4.80", "1.2.840.10008.1.2.4.81", "1.2.840.10008.1.2.4.90", "1.2.840.10008.1.2.4.91",
        "1.2.840.10008.1.2.5", "1.2.3.4", "", "1.2.840.10008.1.2.4.201",
    ]
    /// Elements the readers interpret, with values worth trying.
    static let targetedText: [(UInt16, UInt16, [String])] = [
        (0x0028, 0x0008, ["0", "1", "2", "3", "-1", "100000", "2147483647", "x"]),             // NumberOfFrames
        (0x0028, 0x0030, ["0\\0", "1\\1", "-1\\1", "nan\\1", "1", "1e308\\1e308", "0.5\\0.5\\0.5"]),  // PixelSpacing
        (0x0028, 0x1053, ["0", "1", "-1", "1e308", "nan", "inf", "", "2\\3"]),                  // RescaleSlope
        (0x0028, 0x1052, ["0", "-1024", "1e308", "nan", "x"]),                                 // RescaleIntercept
        (0x0020, 0x0032, ["0\\0\\0", "nan\\0\\0", "1e308\\0\\0", "0\\0", "1\\2\\3\\4", "", "inf\\inf\\inf"]),
        (0x0020, 0x0037, ["1\\0\\0\\0\\1\\0", "0\\0\\0\\0\\0\\0", "1\\0\\0\\1\\0\\0", "nan\\0\\0\\0\\1\\0",
                          "1\\0\\0\\0\\1", "0\\1\\0\\1\\0\\0"]),                                  // ImageOrientation
        (0x0018, 0x0050, ["0", "-1", "nan", "1e308"]),                                         // SliceThickness
        (0x0020, 0x0013, ["0", "-1", "2147483648", "x", ""]),                                  // InstanceNumber
        (0x3006, 0x0050, ["0\\0\\0", "nan\\nan\\nan", "1e308\\1e308\\0\\-1e308\\-1e308\\0\\0\\0\\0",
                          "1\\2", "", "0\\0\\0\\1\\0\\0\\1\\1\\0\\0\\1\\0",
                          "-1e9\\-1e9\\0\\1e9\\-1e9\\0\\1e9\\1e9\\0\\-1e9\\1e9\\0"]),           // ContourData
        (0x3006, 0x0046, ["0", "1", "-1", "99999999", "3"]),                                   // NumberOfContourPoints
        (0x3006, 0x0042, ["CLOSED_PLANAR", "POINT", "OPEN_PLANAR", "", "XYZ"]),                // ContourGeometricType
        (0x3006, 0x0022, ["1", "0", "-1", "99999999999", "x"]),                                // ROINumber
        (0x3006, 0x0084, ["1", "0", "2", "-1", "x"]),                                          // ReferencedROINumber
        (0x0062, 0x0004, ["1", "0", "2", "65535"]),                                            // SegmentNumber
        (0x0062, 0x000B, ["1", "0", "2", "65535"]),                                            // ReferencedSegmentNumber
        (0x0008, 0x0060, ["CT", "PT", "MR", "RTSTRUCT", "SEG", ""]),                           // Modality
        (0x0008, 0x0016, ["1.2.840.10008.5.1.4.1.1.2", "1.2.840.10008.5.1.4.1.1.66.4",
                          "1.2.840.10008.5.1.4.1.1.481.3", "1.2.840.10008.5.1.4.1.1.4", ""]),   // SOPClassUID
        (0x0028, 0x0004, ["MONOCHROME2", "MONOCHROME1", "RGB", "PALETTE COLOR", "YBR_FULL", ""]),
        (0x0062, 0x0001, ["BINARY", "FRACTIONAL", "LABELMAP", ""]),                            // SegmentationType
    ] + dateTimeTargets
    /// Dates, times and PET dose fields (SUV): malformed, out of range, non-ASCII digits, colons, fractions.
    static let times = ["101500", "1015", "10", "1", "", "10:15:00", "101500.123456", "246060", "999999", "-10000",
                        "١٠١٥٠٠", "½½", "10½500", "²³", "101500.", ".5", "1015.00.00", "10150099999999999999"]
    static let dates = ["20240131", "2024-01-31", "20241301", "00000000", "99991231", "2024013", "٢٠٢٤٠١٣١", "",
                        "20240131120000", "1", "+0240131"]
    static let dateTimeTargets: [(UInt16, UInt16, [String])] = [
        (0x0008, 0x0021, dates), (0x0008, 0x0022, dates), (0x0008, 0x0031, times), (0x0008, 0x0032, times),
        (0x0018, 0x1072, times), (0x0018, 0x1078, dates.map { $0 + "091000" } + ["2024", "", "20240131+0100"]),
        (0x0018, 0x1074, ["0", "-1", "1e308", "nan", "inf", "x"]), (0x0018, 0x1075, ["0", "-1", "1e-308", "nan", "inf"]),
        (0x0010, 0x1030, ["0", "-1", "1e308", "nan"]), (0x0054, 0x1001, ["BQML", "GML", "CNTS", "", "bqml"]),
        (0x0054, 0x1102, ["START", "ADMIN", "NONE", ""]), (0x0028, 0x0051, ["ATTN\\DECY", "DECY", "", "ATTN\\DECY\\X"]),
    ]
    static let pixelModule: [(UInt16, UInt16)] = [(0x0028, 0x0010), (0x0028, 0x0011), (0x0028, 0x0100),
                                                  (0x0028, 0x0101), (0x0028, 0x0102), (0x0028, 0x0103),
                                                  (0x0028, 0x0002)]

    static func mutate(_ data: Data, rng: inout FuzzRNG) -> Data {
        var b = [UInt8](data)
        let spans = DICOMWalker.walk(b)
        guard !spans.isEmpty else { return FuzzMutator.generic(data, rng: &rng, splice: []) }
        func find(_ g: UInt16, _ e: UInt16) -> [DICOMElementSpan] { spans.filter { $0.group == g && $0.element == e } }
        func storeLength(_ s: DICOMElementSpan, _ value: UInt32) {
            if s.lengthWidth == 2 {
                let v = UInt16(truncatingIfNeeded: value)
                b[s.lengthOffset] = UInt8(v & 0xFF); b[s.lengthOffset + 1] = UInt8(v >> 8)
            } else {
                for k in 0..<4 { b[s.lengthOffset + k] = UInt8(truncatingIfNeeded: value >> (8 * UInt32(k))) }
            }
        }
        /// Replaces the value of `s` by `value` (padded to even length), fixing its length field.
        func replaceValue(_ s: DICOMElementSpan, _ text: [UInt8]) {
            guard s.length != 0xFFFF_FFFF, s.valueOffset + Int(s.length) <= b.count else { return }
            var value = text
            if value.count % 2 == 1 { value.append(s.vrOffset.map { b[$0] == 0x55 && b[$0 + 1] == 0x49 } == true ? 0 : 0x20) }
            if s.lengthWidth == 2 && value.count > 0xFFFF { return }
            b.replaceSubrange(s.valueOffset..<(s.valueOffset + Int(s.length)), with: value)
            storeLength(s, UInt32(value.count))
        }
        switch rng.below(10) {
        case 0, 1:  // an element's length
            let s = rng.pick(spans)
            let len = Int(s.length)
            let candidates: [UInt32] = [0, 1, 2, UInt32(truncatingIfNeeded: len + 1), UInt32(truncatingIfNeeded: max(0, len - 1)),
                                        UInt32(truncatingIfNeeded: len * 2), 0xFFFF, 0xFFFF_FFFF, 0x7FFF_FFFF,
                                        0xFFFF_FFFE, UInt32(b.count), UInt32(truncatingIfNeeded: b.count - s.valueOffset)]
            storeLength(s, rng.pick(candidates))
        case 2:  // a VR
            guard let s = spans.filter({ $0.vrOffset != nil }).randomElement(using: &rng),
                  let at = s.vrOffset else { break }
            let vr = rng.chance(0.9) ? rng.pick(DICOMWalker.allVRs) : rng.pick(["ZZ", "\0\0", "  ", "sq"])
            let u = Array(vr.utf8)
            b[at] = u[0]; b[at + 1] = u[1]
        case 3:  // a tag: the element number or group moved, or swapped for an interpreted tag
            let s = rng.pick(spans)
            let (g, e): (UInt16, UInt16) = rng.chance(0.5)
                ? rng.pick(pixelModule + [(0x7FE0, 0x0010), (0x3006, 0x0050), (0xFFFE, 0xE000), (0xFFFE, 0xE0DD),
                                           (0x0002, 0x0010), (0x0008, 0x0016)])
                : (s.group, s.element &+ UInt16(rng.below(3)) &- 1)
            b[s.start] = UInt8(g & 0xFF); b[s.start + 1] = UInt8(g >> 8)
            b[s.start + 2] = UInt8(e & 0xFF); b[s.start + 3] = UInt8(e >> 8)
        case 4:  // the transfer syntax
            guard let s = find(0x0002, 0x0010).first else { break }
            replaceValue(s, Array(rng.pick(transferSyntaxes).utf8))
        case 5:  // the image pixel module: rows, columns, bits, sign, samples
            let present = pixelModule.flatMap { find($0.0, $0.1) }
            guard let s = present.randomElement(using: &rng), s.length == 2,
                  s.valueOffset + 2 <= b.count else { break }
            let v = UInt16(truncatingIfNeeded: rng.pick([0, 1, 2, 3, 7, 8, 12, 15, 16, 17, 24, 32, 33, 64, 255, 256,
                                                         4096, 32767, 65535] as [Int]))
            b[s.valueOffset] = UInt8(v & 0xFF); b[s.valueOffset + 1] = UInt8(v >> 8)
        case 6:  // an interpreted text value
            let present = targetedText.flatMap { t in find(t.0, t.1).map { ($0, t.2) } }
            guard let (s, values) = present.randomElement(using: &rng) else { break }
            replaceValue(s, Array(rng.pick(values).utf8))
        case 7:  // pixel data: cut short (length kept or fixed), or grown
            guard let s = find(0x7FE0, 0x0010).last, s.length != 0xFFFF_FFFF,
                  s.valueOffset + Int(s.length) <= b.count else { break }
            let len = Int(s.length)
            switch rng.below(3) {
            case 0: b.removeSubrange((s.valueOffset + rng.below(len + 1))...)
            case 1:
                let keep = rng.below(len + 1)
                b.removeSubrange((s.valueOffset + keep)..<(s.valueOffset + len))
                storeLength(s, UInt32(keep))
            default:
                let extra = 2 * (1 + rng.below(64))
                b.insert(contentsOf: [UInt8](repeating: 0xAB, count: extra), at: s.valueOffset + len)
                storeLength(s, UInt32(len + extra))
            }
        case 8:  // delete or duplicate a whole element (not items)
            guard let s = spans.filter({ !$0.isItem && $0.length != 0xFFFF_FFFF }).randomElement(using: &rng) else { break }
            let end = s.valueOffset + Int(s.length)
            guard end <= b.count else { break }
            if rng.chance(0.5) {
                b.removeSubrange(s.start..<end)
            } else {
                b.insert(contentsOf: Array(b[s.start..<end]), at: end)
            }
        default:  // a value's bytes: numbers in text values, or raw bytes
            let s = rng.pick(spans)
            guard s.length != 0xFFFF_FFFF, s.length > 0, s.valueOffset + Int(s.length) <= b.count else { break }
            if rng.chance(0.5) {
                let value = Data(b[s.valueOffset..<(s.valueOffset + Int(s.length))])
                replaceValue(s, [UInt8](FuzzMutator.replaceNumber(value, rng: &rng)))
            } else {
                let at = s.valueOffset + rng.below(Int(s.length))
                b[at] = rng.pick(FuzzMutator.interestingBytes)
            }
        }
        return Data(b)
    }
}

extension Array {
    /// A random element drawn from `rng` (nil when empty).
    func randomElement(using rng: inout FuzzRNG) -> Element? { isEmpty ? nil : self[rng.below(count)] }
}
