import XCTest
import ImagingCore
import ImageIO
import TestSupport
import Filters

/// Separable wavelets against PyWavelets (coefficients and undecimated decompositions) and against the
/// IBSI 2 phase 1 consensus response maps.
final class SeparableWaveletTests: XCTestCase {
    // MARK: coefficients

    /// Ends of `dec_lo` and `dec_hi` as PyWavelets 1.8 prints them:
    /// `w = pywt.Wavelet(n); print(repr(w.dec_lo[0]), repr(w.dec_lo[-1]), repr(w.dec_hi[0]), repr(w.dec_hi[1]), len(w.dec_lo))`
    func testCoefficientsEqualPyWavelets() throws {
        let expected: [(String, Double, Double, Double, Double, Int)] = [
            ("db3", 0.03522629188570953, 0.33267055295008263, -0.33267055295008263, 0.8068915093110925, 6),
            ("coif1", -0.015655728135791993, -0.07273261951252645, 0.07273261951252645, 0.3378976624574818, 6),
            ("haar", 0.7071067811865476, 0.7071067811865476, -0.7071067811865476, 0.7071067811865476, 2),
            ("db10", -1.3264202894521244e-05, 0.026670057900555554, -0.026670057900555554, 0.1881768000776915, 20),
            ("sym4", -0.07576571478927333, 0.0322231006040427, -0.0322231006040427, -0.012603967262037833, 8),
        ]
        for (name, lo0, loLast, hi0, hi1, count) in expected {
            let w = try XCTUnwrap(Wavelet(named: name), name)
            XCTAssertEqual(w.length, count, name)
            XCTAssertEqual(w.lowPass.first, lo0, name)
            XCTAssertEqual(w.lowPass.last, loLast, name)
            XCTAssertEqual(w.highPass[0], hi0, name)
            XCTAssertEqual(w.highPass[1], hi1, name)
        }
        XCTAssertNil(Wavelet(named: "db42"))
        XCTAssertEqual(Wavelet(named: "DB2")?.name, "db2")
    }

    /// Every orthonormal scaling filter sums to √2 and has unit energy; its high-pass sums to 0.
    func testEveryTabulatedFilterIsOrthonormal() throws {
        for name in Wavelet.names {
            let w = try XCTUnwrap(Wavelet(named: name))
            XCTAssertEqual(w.lowPass.reduce(0, +), 2.0.squareRoot(), accuracy: 1e-9, name)
            XCTAssertEqual(w.lowPass.map { $0 * $0 }.reduce(0, +), 1, accuracy: 1e-9, name)
            XCTAssertEqual(w.highPass.reduce(0, +), 0, accuracy: 1e-9, name)
        }
    }

    // MARK: undecimated decomposition against pywt.swtn

    /// v(i, j, k) = (7i + 13j + 29k) mod 17 - 8, x fastest; in numpy
    /// `i, j, k = np.meshgrid(np.arange(nx), np.arange(ny), np.arange(nz), indexing="ij"); x = ((i*7 + j*13 + k*29) % 17 - 8).astype(float)`.
    static func pattern(_ nx: Int, _ ny: Int, _ nz: Int) -> Volume<Float> {
        var v = Volume<Float>(grid: ImageGrid(size: Size3(nx, ny, nz)), repeating: 0)
        for k in 0..<nz { for j in 0..<ny { for i in 0..<nx { v[i, j, k] = Float((i * 7 + j * 13 + k * 29) % 17 - 8) } } }
        return v
    }

    func assertEqual(_ response: Volume<Float>, _ expected: [Double], _ label: String,
                     file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertEqual(response.voxels.count, expected.count, label, file: file, line: line)
        let worst = zip(response.voxels, expected).map { abs(Double($0) - $1) }.max() ?? .infinity
        XCTAssertLessThan(worst, 1e-5, label, file: file, line: line)
    }

