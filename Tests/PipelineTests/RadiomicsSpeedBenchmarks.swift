import XCTest
import Foundation
import ImagingCore
import ImageIO
import Cohort
import Radiomics
import Synthesis
import TestSupport

/// Feature extraction speed next to PyRadiomics, measured in one run (figures printed, never asserted).
///
/// Runs only with `LESIONMAP_BENCHMARK=1`, in a release build, with PyRadiomics installed
/// (`pip install pyradiomics`):
///
///     LESIONMAP_BENCHMARK=1 swift test -c release --filter RadiomicsSpeedBenchmarks
///
/// - The whole feature set of the GTV of the IBSI CT phantom and of STS_001 (mask from its RTSTRUCT),
///   single-threaded, best of several runs, against PyRadiomics `enableAllFeatures()` on the original
///   image with bin width 25 (extraction only, best of several runs, in a Python subprocess). LesionMap
///   runs on the original grid in 3D with 25 HU bins (as PyRadiomics) and, for reference, with IBSI
///   configurations A and C.
/// - Lesions per second for a ten-lesion synthetic patient with the clinical default settings
///   (ring included), lesions in parallel on all cores.
final class RadiomicsSpeedBenchmarks: XCTestCase {
    /// LesionMap settings matching PyRadiomics' defaults: original grid, no re-segmentation, 25-unit bins, 3D.
    static let pyradiomicsLike = ExtractionSettings(
        mode: .volume3D, resampling: nil, resegmentation: .none, discretisation: .fixedBinSize(width: 25),
        textureAggregations: [.volume3DAverage, .volume3DMerged], ivhDiscretisation: .none)

    override func setUpWithError() throws {
        guard ProcessInfo.processInfo.environment["LESIONMAP_BENCHMARK"] == "1" else {
            throw XCTSkip("benchmark: set LESIONMAP_BENCHMARK=1 (and use -c release)")
        }
    }

    /// Best wall-clock time of `runs` calls after one warm-up call.
    static func bestTime(runs: Int, _ body: () throws -> Void) rethrows -> Double {
        try body()
        var best = Double.infinity
        for _ in 0..<runs {
            let start = DispatchTime.now().uptimeNanoseconds
            try body()
            best = min(best, Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9)
        }
        return best
    }

    func testGTVFeatureSetsAgainstPyRadiomics() throws {
        let ct = try SharedData.url("ibsi1/ct_phantom/nifti")
        let ctImage = ct.appendingPathComponent("image.nii.gz"), ctMask = ct.appendingPathComponent("mask.nii.gz")
        let sts = try SharedData.url("sts_001")
        let stsImage = sts.appendingPathComponent("nifti/image.nii.gz")
        // The NIfTI mask of STS_001 is truncated: rasterise the RTSTRUCT once and write it for PyRadiomics.
        let stsVolume = try NIfTI.readImage(stsImage)
        let gtv = try DCMTKSource().contours(sts.appendingPathComponent("rtstruct.dcm"), kind: .rtstruct,
                                            roi: "GTV_Mass_CT", onto: stsVolume.grid)[0].mask
        let stsMask = try SharedData.temporaryDirectory(for: self).appendingPathComponent("sts_001_gtv.nii.gz")
        try NIfTI.write(gtv.map { $0 ? Int32(1) : 0 }, to: stsMask)

        for (name, image, mask) in [("IBSI CT phantom GTV", ctImage, ctMask), ("STS_001 GTV_Mass_CT", stsImage, stsMask)] {
            let volume = try NIfTI.readImage(image)
            let region = try NIfTI.readLabelMap(mask).mask(label: 1)
            var lesionMap: [(String, Double, Int)] = []
            for (label, settings) in [("pyradiomics-like", Self.pyradiomicsLike), ("ibsi-a", .ibsiA), ("ibsi-c", .ibsiC)] {
                var count = 0
                let seconds = try Self.bestTime(runs: 5) {
                    count = try RadiomicsExtractor.extract(image: volume, mask: region, settings: settings).features.count
                }
                lesionMap.append((label, seconds, count))
            }
            let python = try PyRadiomicsRun.run(image: image, mask: mask, repeats: 3)
            print(String(format: "radiomics benchmark %@ (%d voxels): PyRadiomics %.3f s (%d features)", name,
                         region.count, python.seconds, python.features.count))
            for (label, seconds, count) in lesionMap {
                print(String(format: "radiomics benchmark %@: LesionMap %@ %.4f s (%d features), %.1fx faster than PyRadiomics",
                             name, label, seconds, count, python.seconds / seconds))
            }
        }
    }

