import XCTest
import ImagingCore
import ImageIO
import TestSupport
@testable import Cohort

final class CohortShardingTests: XCTestCase {
    func testPartitionIsConsecutiveBalancedAndNeverEmpty() {
        // 10 lesion rows into 2: the cut at the boundary nearest 5 (after 1+4 = 5).
        XCTAssertEqual(CohortSharding.partition(weights: [1, 4, 2, 2, 1], parts: 2), [0..<2, 2..<5])
        // Cuts nearest 1/3 and 2/3 of 12 rows: 4 (after 3+1) exactly; 8 lies between 7 and 9, the tie goes to the earlier cut.
        XCTAssertEqual(CohortSharding.partition(weights: [3, 1, 3, 2, 1, 2], parts: 3), [0..<2, 2..<3, 3..<6])
        // One huge patient: every other shard still gets a patient.
        XCTAssertEqual(CohortSharding.partition(weights: [100, 1, 1, 1], parts: 4), [0..<1, 1..<2, 2..<3, 3..<4])
        XCTAssertEqual(CohortSharding.partition(weights: [1, 1, 1, 100], parts: 2), [0..<3, 3..<4])
        XCTAssertEqual(CohortSharding.partition(weights: [2, 2], parts: 1), [0..<2])
    }

    /// A manifest of five patients whose image paths are relative (one through "./" and one via "..",
    /// leaving the folder) and absolute, with a quoted covariate.
    private func makeManifest() throws -> (dir: URL, manifest: URL) {
        let dir = try SharedData.temporaryDirectory(for: self)
        let manifest = dir.appendingPathComponent("cohort")
        let grid = ImageGrid(size: Size3(8, 8, 4), spacing: Vector3(1, 1, 2))
        let image = Volume<Float>(grid: grid, voxels: (0..<grid.voxelCount).map { Float($0 % 30) })
        var labels = LabelMap(grid: grid, repeating: 0)
        labels[2, 2, 1] = 1; labels[5, 5, 2] = 2
        for sub in ["cohort/img", "cohort/masks", "elsewhere"] {
            try FileManager.default.createDirectory(at: dir.appendingPathComponent(sub), withIntermediateDirectories: true)
        }
        try NIfTI.write(image, to: dir.appendingPathComponent("cohort/img/ct.nii.gz"))
        try NIfTI.write(labels, to: dir.appendingPathComponent("cohort/masks/m.nii.gz"))
        try NIfTI.write(image, to: dir.appendingPathComponent("elsewhere/outside.nii.gz"))
        let absolute = dir.appendingPathComponent("cohort/masks/m.nii.gz").path
        try """
        patient_id,pfs_months,pfs_event,cov_site
        P1,10,1,"Leeds, UK"
        P2,4,0,Lyon
        P3,7,1,Lyon
        P4,2,1,Oslo
        P5,9,0,Oslo
        """.write(to: manifest.appendingPathComponent("patients.csv"), atomically: true, encoding: .utf8)
        try """
        patient_id,lesion_id,image,mask,roi,location
        P1,a,img/ct.nii.gz,masks/m.nii.gz,1,liver
        P2,a,./img/ct.nii.gz,masks/m.nii.gz,1,lung
        P1,b,img/ct.nii.gz,masks/m.nii.gz,2,lung
        P3,a,../elsewhere/outside.nii.gz,\(absolute),1,bone
        P3,b,img/ct.nii.gz,masks/m.nii.gz,2,bone
        P4,a,img/ct.nii.gz,masks/m.nii.gz,1,liver
        P5,a,img/ct.nii.gz,masks/m.nii.gz,1,liver
        P5,b,img/ct.nii.gz,masks/m.nii.gz,2,liver
        """.write(to: manifest.appendingPathComponent("lesions.csv"), atomically: true, encoding: .utf8)
        return (dir, manifest)
    }

