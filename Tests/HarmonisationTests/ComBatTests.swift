import XCTest
@testable import Harmonisation

/// ComBat against neuroCombat 0.2.12, and on planted batch effects.
final class ComBatTests: XCTestCase {
    // The fixture: 6 features x 15 lesions in 3 batches (5, 6, 4), a categorical covariate (sex) and a continuous
    // one (age, whole numbers: neuroCombat casts continuous covariates to float32). Computed with
    // neuroCombat 0.2.12 (pip install neuroCombat pandas), numpy 1.26:
    //
    //   import numpy as np, pandas as pd
    //   from neuroCombat import neuroCombat
    //   X = np.array(ComBatTests.x)             # features x lesions, the values below
    //   covars = pd.DataFrame({"batch": batch, "sex": sex, "age": age})
    //   for par in (True, False):
    //       out = neuroCombat(dat=X, covars=covars, batch_col="batch", categorical_cols=["sex"],
    //                         continuous_cols=["age"], parametric=par)
    //       print(out["data"].tolist(), np.array(out["estimates"]["gamma.star"]).tolist(),
    //             np.array(out["estimates"]["delta.star"]).tolist())
    //
    // (X itself was drawn once with numpy, seed 16, with per-batch shifts and scales, an age and a sex effect,
    // and rounded to 3 decimals.)
    static let batch = ["A", "A", "A", "A", "A", "B", "B", "B", "B", "B", "B", "C", "C", "C", "C"]
    static let sex = ["F", "M", "M", "F", "M", "F", "F", "M", "M", "F", "M", "M", "F", "F", "M"]
    static let age: [Double] = [52, 61, 47, 70, 58, 66, 49, 55, 73, 62, 44, 59, 68, 51, 64]
    static let x: [[Double]] = [
        [5.445, 7.651, 7.779, 7.431, 8.778, 10.627, 11.959, 11.241, 9.695, 9.973, 11.925, 3.731, 3.545, 3.992, 4.722],
        [21.717, 22.635, 21.074, 14.397, 24.574, 30.864, 40.166, 40.015, 41.342, 40.363, 38.796, 13.122, 7.587, 11.326, 8.454],
        [2.633, 1.966, 2.127, 3.154, 1.079, 3.337, 3.797, 4.21, 4.982, 4.085, 3.643, 1.462, 1.69, 1.291, 1.828],
        [106.793, 115.189, 123.261, 118.702, 104.759, 194.739, 208.126, 186.339, 166.744, 177.995, 206.497, 60.033, 57.659, 62.583, 55.49],
        [4.529, 0.846, 0.152, 4.074, -1.378, 0.209, 1.678, -0.658, 1.576, 4.097, 3.41, -0.658, -0.214, 0.864, 1.276],
        [-4.053, -0.409, -1.284, -1.192, -2.823, -3.894, -3.798, -5.807, -0.719, -1.556, -3.543, -1.889, -0.332, -1.095, -0.582],
    ]
    static let parametricData: [[Double]] = [
        [6.428370806229514, 8.203205146741595, 8.410556070829482, 7.820300539026265, 9.095628554421806, 7.588250326143389, 8.817677076568312, 8.254638380767233, 6.835663483505093, 7.041470434667584, 8.8964202876076, 7.133922577749902, 7.422243753893565, 7.786865834328103, 8.862839676962311],
        [25.492229376099658, 26.54450373092861, 25.574466581591093, 19.063656925166654, 28.207641880750735, 18.36092802975232, 26.419020011488488, 26.652509536264347, 27.35064301452872, 26.294408244871537, 25.88886565385221, 28.501734531918117, 22.062540753197446, 26.709974531689966, 21.516426254638727],
        [3.0123468231639476, 2.5369797462682744, 2.575050249192871, 3.5268879847514345, 1.83187525458233, 2.200795147176991, 2.525356020850224, 2.8923758095027123, 3.6234419662249353, 2.8232585699741435, 2.364332510346672, 2.678687535912399, 2.836162584617123, 2.493027452633849, 3.2385247325529454],
        [124.30391186498953, 128.45503509582375, 137.14512871207756, 130.6829865080279, 120.74097854910633, 134.15577635736446, 147.53449608966181, 127.71988336931784, 108.985093650979, 120.53470837605929, 146.06679089970424, 130.51163364360946, 128.25319598501733, 127.15274147382387, 125.52369060185501],
        [4.0850833208167465, 0.7677370675819621, 0.2371514289201282, 3.6795525583483997, -1.021412781661983, 0.14730939989570768, 1.4114819420781108, -0.8312074818881519, 1.014122352489267, 3.4210482955064414, 2.6060867048994103, 0.36853619268505655, 0.2654660685196001, 1.7698601828908047, 3.254654841766963],
        [-3.8326643296468506, -0.6927595918811127, -1.6171426579582464, -1.2390489747800268, -2.692976473691111, -2.807626430568015, -2.96163879450306, -4.5013447641541, -0.029395023955033572, -0.9214166722361865, -2.7728134480118487, -3.510059200661585, -1.2385794028942758, -1.6019891343635448, -1.6161729349429246],
    ]
    static let parametricGammaStar: [[Double]] = [
        [-0.773776029992743, -1.5323940934482634, -1.0500027831211276, -1.790852961430689, 0.010531155767440832, 0.004082396500541368],
        [3.9989763050133966, 5.131702520151454, 2.681704905512867, 7.551861718058295, 0.28920109280140893, -0.7582423383923588],
        [-5.084550521021308, -5.58730918058561, -2.6184181348945152, -8.829102578787314, -0.7083979508917594, 0.9090594058075558],
    ]
    static let parametricDeltaStar: [[Double]] = [
        [1.6813740437964382, 1.4765250921928104, 1.6691368645046818, 1.612347171283971, 1.5342330435112332, 1.526408776398931],
        [1.3389093954616529, 1.4660925044644826, 1.3724682680700169, 1.4074230381014352, 1.4165574129084446, 1.4505987058420067],
        [0.37370544185233967, 0.403360628753441, 0.2935634339170575, 0.3394716749731081, 0.4573553148870687, 0.367009233558557],
    ]
    static let nonParametricData: [[Double]] = [
        [6.623671216327706, 8.286857722792675, 8.514756106097451, 7.8617699165607675, 9.11853888935433, 7.087158006152355, 8.227922051108916, 7.798829472157005, 6.4896530780893285, 6.633057492016627, 8.404118722532308, 7.835187704895348, 7.925486781280774, 8.324500428920244, 9.25603529175419],
        [25.46077247994012, 26.598901483124624, 26.006724333929757, 19.6021763201395, 28.085654334563415, 20.24812060757343, 29.90673276918829, 29.645504650601225, 31.152792458373675, 30.19593465679581, 28.295960006613633, 26.475320560324697, 20.059462738536407, 24.683451131725768, 19.54981871771705],
        [3.013503950717765, 2.5872873513108234, 2.5938285982974083, 3.526388533744246, 1.9288358613213799, 1.3622984041738775, 1.862189800295436, 2.28873252516647, 3.0727889242385666, 2.14727316519575, 1.7102584613039629, 1.6412510076536477, 1.8565601924234494, 1.4676129567974556, 2.042131599587776],
        [121.53638301846514, 126.40408407825306, 134.9898372847116, 128.8489645975238, 118.23154900102776, 146.5538390204669, 159.92642143362656, 141.57373852440068, 123.47653507908325, 135.2474824872205, 158.57826765916008, 95.24049393143132, 92.92624557620856, 94.73529427335207, 90.46743560747274],
        [4.0821213368229, 0.7259847146329346, 0.1780632673681244, 3.671342631477555, -1.1092962024238469, 1.663301090512498, 2.81501400857675, 0.6235563502087649, 2.2554885219994647, 4.59978260058494, 3.7145642556610996, -3.7093714217098177, -3.970827376931988, -2.3429851282555187, -0.5475987077500684],
        [-3.889034871771462, -0.7291092106558752, -1.651530951851024, -1.2847999219863864, -2.745760129270794, -3.7024984691240688, -3.879376578524012, -5.376161639475738, -0.9605549065283157, -1.8576087499571567, -3.696603463848636, -0.9655598696382208, 0.7585348287191893, 0.08898661783253825, 0.47869465294844105],
    ]
    static let nonParametricGammaStar: [[Double]] = [
        [-0.9439481891915684, -1.594231721365427, -1.142926707371718, -1.452945122359402, 0.04890061719975803, 0.05475691122296597],
        [4.828124970425449, 4.019336769564123, 4.023002459765275, 5.180155254571982, -0.8527024296637323, 0.22168267439243758],
        [-5.602541836911346, -5.094996453108267, -0.6821208448861831, -5.602541836911198, 0.9417311001260712, -0.6821208200907037],
    ]
    static let nonParametricDeltaStar: [[Double]] = [
        [1.972851710454137, 1.9850540357559898, 1.9502758522585202, 1.474944302770021, 1.4594042866624697, 1.4982531435699356],
        [1.79278533875179, 0.9071735180311501, 0.9190285170565988, 1.8946644634334442, 1.7661576544043955, 1.5063958957469863],
        [0.5325026353530476, 0.411066507836962, 0.753294609558963, 0.5325026353530121, 0.3823311863136642, 0.7532946114663619],
    ]

