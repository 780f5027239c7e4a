import Foundation

/// Gaussian elastic-net regression fitted by cyclic coordinate descent, as glmnet does:
///
///     minimise  1/(2n) Σ_i (y_i − β0 − x_iᵀβ)² + λ Σ_j f_j [ (1−α)/2 β_j² + α |β_j| ]
///
/// on standardised predictors (mean 0, population SD 1), with penalty factors f_j (0 leaves a
/// predictor unpenalised, e.g. kVp and location indicators in the CD8 signature design).
/// Coefficients are returned on the standardised scale, with the means and SDs used.
public struct ElasticNet: Sendable {
    public var alpha: Double
    /// Stop when no coefficient moved by more than sqrt(tolerance) (in units of its predictor SD) in a sweep.
    public var tolerance: Double = 1e-18
    public var maxSweeps: Int = 100_000

    public init(alpha: Double) { self.alpha = alpha }

    /// A fit at one λ.
    public struct Fit: Sendable {
        public var lambda: Double
        public var intercept: Double
        /// Coefficients per standardised predictor.
        public var beta: [Double]
    }

    /// Standardisation of the columns of X (population SD, as glmnet).
    public struct Standardisation: Sendable {
        public var means: [Double]
        public var sds: [Double]

        public init(columns x: [[Double]]) {
            means = x.map { $0.reduce(0, +) / Double($0.count) }
            sds = zip(x, means).map { col, m in
                (col.reduce(0) { $0 + ($1 - m) * ($1 - m) } / Double(col.count)).squareRoot()
            }
        }

        func apply(_ x: [[Double]]) -> [[Double]] {
            x.indices.map { j in x[j].map { sds[j] > 0 ? ($0 - means[j]) / sds[j] : 0 } }
        }
    }

    /// The default λ sequence: from the smallest λ that zeroes every penalised coefficient down to
    /// `ratio` of it, `count` values equally spaced on the log scale.
    public func lambdaPath(columns z: [[Double]], y: [Double], penalty: [Double], count: Int = 100, ratio: Double? = nil) -> [Double] {
        let n = Double(y.count)
        let ym = y.reduce(0, +) / n
        let maxGrad = z.indices.filter { penalty[$0] > 0 }.map { j in
            abs(zip(z[j], y).reduce(0) { $0 + $1.0 * ($1.1 - ym) }) / (n * penalty[j])
        }.max() ?? 1
        let lmax = maxGrad / max(alpha, 1e-3)
        let r = ratio ?? (y.count > z.count ? 1e-4 : 1e-2)
        return (0..<count).map { lmax * pow(r, Double($0) / Double(count - 1)) }
    }

    /// Fits along `lambdas` (decreasing) on standardised columns `z`, with warm starts.
    public func path(columns z: [[Double]], y: [Double], penalty: [Double], lambdas: [Double]) -> [Fit] {
        let n = y.count, p = z.count
        let ym = y.reduce(0, +) / Double(n)
        var beta = [Double](repeating: 0, count: p)
        var r = y.map { $0 - ym }
        // Column means are 0 (standardised) but in CV folds they are not exactly: keep an intercept update.
        var b0 = ym
        var fits: [Fit] = []
        let xsq = z.map { col in col.reduce(0) { $0 + $1 * $1 } / Double(n) }
        for lambda in lambdas {
            // glmnet's active-set strategy: sweep every coordinate once, then iterate on the non-zero
            // ones until they converge, then sweep everything again; done when a full sweep moves nothing.
            var sweepsLeft = maxSweeps
            while sweepsLeft > 0 {
                sweepsLeft -= 1
                let fullChange = sweep(0..<p, z: z, xsq: xsq, penalty: penalty, lambda: lambda, beta: &beta, r: &r, b0: &b0, n: n)
                if fullChange < tolerance { break }
                let active = (0..<p).filter { beta[$0] != 0 }
                while sweepsLeft > 0 {
                    sweepsLeft -= 1
                    if sweep(active, z: z, xsq: xsq, penalty: penalty, lambda: lambda, beta: &beta, r: &r, b0: &b0, n: n) < tolerance {
                        break
                    }
                }
            }
            fits.append(Fit(lambda: lambda, intercept: b0, beta: beta))
        }
        return fits
    }

