import Foundation
import ImageIO
import ImagingCore
import Filters
import TestSupport
import XCTest

/// Speed figures (printed, never asserted) of the mean, LoG, Laws and Gabor filters on the IBSI 1 CT phantom
/// (204x201x60, 0.977x0.977x3 mm): over the GTV's bounding box (what a lesion's extraction computes), over the
/// whole image, and scipy computing the whole image the way MIRP does in the same run (ratio printed), with the
/// largest difference between the two inside the box. Runs only with `LESIONMAP_BENCHMARK=1` (use a release
/// build); the scipy reference needs numpy and scipy (skipped without them).
final class FilterBenchmarks: XCTestCase {
    /// Phase 2-like parameters with the mirror boundary.
    static let filters: [(name: String, filter: any ImageFilter)] = [
        ("mean", MeanFilter(support: 5, dimensionality: .threeD, boundary: .mirror)),
        ("log", LaplacianOfGaussianFilter(sigma: 1.5, truncation: 4, dimensionality: .threeD, boundary: .mirror)),
        ("laws", LawsFilter(kernels: [.l5, .e5, .e5], rotationInvariant: true, pooling: .max, energyDelta: 7,
                            dimensionality: .threeD, boundary: .mirror)),
        ("gabor", GaborFilter(sigma: 5, gamma: 1.5, lambda: 2, theta: 0, thetaStep: 22.5, pooling: .mean,
                              dimensionality: .twoD, boundary: .mirror)),
    ]

    /// The same filters in numpy/scipy, as MIRP computes them (scipy.ndimage with mode "reflect" = IBSI mirror;
    /// Gabor: image-sized kernel, mirror-padded slices, scipy.signal.fftconvolve). Prints one JSON object:
    /// seconds per filter (best of the repeats) and the response maps' values inside the box, x fastest.
    static let script = """
        import itertools, json, sys, time
        import numpy as np
        from scipy import ndimage, signal
        import nibabel as nib
        img = nib.load(sys.argv[1])
        f = np.asarray(img.dataobj, dtype=np.float64).transpose(2, 1, 0)  # z, y, x
        sp = [float(s) for s in img.header.get_zooms()[:3]][::-1]          # z, y, x spacing
        lo = [int(v) for v in sys.argv[2].split(",")][::-1]; hi = [int(v) for v in sys.argv[3].split(",")][::-1]
        reps = int(sys.argv[4])
        def mean(f):
            return ndimage.uniform_filter(f, size=5, mode="reflect")
        def log(f):
            s = 1.5 / sp[1]  # isotropic in-plane; per axis below
            out = np.zeros_like(f)
            sig = [1.5 / x for x in sp]
            r = [int(np.floor(4 * x + 0.5)) for x in sig]
            g = [np.exp(-np.arange(-k, k + 1) ** 2 / (2 * x * x)) / (x * np.sqrt(2 * np.pi)) for k, x in zip(r, sig)]
            d2 = [(np.arange(-k, k + 1) ** 2 / x ** 4 - 1 / x ** 2) * gg for k, x, gg in zip(r, sig, g)]
            for a in range(3):
                t = f
                for b in range(3):
                    t = ndimage.convolve1d(t, d2[b] if a == b else g[b], axis=b, mode="reflect")
                out += t
            return out
        L5 = np.array([1, 4, 6, 4, 1]) / np.sqrt(70); E5 = np.array([-1, -2, 0, 2, 1]) / np.sqrt(10)
        def laws(f):
            ks = [L5, E5, E5]  # along x, y, z
            best = None
            seen = set()
            for perm in itertools.permutations(range(3)):
                for signs in itertools.product([1, -1], repeat=3):
                    parity = np.linalg.det(np.eye(3)[list(perm)]) * np.prod(signs)
                    if parity < 0: continue
                    axes = [None] * 3
                    for i in range(3):
                        axes[perm[i]] = ks[i][::-1] if signs[i] < 0 else ks[i]
                    key = tuple(tuple(np.round(a, 12)) for a in axes)
                    if key in seen: continue
                    seen.add(key)
                    t = f
                    for ax_xyz, k in enumerate(axes):
                        t = ndimage.convolve1d(t, k, axis=2 - ax_xyz, mode="reflect")
                    best = t if best is None else np.maximum(best, t)
            return ndimage.uniform_filter(np.abs(best), size=15, mode="reflect")
        def gabor(f):
            s, lam, gam = 5 / sp[1], 2 / sp[1], 1.5
            n = max(f.shape[1], f.shape[2]); n = 1 + 2 * (n // 2); r = n // 2
            y, x = np.mgrid[-r:r + 1, -r:r + 1].astype(float)
            out = np.zeros_like(f)
            thetas = np.deg2rad(np.arange(0, 360, 22.5))
            padded = np.pad(f, ((0, 0), (r, r), (r, r)), mode="symmetric")
            for th in thetas:
                xt = x * np.cos(th) + y * np.sin(th); yt = -x * np.sin(th) + y * np.cos(th)
                k = np.exp(-(xt ** 2 + gam ** 2 * yt ** 2) / (2 * s * s) + 1j * 2 * np.pi * xt / lam)
                for z in range(f.shape[0]):
                    out[z] += np.abs(signal.fftconvolve(padded[z], k, mode="valid"))
            return out / len(thetas)
        result = {}
        for name, fn in [("mean", mean), ("log", log), ("laws", laws), ("gabor", gabor)]:
            best = float("inf")
            for _ in range(reps if name != "gabor" else 1):
                t0 = time.process_time(); r = fn(f); best = min(best, time.process_time() - t0)
            box = r[lo[0]:hi[0] + 1, lo[1]:hi[1] + 1, lo[2]:hi[2] + 1]
            result[name] = {"seconds": best, "box": box.ravel().tolist()}
        print(json.dumps(result))
        """

