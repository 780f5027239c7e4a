import FeatureStore
import Foundation
import HDF5Support

/// Synthetic extraction results whose columns and feature names vary between
/// patients, so that unions, NaN filling and ordering are exercised.
enum StoreFixtures {
    static let settingsJSON = #"{"bin_width":25,"regions":["tumour","ring"],"ring_mm":5}"#
    static let manifest = (1...9).map { String(format: "P%02d", $0) }
    /// The patient whose extraction fails in every run.
    static let failingPatient = "P05"

    /// Patient `id` = "Pnn": nn % 3 lesions; odd patients have a `kvp` column,
    /// even ones a `ring` region; feature "shape_extra" only from P06 on.
    static func result(_ id: String) throws -> PatientExtraction {
        let n = Int(id.dropFirst())!
        let lesionCount = n % 3
        var patient = try Table(["age": .number([40 + Double(n)]), "sex": .text([n % 2 == 0 ? "F" : "M"])])
        if n >= 7 { try patient.append("stage", .text(["IV"])) }
        var lesions = Table()
        var features: [String: FeatureMatrix] = [:]
        if lesionCount > 0 {
            let rows = Array(0..<lesionCount)
            lesions = try Table([
                "lesion_id": .text(rows.map { "\(id)-L\($0 + 1)" }),
                "location": .text(rows.map { $0 == 0 ? "liver" : "lung ü" }),
                "volume_ml": .number(rows.map { Double(n) + Double($0) / 10 }),
                "irradiated": .number(rows.map { Double(($0 + n) % 2) }),
            ])
            if n % 2 == 1 { try lesions.append("kvp", .number(rows.map { _ in 120 })) }
            var names = ["firstorder_Mean", "glcm_Contrast"]
            if n >= 6 { names.insert("shape_extra", at: 1) }
            features["tumour"] = try FeatureMatrix(names: names, rows: rows.map { r in
                names.indices.map { Double(n * 100 + r * 10 + $0) }
            })
            if n % 2 == 0 {
                features["ring"] = try FeatureMatrix(names: ["firstorder_Mean"], rows: rows.map { [Double(-n - $0)] })
            }
        } else {
            features["tumour"] = try FeatureMatrix(names: ["firstorder_Mean", "glcm_Contrast"], rows: [])
        }
        return try PatientExtraction(patientID: id, patient: patient, lesions: lesions, features: features)
    }

    /// Everything in an HDF5 file as text: each object's path, attributes
    /// (except `created_utc` and the root's `sha256`, which covers it) and values, in name order.
    static func dump(_ url: URL) throws -> String {
        let file = try HDF5File.open(at: url)
        var lines: [String] = []
        func attributes(_ object: HDF5Object) throws {
            for name in try object.attributeNames()
            where name != "created_utc" && !(name == "sha256" && object.path == "/") {
                lines.append("  @\(name) = \(String(describing: try object.attribute(name)!))")
            }
        }
        func visit(_ group: HDF5Group) throws {
            lines.append("group \(group.path)")
            try attributes(group)
            for name in try group.childNames() {
                switch try group.kind(of: name) {
                case .group?: try visit(try group.openGroup(name))
                case .dataset?:
                    let dataset = try group.openDataset(name)
                    let values = dataset.elementKind == .string
                        ? "\(try dataset.readStrings())" : "\(try dataset.readDoubles())"
                    lines.append("dataset \(dataset.path) \(dataset.shape) \(dataset.elementKind) \(values)")
                    try attributes(dataset)
                default: lines.append("other \(name)")
                }
            }
        }
        try visit(file)
        return lines.joined(separator: "\n")
    }
}
