import XCTest
import Foundation
import ImagingCore
import ImageIO
import Radiomics
import TestSupport
#if canImport(Glibc)
import Glibc
#endif

/// Filtered-image extraction speed and memory next to PyRadiomics with the same image types, measured in one run
/// (figures printed, never asserted).
///
/// Runs only with `LESIONMAP_BENCHMARK=1`, in a release build, with PyRadiomics installed:
///
///     swift build -c release -Xswiftc -enable-testing --build-tests
///     LESIONMAP_BENCHMARK=1 swift test -c release -Xswiftc -enable-testing --skip-build \
///       --filter FilteredImageBenchmarks
///
/// The IBSI CT phantom GTV on its own grid: the original image, the Laplacian of Gaussian at σ = 1, 3 and 5 mm and
/// the eight coif1 level-1 wavelet sub-bands, each with the full feature set: every family on the original image
/// (with LesionMap's larger set, Moran's I and Geary's C over every voxel pair among it), every family but
/// morphology on the 11 response maps, bins of 25 (PyRadiomics' defaults: `enableAllFeatures()`, `binWidth=25`,
/// image types `Original`, `LoG` with `sigma: [1, 3, 5]`, `Wavelet`). Single-threaded: LesionMap extracts the
/// one region on the calling thread; PyRadiomics runs with SimpleITK held to one thread (`OMP_NUM_THREADS=1`
/// too). A second LesionMap line extracts the same image types with only the families and the aggregation PyRadiomics
/// computes (`pyRadiomicsFamiliesSettings`); both lines and both ratios are printed against the same PyRadiomics time.
/// Times are the best of several runs after a warm-up (seven for LesionMap, three for PyRadiomics; the best of
/// several estimates each program's time on an otherwise idle processor, which the shared machine rarely gives for long),
/// extraction only (images already read), both as elapsed time and as the CPU time of the process (which leaves
/// out the time another process held the core; the two agree on a quiet machine), in the allocator
/// configuration every `lesionmap` command runs in: `setUp` calls `HeapReuse.keepFreedMemory()` (as the CLI's
/// `main.swift` does first thing), so freed large blocks stay in the heap for the next run instead of going back to
/// the kernel and being faulted in and cleared again (it applies to the whole test process from then on). Peak memory is
/// the peak resident size of a process doing that one extraction: `lesionmap features` with the same settings
/// (its whole run: reading the image included), and the Python process (interpreter and modules included).
final class FilteredImageBenchmarks: XCTestCase {
    /// PyRadiomics' defaults on the original grid, with its LoG (3 sigmas) and wavelet image types.
    static let settings: ExtractionSettings = {
        var s = ExtractionSettings(
            mode: .volume3D, resampling: nil, resegmentation: .none, discretisation: .fixedBinSize(width: 25),
            textureAggregations: [.volume3DAverage, .volume3DMerged], ivhDiscretisation: .none)
        let logs = [1.0, 3.0, 5.0].map { FilterSpec.laplacianOfGaussian(sigmaMM: $0, truncate: nil, dimensions: nil, boundary: .mirror) }
        let bands = ["LLH", "LHL", "LHH", "HLL", "HLH", "HHL", "HHH", "LLL"].map {
            FilterSpec.wavelet(wavelet: "coif1", subband: $0, level: 1, rotationInvariant: nil, pooling: nil, boundary: .periodic)
        }
        s.filtering = .init(filters: logs + bands, families: FeatureFamily.allCases.filter { $0 != .morphology })
        return s
    }()