    /// With periodic padding the IBSI undecimated bands are PyWavelets' stationary transform: band letter a
    /// of the IBSI name is swtn's axis a ('a' = L, 'd' = H). Fixtures (PyWavelets 1.8, flattened x fastest,
    /// `a.flatten(order="F")`, printed `%.12g`):
    /// `c = pywt.swtn(x, "db2", level=2, trim_approx=False)` on the 4x4x4 pattern: `c[1]["ada"]` (LHL, level 1),
    /// `c[0]["ddd"]` (HHH, level 2); `pywt.swtn(x, "db3", level=2, trim_approx=False)[0]["aad"]` on the 8x4x4
    /// pattern (LLH, level 2); `c2 = pywt.swtn(x, "db3", level=2, axes=(0, 1), trim_approx=False)` on the
    /// 8x4x2 pattern: `c2[1]["ad"]` (2D LH, level 1) and `c2[0]["dd"]` (2D HH, level 2).
    func testPeriodicBandsEqualPyWaveletsSWTN() throws {
        let cube = Self.pattern(4, 4, 4), box = Self.pattern(8, 4, 4), slab = Self.pattern(8, 4, 2)
        func band(_ w: String, _ b: String, _ level: Int, _ image: Volume<Float>) throws -> Volume<Float> {
            try SeparableWaveletFilter(wavelet: w, band: b, level: level, boundary: .periodic).response(of: image)
        }
        assertEqual(try band("db2", "LHL", 1, cube), Fixtures.db2LHL1, "db2 LHL level 1")
        assertEqual(try band("db2", "HHH", 2, cube), Fixtures.db2HHH2, "db2 HHH level 2")
        assertEqual(try band("db3", "LLH", 2, box), Fixtures.db3LLH2, "db3 LLH level 2")
        assertEqual(try band("db3", "LH", 1, slab), Fixtures.db3LH1, "db3 2D LH level 1")
        assertEqual(try band("db3", "HH", 2, slab), Fixtures.db3HH2, "db3 2D HH level 2")
    }

    /// PyRadiomics' level 2 (`imageoperations._swt3`: `pywt.swtn(level=1)` applied again to the level-1
    /// approximation, no upsampling). Fixture: `a1 = pywt.swtn(x, "coif1", level=1)[0]["aaa"];
    /// pywt.swtn(a1, "coif1", level=1)[0]["dad"]` on the 8x4x4 pattern, flattened x fastest. Without the
    /// PyRadiomics cascade (à trous) the level-2 band differs.
    func testPyRadiomicsLevelsEqualRepeatedSWTN() throws {
        let image = Self.pattern(8, 4, 4)
        let f = try SeparableWaveletFilter(wavelet: "coif1", band: "HLH", level: 2, boundary: .periodic,
                                           cascade: .pyradiomics)
        XCTAssertEqual(f.token, "wavelet_coif1_hlh_l2_pyradiomics")
        assertEqual(f.response(of: image), Fixtures.coif1HLHPyRadiomics2, "PyRadiomics wavelet2-HLH")
        let aTrous = try SeparableWaveletFilter(wavelet: "coif1", band: "HLH", level: 2, boundary: .periodic)
        let gap = zip(aTrous.response(of: image).voxels, Fixtures.coif1HLHPyRadiomics2).map { abs(Double($0) - $1) }
        XCTAssertGreaterThan(gap.max()!, 0.1)
    }

    // MARK: boxes

    /// A box's response equals the whole-image response cropped to it, for every boundary rule, at the
    /// image's edges and inside.
    func testResponseOverABoxEqualsTheCroppedWholeImageResponse() throws {
        let image = Self.pattern(11, 9, 7)
        let boxes = [IndexBox(lower: Index3(0, 0, 0), upper: Index3(3, 2, 1)),
                     IndexBox(lower: Index3(4, 3, 2), upper: Index3(6, 5, 4)),
                     IndexBox(lower: Index3(8, 6, 5), upper: Index3(10, 8, 6))]
        for boundary in BoundaryCondition.allCases {
            for (wavelet, band, level, pooling) in [("db2", "LHL", 1, nil), ("coif1", "HHL", 2, .mean),
                                                    ("db3", "HH", 2, .mean), ("sym4", "HLH", 1, .max)] as [(String, String, Int, Pooling?)] {
                let filter = try SeparableWaveletFilter(wavelet: wavelet, band: band, level: level, boundary: boundary,
                                                        rotationInvariant: pooling != nil, pooling: pooling ?? .mean)
                let whole = filter.response(of: image)
                for box in boxes {
                    let part = filter.response(of: image, over: box)
                    XCTAssertEqual(part.grid, image.grid.subgrid(box))
                    let expected = whole.cropped(to: box).voxels
                    let worst = zip(part.voxels, expected).map { abs($0 - $1) }.max()!
                    XCTAssertLessThan(worst, 1e-4, "\(filter) \(boundary) \(box)")
                }
            }
        }
    }

