import ImagingCore

/// Undecimated (stationary, "à trous") separable wavelet sub-band (IBSI 2 reference manual, section
/// "separable wavelets"; phase 1 configurations 5A1/5A2 Daubechies 2, 6A1/6A2 Coiflet 1, 7A1/7A2 Haar).
///
/// A sub-band names one filter per axis, L for the wavelet's low-pass filter g and H for its high-pass
/// filter h, in image axis order: "LHL" is g along x (the image's first axis, i), h along y (j), g along z
/// (k). Three letters filter in 3D; two letters ("LH", "HH") filter each axial slice in 2D.
///
/// Level 1 convolves the image with the separable kernel, ψ_LHL(x, y, z) = g(x) h(y) g(z). Level l > 1
/// decomposes the all-low-pass band of level l - 1 (the LLL, or LL in 2D, approximation) further with the
/// filters upsampled by 2^(l-1) (2^(l-1) - 1 zeros between taps): R_l = (R^(LL..L)_(l-1)) * ψ_l, with
/// R^(LL..L)_0 the image. Each 1D convolution pads its input by the boundary condition. Even-length
/// filters get a trailing zero tap so that the kernel centre is tap N/2 (the IBSI and PyWavelets
/// alignment: with periodic padding the bands equal `pywt.swtn`'s).
///
/// Rotation invariance (IBSI 2 "rotation-invariant ... mean pooling"): the filter is applied to the image
/// turned by each of the 24 right-angle rotations of 3D space (4 in-plane rotations in 2D), each response
/// turned back, and the responses averaged voxel by voxel.
public struct SeparableWaveletFilter: Hashable, Sendable, CustomStringConvertible {
    /// One letter of a sub-band: which filter of the wavelet's pair runs along an axis.
    public enum Pass: Character, Hashable, Sendable {
        case low = "L"
        case high = "H"
    }

    public let wavelet: Wavelet
    /// Filters along x, y (and z): two passes filter axial slices in 2D, three filter in 3D.
    public let band: [Pass]
    /// Decomposition level, 1 or more.
    public let level: Int
    public let boundary: BoundaryCondition
    /// Mean pooling over the right-angle rotations.
    public let rotationInvariant: Bool

    /// The sub-band `band` ("LHL", "hh"...) of wavelet `wavelet` (a PyWavelets name: "db3", "coif1",
    /// "haar"...) at decomposition `level`.
    public init(wavelet: String, band: String, level: Int = 1, boundary: BoundaryCondition = .mirror,
                rotationInvariant: Bool = false) throws {
        guard let w = Wavelet(named: wavelet) else {
            throw WaveletError.unknownWavelet(wavelet)
        }
        let passes = band.uppercased().map { Pass(rawValue: $0) }
        guard (2...3).contains(passes.count), passes.allSatisfy({ $0 != nil }) else {
            throw WaveletError.badBand(band)
        }
        guard level >= 1 else { throw WaveletError.badLevel(level) }
        self.wavelet = w
        self.band = passes.compactMap { $0 }
        self.level = level
        self.boundary = boundary
        self.rotationInvariant = rotationInvariant
    }

    /// True for a two-letter band: each axial slice is filtered on its own.
    public var isSliceBySlice: Bool { band.count == 2 }

    /// The band as written, "LHL".
    public var bandName: String { String(band.map(\.rawValue)) }

    /// Readable identifier, e.g. `wavelet_db3_llh_l1_invar`, `wavelet_haar_hh_l2`.
    public var token: String {
        "wavelet_\(wavelet.name)_\(bandName.lowercased())_l\(level)" + (rotationInvariant ? "_invar" : "")
    }

    public var description: String { token }

    /// Voxels the response reads on each side of a voxel along a filtered axis: Σ_l 2^(l-1) (N' - 1)/2,
    /// N' the filter length made odd.
    public var supportRadius: Int {
        let halfLength = Self.centred(wavelet.lowPass).count / 2
        return ((1 << level) - 1) * halfLength
    }

    /// The response map over the whole image.
    public func response(_ image: Volume<Float>) -> Volume<Float> {
        let n = image.size
        return response(image, over: IndexBox(lower: Index3(0, 0, 0), upper: Index3(n.nx - 1, n.ny - 1, n.nz - 1)))
    }

