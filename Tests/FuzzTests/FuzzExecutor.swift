import Cohort
import DICOMIO
import Foundation
import ImageIO
import ImagingCore

/// What one input did to its reader.
enum FuzzOutcome: Equatable {
    /// Read without error (and the result was consistent).
    case accepted
    /// Refused with the reader's own error type; the message, normalised.
    case refused(String)
    /// Anything else: an error of another type, or a result that breaks an invariant (counted as a finding).
    case unexpected(String)
}

/// One generated input: which reader and seed, which file was replaced, and its bytes.
struct FuzzInput {
    var index: Int
    var reader: FuzzReader
    var seed: FuzzSeed
    var file: String
    var bytes: Data
}

/// Generates input `index` of a run from the seeds, writes it into a scratch copy of its seed folder and
/// runs the reader on it. Input `index` goes to reader `index % 4` (NIfTI, NRRD, manifest, DICOM in turn),
/// so executions are shared equally between the readers whatever their speed.
struct FuzzExecutor {
    let seeds: [FuzzSeed]
    let seedsDirectory: URL
    let runSeed: UInt64
    private let originals: [String: [String: Data]]
    private let weighted: [FuzzReader: [Int]]
    private let mutators: [FuzzFormat: FuzzMutator]
    private let grids: [String: ImageGrid]

    init(seedsDirectory: URL, runSeed: UInt64) throws {
        self.seedsDirectory = seedsDirectory
        self.runSeed = runSeed
        seeds = try FuzzSeeds.load(from: seedsDirectory)
        var originals: [String: [String: Data]] = [:]
        var weighted: [FuzzReader: [Int]] = [:]
        var byFormat: [FuzzFormat: [Data]] = [:]
        var grids: [String: ImageGrid] = [:]
        for (n, seed) in seeds.enumerated() {
            var files: [String: Data] = [:]
            for m in seed.mutable {
                let bytes = try Data(contentsOf: seedsDirectory.appendingPathComponent(seed.name).appendingPathComponent(m.path))
                files[m.path] = bytes
                byFormat[m.format, default: []].append(bytes)
            }
            originals[seed.name] = files
            weighted[seed.reader, default: []] += Array(repeating: n, count: max(1, seed.weight))
            if let g = seed.grid { grids[seed.name] = g.grid }
        }
        self.originals = originals
        self.weighted = weighted
        self.grids = grids
        mutators = byFormat.mapValues { FuzzMutator(spliceSources: $0) }
    }

    /// Input `index`: its reader, seed, mutated file and bytes (the same on every call).
    func input(_ index: Int) -> FuzzInput {
        let reader = FuzzReader.allCases[index % FuzzReader.allCases.count]
        var rng = FuzzRNG(runSeed: runSeed, index: index)
        let choices = weighted[reader] ?? []
        precondition(!choices.isEmpty, "no seeds for the \(reader.rawValue) reader")
        let seed = seeds[rng.pick(choices)]
        let file = rng.pick(seed.mutable)
        let original = originals[seed.name]![file.path]!
        let bytes = mutators[file.format, default: FuzzMutator()].mutate(original, format: file.format, rng: &rng)
        return FuzzInput(index: index, reader: reader, seed: seed, file: file.path, bytes: bytes)
    }

    // MARK: - Scratch copies

    /// Copies every seed folder into `scratch` and adds a FIFO named `fifo` beside each seed's files
    /// (mutations may name it as a data file or manifest path; reading it must not hang).
    func prepareScratch(_ scratch: URL) throws {
        let fm = FileManager.default
        try? fm.removeItem(at: scratch)
        try fm.createDirectory(at: scratch, withIntermediateDirectories: true)
        for seed in seeds {
            let dir = scratch.appendingPathComponent(seed.name)
            try fm.copyItem(at: seedsDirectory.appendingPathComponent(seed.name), to: dir)
            mkfifo(dir.appendingPathComponent("fifo").path, 0o644)
            if let sub = seed.mutable.first?.path.split(separator: "/").dropLast().joined(separator: "/"), !sub.isEmpty {
                mkfifo(dir.appendingPathComponent(sub).appendingPathComponent("fifo").path, 0o644)
            }
        }
    }

    /// Writes `input` into its seed's scratch folder, restoring the seed's other mutable files.
    func write(_ input: FuzzInput, scratch: URL) throws {
        let dir = scratch.appendingPathComponent(input.seed.name)
        for m in input.seed.mutable {
            let bytes = m.path == input.file ? input.bytes : originals[input.seed.name]![m.path]!
            try bytes.write(to: dir.appendingPathComponent(m.path))
        }
    }

