import LinearAlgebra
import Statistics

/// Bags of instances for multiple-instance learning: one bag per patient, one instance (a feature
/// vector) per lesion. All instances are stacked in one matrix so that the model's products are single
/// BLAS calls over the whole cohort.
public struct MILBags: Sendable {
    /// Every instance of every bag, bag after bag (rows).
    public let instances: Matrix
    /// Bag b holds rows offsets[b]..<offsets[b + 1].
    public let offsets: [Int]

    /// Bags from their instances' feature vectors; every bag needs at least one instance, every vector the
    /// same length and finite values. `names` label the bags in errors (e.g. patient ids).
    public init(_ bags: [[[Double]]], names: [String]? = nil) throws {
        let d = bags.first?.first?.count ?? 0
        var values: [Double] = []
        var offsets = [0]
        for (b, bag) in bags.enumerated() {
            let label = names.map { "bag '\($0[b])'" } ?? "bag \(b)"
            guard !bag.isEmpty else { throw StatisticsError("\(label) has no instances") }
            for (k, x) in bag.enumerated() {
                guard x.count == d else { throw StatisticsError("instance \(k) of \(label) has \(x.count) features, expected \(d)") }
                if let j = x.firstIndex(where: { !$0.isFinite }) {
                    throw StatisticsError("instance \(k) of \(label): feature \(j) is \(x[j])")
                }
                values += x
            }
            offsets.append(offsets.last! + bag.count)
        }
        guard d > 0 else { throw StatisticsError("multiple-instance learning needs at least one feature per instance") }
        instances = Matrix(rows: offsets.last!, cols: d, values: values)
        self.offsets = offsets
    }

    init(instances: Matrix, offsets: [Int]) {
        self.instances = instances
        self.offsets = offsets
    }

    public var count: Int { offsets.count - 1 }
    public var dimension: Int { instances.cols }

    /// Row range of bag `b`.
    public func rows(of b: Int) -> Range<Int> { offsets[b]..<offsets[b + 1] }

    /// The bags at `indices`, in that order.
    public func subset(_ indices: [Int]) -> MILBags {
        let d = dimension
        var values: [Double] = []
        var offsets = [0]
        for b in indices {
            let r = rows(of: b)
            values += instances.values[(r.lowerBound * d)..<(r.upperBound * d)]
            offsets.append(offsets.last! + r.count)
        }
        return MILBags(instances: Matrix(rows: offsets.last!, cols: d, values: values), offsets: offsets)
    }

    /// Instances with each feature shifted and scaled: (x − mean) / sd.
    func standardised(means: [Double], sds: [Double]) -> MILBags {
        var m = instances
        let d = dimension
        m.values.withUnsafeMutableBufferPointer { v in
            for i in 0..<m.rows {
                for j in 0..<d { v[i * d + j] = (v[i * d + j] - means[j]) / sds[j] }
            }
        }
        return MILBags(instances: m, offsets: offsets)
    }

    /// Per-feature mean and SD over all instances (SD 1 for constant features).
    func featureMoments() -> (means: [Double], sds: [Double]) {
        let n = Double(instances.rows), d = dimension
        var means = [Double](repeating: 0, count: d), sds = [Double](repeating: 0, count: d)
        for i in 0..<instances.rows { for j in 0..<d { means[j] += instances[i, j] } }
        for j in 0..<d { means[j] /= n }
        for i in 0..<instances.rows { for j in 0..<d { sds[j] += (instances[i, j] - means[j]) * (instances[i, j] - means[j]) } }
        for j in 0..<d {
            let s = (sds[j] / n).squareRoot()
            sds[j] = s > 1e-12 ? s : 1
        }
        return (means, sds)
    }
}

/// What a bag's label is: right-censored survival (trained with the Cox partial likelihood) or a binary
/// outcome (trained with the logistic loss).
public enum MILTarget: Sendable {
    case survival(SurvivalData)
    case binary([Bool])

    public var count: Int {
        switch self {
        case .survival(let d): return d.count
        case .binary(let y): return y.count
        }
    }

    func subset(_ indices: [Int]) -> MILTarget {
        switch self {
        case .survival(let d): return .survival(d.subset(indices))
        case .binary(let y): return .binary(indices.map { y[$0] })
        }
    }

    /// Stratum of each bag for stratified splits: event indicator or label.
    var strata: [Bool] {
        switch self {
        case .survival(let d): return d.events
        case .binary(let y): return y
        }
    }
}