    /// Lesions x features, row-major, from the fixture's features x lesions.
    static var rowMajor: [Double] { (0..<15).flatMap { j in x.map { $0[j] } } }
    static let names = (1...6).map { "f\($0)" }
    static var covariates: [CovariateColumn] {
        [CovariateColumn(name: "sex", values: .categorical(sex)), CovariateColumn(name: "age", values: .continuous(age))]
    }

    func assertRelative(_ a: Double, _ b: Double, _ what: String, tolerance: Double = 1e-6,
                        file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertLessThanOrEqual(abs(a - b), tolerance * max(abs(b), 1e-300), "\(what): \(a) vs neuroCombat \(b)",
                                 file: file, line: line)
    }

    func check(method: ComBatMethod, data: [[Double]], gammaStar: [[Double]], deltaStar: [[Double]]) throws {
        let (model, out) = try ComBat.fit(values: Self.rowMajor, features: Self.names, batches: Self.batch,
                                          covariates: Self.covariates, method: method)
        XCTAssertEqual(model.batches, ["A", "B", "C"])
        XCTAssertEqual(model.terms, ["sex=M", "age"])
        for g in 0..<6 {
            for j in 0..<15 { assertRelative(out[j * 6 + g], data[g][j], "\(method) feature \(g) lesion \(j)") }
            for i in 0..<3 {
                assertRelative(model.gammaStar[i][g], gammaStar[i][g], "\(method) gamma* batch \(i) feature \(g)")
                assertRelative(model.deltaStar[i][g], deltaStar[i][g], "\(method) delta* batch \(i) feature \(g)")
            }
        }
    }

