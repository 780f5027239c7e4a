import Foundation
import ImagingCore
import XCTest
@testable import Radiomics

/// Moran's I and Geary's C by FFT against the sums over every pair, and the FFT against a direct DFT.
final class SpatialAutocorrelationTests: XCTestCase {
    /// A pseudo-random ROI (about two thirds of the box) with pseudo-random intensities.
    static func region(_ size: Size3, spacing: Vector3, seed: UInt64) -> PreparedRegion {
        var state = seed
        func next() -> Double {
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            return Double(state >> 11) / Double(1 << 53)
        }
        var intensities = [Double](), mask = [Bool]()
        for _ in 0..<size.count {
            intensities.append((next() * 200).rounded() - 100)
            mask.append(next() < 0.67)
        }
        return PreparedRegion(grid: ImageGrid(size: size, spacing: spacing), intensities: intensities,
                              morphMask: mask, intensityMask: mask)
    }

    static func bruteForce(_ r: PreparedRegion) -> (moran: Double, geary: Double) {
        let n = r.grid.size, sp = r.grid.spacing
        var points = [(SIMD3<Double>, Double)]()
        for k in 0..<n.nz { for j in 0..<n.ny { for i in 0..<n.nx {
            let t = (k * n.ny + j) * n.nx + i
            if r.intensityMask[t] {
                points.append((SIMD3(Double(i) * sp.x, Double(j) * sp.y, Double(k) * sp.z), r.intensities[t]))
            }
        } } }
        let mu = points.map(\.1).reduce(0, +) / Double(points.count)
        var w = 0.0, cross = 0.0, squares = 0.0, differences = 0.0
        for (p, x) in points {
            squares += (x - mu) * (x - mu)
            for (q, y) in points where p != q {
                let d = p - q
                let weight = 1 / (d * d).sum().squareRoot()
                w += weight
                cross += weight * (x - mu) * (y - mu)
                differences += weight * (x - y) * (x - y)
            }
        }
        let count = Double(points.count)
        return (count / w * cross / squares, (count - 1) * differences / (2 * w * squares))
    }

    func testFFTSumsMatchEveryPair() {
        // Box sizes whose padded lengths use radices 2, 3, 4 and 5, odd and even, flat and one voxel thick.
        let cases: [(Size3, Vector3)] = [
            (Size3(7, 5, 4), Vector3(0.8, 0.8, 2.5)), (Size3(13, 3, 2), Vector3(1, 1, 1)),
            (Size3(5, 8, 1), Vector3(0.7, 1.3, 3)), (Size3(1, 6, 9), Vector3(2, 1, 1)), (Size3(16, 2, 3), Vector3(1, 2, 0.5)),
            // Several batches of half-plane rows along z (the last one partial) and an odd number of planes.
            (Size3(30, 12, 11), Vector3(0.9, 0.9, 2.5)),
        ]
        for (index, (size, spacing)) in cases.enumerated() {
            let r = Self.region(size, spacing: spacing, seed: UInt64(index + 1))
            let fast = SpatialAutocorrelation.moranAndGeary(r), slow = Self.bruteForce(r)
            // Single-precision transforms, double-precision sums (see `FFTSample`).
            XCTAssertEqual(fast.moran, slow.moran, accuracy: 1e-6 * max(1, abs(slow.moran)), "\(size)")
            XCTAssertEqual(fast.geary, slow.geary, accuracy: 1e-6 * max(1, abs(slow.geary)), "\(size)")
        }
    }

    func testBatchedFFTMatchesDirectDFT() {
        // Radices 2, 3, 4, 5 and 8 (16 = 8 x 2, 40 = 8 x 5), lines partly zero.
        checkAgainstDirectDFT(dims: [6, 5, 4], support: [4, 3, 2])
        checkAgainstDirectDFT(dims: [16, 40, 3], support: [7, 21, 2])
    }

    private func checkAgainstDirectDFT(dims: [Int], support: [Int], file: StaticString = #filePath, line: UInt = #line) {
        let total = dims.reduce(1, *)
        var re = (0..<total).map { Double(($0 * 37) % 11) - 5 }, im = (0..<total).map { Double(($0 * 13) % 7) - 3 }
        // The data vanish beyond the support.
        for t in 0..<total {
            let i = t % dims[0], j = (t / dims[0]) % dims[1], k = t / (dims[0] * dims[1])
            if i >= support[0] || j >= support[1] || k >= support[2] { re[t] = 0; im[t] = 0 }
        }
        let real = re
        var dftRe = [Double](repeating: 0, count: total), dftIm = dftRe
        for u in 0..<total {
            let (ku, kv, kw) = (u % dims[0], (u / dims[0]) % dims[1], u / (dims[0] * dims[1]))
            for t in 0..<total where re[t] != 0 || im[t] != 0 {
                let (i, j, k) = (t % dims[0], (t / dims[0]) % dims[1], t / (dims[0] * dims[1]))
                let phase = -2 * Double.pi * (Double(ku * i) / Double(dims[0]) + Double(kv * j) / Double(dims[1])
                                              + Double(kw * k) / Double(dims[2]))
                dftRe[u] += re[t] * cos(phase) - im[t] * sin(phase)
                dftIm[u] += re[t] * sin(phase) + im[t] * cos(phase)
            }
        }
        let fft = FFT3(dims: dims)
        var sampleRe = re.map { FFTSample($0) }, sampleIm = im.map { FFTSample($0) }
        fft.forward(re: &sampleRe, im: &sampleIm, support: support)
        // Sums of a few hundred values of magnitude <= 5 in single precision.
        let tolerance = 1e-6 * Double(support.reduce(1, *)) * 5
        for u in 0..<total {
            XCTAssertEqual(Double(sampleRe[u]), dftRe[u], accuracy: tolerance, "\(dims) \(u)", file: file, line: line)
            XCTAssertEqual(Double(sampleIm[u]), dftIm[u], accuracy: tolerance, "\(dims) \(u)", file: file, line: line)
        }
        // Real input: the frequencies kx <= P0/2 are those of the complex transform of the real part.
        var realRe = real.map { FFTSample($0) }, realIm = [FFTSample](repeating: 0, count: total)
        fft.forward(re: &realRe, im: &realIm, support: support)
        var halfRe = real.map { FFTSample($0) }, halfIm = [FFTSample](repeating: 0, count: total)
        fft.forward(re: &halfRe, im: &halfIm, support: support, realInput: true)
        for u in 0..<total where u % dims[0] <= dims[0] / 2 {
            XCTAssertEqual(halfRe[u], realRe[u], accuracy: FFTSample(tolerance), file: file, line: line)
            XCTAssertEqual(halfIm[u], realIm[u], accuracy: FFTSample(tolerance), file: file, line: line)
        }
    }
}