    /// The shared computation of several sub-bands gives each band's own response, in the order asked, also
    /// when the filters mix decompositions (levels, pooling, 2D and 3D).
    func testSharedSubBandsEqualSeparateResponses() throws {
        let image = Self.pattern(10, 9, 8)
        let box = IndexBox(lower: Index3(2, 1, 0), upper: Index3(7, 8, 5))
        var filters = try ["LLL", "LLH", "LHL", "LHH", "HLL", "HLH", "HHL", "HHH"].map {
            try SeparableWaveletFilter(wavelet: "coif1", band: $0, boundary: .mirror)
        }
        filters.append(try SeparableWaveletFilter(wavelet: "db3", band: "LLH", level: 2, rotationInvariant: true))
        filters.append(try SeparableWaveletFilter(wavelet: "db3", band: "HH", level: 1, rotationInvariant: true))
        filters.insert(try SeparableWaveletFilter(wavelet: "db3", band: "HHH", level: 2, rotationInvariant: true), at: 3)
        let shared = SeparableWaveletFilter.responses(of: filters, image: image, over: box)
        XCTAssertEqual(shared.count, filters.count)
        for (f, r) in zip(filters, shared) {
            let alone = f.response(of: image, over: box)
            XCTAssertEqual(r.grid, alone.grid, f.token)
            XCTAssertLessThan(zip(r.voxels, alone.voxels).map { abs($0 - $1) }.max()!, 1e-4, f.token)
        }
    }

    // MARK: rotation invariance (phase 2 configurations 6A/6B, 7A/7B: db3, levels 1 and 2, mean pooling)

    /// The image turned a quarter about z: (i, j, k) -> (ny - 1 - j, i, k).
    static func quarterTurnAboutZ(_ v: Volume<Float>) -> Volume<Float> {
        let n = v.size
        var out = Volume<Float>(grid: ImageGrid(size: Size3(n.ny, n.nx, n.nz)), repeating: 0)
        for k in 0..<n.nz { for j in 0..<n.ny { for i in 0..<n.nx { out[n.ny - 1 - j, i, k] = v[i, j, k] } } }
        return out
    }

    /// The image turned a quarter about x: (i, j, k) -> (i, nz - 1 - k, j).
    static func quarterTurnAboutX(_ v: Volume<Float>) -> Volume<Float> {
        let n = v.size
        var out = Volume<Float>(grid: ImageGrid(size: Size3(n.nx, n.nz, n.ny)), repeating: 0)
        for k in 0..<n.nz { for j in 0..<n.ny { for i in 0..<n.nx { out[i, n.nz - 1 - k, j] = v[i, j, k] } } }
        return out
    }

