import XCTest
import Filters

final class BoundaryConditionTests: XCTestCase {
    /// Each rule on `a b c d` (indices 0...3), from index -6 to 9, as numpy.pad writes it.
    func testIndicesOutsideTheImageFollowNumpyPad() {
        // np.pad(np.arange(4), 6, mode=m) for m in symmetric (mirror), wrap (periodic), edge (nearest).
        let mirror = [2, 3, 3, 2, 1, 0, 0, 1, 2, 3, 3, 2, 1, 0, 0, 1]
        let periodic = [2, 3, 0, 1, 2, 3, 0, 1, 2, 3, 0, 1, 2, 3, 0, 1]
        let nearest = [0, 0, 0, 0, 0, 0, 0, 1, 2, 3, 3, 3, 3, 3, 3, 3]
        let indices = Array(-6...9)
        XCTAssertEqual(indices.map { BoundaryCondition.mirror.sourceIndex($0, count: 4)! }, mirror)
        XCTAssertEqual(indices.map { BoundaryCondition.periodic.sourceIndex($0, count: 4)! }, periodic)
        XCTAssertEqual(indices.map { BoundaryCondition.nearest.sourceIndex($0, count: 4)! }, nearest)
        XCTAssertEqual(indices.map { BoundaryCondition.zero.sourceIndex($0, count: 4) },
                       indices.map { (0..<4).contains($0) ? $0 : nil })
    }

    func testOneVoxelAxis() {
        for rule in [BoundaryCondition.mirror, .periodic, .nearest] {
            XCTAssertEqual((-3...3).map { rule.sourceIndex($0, count: 1)! }, Array(repeating: 0, count: 7))
        }
    }
}
