import Foundation
import HDF5Support
import TestSupport
import XCTest

final class HDF5SupportTests: XCTestCase {
    /// HDF5 is loaded by the first HDF5 call (dlopen), not linked; afterwards the process has it.
    func testHDF5IsLoadedByTheFirstCall() throws {
        let url = try SharedData.temporaryDirectory(for: self).appendingPathComponent("load.h5")
        let file = try HDF5File.create(at: url)
        XCTAssertTrue(HDF5Runtime.isLoaded)
        try file.setAttribute("unit", .text("mm"))
        XCTAssertEqual(try file.attribute("unit"), .text("mm"))
        try file.closeReportingErrors()
    }

    func testDatasetsRoundTripWithShapesAndKinds() throws {
        let url = try SharedData.temporaryDirectory(for: self).appendingPathComponent("round.h5")
        do {
            let file = try HDF5File.create(at: url)
            try file.createDataset("a/b/doubles", doubles: [1.5, -2, .infinity, 4, 5, 6], shape: [2, 3])
            try file.createDataset("a/ints", int64s: [Int64.min, 0, Int64.max])
            try file.createDataset("a/b/text", strings: ["", "plain", "ümlaut µm³ 肿瘤", "with,comma"])
            try file.createDataset("empty/doubles", doubles: [])
            try file.createDataset("empty/text", strings: [])
            try file.createDataset("empty/matrix", doubles: [], shape: [3, 0])
            try file.closeReportingErrors()
        }
        let file = try HDF5File.open(at: url)
        let doubles = try file.openDataset("a/b/doubles")
        XCTAssertEqual(doubles.shape, [2, 3])
        XCTAssertEqual(doubles.elementKind, .float)
        XCTAssertEqual(try doubles.readDoubles(), [1.5, -2, .infinity, 4, 5, 6])
        let group = try file.openGroup("/a")
        XCTAssertEqual(group.path, "/a")
        XCTAssertEqual(try group.openDataset("ints").readInt64s(), [Int64.min, 0, Int64.max])
        XCTAssertEqual(try group.openDataset("ints").readDoubles(), [-9.223372036854775808e18, 0, 9.223372036854775807e18])
        XCTAssertEqual(try file.openDataset("/a/b/text").readStrings(), ["", "plain", "ümlaut µm³ 肿瘤", "with,comma"])
        XCTAssertEqual(try file.openDataset("/a/b/text").elementKind, .string)
        XCTAssertEqual(try file.openDataset("empty/doubles").readDoubles(), [])
        XCTAssertEqual(try file.openDataset("empty/text").readStrings(), [])
        XCTAssertEqual(try file.openDataset("empty/matrix").shape, [3, 0])
        XCTAssertEqual(try file.childNames(), ["a", "empty"])
        XCTAssertEqual(try group.childNames(), ["b", "ints"])
        XCTAssertEqual(try file.kind(of: "a/b"), .group)
        XCTAssertEqual(try file.kind(of: "a/b/text"), .dataset)
        XCTAssertNil(try file.kind(of: "a/missing/deeper"))
        XCTAssertTrue(try file.exists("a/b/text"))
        XCTAssertFalse(try file.exists("nope/a/b"))
        XCTAssertTrue(try file.exists("/"))
    }

    func testAttributesOnFileGroupAndDataset() throws {
        let url = try SharedData.temporaryDirectory(for: self).appendingPathComponent("attrs.h5")
        let file = try HDF5File.create(at: url)
        try file.setAttribute("schema_version", .int64(1))
        try file.setAttribute("software", .text("LesionMap 0.1.0"))
        try file.setAttribute("software", .text("replaced"))
        let group = try file.createGroup("g/h")
        try group.setAttribute("columns", .texts(["patient_id", "lesion_id"]))
        try group.setAttribute("none", .texts([]))
        let dataset = try group.createDataset("v", doubles: [1, 2])
        try dataset.setAttribute("scale", .double(0.25))
        try dataset.setAttribute("weights", .doubles([1, 2, 3]))
        try dataset.setAttribute("counts", .int64s([7, 8]))
        file.close()

        let reopened = try HDF5File.open(at: url)
        XCTAssertEqual(try reopened.attribute("schema_version"), .int64(1))
        XCTAssertEqual(try reopened.attribute("software"), .text("replaced"))
        XCTAssertNil(try reopened.attribute("missing"))
        XCTAssertEqual(try reopened.attributeNames(), ["schema_version", "software"])
        let g = try reopened.openGroup("g/h")
        XCTAssertEqual(try g.attribute("columns")?.texts, ["patient_id", "lesion_id"])
        XCTAssertEqual(try g.attribute("none"), .texts([]))
        let v = try g.openDataset("v")
        XCTAssertEqual(try v.attribute("scale"), .double(0.25))
        XCTAssertEqual(try v.attribute("weights"), .doubles([1, 2, 3]))
        XCTAssertEqual(try v.attribute("counts"), .int64s([7, 8]))
        XCTAssertEqual(try v.attributeNames(), ["counts", "scale", "weights"])
        XCTAssertThrowsError(try v.removeAttribute("scale"), "the file is open read-only")
    }