    func testParametricEqualsNeuroCombat() throws {
        try check(method: .parametric, data: Self.parametricData, gammaStar: Self.parametricGammaStar,
                  deltaStar: Self.parametricDeltaStar)
    }

    func testNonParametricEqualsNeuroCombat() throws {
        try check(method: .nonparametric, data: Self.nonParametricData, gammaStar: Self.nonParametricGammaStar,
                  deltaStar: Self.nonParametricDeltaStar)
    }

    /// The recorded model harmonises the fitted lesions again to the same values, and `unapply` undoes it.
    func testModelReproducesTheFitAndInverts() throws {
        for method in ComBatMethod.allCases {
            let (model, out) = try ComBat.fit(values: Self.rowMajor, features: Self.names, batches: Self.batch,
                                              covariates: Self.covariates, method: method)
            let again = try model.apply(values: Self.rowMajor, features: Self.names, batches: Self.batch,
                                        covariates: Self.covariates, rowName: { "row \($0)" })
            let back = try model.unapply(values: out, features: Self.names, batches: Self.batch,
                                         covariates: Self.covariates, rowName: { "row \($0)" })
            for i in out.indices {
                XCTAssertEqual(again[i], out[i], accuracy: 1e-10 * max(1, abs(out[i])))
                XCTAssertEqual(back[i], Self.rowMajor[i], accuracy: 1e-10 * max(1, abs(out[i])))
            }
        }
    }

