import XCTest
import Foundation
@testable import Statistics

/// Pearson and Spearman against scipy 1.17 (`pearsonr`, its Fisher-z `confidence_interval`, `spearmanr`);
/// fixture values computed once in Python and written here.
final class CorrelationTests: XCTestCase {
    func fixture() -> ([Double], [Double]) {
        let x = (0..<30).map { sin(0.7 * Double($0)) + 0.05 * Double($0) }
        var y: [Double] = []
        for i in 0..<30 {
            let t = Double(i)
            let bump: Double = i % 7 == 0 ? 1 : 0
            y.append(cos(0.3 * t) + 0.5 * sin(0.7 * t) + bump)
        }
        y[3] = y[4]  // a tie
        return (x, y)
    }

    func testMatchesScipy() throws {
        let (x, y) = fixture()
        let p = try Correlation.pearson(x, y)
        XCTAssertEqual(p.coefficient, 0.36314382324178535, accuracy: 1e-12)
        XCTAssertEqual(p.interval.lower, 0.003307292168877915, accuracy: 1e-9)
        XCTAssertEqual(p.interval.upper, 0.6397189128865122, accuracy: 1e-9)
        let s = try Correlation.spearman(x, y)
        XCTAssertEqual(s.coefficient, 0.3517632683909577, accuracy: 1e-12, "average ranks for ties, as scipy")
        // Fieller et al.: SE sqrt(1.06/(n-3)) on Fisher's z.
        XCTAssertEqual(s.interval.lower, -0.02088864021607916, accuracy: 1e-9)
        XCTAssertEqual(s.interval.upper, 0.638596924818517, accuracy: 1e-9)
        XCTAssertEqual(s.n, 30)
    }

    func testRanksAndRefusals() throws {
        XCTAssertEqual(Correlation.ranks([10, 20, 10, 30]), [1.5, 3, 1.5, 4])
        XCTAssertThrowsError(try Correlation.pearson([1, 2, 3], [1, 2, 3]))
        XCTAssertThrowsError(try Correlation.pearson([1, 2], [1, 2, 3]))
        let constant = try Correlation.pearson([1, 1, 1, 1, 1], [1, 2, 3, 4, 5])
        XCTAssertTrue(constant.coefficient.isNaN)
        let withNaN = try Correlation.spearman([1, 2, 3, 4, .nan, 6], [2, 4, 6, 8, 10, 12])
        XCTAssertEqual(withNaN.coefficient, 1, accuracy: 1e-12)
        XCTAssertEqual(withNaN.n, 5)
    }
}