    /// The same image types with the families and the aggregation PyRadiomics computes, for a like-for-like line
    /// next to the full set (existing settings only):
    /// - `firstorder`: intensity statistics (`stat_*`) and the intensity histogram (`ih_*`, for its entropy and
    ///   uniformity; the histogram family is computed whole);
    /// - `shape` (original image only): morphology. It carries Moran's I and Geary's C, which PyRadiomics does not
    ///   compute and no setting leaves out: LesionMap does that extra work in this line too;
    /// - `glcm`, `glrlm`: 13 directional 3D matrices, the features averaged over them (`3D_avg`; PyRadiomics'
    ///   default averages over angles), no merged (`3D_comb`) set;
    /// - `glszm`, `ngtdm`: one 3D matrix; `gldm`: NGLDM (coarseness 0, distance 1, one 3D matrix);
    /// - left out: local intensity, the intensity-volume histogram and GLDZM (PyRadiomics has none of them).
    static let pyRadiomicsFamiliesSettings: ExtractionSettings = {
        var s = settings
        let maps: [FeatureFamily] = [.intensity, .histogram, .glcm, .glrlm, .glszm, .ngtdm, .ngldm]
        s.families = [.morphology] + maps
        s.textureAggregations = [.volume3DAverage]
        s.filtering?.families = maps
        return s
    }()

    override func setUpWithError() throws {
        guard ProcessInfo.processInfo.environment["LESIONMAP_BENCHMARK"] == "1" else {
            throw XCTSkip("benchmark: set LESIONMAP_BENCHMARK=1 (and use -c release)")
        }
        // The allocator configuration of the `lesionmap` CLI (its main.swift), in which every real extraction runs.
        HeapReuse.keepFreedMemory()
    }

    static let script = """
        import json, logging, os, resource, sys, time
        import SimpleITK as sitk
        sitk.ProcessObject.SetGlobalDefaultNumberOfThreads(1)
        from radiomics import featureextractor
        logging.getLogger("radiomics").setLevel(logging.ERROR)
        image, mask = sitk.ReadImage(sys.argv[1]), sitk.ReadImage(sys.argv[2])
        extractor = featureextractor.RadiomicsFeatureExtractor(binWidth=25, label=1)
        extractor.disableAllImageTypes()
        extractor.enableImageTypeByName("Original")
        extractor.enableImageTypeByName("LoG", customArgs={"sigma": [1.0, 3.0, 5.0]})
        extractor.enableImageTypeByName("Wavelet")
        extractor.enableAllFeatures()
        best, best_cpu = float("inf"), float("inf")
        for _ in range(int(sys.argv[3])):
            start, start_cpu = time.perf_counter(), time.process_time()
            result = extractor.execute(image, mask)
            best = min(best, time.perf_counter() - start)
            best_cpu = min(best_cpu, time.process_time() - start_cpu)
        features = [k for k in result if not k.startswith("diagnostics")]
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
        print(json.dumps({"seconds": best, "cpuSeconds": best_cpu, "features": len(features), "peak": peak}))
        """

    /// The shortest elapsed time and the shortest CPU time (user + system, this process) of the runs counted.
    struct BestTime {
        var elapsed = Double.infinity
        var cpu = Double.infinity

        mutating func measure<T>(counted: Bool, _ body: () throws -> T) rethrows -> T {
            let start = DispatchTime.now().uptimeNanoseconds, startCPU = Self.processCPUSeconds()
            let result = try body()
            if counted {
                elapsed = min(elapsed, Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9)
                cpu = min(cpu, Self.processCPUSeconds() - startCPU)
            }
            return result
        }

