import Foundation
import ImagingCore

/// Moran's I and Geary's C with inverse-distance weights over every pair of ROI voxels, exactly,
/// in O(M log M) for a box of M voxels instead of O(N²) pairs.
///
/// With a_k = X_k - μ on ROI voxels and 0 elsewhere, m the ROI indicator and K(δ) = 1/|δ| (K(0) = 0)
/// the weight of a voxel offset δ, every pair sum is a correlation with K:
/// Σ_{i≠j} w_ij a_i a_j = Σ a (K ⋆ a), W = Σ_{i≠j} w_ij = Σ m (K ⋆ m), and
/// Σ_{i≠j} w_ij (X_i - X_j)² = 2 Σ a² (K ⋆ m) - 2 Σ a (K ⋆ a).
/// The correlations are computed by FFT on the box zero-padded to at least twice its size
/// (so no wrap-around), a and m packed as the real and imaginary parts of one transform.
enum SpatialAutocorrelation {
    static func moranAndGeary(_ region: PreparedRegion) -> (moran: Double, geary: Double) {
        let n = region.grid.size, sp = region.grid.spacing
        guard let box = Preprocessor.boundingBox(region.intensityMask, size: n) else { return (.nan, .nan) }
        var count = 0, sum = 0.0
        for t in 0..<region.intensityMask.count where region.intensityMask[t] {
            count += 1; sum += region.intensities[t]
        }
        guard count >= 2 else { return (.nan, .nan) }
        let mu = sum / Double(count)
        let b = box.size
        let dims = [b.nx, b.ny, b.nz].map { fftLength(2 * $0 - 1) }
        let total = dims[0] * dims[1] * dims[2]
        var re = [Double](repeating: 0, count: total), im = [Double](repeating: 0, count: total)
        var ss = 0.0
        for k in 0..<b.nz {
            for j in 0..<b.ny {
                for i in 0..<b.nx {
                    let t = ((k + box.lower.k) * n.ny + j + box.lower.j) * n.nx + i + box.lower.i
                    guard region.intensityMask[t] else { continue }
                    let a = region.intensities[t] - mu
                    let p = (k * dims[1] + j) * dims[0] + i
                    re[p] = a; im[p] = 1
                    ss += a * a
                }
            }
        }
        guard ss > 0 else { return (.nan, .nan) }
        // Kernel 1/|δ| on the padded grid, negative offsets wrapped.
        var kre = [Double](repeating: 0, count: total), kim = [Double](repeating: 0, count: total)
        for k in 0..<dims[2] {
            let dz = k < b.nz ? k : (k > dims[2] - b.nz ? k - dims[2] : Int.max)
            guard dz != Int.max else { continue }
            for j in 0..<dims[1] {
                let dy = j < b.ny ? j : (j > dims[1] - b.ny ? j - dims[1] : Int.max)
                guard dy != Int.max else { continue }
                for i in 0..<dims[0] {
                    let dx = i < b.nx ? i : (i > dims[0] - b.nx ? i - dims[0] : Int.max)
                    guard dx != Int.max, dx != 0 || dy != 0 || dz != 0 else { continue }
                    let x = Double(dx) * sp.x, y = Double(dy) * sp.y, z = Double(dz) * sp.z
                    kre[(k * dims[1] + j) * dims[0] + i] = 1 / (x * x + y * y + z * z).squareRoot()
                }
            }
        }
        FFT3.transform(re: &re, im: &im, dims: dims, inverse: false)
        FFT3.transform(re: &kre, im: &kim, dims: dims, inverse: false)
        // The kernel is real and even, so its spectrum is real.
        for p in 0..<total { re[p] *= kre[p]; im[p] *= kre[p] }
        FFT3.transform(re: &re, im: &im, dims: dims, inverse: true)
        var aKa = 0.0, a2Km = 0.0, mKm = 0.0
        for k in 0..<b.nz {
            for j in 0..<b.ny {
                for i in 0..<b.nx {
                    let t = ((k + box.lower.k) * n.ny + j + box.lower.j) * n.nx + i + box.lower.i
                    guard region.intensityMask[t] else { continue }
                    let a = region.intensities[t] - mu
                    let p = (k * dims[1] + j) * dims[0] + i
                    aKa += a * re[p]
                    a2Km += a * a * im[p]
                    mKm += im[p]
                }
            }
        }
        let nD = Double(count)
        let moran = nD / mKm * aKa / ss
        let geary = (nD - 1) * (2 * a2Km - 2 * aKa) / (2 * mKm * ss)
        return (moran, geary)
    }

