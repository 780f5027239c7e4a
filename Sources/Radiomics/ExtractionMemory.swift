import Foundation
import ImagingCore
#if canImport(Glibc)
import Glibc
#endif

/// The memory one lesion's extraction will need at its peak, estimated from the geometry before
/// anything is allocated.
///
/// The estimate follows what the engine allocates, phase by phase, for the lesion's region and then
/// for its peritumoral ring (the two run one after the other): the resampling buffers (source box,
/// separable passes, image and mask), the prepared region (intensities and two masks), the grey
/// levels, and the largest feature family on top of them — texture matrices that grow with the number
/// of grey levels Ng (GLCM: (Ng+1)² counts per direction, one direction at a time and their sum in 3D; GLRLM:
/// Ng × the longest run; GLSZM, GLDZM, NGLDM: Ng × zone sizes, distances or dependence counts, per
/// slice in 2D), the Moran/Geary FFT store (six single-precision half spectra of the box padded to
/// twice its size), the local-intensity prefix sums, the intensity-volume histogram. Ng comes from
/// the settings and, for a fixed bin size, from the intensities of the lesion's box on the original
/// grid (a cheap scan). The peak is the largest phase; `dominant` says which setting drives it.
public struct MemoryEstimate: Sendable, CustomStringConvertible {
    /// What drives a share of the memory, so that a refusal can name the setting responsible.
    public enum Cause: String, Sendable, Hashable, CaseIterable {
        /// Texture matrices and histograms whose size follows the number of grey levels.
        case greyLevels
        /// The intensity-volume histogram's levels.
        case ivhLevels
        /// Voxels of the lesion's region (resampling spacing and lesion size).
        case voxels
        /// Voxels of the peritumoral ring's region (ring width, resampling spacing).
        case ringVoxels
        /// Voxels the filters read and their response maps (filtering.filters: the filters' support).
        case responseMaps
    }

    /// Estimated peak, in bytes.
    public var bytes: Double
    /// The peak phase's bytes by cause.
    public var byCause: [Cause: Double]
    /// Grey levels of the texture discretisation (the larger of lesion and ring).
    public var greyLevels: Double
    /// Levels of the intensity-volume histogram (the larger of lesion and ring).
    public var ivhLevels: Double
    /// Voxels the filters read around the lesion's region (its box plus the largest filter support; 0 without
    /// filters) and that box's size.
    public var filterVoxels: Double = 0
    public var filterBox: Size3?
    /// Voxels of the lesion's (resampled) region box and of the ring's, and their box sizes.
    public var regionVoxels: Double, ringVoxels: Double
    public var regionBox: Size3?, ringBox: Size3?
    /// Intensity range of the lesion's and ring's boxes read for the fixed-bin-size grey levels.
    public var intensityRange: ClosedRange<Double>?

    /// The cause with the largest share of the peak.
    public var dominant: Cause {
        byCause.max { a, b in a.value < b.value || (a.value == b.value && a.key.rawValue > b.key.rawValue) }?.key ?? .voxels
    }

    public var description: String {
        let parts = byCause.sorted { $0.value > $1.value }.map { "\($0.key.rawValue) \(ExtractionMemory.format($0.value))" }
        return "\(ExtractionMemory.format(bytes)) (\(parts.joined(separator: ", ")))"
    }
}

/// A memory budget shared by the lesions extracted at one time.
///
/// Lesions run in parallel (one per core) only while their estimates fit in the budget together: each
/// reserves its estimate before it starts, waiting while others hold too much, and releases it when
/// done. A lesion whose estimate alone exceeds the budget is refused before any work
/// (`RadiomicsError.overMemoryBudget`).
public final class MemoryBudget: @unchecked Sendable {
    /// The budget in bytes.
    public let bytes: Double
    /// How the budget was set, for messages (e.g. "--max-memory-gb 4").
    public let origin: String
    private let condition = NSCondition()
    private var inUse = 0.0

    public init(bytes: Double, origin: String) {
        self.bytes = bytes
        self.origin = origin
    }

    /// Waits until `amount` fits beside what is reserved (or nothing is reserved), then reserves it.
    func reserve(_ amount: Double) {
        condition.lock()
        while inUse > 0 && inUse + amount > bytes { condition.wait() }
        inUse += amount
        condition.unlock()
    }