        static func processCPUSeconds() -> Double {
            var t = timespec()
            clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t)
            return Double(t.tv_sec) + Double(t.tv_nsec) / 1e9
        }
    }

    struct PythonOutput: Decodable {
        var seconds: Double
        var cpuSeconds: Double
        var features: Int
        var peak: Double
    }

    /// Runs `executable` with `arguments`; its standard output and its peak resident size in bytes.
    static func run(_ executable: String, _ arguments: [String], environment: [String: String] = [:]) throws
        -> (output: Data, status: Int32, peak: Double) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        var env = ProcessInfo.processInfo.environment
        for (k, v) in environment { env[k] = v }
        process.environment = env
        let out = Pipe()
        process.standardOutput = out
        process.standardError = FileHandle.nullDevice
        try process.run()
        let data = out.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        var usage = rusage()
        getrusage(__rusage_who_t(RUSAGE_CHILDREN.rawValue), &usage)  // the largest child so far: run the smaller process first
        return (data, process.terminationStatus, Double(usage.ru_maxrss) * 1024)
    }

    func testLoGAndWaveletFeatureSetAgainstPyRadiomics() throws {
        let dir = try SharedData.url("ibsi1/ct_phantom/nifti")
        let imageURL = dir.appendingPathComponent("image.nii.gz"), maskURL = dir.appendingPathComponent("mask.nii.gz")
        let image = try NIfTI.readImage(imageURL)
        let mask = try NIfTI.readLabelMap(maskURL).mask(label: 1)
        let settings = try Self.settings.validated()
        let likeSettings = try Self.pyRadiomicsFamiliesSettings.validated()

        // Best of seven after a warm-up; the two settings alternate so that both see the same machine.
        var count = 0, likeCount = 0
        var full = BestTime(), like = BestTime()
        for run in 0..<8 {
            count = try full.measure(counted: run > 0) {
                try RadiomicsExtractor.extract(image: image, mask: mask, settings: settings).features.count
            }
            likeCount = try like.measure(counted: run > 0) {
                try RadiomicsExtractor.extract(image: image, mask: mask, settings: likeSettings).features.count
            }
        }
        let best = full.elapsed, likeBest = like.elapsed
        let estimate = try ExtractionMemory.estimate(image: image, lesionBox: try XCTUnwrap(mask.boundingBox), settings: settings)

        // Peak memory of `lesionmap features` with the same settings (a process of its own).
        let settingsFile = try SharedData.temporaryDirectory(for: self).appendingPathComponent("settings.json")
        try Data(try JSONEncoder().encode(settings)).write(to: settingsFile)
        let lesionmap = try lesionmapExecutable()
        let cli = try Self.run(lesionmap.path, ["features", imageURL.path, maskURL.path, "--settings", settingsFile.path,
                                                "--format", "csv"])
        XCTAssertEqual(cli.status, 0)
        let cliRows = String(decoding: cli.output, as: UTF8.self).split(separator: "\n").count - 1

        let python = try Self.run("/usr/bin/env", ["python3", "-c", Self.script, imageURL.path, maskURL.path, "3"],
                                  environment: ["OMP_NUM_THREADS": "1", "ITK_GLOBAL_DEFAULT_NUMBER_OF_THREADS": "1"])
        guard python.status == 0 else { throw XCTSkip("PyRadiomics could not run (pip install pyradiomics)") }
        let py = try JSONDecoder().decode(PythonOutput.self, from: python.output)
        let mb = { (b: Double) in String(format: "%.0f MB", b / 1_048_576) }
        print(String(format: "filtered-image benchmark, IBSI CT phantom GTV (%d voxels), original + LoG (1, 3, 5 mm) + 8 coif1 wavelet sub-bands, single-threaded:", mask.count))
        print(String(format: "  PyRadiomics 3.0.1: %.2f s, %d features, peak %@ (Python process)", py.seconds, py.features, mb(py.peak)))
        print(String(format: "  LesionMap: %.3f s, %d features (%d rows from lesionmap features), peak %@ (lesionmap features process; estimate %@)",
                     best, count, cliRows, mb(cli.peak), mb(estimate.bytes)))
        print(String(format: "  LesionMap is %.1fx faster than PyRadiomics (full set: %d features against %d)",
                     py.seconds / best, count, py.features))
        print(String(format: "  LesionMap, PyRadiomics' families and aggregation (first order, shape, GLCM and GLRLM 3D_avg, GLSZM, NGTDM, NGLDM): %.3f s, %d features",
                     likeBest, likeCount))
        print(String(format: "  LesionMap is %.1fx faster than PyRadiomics (like for like: %d features against %d)",
                     py.seconds / likeBest, likeCount, py.features))
        print(String(format: "  CPU time (user + system of the process, best run): PyRadiomics %.2f s, LesionMap full set %.3f s (%.1fx), like for like %.3f s (%.1fx)",
                     py.cpuSeconds, full.cpu, py.cpuSeconds / full.cpu, like.cpu, py.cpuSeconds / like.cpu))
    }
}
