import Foundation
import ImageIO
import ImagingCore
import Filters
import TestSupport
import XCTest

/// Speed figures (printed, never asserted) of the wavelet filters over the IBSI 1 CT phantom GTV's bounding box:
/// the 8 sub-bands of a level one by one and shared, the phase 2 rotation-invariant bands, Simoncelli with a margin
/// and over the whole image. Runs only with `LESIONMAP_BENCHMARK=1` (use a release build).
final class WaveletBenchmarks: XCTestCase {
    /// CPU seconds (user + system) of this process.
    static func cpuSeconds() -> Double {
        var u = rusage()
        getrusage(RUSAGE_SELF.rawValue, &u)
        return Double(u.ru_utime.tv_sec) + Double(u.ru_utime.tv_usec) / 1e6 + Double(u.ru_stime.tv_sec)
            + Double(u.ru_stime.tv_usec) / 1e6
    }

    func testCTPhantomGTVWaveletTiming() throws {
        guard ProcessInfo.processInfo.environment["LESIONMAP_BENCHMARK"] == "1" else {
            throw XCTSkip("benchmark: set LESIONMAP_BENCHMARK=1")
        }
        let dir = try SharedData.url("ibsi1/ct_phantom/nifti")
        let image = try NIfTI.readImage(dir.appendingPathComponent("image.nii.gz"))
        let mask = try NIfTI.readLabelMap(dir.appendingPathComponent("mask.nii.gz")).map { $0 > 0 }
        let box = try XCTUnwrap(mask.boundingBox)
        print("benchmark wavelets: CT phantom \(image.size), GTV box \(box.size)")
        func time(_ label: String, reps: Int = 5, _ body: () -> Void) {
            let start = Self.cpuSeconds()
            for _ in 0..<reps { body() }
            print(String(format: "benchmark %@: %.1f ms CPU", label, (Self.cpuSeconds() - start) * 1000 / Double(reps)))
        }
        let bands = try ["LLL", "LLH", "LHL", "LHH", "HLL", "HLH", "HHL", "HHH"].map {
            try SeparableWaveletFilter(wavelet: "coif1", band: $0, boundary: .periodic)
        }
        time("8 coif1 sub-bands, level 1, one by one") { for f in bands { _ = f.response(of: image, over: box) } }
        time("8 coif1 sub-bands, level 1, shared") { _ = SeparableWaveletFilter.responses(of: bands, image: image, over: box) }
        for (band, level) in [("LLH", 1), ("HHH", 2), ("LH", 1), ("HH", 2)] {
            let f = try SeparableWaveletFilter(wavelet: "db3", band: band, level: level, boundary: .mirror,
                                               rotationInvariant: true)
            time(f.token) { _ = f.response(of: image, over: box) }
        }
        for margin in [16, nil] as [Int?] {
            let f = try SimoncelliWavelet(level: 1, boundary: .mirror, margin: margin)
            time(f.token + (margin == nil ? " (whole image)" : ""), reps: 1) { _ = f.response(of: image, over: box) }
        }
    }
}