    /// Writes a reproducer for `input`: a copy of its seed folder with the mutated file in place.
    func writeReproducer(_ input: FuzzInput, to folder: URL) throws {
        let fm = FileManager.default
        try? fm.removeItem(at: folder)
        try fm.createDirectory(at: folder.deletingLastPathComponent(), withIntermediateDirectories: true)
        try fm.copyItem(at: seedsDirectory.appendingPathComponent(input.seed.name), to: folder)
        try input.bytes.write(to: folder.appendingPathComponent(input.file))
        let note = """
            input \(input.index) of run seed \(runSeed): reader \(input.reader.rawValue), seed \(input.seed.name), \
            target \(input.seed.target.rawValue), entry \(input.seed.entry), mutated file \(input.file)

            """
        try Data(note.utf8).write(to: folder.appendingPathComponent("REPRODUCER.txt"))
    }

    // MARK: - Running the readers

    /// Runs the reader of `input` on its scratch folder.
    func run(_ input: FuzzInput, scratch: URL) -> FuzzOutcome {
        let dir = scratch.appendingPathComponent(input.seed.name)
        let entry = input.seed.entry == "." ? dir : dir.appendingPathComponent(input.seed.entry)
        let outcome: FuzzOutcome
        switch input.seed.target {
        case .niftiFile, .nrrdFile:
            outcome = runImage(entry, nifti: input.seed.target == .niftiFile)
        case .manifestFolder:
            outcome = attempt({ $0 is ManifestError }) { _ = try CohortManifest.load(entry) }
        case .dicomSeries:
            outcome = attempt({ $0 is DICOMError }) {
                _ = try DICOMSeriesReader.list(entry)
                let series = try DICOMSeriesReader.read(entry)
                try check(series.image.voxels.count == series.image.grid.voxelCount, "voxel count != grid size")
                try check(series.image.grid.voxelCount > 0, "empty series grid")
            }
        case .rtstruct:
            let grid = grids[input.seed.name]!
            outcome = attempt({ $0 is DICOMError }) {
                _ = try RTStructReader.list(entry)
                for roi in try RTStructReader.read(entry) {
                    let mask = try ContourRasterizer.mask(roi, on: grid, file: entry)
                    try check(mask.voxels.count == grid.voxelCount, "mask size != grid size")
                }
            }
        case .seg:
            let grid = grids[input.seed.name]!
            outcome = attempt({ $0 is DICOMError }) {
                _ = try SEGReader.segments(entry)
                for (_, mask) in try SEGReader.read(entry, onto: grid) {
                    try check(mask.voxels.count == grid.voxelCount, "mask size != grid size")
                }
            }
        }
        return normalise(outcome, scratch: dir)
    }

    private func runImage(_ url: URL, nifti: Bool) -> FuzzOutcome {
        let image = attempt({ $0 is ImageIOError }) {
            if nifti {
                let header = try NIfTI.readHeader(url)
                let volume = try NIfTI.readImage(url)
                try check(volume.grid == header.grid, "readImage and readHeader disagree on the grid")
                try check(volume.voxels.count == volume.grid.voxelCount, "voxel count != grid size")
            } else {
                let volume = try ImageFile.readImage(url)
                try check(volume.voxels.count == volume.grid.voxelCount, "voxel count != grid size")
                try check(volume.grid.origin.x.isFinite && volume.grid.origin.y.isFinite && volume.grid.origin.z.isFinite,
                          "non-finite origin accepted")
            }
        }
        let labels = attempt({ $0 is ImageIOError }) {
            let map = try ImageFile.readLabelMap(url)
            try check(map.voxels.count == map.grid.voxelCount, "label count != grid size")
        }
        if case .unexpected = labels { return labels }
        return image
    }

    private struct InvariantBroken: Error, CustomStringConvertible { var description: String }

    private func check(_ condition: Bool, _ what: String) throws {
        if !condition { throw InvariantBroken(description: "invariant broken: \(what)") }
    }

    private func attempt(_ expected: (Error) -> Bool, _ body: () throws -> Void) -> FuzzOutcome {
        do {
            try body()
            return .accepted
        } catch {
            if expected(error) { return .refused("\(error)") }
            return .unexpected("\(type(of: error)): \(error)")
        }
    }

    /// Messages without the scratch path and with numbers replaced by `#`, so equal refusals count once.
    private func normalise(_ outcome: FuzzOutcome, scratch: URL) -> FuzzOutcome {
        func clean(_ s: String) -> String {
            var text = s.replacingOccurrences(of: scratch.path, with: "<seed>").replacingOccurrences(of: "\n", with: " | ")
            text = text.replacingOccurrences(of: #"-?[0-9]+(\.[0-9]+)?(e[-+]?[0-9]+)?"#, with: "#",
                                             options: .regularExpression)
            return String(text.prefix(300))
        }
        switch outcome {
        case .accepted: return .accepted
        case .refused(let m): return .refused(clean(m))
        case .unexpected(let m): return .unexpected(clean(m))
        }
    }
}