    /// The phase 2 wavelet settings (db3, mean pooling, mirror padding) run, and turning the image turns the
    /// response: LH (2D, level 1), HH (2D, level 2) about z; LLH (3D, level 1), HHH (3D, level 2) about z
    /// and about x. Without pooling, LLH is not rotation-consistent (the check has teeth).
    func testPhase2WaveletsAreRotationInvariant() throws {
        let image = Self.pattern(12, 10, 9).map { $0 * $0 }
        var checks: [(SeparableWaveletFilter, (Volume<Float>) -> Volume<Float>)] = []
        for (band, level) in [("LH", 1), ("HH", 2)] {
            let f = try SeparableWaveletFilter(wavelet: "db3", band: band, level: level, boundary: .mirror,
                                               rotationInvariant: true)
            checks.append((f, Self.quarterTurnAboutZ))
        }
        for (band, level) in [("LLH", 1), ("HHH", 2)] {
            let f = try SeparableWaveletFilter(wavelet: "db3", band: band, level: level, boundary: .mirror,
                                               rotationInvariant: true)
            checks.append((f, Self.quarterTurnAboutZ))
            checks.append((f, Self.quarterTurnAboutX))
        }
        for (filter, turn) in checks {
            let turnedResponse = turn(filter.response(of: image)).voxels
            let responseOfTurned = filter.response(of: turn(image)).voxels
            let scale = Double(turnedResponse.map { abs($0) }.max()!)
            XCTAssertGreaterThan(scale, 1, "\(filter) responds")
            let worst = Double(zip(turnedResponse, responseOfTurned).map { abs($0 - $1) }.max()!)
            XCTAssertLessThan(worst, 1e-5 * scale, "\(filter)")
        }
        let plain = try SeparableWaveletFilter(wavelet: "db3", band: "LLH", boundary: .mirror)
        let gap = zip(Self.quarterTurnAboutX(plain.response(of: image)).voxels,
                      plain.response(of: Self.quarterTurnAboutX(image)).voxels).map { abs($0 - $1) }.max()!
        XCTAssertGreaterThan(gap, 1)
    }

    func testTokensAndBadSettings() throws {
        XCTAssertEqual(try SeparableWaveletFilter(wavelet: "db3", band: "LH", level: 1, rotationInvariant: true).token,
                       "wavelet_db3_lh_l1_invar_2d")
        XCTAssertEqual(try SeparableWaveletFilter(wavelet: "coif1", band: "HHL", rotationInvariant: true,
                                                  pooling: .max).token, "wavelet_coif1_hhl_l1_invar_max")
        XCTAssertEqual(try SeparableWaveletFilter(wavelet: "db3", band: "llh", level: 1, rotationInvariant: true).token,
                       "wavelet_db3_llh_l1_invar")
        XCTAssertEqual(try SeparableWaveletFilter(wavelet: "haar", band: "HH", level: 2).token, "wavelet_haar_hh_l2_2d")
        XCTAssertThrowsError(try SeparableWaveletFilter(wavelet: "db99", band: "LLH")) {
            XCTAssertEqual($0 as? WaveletError, .unknownWavelet("db99"))
        }
        XCTAssertThrowsError(try SeparableWaveletFilter(wavelet: "db2", band: "LXH"))
        XCTAssertThrowsError(try SeparableWaveletFilter(wavelet: "db2", band: "LLLL"))
        XCTAssertThrowsError(try SeparableWaveletFilter(wavelet: "db2", band: "LL", level: 0))
    }

    // MARK: IBSI 2 phase 1 response maps

    /// Every voxel within 0.001 of the consensus map (prints matched/total).
    func assertMatchesReference(_ config: String, phantom: String, reference: String,
                                _ filter: SeparableWaveletFilter, file: StaticString = #filePath,
                                line: UInt = #line) throws {
        try IBSI2.assertConforms(filter, phantom: phantom, map: reference, configuration: config, file: file, line: line)
    }

    func test5A1Daubechies2LHL() throws {
        try assertMatchesReference("5A1", phantom: "impulse", reference: "id_5_impulse_CT_5A1_wavelet_db2_LHL_level_1",
                                   SeparableWaveletFilter(wavelet: "db2", band: "LHL", level: 1, boundary: .zero))
    }

    func test5A2Daubechies2LHLInvariant() throws {
        try assertMatchesReference("5A2", phantom: "impulse",
                                   reference: "id_5_impulse_CT_5A2_wavelet_db2_LHL_invar_level_1",
                                   SeparableWaveletFilter(wavelet: "db2", band: "LHL", level: 1, boundary: .zero,
                                                          rotationInvariant: true))
    }

    func test6A1Coiflet1HHL() throws {
        try assertMatchesReference("6A1", phantom: "sphere", reference: "id_6_sphere_CT_6A1_wavelet_coif1_HHL_level_1",
                                   SeparableWaveletFilter(wavelet: "coif1", band: "HHL", level: 1, boundary: .periodic))
    }