    func release(_ amount: Double) {
        condition.lock()
        inUse -= amount
        condition.broadcast()
        condition.unlock()
    }
}

/// Budgets are compared by identity: two are the same when they share their reservations.
extension MemoryBudget: Hashable {
    public static func == (a: MemoryBudget, b: MemoryBudget) -> Bool { a === b }
    public func hash(into hasher: inout Hasher) { hasher.combine(ObjectIdentifier(self)) }
}

/// How much memory lesion extraction may use at one time.
public enum ExtractionMemoryLimit: Sendable, Hashable {
    /// 80 % of the memory available to the process — physical memory, or the container (cgroup) or
    /// `ulimit` limit when lower — less what the process already holds (the loaded images among it),
    /// measured when each scan's lesions start.
    case automatic
    /// A fixed budget in bytes (`--max-memory-gb`).
    case bytes(Double)
    /// One budget taken once and shared by every scan extracted while it is in use: the patients in flight
    /// of a pipelined cohort extraction (`extract --jobs N`) reserve their lesions against the same bytes.
    case shared(MemoryBudget)

    /// Share of the available memory the automatic budget takes.
    public static let automaticFraction = 0.8

    /// The budget now.
    public func budget() -> MemoryBudget {
        switch self {
        case .bytes(let b):
            return MemoryBudget(bytes: b, origin: "set with --max-memory-gb \(ExtractionMemory.gigabytes(b))")
        case .automatic:
            let a = SystemMemory.available(fraction: Self.automaticFraction)
            return MemoryBudget(bytes: a.bytes, origin: a.origin + "; raise or lower it with --max-memory-gb")
        case .shared(let budget):
            return budget
        }
    }
}

/// The memory the process may use, from the operating system.
public enum SystemMemory {
    /// Current virtual size, resident size and data segment of this process, in bytes (0 when unknown).
    public static func usage() -> (virtual: Double, resident: Double, data: Double) {
        guard let text = try? String(contentsOfFile: "/proc/self/statm", encoding: .utf8) else { return (0, 0, 0) }
        let f = text.split(separator: " ").compactMap { Double($0.trimmingCharacters(in: .whitespacesAndNewlines)) }
        guard f.count >= 6 else { return (0, 0, 0) }
        let page = Double(sysconf(Int32(_SC_PAGESIZE)))
        return (f[0] * page, f[1] * page, f[5] * page)
    }

    /// The limits that apply to this process: physical memory, the cgroup (v2 or v1) limit, and
    /// `RLIMIT_AS` / `RLIMIT_DATA`, each with what counts against it.
    static func limits() -> [(name: String, bytes: Double, used: Double)] {
        let use = usage()
        var out: [(String, Double, Double)] = [("physical memory", Double(ProcessInfo.processInfo.physicalMemory), use.resident)]
        for file in ["/sys/fs/cgroup/memory.max", "/sys/fs/cgroup/memory/memory.limit_in_bytes"] {
            if let t = try? String(contentsOfFile: file, encoding: .utf8),
               let v = Double(t.trimmingCharacters(in: .whitespacesAndNewlines)), v < 1e18 {
                out.append(("the container's memory limit", v, use.resident))
                break
            }
        }
        var r = rlimit()
        #if os(Linux)
        let asResource = __rlimit_resource_t(RLIMIT_AS.rawValue), dataResource = __rlimit_resource_t(RLIMIT_DATA.rawValue)
        #else
        let asResource = RLIMIT_AS, dataResource = RLIMIT_DATA
        #endif
        if getrlimit(asResource, &r) == 0, Double(r.rlim_cur) < 1e18 {
            out.append(("the address-space limit (ulimit -v)", Double(r.rlim_cur), use.virtual))
        }
        if getrlimit(dataResource, &r) == 0, Double(r.rlim_cur) < 1e18 {
            out.append(("the data limit (ulimit -d)", Double(r.rlim_cur), use.data))
        }
        return out
    }

    /// `fraction` of the tightest limit less what already counts against it, with a description.
    public static func available(fraction: Double) -> (bytes: Double, origin: String) {
        let options = limits().map { (name: $0.name, limit: $0.bytes, used: $0.used,
                                      free: max(0, fraction * $0.bytes - $0.used)) }
        guard let tightest = options.min(by: { $0.free < $1.free }) else {
            return (0, "no memory limit could be read")
        }
        let percent = Int((fraction * 100).rounded())
        return (tightest.free, "\(percent)% of \(tightest.name) (\(ExtractionMemory.format(tightest.limit))) less \(ExtractionMemory.format(tightest.used)) already in use")
    }
}

