import Cohort
import DICOMIO
import Foundation
import ImageIO
import ImagingCore
import Synthesis
import TestSupport
import ZlibSupport

/// The four readers under test.
enum FuzzReader: String, Codable, CaseIterable, Sendable {
    case nifti, nrrd, manifest, dicom
}

/// What a seed is read with.
enum FuzzTarget: String, Codable, Sendable {
    /// `NIfTI.readHeader`, `readImage`, `readLabelMap` (through `ImageFile` too).
    case niftiFile
    /// `ImageFile.readImage` and `readLabelMap` on a `.nrrd` or `.nhdr`.
    case nrrdFile
    /// `CohortManifest.load` on a folder.
    case manifestFolder
    /// `DICOMSeriesReader.list` and `read` on a folder of slices.
    case dicomSeries
    /// `RTStructReader.list`, `read` and `ContourRasterizer.mask` onto the seed's grid.
    case rtstruct
    /// `SEGReader.segments` and `read` onto the seed's grid.
    case seg
}

/// A grid written as plain numbers (the grid RTSTRUCT and SEG seeds are rasterised onto).
struct GridSpec: Codable, Sendable {
    var size: [Int]
    var spacing: [Double]
    var origin: [Double]
    var direction: [Double]

    init(_ g: ImageGrid) {
        size = [g.size.nx, g.size.ny, g.size.nz]
        spacing = [g.spacing.x, g.spacing.y, g.spacing.z]
        origin = [g.origin.x, g.origin.y, g.origin.z]
        direction = (0..<3).flatMap { r in (0..<3).map { c in g.direction[r, c] } }
    }

    var grid: ImageGrid {
        ImageGrid(size: Size3(size[0], size[1], size[2]), spacing: Vector3(spacing[0], spacing[1], spacing[2]),
                  origin: Vector3(origin[0], origin[1], origin[2]),
                  direction: Matrix3(rows: (0..<3).map { r in (0..<3).map { c in direction[3 * r + c] } }))
    }
}

/// A file of a seed that mutations are applied to.
struct MutableFile: Codable, Sendable {
    var path: String
    var format: FuzzFormat
}

/// One seed input: a folder of files (under `seeds/<name>/`), the entry the reader is given, and the
/// files mutations may change. `weight` sets how often the seed is drawn among its reader's seeds.
struct FuzzSeed: Codable, Sendable {
    var name: String
    var reader: FuzzReader
    var target: FuzzTarget
    var entry: String
    var mutable: [MutableFile]
    var grid: GridSpec?
    var weight: Int
}

/// Builds the seed corpus at run time: small images written by the project's own writers and by hand,
/// NRRD files by hand, manifests from the synthetic cohort generator (what `lesionmap synth` writes) and
/// by hand, DICOM series/RTSTRUCT/SEG from the DICOM writers plus copies of the shared reference files
/// (when `../shared/data` is present).
enum FuzzSeeds {
    static let listFile = "seeds.json"

    static func load(from directory: URL) throws -> [FuzzSeed] {
        try JSONDecoder().decode([FuzzSeed].self, from: Data(contentsOf: directory.appendingPathComponent(listFile)))
    }