    // MARK: - planted batch effects

    /// A synthetic cohort at feature level: 3 kVp batches (100/120/140 kV, 900/1200/900 lesions), 200 features with
    /// noise SD σ = 1, a planted location shift (−2σ, 0, +3σ, times a per-feature factor in [0.5, 1.5)) and scale
    /// (1.5, 1, 0.7) per batch, on top of a biological covariate effect: β = 5σ per unit of `u` (1.5σ per SD), a
    /// lesion-level variable (SD 0.3) whose mean differs by batch (0.2 / 0.5 / 0.8), so that a ComBat ignoring it
    /// would remove part of its effect as batch effect.
    ///
    /// Planted at feature level rather than through images: ComBat acts on features, and a known truth per
    /// feature lets the test state what must remain; the synthetic images' kVp effect (README, "Synthetic
    /// cohorts") reaches features through extraction with noise of its own.
    static let beta = 5.0
    static func plantedCohort(seed: UInt64) -> (values: [Double], kvp: [String], u: [Double], features: Int) {
        var rng = SplitMix(seed)
        let groups: [(String, Int, Double, Double, Double)] = [("100", 900, -2, 1.5, 0.2), ("120", 1200, 0, 1, 0.5),
                                                               ("140", 900, 3, 0.7, 0.8)]
        let f = 200
        let factors = (0..<f).map { _ in 0.5 + rng.uniform() }
        var values: [Double] = [], kvp: [String] = [], u: [Double] = []
        for (label, n, shift, scale, meanU) in groups {
            for _ in 0..<n {
                let ui = meanU + 0.3 * rng.normal()
                kvp.append(label); u.append(ui)
                for g in 0..<f { values.append(10 * Double(g + 1) + beta * ui + shift * factors[g] + scale * rng.normal()) }
            }
        }
        return (values, kvp, u, f)
    }