    func testLesionsPerSecondForATenLesionPatient() throws {
        // Ten lesions are rare (1 + Binomial(9, 0.33)): patient 45156 is the first with ten for seed 1.
        let options = SynthesisOptions(patients: 1, seed: 1)
        let patient = SyntheticPlanner.patient(index: 45156, options: options)
        XCTAssertEqual(patient.lesions.count, 10)
        let scan = SyntheticScanModel.render(patient, options: options)
        let image = scan.ct.map(Float.init)
        let lesions = patient.lesions.map { scan.labels.mask(label: $0.label) }
        let seconds = try Self.bestTime(runs: 3) {
            _ = try LesionFeatureExtractor.extract(image: image, lesions: lesions, settings: .clinicalDefault)
        }
        print(String(format: "radiomics benchmark synthetic patient %@ (10 lesions, %d voxels, ring %.0f mm, %d cores): %.3f s, %.1f lesions/s",
                     patient.id, lesions.map(\.count).reduce(0, +), ExtractionSettings.clinicalDefault.ring?.widthMM ?? 0,
                     ProcessInfo.processInfo.activeProcessorCount, seconds, 10 / seconds))
    }
}

/// PyRadiomics 3 on one image and mask in a Python subprocess: `enableAllFeatures()`, original image
/// only, bin width 25, label 1; the time is that of `execute` alone (images already read), best of `repeats`.
enum PyRadiomicsRun {
    struct Output: Decodable {
        var seconds: Double
        var features: [String: Double]
    }

    static let script = """
        import json, logging, sys, time
        import SimpleITK as sitk
        from radiomics import featureextractor
        logging.getLogger("radiomics").setLevel(logging.ERROR)
        image, mask = sitk.ReadImage(sys.argv[1]), sitk.ReadImage(sys.argv[2])
        extractor = featureextractor.RadiomicsFeatureExtractor(binWidth=25, label=1)
        extractor.disableAllImageTypes()
        extractor.enableImageTypeByName("Original")
        extractor.enableAllFeatures()
        best = float("inf")
        for _ in range(int(sys.argv[3])):
            start = time.perf_counter()
            result = extractor.execute(image, mask)
            best = min(best, time.perf_counter() - start)
        features = {k: float(v) for k, v in result.items() if k.startswith("original_")}
        print(json.dumps({"seconds": best, "features": features}))
        """

    static func run(image: URL, mask: URL, repeats: Int) throws -> Output {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", "-c", script, image.path, mask.path, String(repeats)]
        let out = Pipe()
        let errorLog = FileManager.default.temporaryDirectory.appendingPathComponent("pyradiomics-\(UUID().uuidString).log")
        guard FileManager.default.createFile(atPath: errorLog.path, contents: nil) else {
            throw XCTSkip("cannot create \(errorLog.path) for the PyRadiomics log")
        }
        defer { try? FileManager.default.removeItem(at: errorLog) }
        process.standardOutput = out
        process.standardError = try FileHandle(forWritingTo: errorLog)
        try process.run()
        let data = out.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            let errors = (try? String(contentsOf: errorLog, encoding: .utf8)) ?? ""
            throw XCTSkip("PyRadiomics could not run (pip install pyradiomics): \(errors.suffix(400))")
        }
        return try JSONDecoder().decode(Output.self, from: data)
    }
}
