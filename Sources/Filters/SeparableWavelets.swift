import ImagingCore

/// Undecimated (stationary, "à trous") separable wavelet sub-band (IBSI 2 reference manual, section
/// "separable wavelets"; phase 1 configurations 5A1/5A2 Daubechies 2, 6A1/6A2 Coiflet 1, 7A1/7A2 Haar).
///
/// IBSI 2 identifier: unconfirmed. An unverified list gives 25BO; no source checked here names a code for the
/// separable wavelets (the reference manual's text, arXiv:2006.05470, could not be read).
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
/// PyRadiomics' levels differ: with `cascade: .pyradiomics` a level l > 1 applies the same, not upsampled,
/// filters to the approximation of level l - 1 (its `wavelet<l>-<band>` images).
///
/// Rotation invariance (IBSI 2 "rotation-invariant ... mean pooling"): the filter is applied to the image
/// turned by each of the 24 right-angle rotations of 3D space (4 in-plane rotations in 2D), each response
/// turned back, and the responses averaged voxel by voxel (or their maximum taken, with max pooling).
/// Turning the image is turning the kernel (the boundary rules are symmetric): the 1D filters move to other
/// axes and are mirrored, h[-x], along reversed axes; every filter of a level's cascade turns with it.
public struct SeparableWaveletFilter: ImageFilter, Hashable, CustomStringConvertible {
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
    /// Pooling over the right-angle rotations (mean in IBSI 2), or nil for the plain sub-band.
    public let pooling: Pooling?
    /// How levels above 1 filter the previous approximation (IBSI 2: upsampled filters).
    public let cascade: WaveletCascade

    /// The sub-band `band` ("LHL", "hh"...) of wavelet `wavelet` (a PyWavelets name: "db3", "coif1",
    /// "haar"...) at decomposition `level`; `rotationInvariant` pools over the right-angle rotations with
    /// `pooling` (mean, as IBSI 2 defines it, by default).
    public init(wavelet: String, band: String, level: Int = 1, boundary: BoundaryCondition = .mirror,
                rotationInvariant: Bool = false, pooling: Pooling = .mean,
                cascade: WaveletCascade = .aTrous) throws {
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
        self.pooling = rotationInvariant ? pooling : nil
        self.cascade = cascade
    }

    public var rotationInvariant: Bool { pooling != nil }

    /// 2D (slice by slice) for a two-letter band, 3D for three letters.
    public var dimensionality: FilterDimensionality { band.count == 2 ? .twoD : .threeD }

    /// The band as written, "LHL".
    public var bandName: String { String(band.map(\.rawValue)) }

    /// `wavelet_<name>_<band>_l<level>[_pyradiomics][_invar[_max]][_2d]`, e.g. `wavelet_db3_llh_l1_invar` (mean
    /// pooling), `wavelet_haar_hh_l2_2d`, `wavelet_coif1_hhl_l2_pyradiomics` (PyRadiomics' `wavelet2-HHL`).
    public var token: String {
        "wavelet_\(wavelet.name)_\(bandName.lowercased())_l\(level)"
            + (cascade == .pyradiomics && level > 1 ? "_pyradiomics" : "")
            + (pooling.map { $0 == .mean ? "_invar" : "_invar_\($0.rawValue)" } ?? "")
            + dimensionality.tokenSuffix
    }

    public var description: String { token }

    /// Voxels the response reads on each side of a voxel along a filtered axis: Σ_l 2^(l-1) ⌊N/2⌋ for N taps.
    public var supportRadius: Int {
        (cascade == .aTrous ? (1 << level) - 1 : level) * (wavelet.length / 2)
    }

    /// The response over `box` (clipped to the image; the whole image when nil), on the box's sub-grid. Only
    /// the box and the voxels its filter support reaches (through the boundary rule) are read; the result
    /// equals the whole-image response cropped to the box.
    public func response(of image: Volume<Float>, over box: IndexBox?) -> Volume<Float> {
        Self.responses(of: [self], image: image, over: box)[0]
    }

