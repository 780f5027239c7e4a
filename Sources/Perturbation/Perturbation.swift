import Foundation
import ImagingCore

/// One perturbation of a lesion's image and mask, as in Zwanenburg et al., "Assessing robustness of radiomic
/// features by image perturbation", Sci Rep 2019 (9:614): features are computed again under each perturbation,
/// and a feature is robust when lesions keep their differences (ICC(1,1) near 1) across perturbations.
///
/// Each case is one factor with its parameters, written as `kind[:p1[:p2...]]` (`growth:-2`, `noise:3`,
/// `translate:0.5:0.25:0`, `rotate:10`, `contour:2`). The paper's chains combine factors; here each
/// perturbation is one factor, so the table of values says which factor moved a feature.
public enum Perturbation: Sendable, Hashable, CustomStringConvertible {
    /// The image and mask as they are (useful as one of the measurements).
    case original
    /// Volume adaptation: the lesion mask dilated (mm > 0) or eroded (mm < 0) by a distance in millimetres,
    /// with the exact Euclidean ball of ImagingCore's `Morphology` (anisotropic voxels respected).
    case growth(mm: Double)
    /// Gaussian noise with the image's own noise level (`NoiseEstimate`) added to every voxel; `seed` numbers
    /// the realisation (the same seed, patient and lesion give the same noise).
    case noise(seed: Int)
    /// Sub-voxel translation of image and mask together by fractions of the voxel spacing along the grid axes,
    /// by trilinear interpolation (the mask interpolated and kept where >= 0.5).
    case translate(x: Double, y: Double, z: Double)
    /// Rotation of image and mask together by an angle in degrees about the patient's cranio-caudal (z) axis
    /// through the lesion's centroid, by trilinear interpolation (mask kept where >= 0.5).
    case rotate(degrees: Double)
    /// Contour randomisation: the neighbourhood cut into supervoxels; a supervoxel wholly inside the lesion
    /// stays, one wholly outside stays out, one crossing the contour is included with probability equal to
    /// the fraction of it inside (`ContourRandomisation`). `seed` numbers the realisation, `cellMM` the
    /// supervoxel edge (nil: `defaultCellMM(spacing:)`, about eight voxels per supervoxel).
    case contour(seed: Int, cellMM: Double?)

    /// The default supervoxel edge for contour randomisation: twice the geometric mean of the voxel spacing
    /// (4.2 mm for 1.5 x 1.5 x 4 mm voxels, 2 mm for 1 mm voxels), so a supervoxel holds about eight voxels
    /// whatever the scan, and the contour moves by about a voxel or two.
    public static func defaultCellMM(spacing: Vector3) -> Double {
        2 * Foundation.cbrt(spacing.x * spacing.y * spacing.z)
    }

    /// The name written into tables: the textual form that `parse` reads back.
    public var description: String {
        switch self {
        case .original: return "original"
        case .growth(let mm): return "growth:\(Self.text(mm))"
        case .noise(let seed): return "noise:\(seed)"
        case .translate(let x, let y, let z): return "translate:\(Self.text(x)):\(Self.text(y)):\(Self.text(z))"
        case .rotate(let d): return "rotate:\(Self.text(d))"
        case .contour(let seed, let cell):
            return cell.map { "contour:\(seed):\(Self.text($0))" } ?? "contour:\(seed)"
        }
    }

    /// The kind alone (`growth`, `noise`, ...), used to group measurements.
    public var kind: String { String(description.prefix { $0 != ":" }) }

    static func text(_ x: Double) -> String {
        x == x.rounded() && abs(x) < 1e15 ? String(Int(x)) : String(x)
    }

    /// The default instances of each kind: four of each of the five kinds, twenty in all (as `--perturbations`
    /// with no value). Growth by ±1 and ±2 mm; noise realisations 1-4; translations by quarter, half and
    /// three-quarter voxels; rotations by ±5 and ±10 degrees (the paper uses up to ±15); contour realisations 1-4.
    public static let defaultsByKind: [(kind: String, instances: [Perturbation])] = [
        ("growth", [.growth(mm: -2), .growth(mm: -1), .growth(mm: 1), .growth(mm: 2)]),
        ("noise", (1...4).map { .noise(seed: $0) }),
        ("translate", [.translate(x: 0.25, y: 0.25, z: 0), .translate(x: 0.5, y: 0.5, z: 0.5),
                       .translate(x: 0.75, y: 0.25, z: 0.5), .translate(x: 0.25, y: 0.75, z: 0.25)]),
        ("rotate", [.rotate(degrees: -10), .rotate(degrees: -5), .rotate(degrees: 5), .rotate(degrees: 10)]),
        ("contour", (1...4).map { .contour(seed: $0, cellMM: nil) }),
    ]

