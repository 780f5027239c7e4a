import Dispatch
import Foundation
import ImagingCore
import Synthesis
import XCTest

final class RenderingTests: XCTestCase {
    /// 2.4 x 2.4 x 6 mm voxels: coarse enough for debug-build speed, fine enough for texture.
    static let testGrid = [110, 90, 32]

    /// Every patient of `options` with its scan, rendered on all cores.
    private func renderCohort(_ options: SynthesisOptions) throws -> [(SyntheticPatient, SyntheticScan)] {
        let patients = try SyntheticPlanner.cohort(options)
        let lock = NSLock()
        var scans = [Int: SyntheticScan]()
        DispatchQueue.concurrentPerform(iterations: patients.count) { n in
            let scan = SyntheticScanModel.render(patients[n], options: options)
            lock.lock(); scans[n] = scan; lock.unlock()
        }
        return patients.indices.map { (patients[$0], scans[$0]!) }
    }

    func testLesionsAreLabelledInsideTheBodyAndApart() throws {
        let options = SynthesisOptions(patients: 5, seed: 4, gridSize: Self.testGrid)
        for (p, scan) in try renderCohort(options) {
            let grid = scan.labels.grid
            XCTAssertEqual(scan.labels.labels, p.lesions.map(\.label), p.id)
            XCTAssertEqual(scan.lesionVoxelCounts.count, p.lesions.count)
            for (lesion, count) in zip(p.lesions, scan.lesionVoxelCounts) {
                let mask = scan.labels.mask(label: lesion.label)
                XCTAssertEqual(mask.count, count, "\(p.id) \(lesion.id)")
                for (n, inside) in mask.voxels.enumerated() where inside {
                    let w = grid.world(at: grid.index(ofLinear: n))
                    XCTAssertTrue(p.anatomy.tissue(at: w).isInsideBody, "\(p.id) \(lesion.id) voxel \(w) outside the body")
                }
                // No voxel of another lesion within 8 mm.
                let box = mask.boundingBox!.expanded(by: Index3(5, 5, 3), within: grid.size)
                let near = Morphology.dilate(mask.cropped(to: box), radiusMM: 8)
                let labels = scan.labels.cropped(to: box)
                for (v, l) in zip(near.voxels, labels.voxels) where v && l != 0 {
                    XCTAssertEqual(l, lesion.label, "\(p.id): lesion \(l) within 8 mm of \(lesion.id)")
                }
            }
            // Air outside the body, soft-tissue CT numbers inside lesions.
            XCTAssertLessThan(Double(scan.ct.voxels[0]), -900)
            let lesionHU = zip(scan.labels.voxels, scan.ct.voxels).filter { $0.0 != 0 }.map { Double($0.1) }
            let mean = lesionHU.reduce(0, +) / Double(lesionHU.count)
            XCTAssertTrue((-20...200).contains(mean), "\(p.id) lesion mean \(mean) HU")
        }
    }

    /// Mean 3x3x3 local variance inside each lesion rises with its infiltration across a 20-patient cohort.
    func testInfiltrationMakesLesionTextureHeterogeneous() throws {
        let options = SynthesisOptions(patients: 20, seed: 1, gridSize: Self.testGrid)
        var u = [Double](), localVariance = [Double]()
        for (p, scan) in try renderCohort(options) {
            for lesion in p.lesions {
                if let v = meanLocalVariance(scan, label: lesion.label) {
                    u.append(lesion.infiltration)
                    localVariance.append(v)
                }
            }
        }
        XCTAssertGreaterThan(u.count, 50)
        let rho = spearman(u, localVariance)
        print("Synthesis texture check: Spearman(u, mean local variance) = \(rho) over \(u.count) lesions")
        XCTAssertGreaterThan(rho, 0.5)
    }

    /// Mean over lesion voxels of the variance of their 3x3x3 neighbours inside the lesion (nil below 10 voxels).
    private func meanLocalVariance(_ scan: SyntheticScan, label: Int32) -> Double? {
        guard let box = scan.labels.mask(label: label).boundingBox else { return nil }
        let labels = scan.labels.cropped(to: box), ct = scan.ct.cropped(to: box)
        let n = labels.grid.size
        var total = 0.0, count = 0
        for k in 0..<n.nz {
            for j in 0..<n.ny {
                for i in 0..<n.nx where labels[i, j, k] == label {
                    var s = 0.0, s2 = 0.0, c = 0.0
                    for dk in -1...1 {
                        for dj in -1...1 {
                            for di in -1...1 {
                                let a = i + di, b = j + dj, d = k + dk
                                guard labels.grid.contains(a, b, d), labels[a, b, d] == label else { continue }
                                let x = Double(ct[a, b, d])
                                s += x; s2 += x * x; c += 1
                            }
                        }
                    }
                    if c >= 5 { total += s2 / c - (s / c) * (s / c); count += 1 }
                }
            }
        }
        return count >= 10 ? total / Double(count) : nil
    }

    func testRingIsBrighterAroundInfiltratedLungLesions() throws {
        // Same patient rendered twice: once as drawn, once with every lesion's infiltration set to 0.
        let options = SynthesisOptions(patients: 10, seed: 2, gridSize: Self.testGrid)
        guard let patient = try SyntheticPlanner.cohort(options).first(where: { p in
            p.lesions.contains { $0.location == .lung && $0.infiltration > 0.5 && $0.shape.radius > 8 }
        }) else { return XCTFail("no infiltrated lung lesion in the test cohort") }
        var cold = patient
        for n in cold.lesions.indices { cold.lesions[n].infiltration = 0.001 }
        let hot = SyntheticScanModel.render(patient, options: options)
        let plain = SyntheticScanModel.render(cold, options: options)
        let lesion = patient.lesions.first { $0.location == .lung && $0.infiltration > 0.5 && $0.shape.radius > 8 }!
        let mask = hot.labels.mask(label: lesion.label)
        let ring = Morphology.dilate(mask, radiusMM: 4).subtracting(mask)
        var dHot = 0.0, n = 0.0
        for (v, inRing) in ring.voxels.enumerated() where inRing && hot.labels.voxels[v] == 0 {
            dHot += Double(hot.ct.voxels[v]) - Double(plain.ct.voxels[v]); n += 1
        }
        // ΔI = K · 150 · u · exp(-d/2.5) on average over 0-4 mm is tens of HU for u > 0.5.
        XCTAssertGreaterThan(dHot / n, 20, "\(patient.id) \(lesion.id) ring brightening \(dHot / n) HU")
    }
}
