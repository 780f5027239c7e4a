import FeatureStore
import XCTest

final class TableTests: XCTestCase {
    func testTableChecksLengthsNamesAndKinds() throws {
        var table = try Table(["id": .text(["a", "b"]), "x": .number([1, .nan])])
        XCTAssertEqual(table.columnNames, ["id", "x"])
        XCTAssertEqual(table.rowCount, 2)
        XCTAssertEqual(try table.texts("id"), ["a", "b"])
        XCTAssertThrowsError(try table.numbers("id"))
        XCTAssertThrowsError(try table.texts("missing"))
        XCTAssertThrowsError(try table.append("y", .number([1])))
        XCTAssertThrowsError(try table.append("x", .number([1, 2])))
        XCTAssertThrowsError(try table.append("a/b", .number([1, 2])))
        XCTAssertThrowsError(try table.append("", .number([1, 2])))
        try table.set("x", .number([3, 4]))
        XCTAssertEqual(try table.numbers("x"), [3, 4])
        XCTAssertEqual(table.rows([1, 1]), try Table(["id": .text(["b", "b"]), "x": .number([4, 4])]))
        XCTAssertEqual(table.movingToFront(["x", "nope"]).columnNames, ["x", "id"])
        // NaN counts as equal to NaN: both mean "missing".
        XCTAssertEqual(try Table(["x": .number([.nan])]), try Table(["x": .number([.nan])]))
        XCTAssertNotEqual(try Table(["x": .number([.nan])]), try Table(["x": .number([0])]))
    }

    func testConcatenationUnitesColumnsInFirstSeenOrder() throws {
        let a = try Table(["id": .text(["a"]), "x": .number([1])])
        let b = try Table(["id": .text(["b", "c"]), "note": .text(["n", "m"])])
        let c = try Table(["x": .number([]), "z": .number([])])
        let joined = try Table.concatenating([a, Table(), b, c])
        XCTAssertEqual(joined.columnNames, ["id", "x", "note", "z"])
        XCTAssertEqual(try joined.texts("id"), ["a", "b", "c"])
        XCTAssertEqual(try joined.texts("note"), ["", "n", "m"])
        XCTAssertEqual(joined["x"], .number([1, .nan, .nan]))
        XCTAssertEqual(joined["z"], .number([.nan, .nan, .nan]))
        XCTAssertThrowsError(try Table.concatenating([a, try Table(["x": .text(["oops"])])])) { error in
            XCTAssertTrue("\(error)".contains("'x'"), "\(error)")
        }
    }

    func testFeatureMatrixUnionFillsNaN() throws {
        let first = try FeatureMatrix(names: ["a", "b"], rows: [[1, 2], [3, 4]])
        let second = try FeatureMatrix(names: ["c", "a"], rows: [[5, 6]])
        let joined = FeatureMatrix.concatenating([first, FeatureMatrix(rowCount: 1), second])
        XCTAssertEqual(joined.names, ["a", "b", "c"])
        XCTAssertEqual(joined.rowCount, 4)
        XCTAssertEqual(joined, try FeatureMatrix(names: ["a", "b", "c"], rows: [
            [1, 2, .nan], [3, 4, .nan], [.nan, .nan, .nan], [6, .nan, 5],
        ]))
        XCTAssertEqual(joined.column(named: "c")!.last, 5)
        XCTAssertEqual(joined.rows([3]).row(0)[0], 6)
        XCTAssertThrowsError(try FeatureMatrix(names: ["a", "a"], rows: []))
        XCTAssertThrowsError(try FeatureMatrix(names: ["a"], rowCount: 2, values: [1]))
        XCTAssertThrowsError(try FeatureMatrix(names: ["a"], rows: [[1, 2]]))
    }

    func testSHA256KnownAnswers() {
        XCTAssertEqual(SHA256.hex(of: ""), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
        XCTAssertEqual(SHA256.hex(of: "abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
        XCTAssertEqual(SHA256.hex(of: "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq"),
                       "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1")
        XCTAssertEqual(SHA256.hex([UInt8](repeating: UInt8(ascii: "a"), count: 1_000_000)),
                       "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0")
        // Padding boundaries, checked against Python's hashlib.
        let expected = [
            55: "595615dbe4f0f407ae397d08b4c2cb870cb9b0e11937416f950c5160acf9c005",
            56: "784f623b787495078e93ff28a25b581df0584055a7e71d8cd90c454716b92f51",
            63: "5ca3e1ef5207490eac01a795e5cc94d59582a5118bf9534665c8668d87aa647c",
            64: "2fcd5a0d60e4c941381fcc4e00a4bf8be422c3ddfafb93c809e8d1e2bfffae8e",
            65: "1b3cd1877ab2f2f19f7be001722554f336cb799df0329de0bb4c118dc6abc06d",
            119: "faef67da856d6fd9c8d12f9ed0a4fefd3cf0ce085ab43e2907418d457e3c354b",
            120: "c9512b08619c19fbb503c7da6b46ef20301e5f7a7a5f43989182398536f5c5c8",
        ]
        for (length, digest) in expected {
            let text = String((0..<length).map { Character(UnicodeScalar(UInt8(97 + $0 % 26))) })
            XCTAssertEqual(SHA256.hex(of: text), digest, "length \(length)")
        }
        XCTAssertEqual(SHA256.hex(of: "{\"bin_width\": 25, \"label\": \"µm³ 肿瘤\"}"),
                       "23e0312f212f118e78b52ad3ae9dc3f72a5f05374c8bf81470f4bca9f11ca304")
    }
}
