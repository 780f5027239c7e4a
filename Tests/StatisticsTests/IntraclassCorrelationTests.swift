import XCTest
@testable import Statistics

/// ICC(1,1) and the F quantile against pingouin 0.7.0 / scipy, values printed with full precision and written here.
final class IntraclassCorrelationTests: XCTestCase {
    /// 8 lesions x 4 perturbations. Made and checked with:
    ///
    ///     import numpy as np, pandas as pd, pingouin as pg
    ///     rng = np.random.default_rng(16); n, k = 8, 4
    ///     vals = np.round(rng.normal(50, 10, n)[:, None] + rng.normal(0, 4, (n, k)), 3)
    ///     df = pd.DataFrame([(i, j, vals[i, j]) for i in range(n) for j in range(k)],
    ///                       columns=["lesion", "perturbation", "value"])
    ///     pg.options["round.column.CI95"] = None   # pingouin rounds the CI to 2 decimals by default
    ///     r = pg.intraclass_corr(df, targets="lesion", raters="perturbation", ratings="value")
    ///     r = r.set_index("Type").loc["ICC(1,1)"]     # the row pingouin's docs call ICC1
    ///     print(repr(r["ICC"]), repr(r["CI95"][0]), repr(r["CI95"][1]), repr(r["F"]))
    let eightByFour: [[Double]] = [
        [38.353, 41.237, 44.597, 40.392], [55.542, 60.789, 58.59, 58.597], [61.774, 59.692, 52.923, 64.359],
        [54.283, 61.174, 59.876, 60.858], [69.188, 66.843, 71.782, 63.038], [49.316, 39.38, 50.893, 44.112],
        [56.938, 61.474, 46.791, 54.183], [48.632, 49.935, 51.771, 48.762],
    ]

    func testICC1MatchesPingouin() {
        let r = IntraclassCorrelation(values: eightByFour)
        XCTAssertEqual(r.icc, 0.81320039250931, accuracy: 1e-6)
        XCTAssertEqual(r.lower, 0.5747978234529021, accuracy: 1e-6)
        XCTAssertEqual(r.upper, 0.9525474858471822, accuracy: 1e-6)
        XCTAssertEqual(r.f, 18.4133212255243, accuracy: 1e-6)
        XCTAssertEqual(r.targets, 8)
        XCTAssertEqual(r.raters, 4)
    }

    /// A lesion with a missing value is left out, as pingouin's `nan_policy="omit"`:
    ///
    ///     vals = [[1.0, 1.2, 0.9], [2.0, 2.5, 2.2], [3.1, float('nan'), 2.9], [0.5, 0.4, 0.8],
    ///             [1.7, 1.1, 1.4], [2.6, 2.4, 3.0]]
    ///     (same frame and options as above) pg.intraclass_corr(..., nan_policy="omit")
    func testICC1OmitsIncompleteLesionsAsPingouin() {
        let r = IntraclassCorrelation(values: [[1.0, 1.2, 0.9], [2.0, 2.5, 2.2], [3.1, .nan, 2.9], [0.5, 0.4, 0.8],
                                               [1.7, 1.1, 1.4], [2.6, 2.4, 3.0]])
        XCTAssertEqual(r.targets, 5)
        XCTAssertEqual(r.icc, 0.9199886508724635, accuracy: 1e-6)
        XCTAssertEqual(r.lower, 0.698298149649225, accuracy: 1e-6)
        XCTAssertEqual(r.upper, 0.9905036464733875, accuracy: 1e-6)
        XCTAssertEqual(r.f, 35.49468085106358, accuracy: 1e-6)
    }

    func testICCEdgeCases() {
        // No variation within lesions: perfectly repeatable.
        let exact = IntraclassCorrelation(values: [[1, 1, 1], [2, 2, 2], [4, 4, 4]])
        XCTAssertEqual(exact.icc, 1)
        XCTAssertEqual(exact.lower, 1)
        XCTAssertEqual(exact.upper, 1)
        // A constant feature has no ICC; neither has a single lesion.
        XCTAssertTrue(IntraclassCorrelation(values: [[3, 3], [3, 3]]).icc.isNaN)
        XCTAssertTrue(IntraclassCorrelation(values: [[1, 2, 3]]).icc.isNaN)
        // Pure measurement noise around equal lesions gives an ICC near or below 0.
        let noise = IntraclassCorrelation(values: [[1, 3], [3, 1], [2, 2.5], [2.5, 2]])
        XCTAssertLessThan(noise.icc, 0)
    }

    /// scipy 1.x `scipy.stats.f.ppf(p, d1, d2)`, printed with repr().
    func testFQuantileMatchesScipy() {
        let cases: [(Double, Double, Double, Double)] = [
            (0.975, 7, 24, 2.8738081880378883), (0.975, 24, 7, 4.414999065085488), (0.5, 1, 1, 1.0),
            (0.025, 3, 200, 0.0717913951275676), (0.999, 50, 2, 999.4799167583728),
            (0.975, 99, 1900, 1.3078483581469758),
        ]
        for (p, d1, d2, expected) in cases {
            let q = Distributions.fQuantile(p, d1, d2)
            XCTAssertEqual(q, expected, accuracy: 1e-9 * max(1, expected), "F(\(d1), \(d2)) quantile \(p)")
            XCTAssertEqual(Distributions.fCDF(q, d1, d2), p, accuracy: 1e-12)
        }
    }
}