    /// The responses of several filters over one box (in their order). Sub-bands of one decomposition (same
    /// wavelet, level, boundary, pooling and dimensionality) share the image read and every pass they have in
    /// common: the 8 sub-bands of a 3D level cost 2 + 4 + 8 passes instead of 24.
    public static func responses(of filters: [SeparableWaveletFilter], image: Volume<Float>,
                                 over box: IndexBox?) -> [Volume<Float>] {
        let box = box?.clipped(to: image.size) ?? .whole(image.size)
        var out = [Volume<Float>?](repeating: nil, count: filters.count)
        var groups = [Decomposition: [Int]]()
        for (n, f) in filters.enumerated() {
            groups[Decomposition(f), default: []].append(n)
        }
        for (_, members) in groups.sorted(by: { $0.value[0] < $1.value[0] }) {
            let results = sharedResponses(members.map { filters[$0] }, image: image, box: box)
            for (n, r) in zip(members, results) { out[n] = r }
        }
        return out.map { $0! }
    }

    /// What sub-bands must share to share passes.
    private struct Decomposition: Hashable {
        let wavelet: String, level: Int, boundary: BoundaryCondition, pooling: Pooling?, axes: Int
        let cascade: WaveletCascade
        init(_ f: SeparableWaveletFilter) {
            wavelet = f.wavelet.name; level = f.level; boundary = f.boundary; pooling = f.pooling; axes = f.band.count
            cascade = f.cascade
        }
    }

    /// Per image axis, which filter of the pair lands there and whether it is mirrored.
    private struct AxisKey: Hashable {
        let pass: Pass
        let mirrored: Bool
        var order: Int { (pass == .high ? 2 : 0) + (mirrored ? 1 : 0) }
    }

    private static func sharedResponses(_ filters: [SeparableWaveletFilter], image: Volume<Float>,
                                        box: IndexBox) -> [Volume<Float>] {
        let first = filters[0]
        let size = image.size
        let axes = first.band.count
        let pooling = first.pooling
        let rotations = pooling == nil ? [RightAngleRotation.identity] : RightAngleRotation.all(first.dimensionality)

        // Each rotation of each filter as one key per image axis: the letter whose filter lands there,
        // mirrored or not. Equal keys give equal responses, so they are counted, not recomputed.
        var terms = [(keys: [AxisKey], filter: Int, count: Int)]()
        for (n, f) in filters.enumerated() {
            var counts = [[AxisKey]: Int]()
            for rotation in rotations {
                var keys = [AxisKey?](repeating: nil, count: axes)
                for letter in 0..<axes {
                    keys[rotation.permutation[letter]] = AxisKey(pass: f.band[letter],
                                                                 mirrored: rotation.signs[letter] < 0)
                }
                counts[keys.map { $0! }, default: 0] += 1
            }
            for (keys, count) in counts { terms.append((keys, n, count)) }
        }
        // Sorted by key (then filter), terms sharing an x (x-y) pass are consecutive.
        terms.sort { a, b in
            a.keys == b.keys ? a.filter < b.filter
                : a.keys.map(\.order).lexicographicallyPrecedes(b.keys.map(\.order))
        }

        let bounds = [box.lower.i...box.upper.i, box.lower.j...box.upper.j, box.lower.k...box.upper.k]
        var cascades = [[AxisKey: AxisCascade]](repeating: [:], count: axes)
        for term in terms {
            for a in 0..<axes where cascades[a][term.keys[a]] == nil {
                let k = term.keys[a]
                cascades[a][k] = AxisCascade(kernels: first.axisKernels(k.pass, mirrored: k.mirrored),
                                             count: size[a], boundary: first.boundary, outputs: bounds[a])
            }
        }

        // Input: the union of the spans every cascade reads, per axis (z: the box itself in 2D).
        var lo = [box.lower.i, box.lower.j, box.lower.k], hi = [box.upper.i, box.upper.j, box.upper.k]
        for a in 0..<axes {
            for c in cascades[a].values {
                lo[a] = min(lo[a], c.span.lowerBound)
                hi[a] = max(hi[a], c.span.upperBound)
            }
        }
        let input = FilterBlock.read(image, over: IndexBox(lower: Index3(lo[0], lo[1], lo[2]),
                                                           upper: Index3(hi[0], hi[1], hi[2])),
                                     boundary: first.boundary)

        // Pool each filter's terms (a term stands for `count` rotations); only the current x and x-y passes
        // are kept.
        var pooled = [[Double]?](repeating: nil, count: filters.count)
        var x: (key: AxisKey, block: FilterBlock)?
        var xy: (keys: [AxisKey], block: FilterBlock)?
        for term in terms {
            let keys = term.keys
            if x?.key != keys[0] {
                x = (keys[0], input.applying(cascades[0][keys[0]]!, along: 0))
                xy = nil
            }
            if xy?.keys != Array(keys[0...1]) {
                xy = (Array(keys[0...1]), x!.block.applying(cascades[1][keys[1]]!, along: 1))
            }
            let r = axes == 3 ? xy!.block.applying(cascades[2][keys[2]]!, along: 2).values : xy!.block.values
            guard var acc = pooled[term.filter] else {
                let weight = Double(term.count) / Double(rotations.count)
                pooled[term.filter] = pooling == .max || weight == 1 ? r : r.map { weight * $0 }
                continue
            }
            if pooling == .max {
                for t in acc.indices where r[t] > acc[t] { acc[t] = r[t] }
            } else {
                let weight = Double(term.count) / Double(rotations.count)
                for t in acc.indices { acc[t] += weight * r[t] }
            }
            pooled[term.filter] = acc
        }
        let grid = image.grid.subgrid(box)
        return pooled.map { Volume(grid: grid, voxels: Precision.singles($0!)) }
    }