    struct Reference: Decodable { var seconds: Double; var box: [Double] }

    func testCTPhantomFilterTiming() throws {
        guard ProcessInfo.processInfo.environment["LESIONMAP_BENCHMARK"] == "1" else {
            throw XCTSkip("benchmark: set LESIONMAP_BENCHMARK=1")
        }
        let dir = try SharedData.url("ibsi1/ct_phantom/nifti")
        let imageURL = dir.appendingPathComponent("image.nii.gz")
        let image = try NIfTI.readImage(imageURL)
        let mask = try NIfTI.readLabelMap(dir.appendingPathComponent("mask.nii.gz")).map { $0 > 0 }
        let box = try XCTUnwrap(mask.boundingBox)
        print("benchmark filters: CT phantom \(image.size), GTV box \(box.size)")
        let reps = 3

        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", "-c", Self.script, imageURL.path,
                             "\(box.lower.i),\(box.lower.j),\(box.lower.k)", "\(box.upper.i),\(box.upper.j),\(box.upper.k)",
                             String(reps)]
        let out = Pipe()
        process.standardOutput = out
        process.standardError = FileHandle.nullDevice
        try process.run()
        let data = out.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        let reference = process.terminationStatus == 0 ? try? JSONDecoder().decode([String: Reference].self, from: data) : nil
        if reference == nil { print("benchmark filters: no scipy reference (python3 with numpy, scipy, nibabel needed)") }

        for (name, filter) in Self.filters {
            var boxSeconds = Double.infinity, wholeSeconds = Double.infinity
            var response = filter.response(of: image, over: box)
            for _ in 0..<reps {
                var t = WaveletBenchmarks.cpuSeconds()
                response = filter.response(of: image, over: box)
                boxSeconds = min(boxSeconds, WaveletBenchmarks.cpuSeconds() - t)
                t = WaveletBenchmarks.cpuSeconds()
                _ = filter.response(of: image)
                wholeSeconds = min(wholeSeconds, WaveletBenchmarks.cpuSeconds() - t)
            }
            var line = String(format: "benchmark %@ (%@): GTV box %.1f ms CPU, whole image %.1f ms CPU", name,
                              filter.token, boxSeconds * 1000, wholeSeconds * 1000)
            if let r = reference?[name] {
                let worst = zip(response.voxels, r.box).map { abs(Double($0) - $1) }.max() ?? .nan
                line += String(format: "; scipy whole image %.1f ms CPU (%.1fx the box, %.1fx the whole image); "
                               + "largest difference in the box %.2g", r.seconds * 1000, r.seconds / boxSeconds,
                               r.seconds / wholeSeconds, worst)
            }
            print(line)
        }
    }
}
