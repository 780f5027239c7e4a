import XCTest
import Foundation
import ImagingCore
import ImageIO
import Pipeline
import Radiomics
import TestSupport

/// The IBSI 2 presets: phase 1 response maps through `lesionmap filter`'s library entry point, and the
/// phase 2 configurations on the IBSI 1 CT phantom GTV (their reference values are held out: checked by
/// definition where it can be done by hand).
final class IBSI2PresetTests: XCTestCase {
    /// The reference response map and phantom of a phase 1 configuration (`3b2`).
    static func phase1Files(_ config: String) throws -> (image: URL, reference: URL) {
        let dir = try SharedData.url("ibsi2/response_maps")
        let files = try FileManager.default.contentsOfDirectory(atPath: dir.path)
        let file = try XCTUnwrap(files.first { $0.contains("_CT_\(config.uppercased())_") }, "no response map for \(config)")
        // id_<n>_<phantom>_CT_<config>_<filter>.nii.gz
        let phantom = file.split(separator: "_")[2]
        return (try SharedData.url("ibsi2/phantoms/\(phantom)/image.nii.gz"), dir.appendingPathComponent(file))
    }

    /// Every phase 1 preset whose filter this version provides reproduces the consensus response map within
    /// 0.001 at every voxel, through `ResponseMapExport` (what `lesionmap filter` calls).
    func testPhase1PresetsReproduceTheReferenceResponseMaps() throws {
        var available = 0
        for config in ExtractionSettings.ibsi2Phase1Configurations {
            let name = "ibsi2-phase1-\(config)"
            guard ExtractionSettings.presetNames.contains(name) else {
                XCTAssertThrowsError(try ExtractionSettings.preset(named: name)) {
                    XCTAssertTrue("\($0)".contains("not available in this version"), "\($0)")
                }
                print("IBSI 2 phase 1 \(config.uppercased()): filter not available in this version")
                continue
            }
            available += 1
            let (image, referenceFile) = try Self.phase1Files(config)
            let settings = try ExtractionSettings.preset(named: name)
            let (map, token) = try ResponseMapExport.responseMap(image: image, settings: settings)
            let reference = try NIfTI.readImage(referenceFile)
            XCTAssertEqual(map.grid.size, reference.grid.size, config)
            var matched = 0, worst = 0.0
            for (a, b) in zip(map.voxels, reference.voxels) {
                let d = abs(Double(a) - Double(b))
                worst = max(worst, d)
                if d <= 0.001 { matched += 1 }
            }
            print("IBSI 2 phase 1 \(config.uppercased()) (preset \(name), \(token)): \(matched)/\(reference.voxels.count) voxels within 0.001, largest difference \(worst)")
            XCTAssertEqual(matched, reference.voxels.count, config)
        }
        XCTAssertEqual(available, ExtractionSettings.ibsi2Phase1Configurations.count)
    }

    /// `lesionmap filter` writes the same map as the library, on the image's geometry.
    func testFilterCommandWritesTheResponseMap() throws {
        let (image, _) = try Self.phase1Files("1a4")
        let out = try SharedData.temporaryDirectory(for: self).appendingPathComponent("response.nii.gz")
        let p = Process()
        p.executableURL = try lesionmapExecutable()
        p.arguments = ["filter", image.path, "--preset", "ibsi2-phase1-1a4", "--out", out.path]
        let pipe = Pipe()
        p.standardOutput = pipe
        try p.run()
        let text = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        p.waitUntilExit()
        XCTAssertEqual(p.terminationStatus, 0, text)
        XCTAssertTrue(text.contains("mean_s15"), text)
        let written = try NIfTI.readImage(out)
        let original = try NIfTI.readImage(image)
        XCTAssertEqual(written.grid, original.grid)
        let direct = try ResponseMapExport.responseMap(image: image, settings: try ExtractionSettings.preset(named: "ibsi2-phase1-1a4"))
        XCTAssertEqual(written.voxels, direct.map.voxels)

        // Settings with two filters are refused, naming them.
        XCTAssertThrowsError(try FilteredImage.responseMap(of: original, settings: ExtractionSettings(
            filtering: .init(filters: [.square, .exponential])))) {
            XCTAssertTrue("\($0)".contains("2 filters (square, exponential)"), "\($0)")
        }
    }