    func testErrorsNameFileAndObject() throws {
        let dir = try SharedData.temporaryDirectory(for: self)
        let missing = dir.appendingPathComponent("missing.h5")
        XCTAssertThrowsError(try HDF5File.open(at: missing)) { error in
            let e = error as? HDF5Error
            XCTAssertEqual(e?.file, missing.path)
            XCTAssertEqual(e?.operation, "open file")
        }
        let garbage = dir.appendingPathComponent("garbage.h5")
        try Data("not an hdf5 file at all".utf8).write(to: garbage)
        XCTAssertThrowsError(try HDF5File.open(at: garbage)) { error in
            let e = error as? HDF5Error
            XCTAssertEqual(e?.file, garbage.path)
            XCTAssertFalse(e?.reason.isEmpty ?? true)
        }
        let url = dir.appendingPathComponent("f.h5")
        let file = try HDF5File.create(at: url)
        try file.createDataset("g/x", strings: ["a"])
        XCTAssertThrowsError(try file.createDataset("g/x", doubles: [1])) { error in
            XCTAssertEqual((error as? HDF5Error)?.object, "/g/x")
            XCTAssertEqual((error as? HDF5Error)?.operation, "create dataset")
        }
        XCTAssertThrowsError(try file.openDataset("g/x").readDoubles()) { error in
            XCTAssertEqual((error as? HDF5Error)?.object, "/g/x")
            XCTAssertTrue((error as? HDF5Error)?.reason.contains("not numbers") ?? false)
        }
        XCTAssertThrowsError(try file.openGroup("g/x")) { error in
            XCTAssertEqual((error as? HDF5Error)?.object, "/g/x")
        }
        XCTAssertThrowsError(try file.createDataset("y", doubles: [1, 2, 3], shape: [2, 2]))
        let group = try file.openGroup("g")
        file.close()
        XCTAssertThrowsError(try group.childNames()) { error in
            XCTAssertTrue((error as? HDF5Error)?.reason.contains("closed") ?? false)
        }
    }

    func testAtomicWriteReplacesWholeFileAndCleansUpOnFailure() throws {
        let dir = try SharedData.temporaryDirectory(for: self)
        let url = dir.appendingPathComponent("store.h5")
        try HDF5File.writeAtomically(to: url) { try $0.createDataset("v", doubles: [1]) }
        struct Abort: Error {}
        XCTAssertThrowsError(try HDF5File.writeAtomically(to: url) { file in
            try file.createDataset("v", doubles: [2])
            throw Abort()
        })
        XCTAssertEqual(try HDF5File.open(at: url).openDataset("v").readDoubles(), [1])
        XCTAssertEqual(HDF5File.leftoverTemporaryFiles(for: url), [])
        try HDF5File.writeAtomically(to: url) { try $0.createDataset("w", doubles: [3]) }
        let file = try HDF5File.open(at: url)
        XCTAssertEqual(try file.childNames(), ["w"])
        let names = try FileManager.default.contentsOfDirectory(atPath: dir.path)
        XCTAssertEqual(names, ["store.h5"])
    }

    func testConcurrentUseIsSerialised() throws {
        let dir = try SharedData.temporaryDirectory(for: self)
        let failures = NSLock()
        var errors: [Error] = []
        DispatchQueue.concurrentPerform(iterations: 8) { index in
            do {
                let url = dir.appendingPathComponent("c\(index).h5")
                let file = try HDF5File.create(at: url)
                for k in 0..<20 {
                    try file.createDataset("g\(k)/v", doubles: [Double](repeating: Double(index), count: 100))
                }
                file.close()
                let again = try HDF5File.open(at: url)
                for k in 0..<20 where try again.openDataset("g\(k)/v").readDoubles() != [Double](repeating: Double(index), count: 100) {
                    throw HDF5Error(file: url.path, object: "g\(k)/v", operation: "compare", reason: "mismatch")
                }
            } catch {
                failures.lock()
                errors.append(error)
                failures.unlock()
            }
        }
        XCTAssertTrue(errors.isEmpty, "\(errors)")
    }
}