    func test6A2Coiflet1HHLInvariant() throws {
        try assertMatchesReference("6A2", phantom: "sphere",
                                   reference: "id_6_sphere_CT_6A2_wavelet_coif1_HHL_invar_level_1",
                                   SeparableWaveletFilter(wavelet: "coif1", band: "HHL", level: 1, boundary: .periodic,
                                                          rotationInvariant: true))
    }

    func test7A1HaarLLLLevel2Invariant() throws {
        try assertMatchesReference("7A1", phantom: "checkerboard",
                                   reference: "id_7_checkerboard_CT_7A1_wavelet_haar_LLL_invar_level_2",
                                   SeparableWaveletFilter(wavelet: "haar", band: "LLL", level: 2, boundary: .mirror,
                                                          rotationInvariant: true))
    }

    func test7A2HaarHHHLevel2Invariant() throws {
        try assertMatchesReference("7A2", phantom: "checkerboard",
                                   reference: "id_7_checkerboard_CT_7A2_wavelet_haar_HHH_invar_level_2",
                                   SeparableWaveletFilter(wavelet: "haar", band: "HHH", level: 2, boundary: .mirror,
                                                          rotationInvariant: true))
    }
}

/// pywt.swtn outputs (see testPeriodicBandsEqualPyWaveletsSWTN for the snippet), flattened x fastest.
private enum Fixtures {
    static let db2LHL1: [Double] = [
            0.868132387414, 1.69311809368, -3.29099335598, -4.11597906224, 6.80842285552, 0.576960961673,
            0.301965726252, 6.5334276201, 1.89156677464, 2.56918297839, -4.06489988379, -4.74251608754,
            -9.56812201757, -4.83926203375, 7.05392751351, 2.32506752969, 1.49180760951, 1.9681133291,
            -0.909464758029, -1.38577047762, 3.93084476839, 4.60846097215, -2.02562189003, -2.70323809379,
            -7.34509893925, -2.21361798709, 2.16656201006, -2.9649189421, 1.92244656135, -4.36295631416,
            0.768524638005, 7.05392751351, -2.3383819168, 0.539196170331, -2.28444093514, -5.16201902226,
            0.851956197095, 2.28087335586, -1.95193713878, -3.38085429755, -2.01230750292, -4.1925256167,
            2.03893627714, 4.21915439092, 3.49873322263, 1.37245609051, 2.19744179677, 4.32371892889,
            -2.96205713889, 0.26420093491, -4.66596953308, -7.89222760689, 3.72953428422, -1.75062665461,
            0.375650477505, 5.85581141634, 7.22435821097, 0.590275348784, -4.1925256167, 2.44155724548,
            -7.9918353563, 0.896150370919, 8.48284467228, -0.405141054935,
    ]

    static let db2HHH2: [Double] = [
            7.64591194913, -2.61810796608, -7.64591194913, 2.61810796608, 2.04871593217, 5.52091194913,
            -2.04871593217, -5.52091194913, -7.64591194913, 2.61810796608, 7.64591194913, -2.61810796608,
            -2.04871593217, -5.52091194913, 2.04871593217, 5.52091194913, -5.3125, 9.77091194913,
            5.3125, -9.77091194913, -7.64591194913, 2.61810796608, 7.64591194913, -2.61810796608,
            5.3125, -9.77091194913, -5.3125, 9.77091194913, 7.64591194913, -2.61810796608,
            -7.64591194913, 2.61810796608, -7.64591194913, 2.61810796608, 7.64591194913, -2.61810796608,
            -2.04871593217, -5.52091194913, 2.04871593217, 5.52091194913, 7.64591194913, -2.61810796608,
            -7.64591194913, 2.61810796608, 2.04871593217, 5.52091194913, -2.04871593217, -5.52091194913,
            5.3125, -9.77091194913, -5.3125, 9.77091194913, 7.64591194913, -2.61810796608,
            -7.64591194913, 2.61810796608, -5.3125, 9.77091194913, 5.3125, -9.77091194913,
            -7.64591194913, 2.61810796608, 7.64591194913, -2.61810796608,
    ]

