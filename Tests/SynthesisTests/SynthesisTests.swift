import Foundation
import ImageIO
import ImagingCore
import Synthesis
import TestSupport
import XCTest

final class RandomTests: XCTestCase {
    func testGeneratorsMatchReferenceImplementation() {
        // Values from an independent Python implementation of SplitMix64 and xoshiro256**.
        var sm = SplitMix64(seed: 0)
        XCTAssertEqual(sm.next(), 0xE220_A839_7B1D_CDAF)
        var rng = SynthesisRandom(seed: 42)
        XCTAssertEqual(rng.next(), 0x1578_0B2E_0C2E_C716)
        XCTAssertEqual(rng.next(), 0x6104_D986_6D11_3A7E)
        XCTAssertEqual(rng.next(), 0xAE17_5332_39E4_99A1)
    }

    func testDistributionsHaveTheirMoments() {
        var rng = SynthesisRandom(seed: 9)
        let n = 200_000
        var normals = [Double](), betas = [Double]()
        for _ in 0..<n { normals.append(rng.normal()); betas.append(rng.beta(2, 2)) }
        let mean = normals.reduce(0, +) / Double(n)
        let variance = normals.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / Double(n)
        XCTAssertEqual(mean, 0, accuracy: 0.01)
        XCTAssertEqual(variance, 1, accuracy: 0.02)
        // Beta(2, 2): mean 1/2, variance 1/20.
        let bm = betas.reduce(0, +) / Double(n)
        XCTAssertEqual(bm, 0.5, accuracy: 0.005)
        XCTAssertEqual(betas.reduce(0) { $0 + ($1 - bm) * ($1 - bm) } / Double(n), 0.05, accuracy: 0.002)
        // A random rotation is orthonormal with determinant +1.
        let r = rng.rotation()
        XCTAssertEqual(r.determinant, 1, accuracy: 1e-12)
        XCTAssertLessThan((r * r.transposed).maxDifference(to: .identity), 1e-12)
    }
}

final class PlannerTests: XCTestCase {
    func testLesionCountsIdsAndSeparation() throws {
        let patients = try SyntheticPlanner.cohort(SynthesisOptions(patients: 300, seed: 3))
        var seen = Set<SyntheticLocation>()
        for p in patients {
            XCTAssertTrue((1...10).contains(p.lesions.count), "\(p.id) has \(p.lesions.count) lesions")
            XCTAssertEqual(p.lesions.map(\.label), (1...p.lesions.count).map { Int32($0) })
            XCTAssertEqual(p.lesions.map(\.id), (1...p.lesions.count).map { String(format: "L%02d", $0) })
            let irradiated = p.lesions.filter(\.irradiated).count
            XCTAssertTrue((1...2).contains(irradiated), "\(p.id): \(irradiated) irradiated")
            for (n, a) in p.lesions.enumerated() {
                seen.insert(a.location)
                XCTAssertTrue((0.001...0.999).contains(a.infiltration))
                XCTAssertTrue((4...25).contains(a.shape.radius), "\(p.id) \(a.id) radius \(a.shape.radius)")
                for b in p.lesions[(n + 1)...] {
                    let gap = (a.shape.center - b.shape.center).length - a.shape.boundingRadius - b.shape.boundingRadius
                    XCTAssertGreaterThanOrEqual(gap, SyntheticPlanner.minimumGapMM, "\(p.id) \(a.id)-\(b.id)")
                }
                XCTAssertTrue(p.anatomy.tissue(at: a.shape.center).isInsideBody)
            }
        }
        XCTAssertEqual(seen, Set(SyntheticLocation.allCases))
        XCTAssertEqual(Set(patients.map(\.kvp)), [100, 120, 140])
    }

    func testSitesMatchTheirTissue() throws {
        for p in try SyntheticPlanner.cohort(SynthesisOptions(patients: 60, seed: 5)) {
            for l in p.lesions {
                let t = p.anatomy.tissue(at: l.shape.center)
                switch l.location {
                case .lung: XCTAssertEqual(t, .lung, "\(p.id) \(l.id)")
                case .liver: XCTAssertEqual(t, .liver, "\(p.id) \(l.id)")
                case .bone: XCTAssertEqual(t, .cancellousBone, "\(p.id) \(l.id)")
                case .lymphNode: XCTAssertEqual(t, .softTissue, "\(p.id) \(l.id)")
                case .softTissue: XCTAssertTrue([.fat, .softTissue].contains(t), "\(p.id) \(l.id)")
                case .adrenal: XCTAssertTrue([.adrenal, .softTissue].contains(t), "\(p.id) \(l.id)")
                }
            }
        }
    }