    /// The response map over `box` (inside the image), on the box's sub-grid. Only the box and the voxels
    /// its filter support reaches (through the boundary rule) are read; the result equals the whole-image
    /// response cropped to the box.
    public func response(_ image: Volume<Float>, over box: IndexBox) -> Volume<Float> {
        let size = image.size
        precondition(box.lower.i >= 0 && box.lower.j >= 0 && box.lower.k >= 0 && box.upper.i < size.nx
                     && box.upper.j < size.ny && box.upper.k < size.nz, "the box lies inside the image")
        let axes = band.count
        let rotations = rotationInvariant
            ? (axes == 3 ? RightAngleRotation.all3D : RightAngleRotation.inPlane)
            : [RightAngleRotation.identity(axes)]

        // Per image axis, the cascade for (band letter, mirrored): at most four distinct ones.
        struct AxisKey: Hashable {
            let pass: Pass
            let mirrored: Bool
            var order: Int { (pass == .high ? 2 : 0) + (mirrored ? 1 : 0) }
        }
        var cascades = [[AxisKey: AxisCascade]](repeating: [:], count: axes)
        func cascade(axis: Int, _ key: AxisKey) -> AxisCascade {
            if let c = cascades[axis][key] { return c }
            let outputs = box.lower[axis]...box.upper[axis]
            let c = AxisCascade(kernels: axisKernels(key.pass, mirrored: key.mirrored), count: size[axis],
                                boundary: boundary, outputs: outputs)
            cascades[axis][key] = c
            return c
        }

        // Each rotation as one key per image axis; equal keys give equal responses, so count them.
        var counts = [[AxisKey]: Int]()
        for rotation in rotations {
            let keys = (0..<axes).map { a in
                AxisKey(pass: band[rotation.source[a]], mirrored: rotation.mirrored[a])
            }
            counts[keys, default: 0] += 1
        }
        let combinations = counts.keys.sorted { $0.map(\.order).lexicographicallyPrecedes($1.map(\.order)) }
        for keys in combinations { for a in 0..<axes { _ = cascade(axis: a, keys[a]) } }

        // Input block: the union of the spans every cascade reads, per axis.
        var lower = box.lower, upper = box.upper
        for a in 0..<axes {
            for c in cascades[a].values {
                lower[a] = min(lower[a], c.span.lowerBound)
                upper[a] = max(upper[a], c.span.upperBound)
            }
        }
        let input = VoxelBlock(image, box: IndexBox(lower: lower, upper: upper))
        let zIdentity = AxisCascade(identityOn: box.lower.k...box.upper.k)

        // Sum over the combinations, sharing the x pass (and the x, y passes) between them.
        var sum = [Double](repeating: 0, count: box.size.count)
        var xDone = [AxisKey: VoxelBlock]()
        var xyDone = [[AxisKey]: VoxelBlock]()
        for keys in combinations {
            let weight = Double(counts[keys]!) / Double(rotations.count)
            let x = xDone[keys[0]] ?? input.applying(cascades[0][keys[0]]!, along: 0)
            xDone[keys[0]] = x
            let xy = xyDone[Array(keys[0...1])] ?? x.applying(cascades[1][keys[1]]!, along: 1)
            xyDone[Array(keys[0...1])] = xy
            let xyz = xy.applying(axes == 3 ? cascades[2][keys[2]]! : zIdentity, along: 2)
            for t in 0..<sum.count { sum[t] += weight * xyz.values[t] }
        }
        return VoxelBlock(lower: box.lower, size: box.size, values: sum).volume(on: image.grid.subgrid(box))
    }

    /// The 1D kernels along an axis whose band letter is `pass`: the low-pass filter at levels 1..<L, then
    /// `pass`'s filter at level L, each upsampled à trous, all mirrored for a mirrored axis.
    func axisKernels(_ pass: Pass, mirrored: Bool) -> [[Double]] {
        let g = Self.centred(wavelet.lowPass)
        let last = Self.centred(pass == .low ? wavelet.lowPass : wavelet.highPass)
        var kernels = (1..<level).map { Self.upsampled(g, level: $0) }
        kernels.append(Self.upsampled(last, level: level))
        return mirrored ? kernels.map { $0.reversed() } : kernels
    }

    /// The filter with a trailing zero tap when its length is even, so that its centre is tap N/2.
    static func centred(_ filter: [Double]) -> [Double] {
        filter.count % 2 == 0 ? filter + [0] : filter
    }

    /// The filter at decomposition `level`: 2^(level-1) - 1 zeros inserted between consecutive taps.
    static func upsampled(_ filter: [Double], level: Int) -> [Double] {
        let step = 1 << (level - 1)
        var out = [Double](repeating: 0, count: (filter.count - 1) * step + 1)
        for (t, w) in filter.enumerated() { out[t * step] = w }
        return out
    }
}

/// A wavelet filter that cannot be built from its settings.
public enum WaveletError: Error, Equatable, CustomStringConvertible {
    case unknownWavelet(String)
    case badBand(String)
    case badLevel(Int)

    public var description: String {
        switch self {
        case .unknownWavelet(let name):
            return "unknown wavelet '\(name)' (known: \(Wavelet.names.joined(separator: ", ")))"
        case .badBand(let band):
            return "bad wavelet sub-band '\(band)': two (2D) or three (3D) letters L or H, e.g. LH or LHL"
        case .badLevel(let level):
            return "bad wavelet decomposition level \(level): 1 or more"
        }
    }
}

/// A rotation of the voxel grid by right angles, as what the filter sees along each image axis: image
/// axis a receives the filter written for axis `source[a]`, mirrored when `mirrored[a]`.
struct RightAngleRotation: Hashable, Sendable {
    let source: [Int]
    let mirrored: [Bool]

    static func identity(_ axes: Int) -> RightAngleRotation {
        RightAngleRotation(source: Array(0..<axes), mirrored: [Bool](repeating: false, count: axes))
    }

    /// The 24 rotations of 3D space mapping the axes onto themselves: signed permutation matrices of
    /// determinant +1.
    static let all3D: [RightAngleRotation] = signedPermutations(3)
    /// The 4 rotations of the axial plane.
    static let inPlane: [RightAngleRotation] = signedPermutations(2)

    private static func signedPermutations(_ n: Int) -> [RightAngleRotation] {
        let permutations: [[Int]] = n == 2 ? [[0, 1], [1, 0]]
            : [[0, 1, 2], [0, 2, 1], [1, 0, 2], [1, 2, 0], [2, 0, 1], [2, 1, 0]]
        var out = [RightAngleRotation]()
        for p in permutations {
            // Sign of the permutation: count inversions.
            var inversions = 0
            for a in 0..<n { for b in (a + 1)..<n where p[a] > p[b] { inversions += 1 } }
            for signs in 0..<(1 << n) {
                let mirrored = (0..<n).map { signs >> $0 & 1 == 1 }
                let negatives = mirrored.filter { $0 }.count
                if (inversions + negatives) % 2 == 0 { out.append(RightAngleRotation(source: p, mirrored: mirrored)) }
            }
        }
        return out
    }
}