    static let db3LLH2: [Double] = [
            -0.116812095477, -1.26552210244, 0.733963530641, 0.733963530641, 0.522239156759, 1.67094916372,
            -0.328536469359, -0.328536469359, -0.116812095477, -1.26552210244, 0.733963530641, 0.733963530641,
            0.522239156759, 1.67094916372, -0.328536469359, -0.328536469359, -0.116812095477, -1.26552210244,
            0.733963530641, 0.733963530641, 0.522239156759, 1.67094916372, -0.328536469359, -0.328536469359,
            -0.116812095477, -1.26552210244, 0.733963530641, 0.733963530641, 0.522239156759, 1.67094916372,
            -0.328536469359, -0.328536469359, -0.846737281035, -0.846737281035, -0.635012907154, -1.78372291412,
            0.215762718965, 0.215762718965, 0.00403834508278, 1.15274835205, -0.846737281035, -0.846737281035,
            -0.635012907154, -1.78372291412, 0.215762718965, 0.215762718965, 0.00403834508278, 1.15274835205,
            -0.846737281035, -0.846737281035, -0.635012907154, -1.78372291412, 0.215762718965, 0.215762718965,
            0.00403834508278, 1.15274835205, -0.846737281035, -0.846737281035, -0.635012907154, -1.78372291412,
            0.215762718965, 0.215762718965, 0.00403834508278, 1.15274835205, 0.116812095477, 1.26552210244,
            -0.733963530641, -0.733963530641, -0.522239156759, -1.67094916372, 0.328536469359, 0.328536469359,
            0.116812095477, 1.26552210244, -0.733963530641, -0.733963530641, -0.522239156759, -1.67094916372,
            0.328536469359, 0.328536469359, 0.116812095477, 1.26552210244, -0.733963530641, -0.733963530641,
            -0.522239156759, -1.67094916372, 0.328536469359, 0.328536469359, 0.116812095477, 1.26552210244,
            -0.733963530641, -0.733963530641, -0.522239156759, -1.67094916372, 0.328536469359, 0.328536469359,
            0.846737281035, 0.846737281035, 0.635012907154, 1.78372291412, -0.215762718965, -0.215762718965,
            -0.00403834508278, -1.15274835205, 0.846737281035, 0.846737281035, 0.635012907154, 1.78372291412,
            -0.215762718965, -0.215762718965, -0.00403834508278, -1.15274835205, 0.846737281035, 0.846737281035,
            0.635012907154, 1.78372291412, -0.215762718965, -0.215762718965, -0.00403834508278, -1.15274835205,
            0.846737281035, 0.846737281035, 0.635012907154, 1.78372291412, -0.215762718965, -0.215762718965,
            -0.00403834508278, -1.15274835205,
    ]

    static let db3LH1: [Double] = [
            -4.08220404497, 2.76023219121, 5.26789564182, 5.50800755016, 3.54619036572, -1.05355217031,
            -4.04928313038, -6.53208873888, -2.27763434982, -1.9958546594, -3.6355634159, -4.96212999164,
            1.71168687414, 5.53667970212, 6.28264972166, 3.502443779, 2.55513027433, -4.88317472354,
            -0.663241885112, 4.71856000504, 1.57572343278, -4.97455033417, -6.15021065419, 2.45656622047,
            3.80470812046, 4.11879719173, -0.969090340814, -5.26443756357, -6.83360067264, 0.491422802355,
            3.91684406291, 0.573078739402, -5.30891123809, -2.14938592873, -3.67532283146, -6.64266625707,
            0.178057530982, 5.47900848196, 2.33773033396, -3.15540250078, 2.83447094562, -3.33313937071,
            1.09513004189, 3.89582536519, -0.428520925772, -4.87192065123, -6.01478125951, 1.79553345898,
            2.26046249033, 2.24525469042, -3.55227345758, 0.520752458571, 4.42659622573, 5.17100782101,
            1.33366094614, -3.46856876539, 0.213977802145, 3.23727060902, 6.13246624715, 2.22608843331,
            -4.17613283094, -5.77809565174, 2.34338997942, 4.82843780719,
    ]