    /// Every phase 2 preset whose filter this version provides runs on the IBSI 1 CT phantom GTV and gives 18
    /// finite intensity statistics under the plain IBSI tags (`--format ibsi`).
    func testPhase2PresetsGiveFiniteStatisticsOnTheCTPhantom() throws {
        let dir = try SharedData.url("ibsi1/ct_phantom/nifti")
        var ran = 0
        for config in ExtractionSettings.ibsi2Phase2Configurations {
            let name = "ibsi2-phase2-\(config)"
            guard ExtractionSettings.presetNames.contains(name) else {
                print("IBSI 2 phase 2 \(config.uppercased()): filter not available in this version")
                continue
            }
            ran += 1
            var settings = try ExtractionSettings.preset(named: name)
            settings.wholeImageDiagnostics = true  // as `lesionmap features --format ibsi`
            let start = Date()
            let result = try SingleImageExtraction.run(image: dir.appendingPathComponent("image.nii.gz"),
                                                       mask: dir.appendingPathComponent("mask.nii.gz"), label: "1",
                                                       settings: settings)
            let stats = result.tumour.features.filter { $0.family == .intensity }
            XCTAssertEqual(stats.count, 18, name)
            XCTAssertEqual(result.tumour.features.count, 18, "intensity statistics only: \(name)")
            for s in stats { XCTAssertTrue(s.value.isFinite, "\(name) \(s.ibsiTag) = \(s.value)") }
            let text = result.text(.ibsi)
            XCTAssertTrue(text.contains("\nstat_mean;") && text.contains("\nstat_p10;"), name)
            print("IBSI 2 phase 2 \(config.uppercased()) (\(settings.filtering?.filters.first?.token ?? "no filter")): "
                  + "stat_mean \(FeatureText.number(result.tumour.value(ibsiTag: "stat_mean")!)), "
                  + "stat_p10 \(FeatureText.number(result.tumour.value(ibsiTag: "stat_p10")!)), "
                  + "\(Int(result.tumour.value(ibsiTag: "int_mask_vox_count_reseg_roi")!)) voxels, "
                  + String(format: "%.1f s", Date().timeIntervalSince(start)))
        }
        XCTAssertEqual(ran, ExtractionSettings.ibsi2Phase2Configurations.count)
    }

    /// Phase 2 configuration 2A by hand: each ROI voxel (GTV re-segmented to [-1000, 400] HU, original grid)
    /// becomes the mean of its 5 x 5 in-plane neighbourhood, the slice mirrored at its edges; the preset's
    /// mean, minimum and maximum are those of these values.
    func testPhase2MeanFilter2DByDefinition() throws {
        let dir = try SharedData.url("ibsi1/ct_phantom/nifti")
        let image = try NIfTI.readImage(dir.appendingPathComponent("image.nii.gz"))
        let mask = try NIfTI.readLabelMap(dir.appendingPathComponent("mask.nii.gz")).mask(label: 1)
        let n = image.grid.size
        func mirror(_ i: Int, _ count: Int) -> Int { i < 0 ? -i - 1 : (i >= count ? 2 * count - 1 - i : i) }
        var values = [Double]()
        for k in 0..<n.nz {
            for j in 0..<n.ny {
                for i in 0..<n.nx {
                    let t = (k * n.ny + j) * n.nx + i
                    guard mask.voxels[t], (-1000...400).contains(image.voxels[t]) else { continue }
                    var sum = 0.0
                    for dj in -2...2 {
                        for di in -2...2 {
                            sum += Double(image.voxels[(k * n.ny + mirror(j + dj, n.ny)) * n.nx + mirror(i + di, n.nx)])
                        }
                    }
                    values.append(sum / 25)
                }
            }
        }
        let settings = try ExtractionSettings.preset(named: "ibsi2-phase2-2a")
        let features = try RadiomicsExtractor.extract(image: image, mask: mask, settings: settings)
        XCTAssertEqual(try XCTUnwrap(features.value(ibsiTag: "stat_mean")), values.reduce(0, +) / Double(values.count),
                       accuracy: 1e-6)
        XCTAssertEqual(try XCTUnwrap(features.value(ibsiTag: "stat_min")), values.min()!, accuracy: 1e-4)
        XCTAssertEqual(try XCTUnwrap(features.value(ibsiTag: "stat_max")), values.max()!, accuracy: 1e-4)
    }
}