    @discardableResult
    static func build(in directory: URL) throws -> [FuzzSeed] {
        let fm = FileManager.default
        try fm.createDirectory(at: directory, withIntermediateDirectories: true)
        var seeds: [FuzzSeed] = []
        func folder(_ name: String) throws -> URL {
            let u = directory.appendingPathComponent(name)
            try fm.createDirectory(at: u, withIntermediateDirectories: true)
            return u
        }

        // A small oblique grid shared by several seeds.
        let angle = 0.4
        let direction = Matrix3(rows: [[cos(angle), -sin(angle), 0], [sin(angle), cos(angle), 0], [0, 0, 1]])
        let grid = ImageGrid(size: Size3(7, 6, 4), spacing: Vector3(0.8, 0.9, 2.5), origin: Vector3(-12, 20.5, 7),
                             direction: direction)
        let ramp = (0..<grid.voxelCount).map { Float(($0 * 37) % 200) - 100.5 }
        let labels = (0..<grid.voxelCount).map { Int32($0 % 5 == 0 ? 1 : ($0 % 7 == 0 ? 2 : 0)) }

        // NIfTI, written by NIfTI.write.
        func niftiSeed(_ name: String, file: String, write: (URL) throws -> Void, weight: Int = 2) throws {
            let dir = try folder(name)
            try write(dir.appendingPathComponent(file))
            seeds.append(FuzzSeed(name: name, reader: .nifti, target: .niftiFile, entry: file,
                                  mutable: [MutableFile(path: file, format: file.hasSuffix(".gz") ? .niftiGz : .nifti)],
                                  grid: nil, weight: weight))
        }
        try niftiSeed("nifti-float32", file: "image.nii") { try NIfTI.write(Volume(grid: grid, voxels: ramp), to: $0) }
        try niftiSeed("nifti-int16-gz", file: "image.nii.gz") {
            try NIfTI.write(Volume<Int16>(grid: grid, voxels: ramp.map { Int16($0.rounded()) }), to: $0)
        }
        try niftiSeed("nifti-labels-int16", file: "labels.nii") { try NIfTI.write(LabelMap(grid: grid, voxels: labels), to: $0) }
        try niftiSeed("nifti-labels-int32-gz", file: "labels.nii.gz") {
            try NIfTI.write(LabelMap(grid: grid, voxels: labels.map { $0 * 70000 }), to: $0)
        }
        // NIfTI built by hand: other voxel types, byte order, transforms, scaling, extensions, 4D.
        for (name, header) in NIfTIBuilder.variants {
            try niftiSeed(name, file: "image.nii") { try header.data().write(to: $0) }
        }
        if let phantom = try? SharedData.url("ibsi1/digital_phantom") {
            for file in ["image.nii.gz", "mask.nii.gz"] {
                try niftiSeed("nifti-ibsi-\(file.prefix(4))", file: file, write: {
                    try fm.copyItem(at: phantom.appendingPathComponent(file), to: $0)
                }, weight: 1)
            }
        }

        // NRRD, by hand (LesionMap reads NRRD but does not write it).
        for variant in NRRDBuilder.variants {
            let dir = try folder(variant.name)
            var mutable: [MutableFile] = []
            for (file, bytes, format) in variant.files {
                try bytes.write(to: dir.appendingPathComponent(file))
                mutable.append(MutableFile(path: file, format: format))
            }
            seeds.append(FuzzSeed(name: variant.name, reader: .nrrd, target: .nrrdFile, entry: variant.files[0].0,
                                  mutable: mutable, grid: nil, weight: 2))
        }

        // DICOM: a small CT series, an RTSTRUCT and a SEG on it, from the project's writers.
        let ctGrid = ImageGrid(size: Size3(8, 6, 3), spacing: Vector3(0.7, 0.7, 2), origin: Vector3(-3, -2, 10))
        let ct = Volume(grid: ctGrid, voxels: (0..<ctGrid.voxelCount).map { Float(($0 * 53) % 400) - 200 })
        let seriesDir = try folder("dicom-ct").appendingPathComponent("series")
        let reference = try DICOMWriter.writeSeries(ct, to: seriesDir, extra: [DICOMTag(0x0018, 0x0060): .text("120")])
        let slices = try fm.contentsOfDirectory(atPath: seriesDir.path).sorted()
        seeds.append(FuzzSeed(name: "dicom-ct", reader: .dicom, target: .dicomSeries, entry: "series",
                              mutable: slices.map { MutableFile(path: "series/" + $0, format: .dicom) }, grid: nil, weight: 3))
        // A PET series with what body-weight SUV needs (units, corrections, weight, dose, half life, times).
        let petDir = try folder("dicom-pet").appendingPathComponent("series")
        let tag = { (g: UInt16, e: UInt16) in DICOMTag(g, e) }
        let pet = Volume(grid: ctGrid, voxels: (0..<ctGrid.voxelCount).map { Float(($0 * 41) % 3000) })
        try DICOMWriter.writeSeries(pet, to: petDir, modality: "PT", extra: [
            tag(0x0054, 0x1001): .text("BQML"), tag(0x0028, 0x0051): .text("ATTN\\DECY"),
            tag(0x0054, 0x1102): .text("START"), tag(0x0010, 0x1030): .text("72.5"),
            tag(0x0008, 0x0021): .text("20240131"), tag(0x0008, 0x0031): .text("101500"),
            tag(0x0008, 0x0022): .text("20240131"), tag(0x0008, 0x0032): .text("101512.250"),
            tag(0x0054, 0x0016): .items([[tag(0x0018, 0x1074): .text("370000000"), tag(0x0018, 0x1075): .text("6586.2"),
                                          tag(0x0018, 0x1072): .text("091000.00")]]),
        ])
        let petSlices = try fm.contentsOfDirectory(atPath: petDir.path).sorted()
        seeds.append(FuzzSeed(name: "dicom-pet", reader: .dicom, target: .dicomSeries, entry: "series",
                              mutable: petSlices.map { MutableFile(path: "series/" + $0, format: .dicom) }, grid: nil, weight: 2))
        var mask = Mask(grid: ctGrid, repeating: false)
        for k in 0..<3 { for j in 1..<4 { for i in 2..<6 where !(i == 3 && j == 2) { mask[i, j, k] = true } } }
        var second = Mask(grid: ctGrid, repeating: false)
        second[6, 4, 1] = true
        let regions = [ExportRegion(name: "GTV-1", mask: mask), ExportRegion(name: "GTV-2", mask: second)]
        let rtDir = try folder("dicom-rtstruct")
        try RTStructWriter.write(regions, referencing: reference, grid: ctGrid, to: rtDir.appendingPathComponent("rtstruct.dcm"))
        seeds.append(FuzzSeed(name: "dicom-rtstruct", reader: .dicom, target: .rtstruct, entry: "rtstruct.dcm",
                              mutable: [MutableFile(path: "rtstruct.dcm", format: .dicom)], grid: GridSpec(ctGrid), weight: 3))
        let segDir = try folder("dicom-seg")
        try SEGWriter.write(regions, referencing: reference, grid: ctGrid, to: segDir.appendingPathComponent("seg.dcm"))
        seeds.append(FuzzSeed(name: "dicom-seg", reader: .dicom, target: .seg, entry: "seg.dcm",
                              mutable: [MutableFile(path: "seg.dcm", format: .dicom)], grid: GridSpec(ctGrid), weight: 3))
        // DICOM: copies of the shared reference files (other vendors' encodings).
        if let segData = try? SharedData.url("seg_bitpacking") {
            let dir = try folder("dicom-shared-seg")
            try fm.copyItem(at: segData.appendingPathComponent("image"), to: dir.appendingPathComponent("series"))
            try fm.copyItem(at: segData.appendingPathComponent("seg.dcm"), to: dir.appendingPathComponent("seg.dcm"))
            let segGrid = try DICOMSeriesReader.read(dir.appendingPathComponent("series")).image.grid
            let seriesCopy = try folder("dicom-shared-series")
            try fm.copyItem(at: segData.appendingPathComponent("image"), to: seriesCopy.appendingPathComponent("series"))
            let files = try fm.contentsOfDirectory(atPath: seriesCopy.appendingPathComponent("series").path).sorted()
            seeds.append(FuzzSeed(name: "dicom-shared-seg", reader: .dicom, target: .seg, entry: "seg.dcm",
                                  mutable: [MutableFile(path: "seg.dcm", format: .dicom)], grid: GridSpec(segGrid), weight: 2))
            seeds.append(FuzzSeed(name: "dicom-shared-series", reader: .dicom, target: .dicomSeries, entry: "series",
                                  mutable: files.map { MutableFile(path: "series/" + $0, format: .dicom) }, grid: nil,
                                  weight: 2))
        }
        if let phantom = try? SharedData.url("ibsi1/ct_phantom") {
            let dir = try folder("dicom-shared-rtstruct")
            try fm.copyItem(at: phantom.appendingPathComponent("dicom/rtstruct.dcm"), to: dir.appendingPathComponent("rtstruct.dcm"))
            let phantomGrid = try NIfTI.readHeader(phantom.appendingPathComponent("nifti/image.nii.gz")).grid
            seeds.append(FuzzSeed(name: "dicom-shared-rtstruct", reader: .dicom, target: .rtstruct, entry: "rtstruct.dcm",
                                  mutable: [MutableFile(path: "rtstruct.dcm", format: .dicom)], grid: GridSpec(phantomGrid),
                                  weight: 1))
        }

        // Manifests: a synthetic cohort (as `lesionmap synth` writes it) and a hand-written one using every column.
        let synthDir = try folder("manifest-synth")
        _ = try SyntheticCohort.generate(SynthesisOptions(patients: 3, seed: 7, gridSize: [16, 16, 16]), into: synthDir)
        seeds.append(FuzzSeed(name: "manifest-synth", reader: .manifest, target: .manifestFolder, entry: ".",
                              mutable: [MutableFile(path: CohortManifest.lesionsFile, format: .csv),
                                        MutableFile(path: CohortManifest.patientsFile, format: .csv)],
                              grid: nil, weight: 2))
        let handDir = try folder("manifest-hand")
        try fm.createDirectory(at: handDir.appendingPathComponent("images"), withIntermediateDirectories: true)
        try NIfTI.write(Volume(grid: grid, voxels: ramp), to: handDir.appendingPathComponent("images/p1.nii.gz"))
        try NIfTI.write(LabelMap(grid: grid, voxels: labels), to: handDir.appendingPathComponent("images/p1_mask.nii.gz"))
        try fm.copyItem(at: seriesDir, to: handDir.appendingPathComponent("ct"))
        try fm.copyItem(at: rtDir.appendingPathComponent("rtstruct.dcm"), to: handDir.appendingPathComponent("rt.dcm"))
        try fm.copyItem(at: segDir.appendingPathComponent("seg.dcm"), to: handDir.appendingPathComponent("seg.dcm"))
        try Data(#"""
            patient_id,lesion_id,image,mask,roi,location,irradiated,lesion_response,kvp
            P1,L1,images/p1.nii.gz,images/p1_mask.nii.gz,1,lung,1,PR,120
            P1,L2,images/p1.nii.gz,images/p1_mask.nii.gz,2,"lymph node",0,SD,120
            "P 2",,ct,rt.dcm,GTV-1,liver,yes,CR,
            "P 2",seg,ct,seg.dcm,2,bone,no,PD,
            P3,"a, ""b""",ct,rt.dcm,GTV*,other,,,

            """#.utf8).write(to: handDir.appendingPathComponent(CohortManifest.lesionsFile))
        try Data("""
            patient_id,pfs_months,pfs_event,os_months,os_event,best_response,abscopal_response,cov_age,cov_sex
            P1,12.5,1,30,0,PR,1,64,F
            "P 2",3,1,7.25,1,PD,0,71,M
            P3,,,,,SD,,"58","multi
            line"

            """.utf8).write(to: handDir.appendingPathComponent(CohortManifest.patientsFile))
        seeds.append(FuzzSeed(name: "manifest-hand", reader: .manifest, target: .manifestFolder, entry: ".",
                              mutable: [MutableFile(path: CohortManifest.lesionsFile, format: .csv),
                                        MutableFile(path: CohortManifest.patientsFile, format: .csv)],
                              grid: nil, weight: 2))

        try makeWritable(directory)
        try JSONEncoder().encode(seeds).write(to: directory.appendingPathComponent(listFile))
        return seeds
    }

    /// Copies of the read-only reference files become writable (mutated in place, removed afterwards).
    static func makeWritable(_ directory: URL) throws {
        let fm = FileManager.default
        try fm.setAttributes([.posixPermissions: 0o755], ofItemAtPath: directory.path)
        guard let walker = fm.enumerator(atPath: directory.path) else { return }
        while let path = walker.nextObject() as? String {
            let full = directory.appendingPathComponent(path).path
            var isDirectory: ObjCBool = false
            guard fm.fileExists(atPath: full, isDirectory: &isDirectory) else { continue }
            try fm.setAttributes([.posixPermissions: isDirectory.boolValue ? 0o755 : 0o644], ofItemAtPath: full)
        }
    }
}

/// Hand-built NIfTI-1 headers for what the project's writer never produces.
struct NIfTIBuilder {
    var bigEndian = false
    var dims: [Int16] = [3, 5, 4, 3, 1, 1, 1, 1]
    var datatype: Int16 = 16
    var bitpix: Int16 = 32
    var pixdim: [Float] = [1, 1.5, 1.25, 3, 0, 0, 0, 0]
    var voxOffset: Float = 352
    var slope: Float = 0
    var inter: Float = 0
    var units: UInt8 = 2
    var qform: Int16 = 1
    var sform: Int16 = 1
    var quatern: [Float] = [0, 0, 0]
    var qoffset: [Float] = [10, -20, 5]
    var srow: [[Float]] = [[1.5, 0, 0, 10], [0, 1.25, 0, -20], [0, 0, 3, 5]]
    var extensionBytes: [UInt8] = []

    var voxelBytes: Int {
        let n = Int(dims[1]) * Int(dims[2]) * Int(dims[3]) * max(1, Int(dims[4]))
        return n * Int(bitpix) / 8
    }

    func data() -> Data {
        var b = [UInt8](repeating: 0, count: Int(voxOffset))
        func put(_ v: UInt64, _ at: Int, _ w: Int) {
            for k in 0..<w { b[at + k] = UInt8(truncatingIfNeeded: v >> UInt64(8 * (bigEndian ? w - 1 - k : k))) }
        }
        put(348, 0, 4)
        for (i, d) in dims.enumerated() { put(UInt64(UInt16(bitPattern: d)), 40 + 2 * i, 2) }
        put(UInt64(UInt16(bitPattern: datatype)), 70, 2)
        put(UInt64(UInt16(bitPattern: bitpix)), 72, 2)
        for (i, p) in pixdim.enumerated() { put(UInt64(p.bitPattern), 76 + 4 * i, 4) }
        put(UInt64(voxOffset.bitPattern), 108, 4)
        put(UInt64(slope.bitPattern), 112, 4)
        put(UInt64(inter.bitPattern), 116, 4)
        b[123] = units
        put(UInt64(UInt16(bitPattern: qform)), 252, 2)
        put(UInt64(UInt16(bitPattern: sform)), 254, 2)
        for i in 0..<3 {
            put(UInt64(quatern[i].bitPattern), 256 + 4 * i, 4)
            put(UInt64(qoffset[i].bitPattern), 268 + 4 * i, 4)
            for c in 0..<4 { put(UInt64(srow[i][c].bitPattern), 280 + 16 * i + 4 * c, 4) }
        }
        for (i, ch) in "n+1".utf8.enumerated() { b[344 + i] = ch }
        if !extensionBytes.isEmpty {
            b[348] = 1
            b.replaceSubrange(352..<(352 + extensionBytes.count), with: extensionBytes)
        }
        // Voxels: a deterministic byte pattern.
        b += (0..<voxelBytes).map { UInt8(truncatingIfNeeded: ($0 * 29 + 3) % 251) }
        return Data(b)
    }

    static var variants: [(String, NIfTIBuilder)] {
        var out: [(String, NIfTIBuilder)] = []
        var be = NIfTIBuilder()
        be.bigEndian = true; be.datatype = 64; be.bitpix = 64; be.sform = 0; be.pixdim[0] = -1
        be.quatern = [0.5, 0.5, 0.5]
        out.append(("nifti-hand-be-float64-qform", be))
        var u8 = NIfTIBuilder()
        u8.datatype = 2; u8.bitpix = 8; u8.qform = 0; u8.slope = 2; u8.inter = -1
        u8.srow = [[0, 1.5, 0, 1], [1.25, 0, 0, 2], [0, 0, -3, 3]]
        out.append(("nifti-hand-uint8-sform-scaled", u8))
        var ext = NIfTIBuilder()
        ext.datatype = 1024; ext.bitpix = 64; ext.voxOffset = 368; ext.sform = 2
        ext.extensionBytes = [16, 0, 0, 0, 6, 0, 0, 0] + Array("comment\0".utf8)
        out.append(("nifti-hand-int64-extension", ext))
        var four = NIfTIBuilder()
        four.dims = [4, 5, 4, 3, 1, 1, 1, 1]; four.datatype = 512; four.bitpix = 16; four.qform = 0; four.sform = 0
        four.units = 1
        out.append(("nifti-hand-uint16-4d-metres", four))
        var i8 = NIfTIBuilder()
        i8.datatype = 256; i8.bitpix = 8; i8.qform = 2; i8.sform = 4; i8.units = 3
        i8.srow = [[1.5, 0.01, 0, 10], [0, 1.25, 0, -20], [0, 0, 3, 5]]
        out.append(("nifti-hand-int8-sheared", i8))
        return out
    }
}

/// Hand-written NRRD files: attached raw and gzip, detached raw and gzip data, both byte orders,
/// several spaces, skips and comments.
enum NRRDBuilder {
    struct Variant {
        var name: String
        /// (file name, bytes, format); the first is the header the reader is given.
        var files: [(String, Data, FuzzFormat)]
    }

    static func voxels(_ count: Int, width: Int) -> Data {
        Data((0..<(count * width)).map { UInt8(truncatingIfNeeded: ($0 * 31 + 7) % 253) })
    }

    static var variants: [Variant] {
        var out: [Variant] = []
        let rawShort = voxels(4 * 3 * 2, width: 2)
        out.append(Variant(name: "nrrd-attached-raw", files: [("image.nrrd", Data("""
            NRRD0004
            # Complete NRRD file format specification at:
            # http://teem.sourceforge.net/nrrd/format.html
            type: short
            dimension: 3
            space: left-posterior-superior
            sizes: 4 3 2
            space directions: (0.9,0,0) (0,0.9,0) (0,0,2.5)
            kinds: domain domain domain
            endian: little
            encoding: raw
            space origin: (-10.5,20,3)
            Segment0_Name:=GTV

            """.utf8) + rawShort, .nrrd)]))
        let floats = voxels(5 * 4 * 3, width: 4)
        out.append(Variant(name: "nrrd-attached-gzip-ras", files: [("image.nrrd", Data("""
            NRRD0005
            type: float
            dimension: 3
            space: right-anterior-superior
            sizes: 5 4 3
            space directions: (0,1.2,0) (1.1,0,0) (0,0,-2)
            endian: little
            encoding: gzip
            space origin: (1,2,3)

            """.utf8) + Gzip.compress(floats), .nrrd)]))
        let ints = voxels(3 * 3 * 3, width: 4)
        out.append(Variant(name: "nrrd-detached-raw-big", files: [
            ("image.nhdr", Data("""
                NRRD0004
                type: int
                dimension: 3
                space: LAS
                sizes: 3 3 3
                space directions: (1,0,0) (0,1,0) (0,0,1)
                endian: big
                encoding: raw
                byte skip: -1
                data file: image.raw

                """.utf8), .nrrd),
            ("image.raw", Data([0xDE, 0xAD]) + ints, .rawData)]))
        let doubles = voxels(2 * 3 * 4, width: 8)
        out.append(Variant(name: "nrrd-detached-gzip-lineskip", files: [
            ("image.nhdr", Data(("NRRD0004\r\ntype: double\r\ndimension: 3\r\nsizes: 2 3 4\r\nspacings: 0.5 0.75 1.5\r\n"
                                 + "endian: little\r\nencoding: gz\r\nline skip: 1\r\ndatafile: image.raw.gz\r\n").utf8),
             .nrrd),
            ("image.raw.gz", Data("a text line to skip\n".utf8) + Gzip.compress(doubles), .gzipData)]))
        let bytes = voxels(6 * 2 * 2, width: 1)
        out.append(Variant(name: "nrrd-attached-uchar-byteskip", files: [("labels.nrrd", Data("""
            NRRD0004
            type: uchar
            dimension: 3
            space dimension: 3
            sizes: 6 2 2
            space directions: (1,0,0) (0,1,0) (0,0,1)
            endian: little
            encoding: raw
            byte skip: 4
            space origin: (0,0,0)

            """.utf8) + Data([1, 2, 3, 4]) + bytes, .nrrd)]))
        return out
    }
}