    static let db3HH2: [Double] = [
            6.12260891893, 2.97762437333, -0.0521576378431, 1.14379925617, -4.74080267251, -5.12815815477,
            -1.32964860857, 1.00673452528, 0.488984810074, -2.91979077169, -1.20436513436, 8.03905689596,
            5.86048140848, -6.96201547472, -5.14510108419, 1.84274935045, -6.12260891893, -2.97762437333,
            0.0521576378431, -1.14379925617, 4.74080267251, 5.12815815477, 1.32964860857, -1.00673452528,
            -0.488984810074, 2.91979077169, 1.20436513436, -8.03905689596, -5.86048140848, 6.96201547472,
            5.14510108419, -1.84274935045, 5.08061701386, 1.15409171689, -6.1728823364, -1.11144981377,
            4.80118923256, -3.30462549833, -3.70892391001, 3.26198359521, 1.94275389608, -2.8776198277,
            -3.31444699993, -1.5384554844, 4.40671232247, 1.49581358128, -3.03501921863, 2.92026173082,
            -5.08061701386, -1.15409171689, 6.1728823364, 1.11144981377, -4.80118923256, 3.30462549833,
            3.70892391001, -3.26198359521, -1.94275389608, 2.8776198277, 3.31444699993, 1.5384554844,
            -4.40671232247, -1.49581358128, 3.03501921863, -2.92026173082,
    ]

    static let coif1HLHPyRadiomics2: [Double] = [
            -3.85579165282, -0.982807742602, 3.52819717183, -0.712158579904, -2.06149297269, -0.114392545027,
            2.38908745368, 1.80935886753, 2.57778631436, -2.19465380565, 1.95947036492, -1.02472772494,
            -1.84477871898, 4.47626160516, -2.6924779603, -1.25688007457, 3.38543583581, -0.973236091523,
            -0.706669576324, 1.96095433778, -2.17882822931, 2.66392589815, -0.499938030184, -3.65164414441,
            -3.04814213136, 0.238609971527, 0.862057230585, 2.27352348281, -2.39554248302, -1.92672825203,
            4.5816273838, -0.585405202304, 1.67958758861, -2.04024851753, 1.42724404366, -1.64698266543,
            1.42321135178, 1.88149199103, -4.53004298405, 1.80573919193, 1.22968509106, -2.4816777254,
            1.94712804343, 0.959619493279, -1.86995229156, 2.26325320603, -1.30686084293, -0.741194973905,
            -3.97403191511, 0.725046509654, 2.28599388933, -0.836144437694, -2.78527750628, -0.105612964153,
            4.47331553205, 0.216710892193, -3.52412941756, 1.16647571753, 1.76610988957, -3.44274659641,
            0.50788613706, -0.487374179155, 1.25013339093, 2.76364505803, 3.85579165282, 0.982807742602,
            -3.52819717183, 0.712158579904, 2.06149297269, 0.114392545027, -2.38908745368, -1.80935886753,
            -2.57778631436, 2.19465380565, -1.95947036492, 1.02472772494, 1.84477871898, -4.47626160516,
            2.6924779603, 1.25688007457, -3.38543583581, 0.973236091523, 0.706669576324, -1.96095433778,
            2.17882822931, -2.66392589815, 0.499938030184, 3.65164414441, 3.04814213136, -0.238609971527,
            -0.862057230585, -2.27352348281, 2.39554248302, 1.92672825203, -4.5816273838, 0.585405202304,
            -1.67958758861, 2.04024851753, -1.42724404366, 1.64698266543, -1.42321135178, -1.88149199103,
            4.53004298405, -1.80573919193, -1.22968509106, 2.4816777254, -1.94712804343, -0.959619493279,
            1.86995229156, -2.26325320603, 1.30686084293, 0.741194973905, 3.97403191511, -0.725046509654,
            -2.28599388933, 0.836144437694, 2.78527750628, 0.105612964153, -4.47331553205, -0.216710892193,
            3.52412941756, -1.16647571753, -1.76610988957, 3.44274659641, -0.50788613706, 0.487374179155,
            -1.25013339093, -2.76364505803,
    ]
}