/// The per-lesion memory estimate (`MemoryEstimate`) and the check against a `MemoryBudget`.
public enum ExtractionMemory {
    /// Fixed cost per lesion besides its arrays (thread stack, feature lists, small buffers).
    static let overhead = 4.0 * 1_048_576

    /// Bytes as text: "812 KB", "45 MB", "3.2 GB", "5.09e+07 TB" (KB, MB, GB, TB are powers of 1024).
    public static func format(_ bytes: Double) -> String {
        let k = 1024.0
        if !bytes.isFinite { return "an unbounded amount" }
        if bytes < k * k { return String(format: "%.0f KB", bytes / k) }
        if bytes < k * k * k { return String(format: "%.0f MB", bytes / (k * k)) }
        if bytes < k * k * k * k { return String(format: "%.1f GB", bytes / (k * k * k)) }
        return String(format: "%.3g TB", bytes / (k * k * k * k))
    }

    /// Bytes as a plain number of gigabytes (2^30 bytes) for option values.
    static func gigabytes(_ bytes: Double) -> String {
        let g = bytes / 1_073_741_824
        return g == g.rounded() ? String(Int(g)) : String(format: "%.3g", g)
    }

    /// The estimate for the lesion whose mask has the bounding box `box` on `image`'s grid: its region,
    /// then its ring, as `LesionFeatureExtractor` extracts them. Throws `RadiomicsError.invalidSettings`
    /// only for a resampling grid too large to index.
    public static func estimate(image: Volume<Float>, lesionBox box: IndexBox, settings: ExtractionSettings) throws
        -> MemoryEstimate {
        let grid = image.grid
        let maps = try Resampler.axisMaps(for: grid, resampling: settings.resampling)
        var phases: [[MemoryEstimate.Cause: Double]] = []
        var estimate = MemoryEstimate(bytes: 0, byCause: [:], greyLevels: 0, ivhLevels: 0, regionVoxels: 0,
                                      ringVoxels: 0, regionBox: nil, ringBox: nil, intensityRange: nil)
        let tumour = region(image: image, maskBox: box, maps: maps, settings: settings, voxelCause: .voxels)
        phases += tumour.phases
        estimate.greyLevels = tumour.greyLevels
        estimate.ivhLevels = tumour.ivhLevels
        estimate.regionVoxels = tumour.voxels
        estimate.regionBox = tumour.box
        estimate.intensityRange = tumour.range
        estimate.filterVoxels = tumour.filterVoxels
        estimate.filterBox = tumour.filterBox
        if let ring = settings.ring {
            // As `LesionFeatureExtractor`: the lesion box grown by the ring width, on the original grid.
            let sp = grid.spacing
            func grow(_ s: Double) -> Int {
                let v = (ring.widthMM / s).rounded(.up)
                return v.isFinite && v < 1e9 ? Int(v) + 1 : 1_000_000_000
            }
            let ringBox = box.expanded(by: Index3(grow(sp.x), grow(sp.y), grow(sp.z)), within: grid.size)
            let originalVoxels = Double(ringBox.size.count)
            // Building the ring mask: image crop (4 bytes a voxel), lesion, other lesions and the masks
            // in between (1 byte each), and the distance transform of the dilation (8 bytes).
            phases.append([.ringVoxels: 20 * originalVoxels])
            let r = region(image: image, maskBox: ringBox, maps: maps, settings: settings, voxelCause: .ringVoxels)
            // The ring mask (1 byte a voxel of the ring box) stays while the ring is extracted.
            phases += r.phases.map { var p = $0; p[.ringVoxels, default: 0] += originalVoxels; return p }
            estimate.greyLevels = max(estimate.greyLevels, r.greyLevels)
            estimate.ivhLevels = max(estimate.ivhLevels, r.ivhLevels)
            estimate.ringVoxels = r.voxels
            estimate.ringBox = r.box
            if r.filterVoxels > estimate.filterVoxels {
                estimate.filterVoxels = r.filterVoxels
                estimate.filterBox = r.filterBox
            }
            if let a = estimate.intensityRange, let b = r.range {
                estimate.intensityRange = min(a.lowerBound, b.lowerBound)...max(a.upperBound, b.upperBound)
            }
        }
        let peak = phases.max { total($0) < total($1) } ?? [:]
        estimate.byCause = peak
        estimate.byCause[.voxels, default: 0] += overhead
        estimate.bytes = total(estimate.byCause)
        return estimate
    }