    /// The planted shift is removed (per-batch means of the features less the planted covariate effect agree
    /// within 0.2σ, where they were at least 2.5σ apart before noise) while the covariate's effect is kept (the
    /// slope of each harmonised feature on u, over all lesions, within 6 % of the planted β, and within 2 % on
    /// average over the features).
    ///
    /// Why these tolerances: ComBat removes each batch's sample mean of the residuals, so what remains of a batch
    /// difference is (a) the error of the fitted covariate slope times the difference of the batches' mean u:
    /// SE(β̂) ≈ σ/(0.3 √3000) ≈ 0.06σ per unit of u, times 0.6, about 0.037σ, so about 0.11σ for the worst of 200
    /// features (3 SE); (b) the empirical Bayes shrinkage: parametric, γ̂ shrunk towards γ̄ with weight
    /// δ²/(nτ² + δ²) < 0.1 % here; non-parametric, γ* is a likelihood-weighted mean of the γ̂ of the features
    /// closest to this one, which differ from it by a fraction of the spread of the planted factors. Observed:
    /// 0.11σ (parametric) and 0.14σ (non-parametric). The slope of a feature on u has a relative SE of about
    /// 1/(1.5 √3000) ≈ 1.2 % (6 % is 5 SE), its average over 200 features under 0.1 %. Without the covariate, ComBat
    /// takes the between-batch part of u's effect for batch effect and the slope falls to about 0.6 of β: the
    /// check would fail.
    func testPlantedKVPShiftRemovedWhileCovariateEffectKept() throws {
        let (values, kvp, u, f) = Self.plantedCohort(seed: 16)
        let names = (0..<f).map { "feature\($0)" }
        let batchOf = kvp.map { ["100": 0, "120": 1, "140": 2][$0]! }
        func batchMeans(_ v: [Double], feature g: Int) -> [Double] {
            var sum = [0.0, 0.0, 0.0], count = [0.0, 0.0, 0.0]
            for r in kvp.indices { sum[batchOf[r]] += v[r * f + g] - Self.beta * u[r]; count[batchOf[r]] += 1 }
            return (0..<3).map { sum[$0] / count[$0] }
        }
        for method in ComBatMethod.allCases {
            let (model, out) = try ComBat.fit(values: values, features: names, batches: kvp,
                                              covariates: [CovariateColumn(name: "u", values: .continuous(u))], method: method)
            XCTAssertEqual(model.batches, ["100", "120", "140"])
            var worstBefore = Double.infinity, worstAfter = 0.0, worstSlope = 0.0, meanSlope = 0.0
            for g in 0..<f {
                let before = batchMeans(values, feature: g), after = batchMeans(out, feature: g)
                worstBefore = min(worstBefore, before.max()! - before.min()!)
                worstAfter = max(worstAfter, after.max()! - after.min()!)
                let ratio = Self.pooledSlope(out, u: u, feature: g, features: f) / Self.beta
                worstSlope = max(worstSlope, abs(ratio - 1))
                meanSlope += ratio / Double(f)
            }
            print("planted kVp shift, \(method): smallest spread of batch means before \(String(format: "%.3f", worstBefore))σ, largest after \(String(format: "%.3f", worstAfter))σ; covariate slope / planted: mean \(String(format: "%.4f", meanSlope)), worst deviation \(String(format: "%.4f", worstSlope))")
            XCTAssertGreaterThan(worstBefore, 2, "the planted shift must be there before harmonisation")
            XCTAssertLessThan(worstAfter, 0.2, "\(method): per-batch means must agree after harmonisation")
            XCTAssertLessThan(worstSlope, 0.06, "\(method): the covariate effect must be kept")
            XCTAssertEqual(meanSlope, 1, accuracy: 0.02, "\(method): the covariate effect must be kept")
        }
        // The same without the covariate: its effect is partly removed, which the slope check sees.
        let (_, ignoring) = try ComBat.fit(values: values, features: names, batches: kvp, covariates: [], method: .parametric)
        let slope = (0..<f).map { Self.pooledSlope(ignoring, u: u, feature: $0, features: f) / Self.beta }.reduce(0, +) / Double(f)
        print("planted kVp shift without the covariate: covariate slope / planted \(String(format: "%.4f", slope))")
        XCTAssertLessThan(slope, 0.8)
    }

    /// Least-squares slope of a feature on u over all lesions (batch differences in u included).
    static func pooledSlope(_ v: [Double], u: [Double], feature g: Int, features f: Int) -> Double {
        let n = Double(u.count), mu = u.reduce(0, +) / n
        let my = u.indices.map { v[$0 * f + g] }.reduce(0, +) / n
        var sxy = 0.0, sxx = 0.0
        for r in u.indices { sxy += (u[r] - mu) * (v[r * f + g] - my); sxx += (u[r] - mu) * (u[r] - mu) }
        return sxy / sxx
    }

    // MARK: - bad input

    func testConstantAndNonFiniteFeaturesAreLeftUnchangedAndListed() throws {
        var values = Self.rowMajor, names = Self.names
        // Add a constant feature and one with a NaN.
        var wider: [Double] = []
        for r in 0..<15 { wider += Array(values[(r * 6)..<(r * 6 + 6)]) + [7.0, r == 3 ? .nan : Double(r)] }
        values = wider; names += ["constant", "with_nan"]
        let (model, out) = try ComBat.fit(values: values, features: names, batches: Self.batch,
                                          covariates: Self.covariates, method: .parametric)
        XCTAssertEqual(model.unchanged.map(\.feature), ["constant", "with_nan"])
        XCTAssertEqual(model.unchanged.map(\.status), [.constant, .nonFinite])
        for r in 0..<15 {
            XCTAssertEqual(out[r * 8 + 6], 7)
            if r != 3 { XCTAssertEqual(out[r * 8 + 7], Double(r)) } else { XCTAssertTrue(out[r * 8 + 7].isNaN) }
            // The other features are harmonised exactly as without the extra columns.
            for g in 0..<6 { assertRelative(out[r * 8 + g], Self.parametricData[g][r], "feature \(g) lesion \(r)") }
        }
    }