    /// One pass of coordinate updates over `indices` plus the intercept; returns the largest squared change.
    private func sweep<C: Collection>(_ indices: C, z: [[Double]], xsq: [Double], penalty: [Double], lambda: Double,
                                      beta: inout [Double], r: inout [Double], b0: inout Double, n: Int) -> Double
        where C.Element == Int {
        var maxChange = 0.0
        for j in indices where xsq[j] > 0 {
            let col = z[j]
            var g = 0.0
            for i in 0..<n { g += col[i] * r[i] }
            g = g / Double(n) + xsq[j] * beta[j]
            let l1 = lambda * alpha * penalty[j], l2 = lambda * (1 - alpha) * penalty[j]
            let new = softThreshold(g, l1) / (xsq[j] + l2)
            let d = new - beta[j]
            if d != 0 {
                for i in 0..<n { r[i] -= d * col[i] }
                beta[j] = new
                maxChange = max(maxChange, xsq[j] * d * d)
            }
        }
        let rm = r.reduce(0, +) / Double(n)
        if rm != 0 {
            b0 += rm
            for i in 0..<n { r[i] -= rm }
            maxChange = max(maxChange, rm * rm)
        }
        return maxChange
    }

    private func softThreshold(_ z: Double, _ g: Double) -> Double {
        z > g ? z - g : (z < -g ? z + g : 0)
    }
}

/// K-fold cross-validation of an elastic-net path with folds grouped (e.g. by patient, so no patient's
/// lesions are on both sides), giving the error curve, λ-min and λ-1se as cv.glmnet does.
public struct CrossValidatedElasticNet: Sendable {
    public var lambdas: [Double]
    public var meanError: [Double]
    public var standardError: [Double]
    public var lambdaMinIndex: Int
    public var lambda1SEIndex: Int
    public var fits: [ElasticNet.Fit]

    public init(net: ElasticNet, columns z: [[Double]], y: [Double], penalty: [Double], groups: [String],
                folds: Int, seed: UInt64) {
        let lambdas = net.lambdaPath(columns: z, y: y, penalty: penalty)
        let full = net.path(columns: z, y: y, penalty: penalty, lambdas: lambdas)
        // Deterministic assignment of groups to folds: sorted group names, shuffled by a seeded PRNG.
        var names = Array(Set(groups)).sorted()
        var state = seed
        func next() -> UInt64 {
            state &+= 0x9E3779B97F4A7C15
            var x = state
            x = (x ^ (x >> 30)) &* 0xBF58476D1CE4E5B9
            x = (x ^ (x >> 27)) &* 0x94D049BB133111EB
            return x ^ (x >> 31)
        }
        for i in stride(from: names.count - 1, to: 0, by: -1) {
            names.swapAt(i, Int(next() % UInt64(i + 1)))
        }
        var foldOf: [String: Int] = [:]
        for (i, n) in names.enumerated() { foldOf[n] = i % max(folds, 2) }
        var errors = [[Double]](repeating: [], count: lambdas.count)
        for f in 0..<max(folds, 2) {
            let train = y.indices.filter { foldOf[groups[$0]] != f }
            let test = y.indices.filter { foldOf[groups[$0]] == f }
            guard !train.isEmpty, !test.isEmpty else { continue }
            let zt = z.map { col in train.map { col[$0] } }
            let fitsF = net.path(columns: zt, y: train.map { y[$0] }, penalty: penalty, lambdas: lambdas)
            for (k, fit) in fitsF.enumerated() {
                let mse = test.reduce(0.0) { acc, i in
                    var pred = fit.intercept
                    for j in z.indices { pred += fit.beta[j] * z[j][i] }
                    return acc + (y[i] - pred) * (y[i] - pred)
                } / Double(test.count)
                errors[k].append(mse)
            }
        }
        let means = errors.map { $0.reduce(0, +) / Double(max($0.count, 1)) }
        let ses = zip(errors, means).map { e, m -> Double in
            guard e.count > 1 else { return 0 }
            return (e.reduce(0) { $0 + ($1 - m) * ($1 - m) } / Double(e.count - 1) / Double(e.count)).squareRoot()
        }
        let minIndex = means.indices.min { means[$0] < means[$1] } ?? 0
        let bound = means[minIndex] + ses[minIndex]
        self.lambdas = lambdas
        self.meanError = means
        self.standardError = ses
        self.lambdaMinIndex = minIndex
        self.lambda1SEIndex = means.indices.first { means[$0] <= bound } ?? minIndex
        self.fits = full
    }
}