    private static func total(_ p: [MemoryEstimate.Cause: Double]) -> Double { p.values.reduce(0, +) }

    /// The phases of one region's extraction (each a set of arrays alive at once, by cause).
    private static func region(image: Volume<Float>, maskBox: IndexBox, maps: [Resampler.AxisMap],
                               settings: ExtractionSettings, voxelCause: MemoryEstimate.Cause)
        -> (phases: [[MemoryEstimate.Cause: Double]], greyLevels: Double, ivhLevels: Double, voxels: Double,
            box: Size3, range: ClosedRange<Double>?, filterVoxels: Double, filterBox: Size3?) {
        let grid = image.grid
        let interpolation = settings.resampling?.interpolation ?? .nearest
        let (newBox, srcBox) = Preprocessor.resamplingBoxes(bbox: maskBox, gridSize: grid.size, maps: maps,
                                                            interpolation: interpolation, wholeImage: false)
        let n = newBox.size
        let v = Double(n.nx) * Double(n.ny) * Double(n.nz)
        // The texture box: the mask's own extent on the new grid (the region less the sphere margins).
        var rDims = [Double](repeating: 1, count: 3)
        for axis in 0..<3 {
            let map = maps[axis]
            let lower = axis == 0 ? maskBox.lower.i : (axis == 1 ? maskBox.lower.j : maskBox.lower.k)
            let upper = axis == 0 ? maskBox.upper.i : (axis == 1 ? maskBox.upper.j : maskBox.upper.k)
            let extent = map.newIndex(Double(upper) + 0.5).rounded(.up) - map.newIndex(Double(lower) - 0.5).rounded(.down) + 1
            rDims[axis] = min(Double(n[axis]), max(1, extent))
        }
        let r = rDims[0] * rDims[1] * rDims[2]
        let longest = rDims.max()!
        let slices = rDims[2]

        // Intensities the ROI can hold: the original box the interpolation reads (cubic kernels overshoot).
        var lo = Double.infinity, hi = -Double.infinity
        image.voxels.withUnsafeBufferPointer { x in
            for k in srcBox.lower.k...srcBox.upper.k {
                for j in srcBox.lower.j...srcBox.upper.j {
                    let row = (k * grid.size.ny + j) * grid.size.nx
                    for i in srcBox.lower.i...srcBox.upper.i {
                        let value = Double(x[row + i])
                        lo = min(lo, value); hi = max(hi, value)
                    }
                }
            }
        }
        if (interpolation == .cubic || interpolation == .bspline) && settings.resampling != nil {
            let spread = (hi - lo) * 0.25
            lo -= spread; hi += spread
        }
        let range: ClosedRange<Double>? = lo <= hi ? lo...hi : nil
        let reseg = settings.resegmentation
        let roiLow = max(lo, reseg.lowerBound ?? -.infinity), roiHigh = min(hi, reseg.upperBound ?? .infinity)
        let greyLevels: Double
        switch settings.discretisation {
        case .fixedBinNumber(let count): greyLevels = Double(max(count, 1))
        case .fixedBinSize(let width):
            let lower = reseg.lowerBound ?? lo
            greyLevels = roiHigh >= lower && width > 0 ? ((roiHigh - lower) / width).rounded(.down) + 1 : 1
        }
        let ivhLow = reseg.lowerBound ?? roiLow, ivhHigh = reseg.upperBound ?? roiHigh
        let ivhLevels: Double
        switch settings.ivhDiscretisation {
        case .none: ivhLevels = max(1, (ivhHigh - ivhLow).rounded() + 1)
        case .fixedBinSize(let width): ivhLevels = width > 0 ? max(1, ((ivhHigh - ivhLow) / width).rounded(.up) + 1) : 1
        case .fixedBinNumber(let count): ivhLevels = Double(max(count, 1))
        }

        var phases: [[MemoryEstimate.Cause: Double]] = []
        // Resampling: the source box as float, mask and doubles (image, then mask values), the
        // separable passes (x, then y, then z) two at a time, and the resampled image and mask.
        if settings.resampling != nil {
            // B-splines read up to `bSplineEdgePadding` edge samples more beyond each image end.
            let extra = (0..<3).map { interpolation == .bspline && !maps[$0].identity ? 2 * Resampler.bSplineEdgePadding : 0 }
            let s = Size3(srcBox.size.nx + extra[0], srcBox.size.ny + extra[1], srcBox.size.nz + extra[2])
            let b0 = Double(s.count)
            let a1 = Double(n.nx) * Double(s.ny) * Double(s.nz), a2 = Double(n.nx) * Double(n.ny) * Double(s.nz)
            let lesion = Double(maskBox.size.count)
            phases.append([voxelCause: 21 * b0 + 9 * v + 8 * max(a1 + a2, a2 + v)])
            // Initial-ROI diagnostics on the original box beside the resampled region.
            phases.append([voxelCause: 10 * v + 9 * lesion])
        }
        if settings.wholeImageDiagnostics {
            let full = Double(maps[0].newCount) * Double(maps[1].newCount) * Double(maps[2].newCount)
            let original = Double(grid.size.count)
            phases.append([voxelCause: 10 * v + (settings.resampling == nil ? 8 * original : 21 * original + 25 * full)])
        }
        // Features: the region (intensities 8 bytes, two masks), grey levels (4), the texture box
        // (levels and mask, 5) and the ROI intensities (8), with the largest family on top.
        let base = 10 * v + 4 * v + 5 * r + 8 * r
        let aggregations = settings.textureAggregations
        let needsSlices = aggregations.contains { $0 == .slice2DAverage || $0 == .slice2DMerged }
        let needs3D = aggregations.contains { $0 == .volume3DAverage || $0 == .volume3DMerged }
        let planar = aggregations.contains { $0.singleMatrixSuffix != "3D" }
        // Direction matrices alive at once (GLCM, GLRLM): the volume's directions are counted in turn into one
        // matrix and moved into their sum, so two and one to spare (measured: about 2 at the peak of 3D); with 2D
        // the 4 in-plane matrices summed over slices, a slice's matrix and their sum besides.
        let directional: Double = needsSlices ? 8 : 3
        // Zone sizes are distinct values summing to at most the ROI's voxels: at most sqrt(2 N) of them.
        let zoneWidth = min((2 * r).squareRoot() + 1, r)
        let distanceWidth = (longest + 1) / 2 + 1
        let planarCopies = planar ? slices + 1 : 0, volumeCopies: Double = needs3D ? 1 : 0
        let kinds = (planar ? 1.0 : 0) + (needs3D ? 1 : 0)
        func familyPhases(_ families: [FeatureFamily], ng: Double, extra: Double) -> [[MemoryEstimate.Cause: Double]] {
        var phases: [[MemoryEstimate.Cause: Double]] = []
        for family in families {
            var voxelBytes = 0.0, levelBytes = 0.0, ivhBytes = 0.0
            switch family {
            case .morphology:
                let p = [fftLength(2 * rDims[0] - 1), fftLength(2 * rDims[1] - 1), fftLength(2 * rDims[2] - 1)]
                let h = p.map { ($0 / 2).rounded(.down) + 1 }
                let store = 24 * rDims[2] * p[1] * h[0]
                let kernel = 4 * rDims[2] * h[1] * h[0] + 4 * h[2] * h[1] * h[0]
                let buffers = 8 * p[0] * p[1] + 24 * max(32_768, h[0] * p[2])
                voxelBytes = store + kernel + buffers + 24 * r
            case .localIntensity: voxelBytes = 8 * v
            case .intensity: voxelBytes = 16 * r
            case .histogram: voxelBytes = 4 * r; levelBytes = 8 * ng
            case .intensityVolumeHistogram: voxelBytes = 8 * r; ivhBytes = 24 * ivhLevels
            case .glcm:
                guard !aggregations.isEmpty else { continue }
                levelBytes = 4 * (ng + 1) * (ng + 1) * directional + 32 * ng
            case .glrlm:
                guard !aggregations.isEmpty else { continue }
                voxelBytes = 4 * r
                levelBytes = 4 * ng * longest * (directional + 4)
            case .glszm:
                guard !aggregations.isEmpty else { continue }
                voxelBytes = 20 * r * kinds
                levelBytes = 4 * ng * zoneWidth * (planarCopies + volumeCopies)
            case .gldzm:
                guard !aggregations.isEmpty else { continue }
                voxelBytes = 25 * r * kinds
                levelBytes = 4 * ng * distanceWidth * (planarCopies + volumeCopies)
            case .ngldm:
                guard !aggregations.isEmpty else { continue }
                voxelBytes = 12 * r * kinds
                levelBytes = 4 * ng * (needs3D ? 27 : 9) * (planarCopies + volumeCopies)
            case .ngtdm:
                guard !aggregations.isEmpty else { continue }
                voxelBytes = 24 * r
                levelBytes = 16 * ng * (planarCopies + volumeCopies + 1)
            }
            var phase: [MemoryEstimate.Cause: Double] = [voxelCause: base + voxelBytes + extra]
            if levelBytes > 0 { phase[.greyLevels] = levelBytes }
            if ivhBytes > 0 { phase[.ivhLevels] = ivhBytes }
            phases.append(phase)
        }
        return phases
        }
        if settings.filtering?.original ?? true {
            phases += familyPhases(settings.families, ng: greyLevels, extra: 0)
        }
        var filterVoxels = 0.0, filterBox: Size3? = nil
        if let filtering = settings.filtering, !filtering.filters.isEmpty {
            // As `RadiomicsExtractor.responseMapFeatures`: one read of the interpolated image over the region's
            // box grown by the largest filter support, then each filter in turn over it.
            let full = Size3(maps[0].newCount, maps[1].newCount, maps[2].newCount)
            let spacing = Vector3(maps[0].newSpacing, maps[1].newSpacing, maps[2].newSpacing)
            var read = newBox
            for filter in filtering.filters {
                let b = ResponseMaps.filterBox(filter, box: newBox, size: full, spacing: spacing)
                read = IndexBox(lower: Index3(min(read.lower.i, b.lower.i), min(read.lower.j, b.lower.j), min(read.lower.k, b.lower.k)),
                                upper: Index3(max(read.upper.i, b.upper.i), max(read.upper.j, b.upper.j), max(read.upper.k, b.upper.k)))
            }
            let f = Double(read.size.nx) * Double(read.size.ny) * Double(read.size.nz)
            filterVoxels = f
            filterBox = read.size
            if settings.resampling != nil {
                // Resampling the read box: the source as doubles, separable passes, the result.
                let src = Preprocessor.sourceBox(newBox: read, gridSize: grid.size, maps: maps, interpolation: interpolation)
                phases.append([voxelCause: 10 * v, .responseMaps: 8 * Double(src.size.count) + 24 * f])
            }
            // Filtering: the read values (doubles, and as a single-precision image), the filter's padded
            // blocks and passes or FFT buffers (up to 48 bytes a read voxel), the pooled and the returned
            // response (single and double precision), beside the region.
            // Separable wavelet sub-bands are computed together (`ResponseMaps.sharedWaveletResponses`): each
            // one's pooled response (double) and map (single precision) at once, the maps kept until their turn.
            let bands = Double(filtering.filters.filter { if case .wavelet = $0 { return true } else { return false } }.count)
            let held = bands > 1 ? 4 * bands * v : 0
            phases.append([voxelCause: 10 * v, .responseMaps: 12 * f + 48 * f + 20 * v + (bands > 1 ? 12 * bands * v : 0)])
            // The families of each response map: the region's copy with the response as intensities, beside the
            // read values (double and single precision, kept for the next filter). A fixed bin number gives the
            // grey levels; a fixed bin size on a response has as many as the image.
            let ng: Double
            switch filtering.discretisation ?? settings.discretisation {
            case .fixedBinNumber(let count): ng = Double(max(count, 1))
            case .fixedBinSize: ng = greyLevels
            }
            phases += familyPhases(filtering.families, ng: ng, extra: 12 * f + 8 * v).map { phase in
                var p = phase
                let share = 12 * f + 8 * v
                p[voxelCause, default: 0] -= share
                p[.responseMaps, default: 0] += share + held
                return p
            }
        }
        if phases.isEmpty { phases.append([voxelCause: base]) }
        return (phases, greyLevels, ivhLevels, v, n, range, filterVoxels, filterBox)
    }