    /// The default list: every default instance of every kind.
    public static var defaults: [Perturbation] { defaultsByKind.flatMap(\.instances) }

    /// Reads a comma-separated list: a kind alone stands for its four default instances, a kind with
    /// parameters for one instance. Every problem is reported together; duplicates are refused.
    public static func parseList(_ text: String) throws -> [Perturbation] {
        var out: [Perturbation] = []
        var problems: [String] = []
        for token in text.split(separator: ",").map({ $0.trimmingCharacters(in: .whitespaces) }) where !token.isEmpty {
            if let group = defaultsByKind.first(where: { $0.kind == token }) {
                out += group.instances
                continue
            }
            do { out.append(try parse(token)) } catch let e as PerturbationError { problems.append(e.message) }
        }
        var seen = Set<String>()
        for p in out where !seen.insert(p.description).inserted { problems.append("'\(p)' is listed twice") }
        if out.isEmpty && problems.isEmpty { problems.append("no perturbation given") }
        guard problems.isEmpty else {
            throw PerturbationError("--perturbations: " + problems.joined(separator: "; ")
                                    + " (kinds: original, growth[:MM], noise[:SEED], translate[:FX:FY:FZ], rotate[:DEG], contour[:SEED[:CELLMM]])")
        }
        return out
    }

    /// One perturbation from its textual form, with its parameters checked.
    public static func parse(_ token: String) throws -> Perturbation {
        let parts = token.split(separator: ":", omittingEmptySubsequences: false).map(String.init)
        let kind = parts[0]
        let args = Array(parts.dropFirst())
        func numbers(_ count: ClosedRange<Int>) throws -> [Double] {
            guard count.contains(args.count) else {
                throw PerturbationError("'\(token)': \(kind) takes \(count.lowerBound == count.upperBound ? "\(count.lowerBound)" : "\(count.lowerBound) to \(count.upperBound)") parameter\(count.upperBound == 1 ? "" : "s")")
            }
            return try args.map {
                guard let x = Double($0), x.isFinite else { throw PerturbationError("'\(token)': '\($0)' is not a number") }
                return x
            }
        }
        func seed(_ x: Double) throws -> Int {
            guard x == x.rounded(), x >= 0, x < 1e9 else { throw PerturbationError("'\(token)': the seed must be a whole number 0 to 999999999") }
            return Int(x)
        }
        switch kind {
        case "original":
            _ = try numbers(0...0)
            return .original
        case "growth":
            let mm = try numbers(1...1)[0]
            guard mm != 0, abs(mm) <= 10 else { throw PerturbationError("'\(token)': growth must be a non-zero distance of at most 10 mm (negative erodes)") }
            return .growth(mm: mm)
        case "noise":
            return .noise(seed: try seed(try numbers(1...1)[0]))
        case "translate":
            let f = try numbers(3...3)
            guard f.allSatisfy({ abs($0) < 1 }) else { throw PerturbationError("'\(token)': translations are fractions of a voxel, each between -1 and 1") }
            return .translate(x: f[0], y: f[1], z: f[2])
        case "rotate":
            let d = try numbers(1...1)[0]
            guard abs(d) <= 45 else { throw PerturbationError("'\(token)': rotations are small angles, at most 45 degrees either way") }
            return .rotate(degrees: d)
        case "contour":
            let v = try numbers(1...2)
            let cell: Double? = v.count > 1 ? v[1] : nil
            if let cell, cell < 0.5 || cell > 50 { throw PerturbationError("'\(token)': the supervoxel size must be 0.5 to 50 mm") }
            return .contour(seed: try seed(v[0]), cellMM: cell)
        default:
            throw PerturbationError("'\(token)': unknown perturbation '\(kind)'")
        }
    }

    /// How far (mm) this perturbation may move a lesion's contour outwards on voxels of `spacing`: the margin
    /// its neighbourhood needs.
    public func reachMM(spacing: Vector3) -> Double {
        switch self {
        case .growth(let mm): return max(mm, 0)
        case .contour(_, let cell): return 2 * (cell ?? Self.defaultCellMM(spacing: spacing))
        default: return 0
        }
    }
}

/// A perturbation's parameters or its input are wrong; the message says which and why.
public struct PerturbationError: Error, Sendable, CustomStringConvertible {
    public var message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}