    /// The smallest length ≥ `n` whose prime factors are 2, 3 and 5.
    static func fftLength(_ n: Int) -> Int {
        var m = max(n, 1)
        while true {
            var r = m
            for p in [2, 3, 5] { while r % p == 0 { r /= p } }
            if r == 1 { return m }
            m += 1
        }
    }
}

/// In-place 3D discrete Fourier transform (mixed radix 2, 3, 5; lengths from `fftLength`).
enum FFT3 {
    static func transform(re: inout [Double], im: inout [Double], dims: [Int], inverse: Bool) {
        let strides = [1, dims[0], dims[0] * dims[1]]
        for axis in 0..<3 {
            let len = dims[axis], st = strides[axis]
            guard len > 1 else { continue }
            let plan = FFT1(length: len, inverse: inverse)
            var lr = [Double](repeating: 0, count: len), li = lr
            var scratchR = lr, scratchI = lr
            let others = dims[0] * dims[1] * dims[2] / len
            for o in 0..<others {
                let start: Int
                switch axis {
                case 0: start = o * dims[0]
                case 1: start = (o / dims[0]) * dims[0] * dims[1] + o % dims[0]
                default: start = o
                }
                for t in 0..<len { lr[t] = re[start + t * st]; li[t] = im[start + t * st] }
                plan.run(&lr, &li, &scratchR, &scratchI)
                for t in 0..<len { re[start + t * st] = lr[t]; im[start + t * st] = li[t] }
            }
        }
        if inverse {
            let s = 1 / Double(dims[0] * dims[1] * dims[2])
            for p in 0..<re.count { re[p] *= s; im[p] *= s }
        }
    }
}

/// A 1D mixed-radix (2, 3, 4, 5) Stockham FFT plan (decimation in frequency, natural order), unnormalised.
struct FFT1 {
    let length: Int
    let factors: [Int]
    let cosTable: [Double]
    let sinTable: [Double]

    init(length: Int, inverse: Bool) {
        self.length = length
        var f = [Int](), r = length
        for p in [4, 2, 3, 5] { while r % p == 0 { f.append(p); r /= p } }
        precondition(r == 1, "FFT length \(length) must have only the factors 2, 3 and 5")
        factors = f
        let sign = inverse ? 1.0 : -1.0
        cosTable = (0..<length).map { cos(2 * Double.pi * Double($0) / Double(length)) }
        sinTable = (0..<length).map { sign * sin(2 * Double.pi * Double($0) / Double(length)) }
    }

    /// Transforms (re, im) in place, using the scratch buffers.
    func run(_ re: inout [Double], _ im: inout [Double], _ sr: inout [Double], _ si: inout [Double]) {
        // Stockham auto-sort: alternate between the data and scratch buffers.
        var n = length, stride = 1
        var inRe = re, inIm = im
        for p in factors {
            let m = n / p
            // Decimation in frequency: y[s + stride (p q + r)] = ω_n^(q r) Σ_t x[s + stride (q + t m)] ω_p^(t r),
            // with ω_n = ω_length^stride and ω_p = ω_length^(m stride).
            for q in 0..<m {
                for s in 0..<stride {
                    for r in 0..<p {
                        var accR = 0.0, accI = 0.0
                        for t in 0..<p {
                            let xr = inRe[s + stride * (q + t * m)], xi = inIm[s + stride * (q + t * m)]
                            let e = (r * stride * (q + t * m)) % length
                            let c = cosTable[e], sn = sinTable[e]
                            accR += xr * c - xi * sn
                            accI += xr * sn + xi * c
                        }
                        sr[s + stride * (q * p + r)] = accR
                        si[s + stride * (q * p + r)] = accI
                    }
                }
            }
            swap(&inRe, &sr)
            swap(&inIm, &si)
            n = m
            stride *= p
        }
        re = inRe
        im = inIm
    }
}
