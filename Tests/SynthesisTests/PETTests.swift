import Foundation
import ImageIO
import ImagingCore
import Synthesis
import TestSupport
import XCTest

/// `lesionmap synth --pet`: the synthetic FDG PET (`SyntheticPETModel`) and the cohort files it adds.
final class PETTests: XCTestCase {
    static let smallGrid = [66, 54, 24]

    func testPETSharesTheCTFrameOnFourMillimetreVoxelsAndIsDeterministic() throws {
        let options = SynthesisOptions(patients: 2, seed: 5, gridSize: Self.smallGrid, pet: true)
        let patient = SyntheticPlanner.patient(index: 0, options: options)
        let a = SyntheticPETModel.render(patient, options: options)
        let b = SyntheticPETModel.render(patient, options: options)
        XCTAssertEqual(a.suv.voxels.map(\.bitPattern), b.suv.voxels.map(\.bitPattern))
        let pet = a.suv.grid, ct = options.grid
        XCTAssertEqual(pet.size, Size3(66, 54, 48))
        XCTAssertEqual([pet.spacing.x, pet.spacing.y, pet.spacing.z], [4, 4, 4])
        // Both grids cover the same field of view: their outer corners coincide in world coordinates.
        for axis in 0..<3 {
            XCTAssertEqual(pet.origin[axis] - pet.spacing[axis] / 2, ct.origin[axis] - ct.spacing[axis] / 2, accuracy: 1e-9)
            XCTAssertEqual(pet.origin[axis] + (Double(pet.size[axis]) - 0.5) * pet.spacing[axis],
                           ct.origin[axis] + (Double(ct.size[axis]) - 0.5) * ct.spacing[axis], accuracy: 1e-9)
        }
        XCTAssertEqual(pet.direction, ct.direction)
        XCTAssertTrue(a.suv.voxels.allSatisfy { $0 >= 0 && $0.isFinite })
        // SUV are not whole numbers: the image is not rounded anywhere.
        XCTAssertGreaterThan(a.suv.voxels.filter { $0 != $0.rounded() }.count, a.suv.voxels.count / 2)
    }

    func testBackgroundUptakeIsPlausible() throws {
        let options = SynthesisOptions(patients: 1, seed: 9, gridSize: Self.smallGrid, pet: true)
        let patient = SyntheticPlanner.patient(index: 0, options: options)
        let pet = SyntheticPETModel.render(patient, options: options)
        let g = pet.suv.grid
        var byTissue: [SyntheticTissue: [Float]] = [:]
        for k in 0..<g.size.nz { for j in 0..<g.size.ny { for i in 0..<g.size.nx {
            let w = g.world(at: Index3(i, j, k))
            // Voxels at least 10 mm from every lesion and inside one tissue along each axis (no partial volume).
            guard patient.lesions.allSatisfy({ ($0.shape.center - w).length > $0.shape.boundingRadius + 10 }) else { continue }
            let t = patient.anatomy.tissue(at: w)
            let around = [Vector3(4, 0, 0), Vector3(-4, 0, 0), Vector3(0, 4, 0), Vector3(0, -4, 0), Vector3(0, 0, 4), Vector3(0, 0, -4)]
            guard around.allSatisfy({ patient.anatomy.tissue(at: w + $0) == t }) else { continue }
            byTissue[t, default: []].append(pet.suv[i, j, k])
        } } }
        func median(_ t: SyntheticTissue) throws -> Double {
            let v = try XCTUnwrap(byTissue[t], "\(t) present").sorted()
            return Double(v[v.count / 2])
        }
        XCTAssertEqual(try median(.liver), 2.0, accuracy: 0.15)
        XCTAssertEqual(try median(.lung), 0.5, accuracy: 0.15)
        XCTAssertEqual(try median(.air), 0, accuracy: 0.05)
        if byTissue[.aorta] != nil { XCTAssertEqual(try median(.aorta), 1.5, accuracy: 0.3) }
    }

    func testLesionUptakeFallsWithInfiltrationAsDocumented() throws {
        let options = SynthesisOptions(patients: 6, seed: 21, gridSize: Self.smallGrid, pet: true)
        var u = [Double](), viable = [Double](), measuredMax = [Double]()
        for index in 0..<options.patients {
            let patient = SyntheticPlanner.patient(index: index, options: options)
            let pet = SyntheticPETModel.render(patient, options: options)
            let g = pet.suv.grid
            for (m, lesion) in patient.lesions.enumerated() {
                // S_v = (3 + 7 (1 - u)) e^(0.15 z): within the nuisance's ±4 SD of the formula without it.
                let nominal = 3 + 7 * (1 - lesion.infiltration)
                XCTAssertGreaterThan(pet.viableSUV[m], nominal * Foundation.exp(-0.6))
                XCTAssertLessThan(pet.viableSUV[m], nominal * Foundation.exp(0.6))
                XCTAssertEqual(pet.viableSUV[m], SyntheticPETModel.viableSUV(lesion, patientSeed: patient.seed))
                guard lesion.shape.radius >= 8 else { continue }
                var highest: Float = 0
                for k in 0..<g.size.nz { for j in 0..<g.size.ny { for i in 0..<g.size.nx
                    where lesion.shape.normalizedRadius(g.world(at: Index3(i, j, k))) <= 1 {
                    highest = max(highest, pet.suv[i, j, k])
                } } }
                u.append(lesion.infiltration); viable.append(pet.viableSUV[m]); measuredMax.append(Double(highest))
            }
        }
        XCTAssertGreaterThanOrEqual(u.count, 8)
        XCTAssertLessThan(spearman(viable, u), -0.8)
        XCTAssertLessThan(spearman(measuredMax, u), -0.5, "SUVmax of the rendered PET follows the hidden infiltration")
    }

