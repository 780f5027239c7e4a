import XCTest
import ImagingCore
@testable import LesionMatching

final class LesionMatcherTests: XCTestCase {
    private let baseline = [
        MatchLesion(name: "liver-a", position: Vector3(-60, 20, -300)),
        MatchLesion(name: "liver-b", position: Vector3(-30, 45, -280)),
        MatchLesion(name: "lung-1", position: Vector3(80, -10, -150)),
        MatchLesion(name: "node-3", position: Vector3(10, 60, -200)),
    ]

    /// The follow-up is the baseline shifted by (12, -35, 40) mm; lung-1 vanished, a new lesion appeared; the kept
    /// lesions' centroids moved by up to 3 mm (growth), and are listed in another order.
    func testShiftedFollowUpWithVanishedAndNewLesion() throws {
        let shift = Vector3(12, -35, 40)
        let unnamed = [
            MatchLesion(name: "C1", position: baseline[3].position + shift + Vector3(1, 0, -2)),
            MatchLesion(name: "C2", position: Vector3(40, 40, -100) + shift),   // new
            MatchLesion(name: "C3", position: baseline[0].position + shift + Vector3(0, 2, 1)),
            MatchLesion(name: "C4", position: baseline[1].position + shift + Vector3(-3, 0, 0)),
        ]
        let out = try LesionMatcher.match(known: baseline, named: [], unnamed: unnamed, taken: Set(baseline.map(\.name)))
        XCTAssertEqual(out.ids, ["node-3", "N1", "liver-a", "liver-b"])
        XCTAssertEqual(out.isNew, [false, true, false, false])
        XCTAssertEqual(out.consensus, 3)
        // The alignment undoes the shift (up to the growth jitter), with at most a small rotation.
        XCTAssertLessThan(out.transform.angleDegrees, 3)
        for b in baseline { XCTAssertLessThan((out.transform.apply(b.position + shift) - b.position).length, 3, b.name) }
        XCTAssertLessThan(out.distances.compactMap { $0 }.max()!, 3)
    }

    /// A rotation of 6 degrees about z plus a shift is recovered from four lesions (Horn's method).
    func testRotationIsRecovered() throws {
        let angle = 6.0 * .pi / 180
        let r = Matrix3(rows: [[cos(angle), -sin(angle), 0], [sin(angle), cos(angle), 0], [0, 0, 1]])
        let shift = Vector3(-8, 5, 30)
        let unnamed = baseline.reversed().enumerated().map { MatchLesion(name: "S\($0.offset + 1)", position: r * $0.element.position + shift) }
        let out = try LesionMatcher.match(known: baseline, named: [], unnamed: unnamed, taken: [])
        XCTAssertEqual(out.ids, ["node-3", "lung-1", "liver-b", "liver-a"])
        XCTAssertEqual(out.transform.angleDegrees, 6, accuracy: 1e-6)
        XCTAssertLessThan(out.rmsResidualMM, 1e-6)
    }

    /// New ids skip those already taken and stay in the order the lesions are given.
    func testNewIDsAvoidTakenOnes() throws {
        let unnamed = [MatchLesion(name: "a", position: Vector3(0, 0, 0)), MatchLesion(name: "b", position: Vector3(300, 0, 0))]
        let known = [MatchLesion(name: "N1", position: Vector3(0, 0, 0))]
        let out = try LesionMatcher.match(known: known, named: [], unnamed: unnamed, taken: ["N1", "N2"])
        XCTAssertEqual(out.ids, ["N1", "N3"])
    }

    /// Two baseline lesions 6 mm apart and one follow-up lesion between them: refused, naming both candidates.
    func testAmbiguousMatchIsRefused() {
        let known = [MatchLesion(name: "a", position: Vector3(0, 0, 0)), MatchLesion(name: "b", position: Vector3(6, 0, 0)),
                     MatchLesion(name: "far", position: Vector3(0, 80, 0))]
        let unnamed = [MatchLesion(name: "L1", position: Vector3(2.5, 0, 0)), MatchLesion(name: "L2", position: Vector3(0, 80, 0))]
        XCTAssertThrowsError(try LesionMatcher.match(known: known, named: [], unnamed: unnamed, taken: [])) { error in
            let text = "\(error)"
            XCTAssertTrue(text.contains("ambiguous") && text.contains("L1") && text.contains(" a at ")
                          && text.contains(" b at "), text)
        }
    }

    /// Another patient's lesions (a different layout) line up with at most one baseline lesion: refused.
    func testOtherPatientsLayoutIsRefused() {
        // Every pair of these differs from every baseline pair by more than 100 mm as a vector (checked with numpy),
        // while single lesions lie within the shift bound (closest pair 61 mm).
        let unnamed = [MatchLesion(name: "L1", position: Vector3(-20, 0, -240)), MatchLesion(name: "L2", position: Vector3(-70, 90, -160)),
                       MatchLesion(name: "L3", position: Vector3(60, 70, -300))]
        XCTAssertThrowsError(try LesionMatcher.match(known: baseline, named: [], unnamed: unnamed, taken: [])) { error in
            XCTAssertTrue("\(error)".contains("do not line up") && "\(error)".contains("another patient")
                          && "\(error)".contains("only 1 of 3 follow-up lesions"), "\(error)")
        }
        // Positions farther off than any shift considered, even for a single lesion each.
        let lone = [MatchLesion(name: "L1", position: Vector3(0, 0, 900))]
        XCTAssertThrowsError(try LesionMatcher.match(known: [baseline[0]], named: [], unnamed: lone, taken: [])) { error in
            XCTAssertTrue("\(error)".contains("largest shift considered (100.0 mm)"), "\(error)")
        }
    }

    /// A named follow-up lesion far from its baseline position after alignment is reported with its distance.
    func testImplausibleMoveOfNamedLesionIsReported() throws {
        let shift = Vector3(5, 5, 5)
        let named = [MatchLesion(name: "liver-a", position: baseline[0].position + shift),
                     MatchLesion(name: "liver-b", position: baseline[1].position + shift),
                     MatchLesion(name: "node-3", position: baseline[3].position + shift + Vector3(0, 0, 45))]
        let out = try LesionMatcher.match(known: baseline, named: named, unnamed: [], taken: [])
        XCTAssertEqual(out.implausibleMoves.map(\.0), ["node-3"])
        XCTAssertEqual(out.implausibleMoves[0].1, 45, accuracy: 1e-6)
    }

    func testHungarianFindsTheCheapestFullAssignmentAndRespectsTheGate() {
        // Greedy would take (0,0)=1 and then (1,1)=10; the optimum is (0,1)+(1,0) = 2+2.
        XCTAssertEqual(Hungarian.assign(cost: [[1, 2], [2, 10]], forbiddenAbove: 20), [1, 0])
        // Forbidden pairs are left out: row 1 has no allowed column.
        XCTAssertEqual(Hungarian.assign(cost: [[1, 30], [25, 30]], forbiddenAbove: 20), [0, nil])
        // Rectangular: three rows, two columns.
        XCTAssertEqual(Hungarian.assign(cost: [[5, 9], [1, 2], [3, 1]], forbiddenAbove: 20), [nil, 0, 1])
    }
}