    /// The 1D kernels along an axis whose band letter is `pass`: the low-pass filter at levels 1..<L, then
    /// `pass`'s filter at level L, each upsampled à trous (not with the PyRadiomics cascade), all mirrored on a
    /// mirrored axis.
    func axisKernels(_ pass: Pass, mirrored: Bool) -> [Kernel1D] {
        let last = pass == .low ? wavelet.lowPass : wavelet.highPass
        let upsampling = { (l: Int) in self.cascade == .aTrous ? l : 1 }
        var kernels = (1..<level).map { Self.kernel(wavelet.lowPass, level: upsampling($0)) }
        kernels.append(Self.kernel(last, level: upsampling(level)))
        return mirrored ? kernels.map(\.reversed) : kernels
    }

    /// A filter of N taps at decomposition `level`: 2^(level-1) - 1 zeros between consecutive taps, centred
    /// on tap ⌊N/2⌋ (for even N the IBSI and PyWavelets alignment: the filter padded with a trailing zero to
    /// odd length, centred).
    static func kernel(_ filter: [Double], level: Int) -> Kernel1D {
        let step = 1 << (level - 1)
        var out = [Double](repeating: 0, count: (filter.count - 1) * step + 1)
        for (t, w) in filter.enumerated() { out[t * step] = w }
        return Kernel1D(out, center: (filter.count / 2) * step)
    }
}

/// How a decomposition level above 1 filters the approximation (all-low-pass band) of the level below.
public enum WaveletCascade: String, CaseIterable, Codable, Sendable {
    /// IBSI 2 and `pywt.swtn`: the filters upsampled by 2^(l-1) at level l (the undecimated "à trous" transform).
    case aTrous = "a_trous"
    /// PyRadiomics (`imageoperations.getWaveletImage`, `wavelet<l>-<band>` for l > 1): the same filters, not
    /// upsampled, at every level (`pywt.swtn(level=1)` applied again to the previous approximation).
    case pyradiomics
}

/// A wavelet filter that cannot be built from its settings.
public enum WaveletError: Error, Equatable, CustomStringConvertible {
    case unknownWavelet(String)
    case badBand(String)
    case badLevel(Int)
    case badMargin(Int)

    public var description: String {
        switch self {
        case .unknownWavelet(let name):
            return "unknown wavelet '\(name)' (known: \(Wavelet.names.joined(separator: ", ")))"
        case .badBand(let band):
            return "bad wavelet sub-band '\(band)': two (2D) or three (3D) letters L or H, e.g. LH or LHL"
        case .badLevel(let level):
            return "bad wavelet decomposition level \(level): 1 or more"
        case .badMargin(let margin):
            return "bad Simoncelli margin \(margin): 0 or more voxels"
        }
    }
}