    func testNoiselessUptakeIsTheDocumentedFormulaInsideASmallNecrosisFreeLesion() throws {
        let options = SynthesisOptions(patients: 4, seed: 3, gridSize: Self.smallGrid, pet: true)
        var checked = 0
        for index in 0..<options.patients {
            let patient = SyntheticPlanner.patient(index: index, options: options)
            let pet = SyntheticPETModel.render(patient, options: options, blurAndNoise: false)
            // Lesions of radius <= 6 mm have no necrosis (ρ_n = 0): S = S_v (1 + h H), so the true mean is
            // S_v within the heterogeneity's spread.
            for (m, lesion) in patient.lesions.enumerated() where lesion.shape.radius <= 6 {
                let h = 0.10 + 0.15 * (1 - lesion.infiltration)
                XCTAssertEqual(pet.trueMeanSUV[m], pet.viableSUV[m], accuracy: 4 * h * pet.viableSUV[m])
                checked += 1
            }
            for (m, lesion) in patient.lesions.enumerated() where lesion.shape.radius >= 14 && lesion.infiltration < 0.3 {
                // Large cold lesions: necrosis lowers the mean below S_v.
                XCTAssertLessThan(pet.trueMeanSUV[m], pet.viableSUV[m])
            }
        }
        XCTAssertGreaterThan(checked, 0)
    }

    func testCohortWithPETAddsItsFilesAndLeavesTheCTFilesAsWithout() throws {
        let root = try SharedData.temporaryDirectory(for: self)
        let plain = SynthesisOptions(patients: 2, seed: 77, gridSize: Self.smallGrid)
        var withPET = plain
        withPET.pet = true
        try SyntheticCohort.generate(plain, into: root.appendingPathComponent("ct"))
        try SyntheticCohort.generate(withPET, into: root.appendingPathComponent("petct"))
        func read(_ sub: String, _ name: String) throws -> Data {
            try Data(contentsOf: root.appendingPathComponent(sub).appendingPathComponent(name))
        }
        for name in ["images/SYN001_ct.nii.gz", "masks/SYN002_lesions.nii.gz", "patients.csv"] {
            XCTAssertEqual(try read("ct", name), try read("petct", name), name)
        }
        // lesions.csv: the same rows, each with its patient's PET in `image_pt`.
        let lesionsCT = try readCSV(root.appendingPathComponent("ct/lesions.csv"))
        let lesionsPET = try readCSV(root.appendingPathComponent("petct/lesions.csv"))
        XCTAssertEqual(lesionsCT.count, lesionsPET.count)
        for (a, b) in zip(lesionsCT, lesionsPET) {
            XCTAssertNil(a["image_pt"])
            XCTAssertEqual(b.filter { $0.key != "image_pt" }, a)
            XCTAssertEqual(b["image_pt"], "images/\(b["patient_id"]!)_pt.nii.gz")
        }
        let plainRecord = String(decoding: try read("ct", "synthesis.json"), as: UTF8.self)
        let petRecord = String(decoding: try read("petct", "synthesis.json"), as: UTF8.self)
        XCTAssertFalse(plainRecord.contains("pet"), plainRecord)
        XCTAssertTrue(petRecord.contains("\"pet\" : true") && petRecord.contains("images/SYN002_pt.nii.gz"), petRecord)
        XCTAssertFalse(FileManager.default.fileExists(atPath: root.appendingPathComponent("ct/images/SYN001_pt.nii.gz").path))

        let truthCT = try readCSV(root.appendingPathComponent("ct/truth.csv"))
        let truthPET = try readCSV(root.appendingPathComponent("petct/truth.csv"))
        XCTAssertEqual(truthCT.count, truthPET.count)
        for (a, b) in zip(truthCT, truthPET) {
            for (key, value) in a { XCTAssertEqual(b[key], value, key) }
            XCTAssertNil(a["suv_viable"])
            let viable = try XCTUnwrap(Double(b["suv_viable"] ?? ""))
            let mean = try XCTUnwrap(Double(b["suv_mean_true"] ?? ""))
            XCTAssertGreaterThan(viable, 0)
            XCTAssertGreaterThan(mean, 0)
        }
        let image = try NIfTI.readImage(root.appendingPathComponent("petct/images/SYN001_pt.nii.gz"))
        XCTAssertEqual(image.grid.size, Size3(66, 54, 48))
        let patient = SyntheticPlanner.patient(index: 0, options: withPET)
        XCTAssertEqual(image.voxels, SyntheticPETModel.render(patient, options: withPET).suv.voxels)
        // PET with follow-up scans is refused (the follow-ups have no PET yet).
        XCTAssertThrowsError(try SyntheticCohort.generate(SynthesisOptions(patients: 1, seed: 1, gridSize: Self.smallGrid,
                                                                           timepoints: 2, pet: true),
                                                          into: root.appendingPathComponent("both"))) { e in
            XCTAssertTrue("\(e)".contains("--pet") && "\(e)".contains("--timepoints 2"), "\(e)")
        }
        // Asking again with the other option is refused rather than mixing cohorts.
        XCTAssertThrowsError(try SyntheticCohort.generate(plain, into: root.appendingPathComponent("petct"))) { e in
            XCTAssertTrue("\(e)".contains("with PET"), "\(e)")
        }
    }
}