    func testKVPShiftsFollowTheDocumentedDirection() {
        XCTAssertGreaterThan(SyntheticTissue.corticalBone.hu(kvp: 100), SyntheticTissue.corticalBone.hu(kvp: 140) + 200)
        XCTAssertGreaterThan(SyntheticTissue.liver.hu(kvp: 100), SyntheticTissue.liver.hu(kvp: 120))
        XCTAssertLessThan(SyntheticTissue.fat.hu(kvp: 100), SyntheticTissue.fat.hu(kvp: 140))
        XCTAssertEqual(SyntheticTissue.lung.hu(kvp: 100), SyntheticTissue.lung.hu(kvp: 140))
        XCTAssertEqual(SyntheticTissue.softTissue.hu(kvp: 120), 45)
    }
}

final class OutcomeModelTests: XCTestCase {
    /// Kaplan-Meier median PFS of the lowest and highest quartile of `statistic`.
    private func quartileMedians(_ patients: [SyntheticPatient], by statistic: (SyntheticPatient) -> Double)
        -> (low: Double, high: Double) {
        let sorted = patients.sorted { statistic($0) < statistic($1) }
        let q = sorted.count / 4
        func median(_ group: ArraySlice<SyntheticPatient>) -> Double {
            kaplanMeierMedian(group.map { ($0.outcome.pfsMonths, $0.outcome.pfsEvent) }) ?? .infinity
        }
        return (median(sorted[..<q]), median(sorted[(sorted.count - q)...]))
    }

    func testMinimumDriverLeastInfiltratedLesionSetsPFS() throws {
        let patients = try SyntheticPlanner.cohort(SynthesisOptions(patients: 300, seed: 21, outcomeDriver: .minimum))
        let byMin = quartileMedians(patients, by: \.minInfiltration)
        XCTAssertLessThan(byMin.low * 1.5, byMin.high, "KM median PFS Q1 \(byMin.low) vs Q4 \(byMin.high) of min u")
        let events = Double(patients.filter(\.outcome.pfsEvent).count) / 300
        XCTAssertTrue((0.55...0.78).contains(events), "PFS event rate \(events)")
        for p in patients {
            XCTAssertLessThanOrEqual(p.outcome.pfsMonths, p.outcome.osMonths, p.id)
            let expected = 4 * (0.33 - p.minInfiltration) + 3 * (p.sdInfiltration - 0.12)
                + 0.3 * (log(1 + p.tumourBurdenML / 10) - 1)
            XCTAssertEqual(p.outcome.linearPredictor, expected, accuracy: 1e-12)
        }
        // The linear predictor follows min u more closely than mean u or max u.
        let eta = patients.map(\.outcome.linearPredictor)
        let rMin = spearman(eta, patients.map(\.minInfiltration))
        XCTAssertLessThan(rMin, spearman(eta, patients.map(\.meanInfiltration)))
        XCTAssertLessThan(rMin, spearman(eta, patients.map(\.maxInfiltration)))
    }

    func testMeanDriverUsesMeanInfiltrationOnly() throws {
        let options = SynthesisOptions(patients: 300, seed: 21, outcomeDriver: .mean)
        let patients = try SyntheticPlanner.cohort(options)
        let byMean = quartileMedians(patients, by: \.meanInfiltration)
        XCTAssertLessThan(byMean.low * 1.5, byMean.high, "KM median PFS Q1 \(byMean.low) vs Q4 \(byMean.high) of mean u")
        for p in patients {
            let expected = 4 * (0.52 - p.meanInfiltration) + 0.3 * (log(1 + p.tumourBurdenML / 10) - 1)
            XCTAssertEqual(p.outcome.linearPredictor, expected, accuracy: 1e-12)
        }
        let eta = patients.map(\.outcome.linearPredictor)
        let rMean = spearman(eta, patients.map(\.meanInfiltration))
        XCTAssertLessThan(rMean, spearman(eta, patients.map(\.minInfiltration)))
        // The driver changes outcomes only: lesions are the same as under the minimum driver.
        let other = try SyntheticPlanner.cohort(SynthesisOptions(patients: 300, seed: 21, outcomeDriver: .minimum))
        XCTAssertEqual(patients.map(\.infiltrations), other.map(\.infiltrations))
    }

    func testLesionResponseFollowsLesionInfiltration() throws {
        let lesions = try SyntheticPlanner.cohort(SynthesisOptions(patients: 300, seed: 8)).flatMap(\.lesions)
        func meanU(_ r: SyntheticResponse) -> Double {
            let us = lesions.filter { $0.response == r }.map(\.infiltration)
            return us.reduce(0, +) / Double(us.count)
        }
        XCTAssertGreaterThan(meanU(.CR), meanU(.PR))
        XCTAssertGreaterThan(meanU(.PR), meanU(.SD))
        XCTAssertGreaterThan(meanU(.SD), meanU(.PD))
    }
}
