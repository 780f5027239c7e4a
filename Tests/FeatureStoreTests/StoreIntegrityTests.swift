import FeatureStore
import Foundation
import HDF5Support
import TestSupport
import XCTest

/// Checksums of store datasets (issue 12, item 6): bytes damaged after writing are refused,
/// naming the store and the dataset, instead of being read and used.
final class StoreIntegrityTests: XCTestCase {
    /// A deterministic generator for the "random" damage, so a failure can be replayed.
    private struct SplitMix: RandomNumberGenerator {
        var state: UInt64
        mutating func next() -> UInt64 {
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
    }

    /// 300 lesions of 3 patients, 40 features (96 kB of feature values), and a location text
    /// column of about 18 kB.
    static func contents() throws -> StoreContents {
        let rows = 300
        let ids = (0..<rows).map { "P\($0 % 3)" }
        let lesions = try Table([
            "patient_id": .text(ids),
            "lesion_id": .text((0..<rows).map { "L\($0)" }),
            "location": .text((0..<rows).map { "segment \($0 % 8) of the liver, lesion \($0) (ü µm³)" }),
            "volume_ml": .number((0..<rows).map { Double($0) / 3 }),
        ])
        let names = (0..<40).map { "glcm.f\($0)" }
        let values = try FeatureMatrix(names: names, rows: (0..<rows).map { r in
            names.indices.map { Double(r * 100 + $0) + 0.25 }
        })
        var patients = Table()
        try patients.append("patient_id", .text(["P0", "P1", "P2"]))
        return StoreContents(
            attributes: StoreAttributes(settingsJSON: #"{"bin_width":25}"#, createdUTC: "2025-01-31T12:00:00Z"),
            patients: patients, lesions: lesions, features: ["tumour": values])
    }

    private func write(_ name: String) throws -> URL {
        let url = try SharedData.temporaryDirectory(for: self).appendingPathComponent(name)
        try Self.contents().write(to: url)
        return url
    }

    /// Overwrites `count` bytes at `offset` of the file with seeded random bytes (which differ from the old ones).
    private func damage(_ url: URL, at offset: Int, count: Int, seed: UInt64) throws {
        var bytes = try Data(contentsOf: url)
        var generator = SplitMix(state: seed)
        for i in offset..<(offset + count) {
            var byte = UInt8.random(in: 0...255, using: &generator)
            if byte == bytes[i] { byte ^= 0xFF }
            bytes[i] = byte
        }
        try bytes.write(to: url)
    }

    /// Asserts that reading refuses the store as damaged, naming the store and an object of `objects`
    /// (by default all of it is read, as every command does).
    private func assertRefused(_ url: URL, naming objects: Set<String>,
                               read: (URL) throws -> Void = { _ = try StoreContents.read(from: $0) },
                               file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertThrowsError(try read(url), file: file, line: line) { error in
            guard case .damagedStore(let store, let damaged, _) = error as? FeatureStoreError else {
                return XCTFail("not reported as damage: \(error)", file: file, line: line)
            }
            XCTAssertEqual(store, url.path, file: file, line: line)
            XCTAssertTrue(objects.contains(damaged), "\(damaged) is not one of \(objects)", file: file, line: line)
            let text = "\(error)"
            XCTAssertTrue(text.contains(url.path) && text.contains(damaged) && text.contains("extract the cohort again"),
                          text, file: file, line: line)
        }
    }

    func testWrittenStoresCarryChecksums() throws {
        let url = try write("store.h5")
        let reader = try StoreReader(url: url)
        XCTAssertTrue(reader.hasChecksums)
        XCTAssertEqual(try reader.contents(), try Self.contents())
        let file = try HDF5File.open(at: url)
        XCTAssertEqual(try file.attribute("integrity"), .text("sha256-v1"))
        let values = try file.openDataset("features/tumour/values")
        XCTAssertTrue(try values.hasFletcher32())
        XCTAssertEqual(try values.attribute("sha256")?.text,
                       StoreIntegrity.digest(numbers: try Self.contents().features["tumour"]!.values))
        XCTAssertTrue(try file.openDataset("lesions/volume_ml").hasFletcher32())
        let location = try file.openDataset("lesions/location")
        XCTAssertFalse(try location.hasFletcher32())
        XCTAssertEqual(try location.attribute("sha256")?.text,
                       StoreIntegrity.digest(texts: try Self.contents().lesions.texts("location")))
        // The documented byte forms: little-endian float64s; UTF-8 texts each followed by a zero byte.
        XCTAssertEqual(StoreIntegrity.digest(numbers: [1, -0.5]),
                       SHA256.hex([0, 0, 0, 0, 0, 0, 0xF0, 0x3F, 0, 0, 0, 0, 0, 0, 0xE0, 0xBF]))
        XCTAssertEqual(StoreIntegrity.digest(texts: ["ab", "", "ü"]), SHA256.hex([0x61, 0x62, 0, 0, 0xC3, 0xBC, 0]))
    }

    func testEqualContentsGiveEqualBytes() throws {
        let first = try write("first.h5")
        // In another second: HDF5 1.10 stamps the root group with the time it was written unless cleared.
        Thread.sleep(forTimeInterval: 1.1)
        let second = try write("second.h5")
        XCTAssertEqual(try Data(contentsOf: first), try Data(contentsOf: second))
        if let sample = ProcessInfo.processInfo.environment["LESIONMAP_INTEGRITY_SAMPLE"] {
            try? FileManager.default.removeItem(atPath: sample)
            try FileManager.default.copyItem(atPath: first.path, toPath: sample)
        }
    }

    func testRandomBytesInFeatureValuesAreRefused() throws {
        for seed: UInt64 in 1...5 {
            let url = try write("values-\(seed).h5")
            let file = try HDF5File.open(at: url)
            let ranges = try file.openDataset("features/tumour/values").storageRanges()
            file.close()
            let range = try XCTUnwrap(ranges.first)
            XCTAssertGreaterThanOrEqual(range.size, 8192)
            try damage(url, at: Int(range.offset) + Int(range.size) / 2 - 2048, count: 4096, seed: seed)
            assertRefused(url, naming: ["/features/tumour/values"])
            // Reading the one region refuses it too; other datasets still read.
            let reader = try StoreReader(url: url)
            XCTAssertThrowsError(try reader.features(region: "tumour"))
            XCTAssertEqual(try reader.lesions().rowCount, 300)
        }
    }

    func testDamagedTextColumnIsRefused() throws {
        // One character changed in place: the heap stays well-formed, only the SHA-256 can tell.
        let url = try write("text.h5")
        var bytes = try Data(contentsOf: url)
        let needle = Data("lesion 77 (".utf8)
        let found = try XCTUnwrap(bytes.range(of: needle))
        bytes[found.lowerBound + 7] = UInt8(ascii: "8")
        try bytes.write(to: url)
        assertRefused(url, naming: ["/lesions/location"])

        // 4 kB of random bytes over the column's text, inside HDF5's global heap. The heap block
        // also holds the names of features and tables' column lists, and HDF5 reads a block as a
        // whole, so whichever of them is read first is refused.
        let sharingTheHeap: Set<String> = ["/lesions/location", "/lesions", "/features/tumour/names", "/patients",
                                           "/failures", "/lesions/lesion_id", "/lesions/patient_id",
                                           "/patients/patient_id"]
        for seed: UInt64 in 1...5 {
            let url = try write("text-\(seed).h5")
            let bytes = try Data(contentsOf: url)
            let start = try XCTUnwrap(bytes.range(of: Data("segment 4 of the liver, lesion 100 ".utf8)))
            try damage(url, at: start.lowerBound, count: 4096, seed: seed)
            assertRefused(url, naming: sharingTheHeap)
            assertRefused(url, naming: ["/lesions", "/lesions/location", "/lesions/lesion_id", "/lesions/patient_id"],
                          read: { _ = try StoreReader(url: $0).lesions() })
        }
    }

    func testChangedChecksumOrLostChecksumIsRefused() throws {
        let url = try write("attrs.h5")
        do {
            let file = try HDF5File.open(at: url, writable: true)
            try file.openDataset("lesions/volume_ml").setAttribute("sha256", .text(String(repeating: "0", count: 64)))
            try file.closeReportingErrors()
        }
        assertRefused(url, naming: ["/lesions/volume_ml"])
        do {
            let file = try HDF5File.open(at: url, writable: true)
            try file.openDataset("lesions/volume_ml").removeAttribute("sha256")
            try file.closeReportingErrors()
        }
        assertRefused(url, naming: ["/lesions/volume_ml"])
    }

    /// Stores written before checksums existed (no `integrity`, no `sha256`) are read unverified.
    func testStoresWithoutChecksumsAreReadAsBefore() throws {
        let url = try write("legacy.h5")
        do {
            let file = try HDF5File.open(at: url, writable: true)
            try file.removeAttribute("integrity")
            for path in ["patients/patient_id", "lesions/patient_id", "lesions/lesion_id", "lesions/location",
                         "lesions/volume_ml", "features/tumour/values", "features/tumour/names",
                         "failures/patient_id", "failures/stage", "failures/message"] {
                try file.openDataset(path).removeAttribute("sha256")
            }
            try file.closeReportingErrors()
        }
        let reader = try StoreReader(url: url)
        XCTAssertFalse(reader.hasChecksums)
        XCTAssertEqual(try reader.contents(), try Self.contents())
        // Rewriting adds the checksums.
        try reader.contents().write(to: url)
        XCTAssertTrue(try StoreReader(url: url).hasChecksums)
    }

    /// A part file (`PartFile`) damaged inside one feature value: its checksum no longer matches, and its
    /// patient is computed again, with a warning naming the file and the patient.
    func testDamagedPartFileIsRecomputed() throws {
        let url = try SharedData.temporaryDirectory(for: self).appendingPathComponent("cohort.h5")
        let manifest = StoreWriteFailureTests.manifest
        do {
            let first = try ExtractionStoreWriter(storeURL: url, settingsJSON: "{}", patientOrder: manifest,
                                                  consolidationInterval: .infinity, warn: { _ in })
            try first.commit(StoreWriteFailureTests.result("B01"))
            try first.commit(StoreWriteFailureTests.result("B02"))
        }
        let part = ExtractionStoreWriter.partFileURL(for: "B02", store: url)
        // One byte inside the feature values, which come just before the 32-byte checksum.
        let size = try Data(contentsOf: part).count
        try damage(part, at: size - 32 - 20, count: 1, seed: 9)
        var warnings: [String] = []
        let second = try ExtractionStoreWriter(storeURL: url, settingsJSON: "{}", patientOrder: manifest,
                                               warn: { warnings.append($0) })
        XCTAssertTrue(second.isFinished("B01"))
        XCTAssertFalse(second.isFinished("B02"))
        XCTAssertEqual(warnings.count, 1)
        XCTAssertTrue(warnings.first?.contains(part.path) ?? false, "\(warnings)")
        XCTAssertTrue(warnings.first?.contains("does not match its SHA-256 checksum") ?? false, "\(warnings)")
        XCTAssertTrue(warnings.first?.contains("patient 'B02' will be computed again") ?? false, "\(warnings)")
        XCTAssertFalse(warnings.first?.contains("restore the store from a backup") ?? true,
                       "a part file the writer recomputes needs no advice for a damaged store: \(warnings)")
    }

    func testIncrementalSHA256MatchesWhole() {
        var generator = SplitMix(state: 3)
        let message = (0..<1000).map { _ in UInt8.random(in: 0...255, using: &generator) }
        let whole = SHA256.hex(message)
        for pieces in [[1000], [1, 999], [63, 1, 64, 872], [64, 64, 0, 872], [500, 499, 1]] {
            var hasher = SHA256.Hasher()
            var start = 0
            for size in pieces {
                hasher.update(Array(message[start..<(start + size)]))
                start += size
            }
            XCTAssertEqual(hasher.finalizeHex(), whole, "\(pieces)")
        }
        var million = SHA256.Hasher()
        let chunk = [UInt8](repeating: UInt8(ascii: "a"), count: 1000)
        for _ in 0..<1000 { million.update(chunk) }
        XCTAssertEqual(million.finalizeHex(), "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0")
    }
}