    /// `SpatialAutocorrelation.fftLength` in floating point (the smallest 2-3-5-smooth length at
    /// least `n`), bounded by 1.25 n for lengths too large to search.
    private static func fftLength(_ n: Double) -> Double {
        guard n < 1e7 else { return (n * 1.25).rounded(.up) }
        return Double(SpatialAutocorrelation.fftLength(Int(max(n, 1))))
    }

    /// One line per lesion whose estimate exceeds the budget, naming the lesion, the estimate, the
    /// budget and the setting responsible; empty when all fit.
    static func refusals(labels: [String], estimates: [MemoryEstimate], settings: ExtractionSettings,
                         budget: MemoryBudget) -> [String] {
        zip(labels, estimates).compactMap { label, e in
            guard e.bytes > budget.bytes else { return nil }
            return "\(label): extraction would need about \(format(e.bytes)) of memory, more than the budget of \(format(budget.bytes)) (\(budget.origin)); \(explanation(e, settings: settings))"
        }
    }

    /// What the largest share of an estimate is for and which setting drives it, with advice.
    static func explanation(_ e: MemoryEstimate, settings: ExtractionSettings) -> String {
        let cause = e.dominant
        let share = format(e.byCause[cause] ?? 0)
        func count(_ x: Double) -> String { x < 1e15 ? String(Int(x)) : String(format: "%.3g", x) }
        func box(_ s: Size3?) -> String { s.map { "\($0.nx) x \($0.ny) x \($0.nz)" } ?? "?" }
        let spacing = settings.resampling.map { r -> String in
            let used = r.inPlaneOnly ? Array(r.spacing.prefix(2)) : r.spacing
            let text = Set(used).count == 1 ? ExtractionSettings.text(used[0])
                : used.map(ExtractionSettings.text).joined(separator: " x ")
            return "resampling spacing \(text) mm (--spacing, resampling.spacing)"
        }
        switch cause {
        case .greyLevels:
            let setting: String
            switch settings.discretisation {
            case .fixedBinNumber(let c):
                setting = "bin count \(c) (--bin-count, discretisation.fixedBinNumber.count)"
            case .fixedBinSize(let w):
                let range = e.intensityRange.map { " over intensities \(count($0.lowerBound)) to \(count($0.upperBound))" } ?? ""
                setting = "bin width \(ExtractionSettings.text(w)) (--bin-width, discretisation.fixedBinSize.width)\(range)"
            }
            return "\(share) of it for texture matrices of \(count(e.greyLevels)) grey levels, set by \(setting); use fewer grey levels (IBSI and PyRadiomics practice: 8 to 256; at most \(SettingsBounds.greyLevels.upperBound))"
        case .ivhLevels:
            return "\(share) of it for the intensity-volume histogram's \(count(e.ivhLevels)) levels (ivhDiscretisation); use a fixed bin size or number"
        case .voxels:
            let what = "\(share) of it for the lesion's region of \(count(e.regionVoxels)) voxels (\(box(e.regionBox)))"
            if let spacing { return "\(what), set by \(spacing); use a coarser spacing" }
            return "\(what) on the image grid (no resampling); resample to a coarser grid (--spacing)"
        case .responseMaps:
            let tokens = settings.filtering?.filters.map(\.token).joined(separator: ", ") ?? ""
            return "\(share) of it for the response maps of the filters (\(tokens); filtering.filters), which read \(count(e.filterVoxels)) voxels (\(box(e.filterBox))) around the lesion, set by the filters' support\(spacing.map { " and " + $0 } ?? ""); use fewer or smaller filters\(spacing == nil ? "" : " or a coarser spacing")"
        case .ringVoxels:
            let width = settings.ring.map { "ring width \(ExtractionSettings.text($0.widthMM)) mm (--ring-mm, ring.widthMM)" } ?? "the ring"
            let what = "\(share) of it for the peritumoral ring's region of \(count(e.ringVoxels)) voxels (\(box(e.ringBox)))"
            if let spacing { return "\(what), set by \(width) and \(spacing); use a narrower ring or a coarser spacing" }
            return "\(what), set by \(width); use a narrower ring"
        }
    }
}