    func testShardsAreCompleteManifestsInOrderWithPathsResolvingAsTheOriginal() throws {
        let (dir, manifest) = try makeManifest()
        let out = dir.appendingPathComponent("shards")
        let shards = try CohortSharding.split(manifest, shards: 3, into: out)
        // Lesion rows per patient 2, 1, 2, 1, 2 (P1's rows are not adjacent): cuts nearest 2.67 and 5.33 rows
        // fall after P2 (3 rows) and after P3 (5 rows).
        XCTAssertEqual(shards.map(\.patients), [["P1", "P2"], ["P3"], ["P4", "P5"]])
        XCTAssertEqual(shards.map(\.lesionRows), [3, 2, 3])

        let original = try CohortManifest.load(manifest)
        var patients: [PatientEntry] = []
        for d in shards {
            let folder = CohortSharding.shardFolder(d.shard, in: out)
            XCTAssertEqual(CohortSharding.description(of: folder), d)
            XCTAssertEqual(d.source, manifest.standardizedFileURL.path)
            XCTAssertEqual(d.shards, 3)
            let shard = try CohortManifest.load(folder)
            patients += shard.patients
            // Every image and mask resolves, to the same file and the same path relative to the manifest folder.
            for (a, b) in zip(shard.patients.flatMap(\.lesions), original.patients.filter { d.patients.contains($0.id) }.flatMap(\.lesions)) {
                for (x, y) in [(a.image, b.image), (a.mask, b.mask)] {
                    XCTAssertEqual(x.resolvingSymlinksInPath().path, y.resolvingSymlinksInPath().path)
                    XCTAssertEqual(relative(x, to: shard.folder), relative(y, to: original.folder))
                }
            }
        }
        // Every patient once, in manifest order, with its lesion rows in order and its outcomes and covariates.
        XCTAssertEqual(patients.map(\.id), original.patients.map(\.id))
        for (a, b) in zip(patients, original.patients) {
            XCTAssertEqual(a.outcomes, b.outcomes)
            XCTAssertEqual(a.lesions.map(\.lesionID), b.lesions.map(\.lesionID))
            XCTAssertEqual(a.lesions.map(\.location), b.lesions.map(\.location))
        }
        let shard1Lesions = try String(contentsOf: out.appendingPathComponent("shard-1/lesions.csv"), encoding: .utf8)
        XCTAssertEqual(shard1Lesions, "patient_id,lesion_id,image,mask,roi,location\n"
                       + "P1,a,img/ct.nii.gz,masks/m.nii.gz,1,liver\nP2,a,img/ct.nii.gz,masks/m.nii.gz,1,lung\n"
                       + "P1,b,img/ct.nii.gz,masks/m.nii.gz,2,lung\n", "rows in manifest order; './img' written canonically")
        let shard2 = try String(contentsOf: out.appendingPathComponent("shard-2/lesions.csv"), encoding: .utf8)
        XCTAssertTrue(shard2.contains(dir.appendingPathComponent("elsewhere/outside.nii.gz").standardizedFileURL.path),
                      "a path leaving the manifest folder becomes absolute: \(shard2)")
        let shard1 = try String(contentsOf: out.appendingPathComponent("shard-1/patients.csv"), encoding: .utf8)
        XCTAssertEqual(shard1, "patient_id,pfs_months,pfs_event,cov_site\nP1,10,1,\"Leeds, UK\"\nP2,4,0,Lyon\n")

        // Splitting again (fewer shards) replaces the earlier shard folders it reuses.
        let again = try CohortSharding.split(manifest, shards: 2, into: out)
        XCTAssertEqual(again.map(\.patients), [["P1", "P2"], ["P3", "P4", "P5"]])
        XCTAssertEqual(try CohortManifest.load(CohortSharding.shardFolder(2, in: out)).patients.map(\.id), ["P3", "P4", "P5"])
    }

    func testShardingRefusesTooManyShardsAndForeignFolders() throws {
        let (dir, manifest) = try makeManifest()
        XCTAssertThrowsError(try CohortSharding.split(manifest, shards: 6, into: dir.appendingPathComponent("s"))) {
            XCTAssertTrue("\($0)".contains("has 5 patients, fewer than the 6 shards"), "\($0)")
        }
        XCTAssertThrowsError(try CohortSharding.split(manifest, shards: 0, into: dir.appendingPathComponent("s")))
        let foreign = dir.appendingPathComponent("t/shard-1")
        try FileManager.default.createDirectory(at: foreign, withIntermediateDirectories: true)
        try Data("x".utf8).write(to: foreign.appendingPathComponent("notes.txt"))
        XCTAssertThrowsError(try CohortSharding.split(manifest, shards: 2, into: dir.appendingPathComponent("t"))) {
            XCTAssertTrue("\($0)".contains("not a shard folder"), "\($0)")
        }
        XCTAssertTrue(FileManager.default.fileExists(atPath: foreign.appendingPathComponent("notes.txt").path))
        // An invalid manifest is refused as `extract` refuses it, before any shard is written.
        try "patient_id\nP9\n".write(to: manifest.appendingPathComponent("patients.csv"), atomically: true, encoding: .utf8)
        XCTAssertThrowsError(try CohortSharding.split(manifest, shards: 2, into: dir.appendingPathComponent("u"))) {
            XCTAssertTrue($0 is ManifestError, "\($0)")
        }
        XCTAssertFalse(FileManager.default.fileExists(atPath: dir.appendingPathComponent("u").path))
    }
}
