import XCTest
import Filters
import ImagingCore

final class FFTTests: XCTestCase {
    /// The FFT against the direct sum on a small block, forward then inverse.
    func testFFTMatchesDirectSums() {
        for n in [1, 2, 3, 4, 5, 6, 8, 12, 15, 17, 30, 45, 60, 64, 100, 125, 243] {
            let xr = (0..<n).map { sin(Double($0) * 1.3) + 0.2 }, xi = (0..<n).map { cos(Double($0) * 0.7) }
            var re = xr, im = xi
            FFTPlan(length: n).forward(&re, &im)
            for k in 0..<n {
                var sr = 0.0, si = 0.0
                for x in 0..<n {
                    let a = -2 * Double.pi * Double(k * x) / Double(n)
                    sr += xr[x] * cos(a) - xi[x] * sin(a); si += xr[x] * sin(a) + xi[x] * cos(a)
                }
                XCTAssertEqual(re[k], sr, accuracy: 1e-10, "n \(n) k \(k)")
                XCTAssertEqual(im[k], si, accuracy: 1e-10, "n \(n) k \(k)")
            }
            FFTPlan(length: n).inverse(&re, &im)
            for x in 0..<n { XCTAssertEqual(re[x], xr[x], accuracy: 1e-12); XCTAssertEqual(im[x], xi[x], accuracy: 1e-12) }
        }
    }

    /// Valid convolution by FFT equals the direct sum of the same definition (x fastest, kernel origin honoured).
    func testFFTConvolutionMatchesDirectConvolution() {
        let block = FilterBlock(origin: Index3(-2, -1, 0), size: Size3(9, 7, 2),
                                values: (0..<126).map { sin(Double($0) * 0.37) * 10 })
        let re = (0..<12).map { Double($0) - 5.5 }, im = (0..<12).map { cos(Double($0)) }
        let kernel = ComplexKernel2D(sizeA: 4, sizeB: 3, centerA: 1, centerB: 2, re: re, im: im)
        let (outRe, outIm) = block.convolvedValid(with: kernel, plane: (a: 0, b: 1))
        XCTAssertEqual(outRe.size, Size3(6, 5, 2))
        // The output origin moves up by size - 1 - centre along each in-plane axis.
        XCTAssertEqual(outRe.origin, Index3(-2 + 2, -1 + 0, 0))
        for k in 0..<2 { for j in 0..<5 { for i in 0..<6 {
            // out[u] = Σ_j h[j] in[u + n - 1 - j] in local coordinates.
            var sr = 0.0, si = 0.0
            for v in 0..<3 { for u in 0..<4 {
                let x = block.values[(k * 7 + (j + 2 - v)) * 9 + (i + 3 - u)]
                sr += re[v * 4 + u] * x; si += im[v * 4 + u] * x
            } }
            XCTAssertEqual(outRe.values[(k * 5 + j) * 6 + i], sr, accuracy: 1e-9)
            XCTAssertEqual(outIm.values[(k * 5 + j) * 6 + i], si, accuracy: 1e-9)
        } } }
    }
}