    func testFeatureConstantWithinEveryBatchIsLeftUnchanged() throws {
        var wider: [Double] = []
        let level = ["A": 1.0, "B": 2.0, "C": 3.0]
        for r in 0..<15 { wider += Array(Self.rowMajor[(r * 6)..<(r * 6 + 6)]) + [level[Self.batch[r]]!] }
        let (model, out) = try ComBat.fit(values: wider, features: Self.names + ["per_batch"], batches: Self.batch,
                                          covariates: Self.covariates, method: .parametric)
        XCTAssertEqual(model.unchanged.map(\.status), [.zeroResidualVariance])
        for r in 0..<15 { XCTAssertEqual(out[r * 7 + 6], level[Self.batch[r]]!) }
    }

    func testBatchOfOneLesionIsRefusedByName() throws {
        var batches = Self.batch
        batches[14] = "D"
        XCTAssertThrowsError(try ComBat.fit(values: Self.rowMajor, features: Self.names, batches: batches,
                                            covariates: [], method: .parametric)) { error in
            let text = "\(error)"
            XCTAssertTrue(text.contains("batch 'D' has only one lesion"), text)
        }
    }

    func testCovariateConfoundedWithBatchIsRefused() throws {
        XCTAssertThrowsError(try ComBat.fit(values: Self.rowMajor, features: Self.names, batches: Self.batch,
                                            covariates: [CovariateColumn(name: "site", values: .categorical(Self.batch))],
                                            method: .parametric)) { error in
            XCTAssertTrue("\(error)".contains("'site' are confounded with the batches"), "\(error)")
        }
    }

    func testApplyRefusesUnknownBatchAndUnseenLevel() throws {
        let (model, _) = try ComBat.fit(values: Self.rowMajor, features: Self.names, batches: Self.batch,
                                        covariates: Self.covariates, method: .parametric)
        let row = Array(Self.rowMajor[0..<6])
        XCTAssertThrowsError(try model.apply(values: row, features: Self.names, batches: ["Z"],
                                             covariates: [CovariateColumn(name: "sex", values: .categorical(["F"])),
                                                          CovariateColumn(name: "age", values: .continuous([50]))],
                                             rowName: { _ in "patient P9, lesion L1" })) { error in
            let text = "\(error)"
            XCTAssertTrue(text.contains("batch 'Z' (patient P9, lesion L1) is not one of the model's batches ('A', 'B', 'C')"), text)
        }
        XCTAssertThrowsError(try model.apply(values: row, features: Self.names, batches: ["A"],
                                             covariates: [CovariateColumn(name: "sex", values: .categorical(["X"])),
                                                          CovariateColumn(name: "age", values: .continuous([50]))],
                                             rowName: { _ in "patient P9, lesion L1" })) { error in
            XCTAssertTrue("\(error)".contains("patient P9, lesion L1: covariate 'sex' is 'X', a level the model never saw"), "\(error)")
        }
    }
}

/// A small seeded generator for the tests (SplitMix64, Box-Muller normals).
struct SplitMix {
    var state: UInt64
    init(_ seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E3779B97F4A7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58476D1CE4E5B9
        z = (z ^ (z >> 27)) &* 0x94D049BB133111EB
        return z ^ (z >> 31)
    }
    mutating func uniform() -> Double { Double(next() >> 11) / Double(1 << 53) }
    mutating func normal() -> Double {
        let a = max(uniform(), 1e-300), b = uniform()
        return (-2 * Foundation.log(a)).squareRoot() * Foundation.cos(2 * Double.pi * b)
    }
}
