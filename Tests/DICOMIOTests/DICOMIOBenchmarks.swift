import Cohort
import DICOMIO
import Foundation
import ImagingCore
import TestSupport
import XCTest

/// LUNG1-001 load + GTV rasterisation next to SimpleITK's ImageSeriesReader on the same folder.
/// Opt-in with `LESIONMAP_BENCHMARK=1`, in a release build:
/// `LESIONMAP_BENCHMARK=1 swift test -c release --filter DICOMIOBenchmarks`.
final class DICOMIOBenchmarks: XCTestCase {
    /// Resident-set figures of this process from /proc/self/status, in bytes.
    private func memory(_ field: String) -> Double {
        guard let s = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8),
              let line = s.split(separator: "\n").first(where: { $0.hasPrefix(field + ":") }),
              let kb = Double(line.split(separator: " ").dropFirst().first { !$0.isEmpty }?.trimmingCharacters(in: .whitespaces) ?? "")
        else { return .nan }
        return kb * 1024
    }

    /// Resets the peak resident size so the next VmHWM reading covers only what follows.
    private func resetPeak() {
        try? "5".write(toFile: "/proc/self/clear_refs", atomically: false, encoding: .utf8)
    }

    func testLung1LoadAndRasteriseVersusSimpleITK() throws {
        guard ProcessInfo.processInfo.environment["LESIONMAP_BENCHMARK"] == "1" else {
            throw XCTSkip("benchmark: set LESIONMAP_BENCHMARK=1")
        }
        let folder = try SharedData.url("nsclc_lung1_001/ct")
        let rtstruct = try SharedData.url("nsclc_lung1_001/rtstruct.dcm")
        // Warm the file cache for both readers alike.
        _ = try DICOMSeriesReader.read(folder)

        // Three runs each (the machine is shared); medians and the largest peak are printed.
        var loads: [Double] = [], rasters: [Double] = [], peaks: [Double] = []
        var series: DICOMSeries? = nil
        var voxels = 0
        for _ in 0..<3 {
            series = nil
            resetPeak()
            let base = memory("VmRSS")
            let t0 = Date()
            let s = try DICOMSeriesReader.read(folder)
            let t1 = Date()
            let masks = try DCMTKSource().contours(rtstruct, kind: .rtstruct, roi: "GTV-1", onto: s.image.grid)
            let t2 = Date()
            peaks.append(memory("VmHWM") - base)
            loads.append(t1.timeIntervalSince(t0))
            rasters.append(t2.timeIntervalSince(t1))
            voxels = masks[0].mask.count
            series = s
        }
        let floatBytes = Double(series!.image.grid.voxelCount * MemoryLayout<Float>.size)
        let median = { (x: [Double]) in x.sorted()[x.count / 2] }
        print(String(format: "DICOMIO benchmark LUNG1-001 %@ (median of 3): load %.3f s, GTV rasterise %.3f s (%d voxels), total %.3f s; peak memory +%.1f MB = %.2fx the float volume (%.1f MB)",
                     "\(series!.image.grid.size)", median(loads), median(rasters), voxels,
                     median(zip(loads, rasters).map { $0 + $1 }), peaks.max()! / 1e6, peaks.max()! / floatBytes, floatBytes / 1e6))

        let script = """
        import time, resource, SimpleITK as sitk
        folder = '\(folder.path)'
        sitk.ReadImage(sitk.ImageSeriesReader.GetGDCMSeriesFileNames(folder))
        def rss():
            for l in open('/proc/self/status'):
                if l.startswith('VmRSS:'): return int(l.split()[1]) * 1024
        times, peaks = [], []
        for run in range(3):
            img = None
            open('/proc/self/clear_refs', 'w').write('5')
            base = rss()
            t0 = time.perf_counter()
            r = sitk.ImageSeriesReader()
            r.SetFileNames(sitk.ImageSeriesReader.GetGDCMSeriesFileNames(folder))
            img = r.Execute()
            times.append(time.perf_counter() - t0)
            for l in open('/proc/self/status'):
                if l.startswith('VmHWM:'): peaks.append(int(l.split()[1]) * 1024 - base)
        print('SimpleITK ImageSeriesReader %s %s (median of 3): load %.3f s, peak memory +%.1f MB' % (img.GetSize(), img.GetPixelIDTypeAsString(), sorted(times)[1], max(peaks) / 1e6))
        """
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        p.arguments = ["python3", "-c", script]
        let pipe = Pipe()
        p.standardOutput = pipe
        p.standardError = pipe
        try p.run()
        let out = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        p.waitUntilExit()
        print(out.trimmingCharacters(in: .whitespacesAndNewlines))
        XCTAssertEqual(series!.image.grid.size, Size3(512, 512, 134))
    }
}
