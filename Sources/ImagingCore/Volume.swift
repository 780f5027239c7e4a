/// A 3D array of voxels on an `ImageGrid`, stored with x fastest, then y, then z.
///
/// Intensity images use `Volume<Float>` (HU for CT, SUV for PET), binary masks
/// `Volume<Bool>` (`Mask`), and label maps `Volume<Int32>` (`LabelMap`).
public struct Volume<Element>: Sendable where Element: Sendable {
    public var grid: ImageGrid
    public var voxels: [Element]

    public init(grid: ImageGrid, voxels: [Element]) {
        precondition(voxels.count == grid.voxelCount,
                     "volume has \(voxels.count) voxels, grid \(grid.size) needs \(grid.voxelCount)")
        self.grid = grid
        self.voxels = voxels
    }

    public init(grid: ImageGrid, repeating value: Element) {
        self.grid = grid
        self.voxels = [Element](repeating: value, count: grid.voxelCount)
    }

    public var size: Size3 { grid.size }

    @inline(__always)
    public subscript(i: Int, j: Int, k: Int) -> Element {
        get { voxels[grid.linearIndex(i, j, k)] }
        set { voxels[grid.linearIndex(i, j, k)] = newValue }
    }

    public subscript(index: Index3) -> Element {
        get { self[index.i, index.j, index.k] }
        set { self[index.i, index.j, index.k] = newValue }
    }

    /// The same grid with every voxel transformed.
    public func map<T>(_ transform: (Element) throws -> T) rethrows -> Volume<T> {
        Volume<T>(grid: grid, voxels: try voxels.map(transform))
    }

    /// The sub-volume inside `box`, on the matching sub-grid.
    public func cropped(to box: IndexBox) -> Volume<Element> {
        let sub = grid.subgrid(box)
        var out = [Element]()
        out.reserveCapacity(sub.voxelCount)
        for k in box.lower.k...box.upper.k {
            for j in box.lower.j...box.upper.j {
                let start = grid.linearIndex(box.lower.i, j, k)
                out.append(contentsOf: voxels[start...(start + box.size.nx - 1)])
            }
        }
        return Volume(grid: sub, voxels: out)
    }
}

/// A binary region of interest on an image grid.
public typealias Mask = Volume<Bool>
/// An integer label per voxel (0 = background).
public typealias LabelMap = Volume<Int32>

extension Volume where Element == Bool {
    // A lesion's mask lives on its whole image (a million voxels or more) and is nearly all background, and
    // loading a cohort takes its count, box and centroid for every lesion: the passes below test eight voxels
    // at a time (a `Bool` is one byte holding 0 or 1) and look at single voxels only where a word is not zero.
    // They visit the inside voxels in the same order as a voxel-by-voxel pass, so every sum is the same.

    /// Calls `body` with the linear index of every inside voxel in `range`, in ascending order.
    @inline(__always)
    func forEachInside(_ range: Range<Int>, _ body: (Int) -> Void) {
        voxels.withUnsafeBytes { raw in
            var n = range.lowerBound
            while n + 8 <= range.upperBound {
                if raw.loadUnaligned(fromByteOffset: n, as: UInt64.self) != 0 {
                    for m in n..<(n + 8) where raw[m] != 0 { body(m) }
                }
                n += 8
            }
            while n < range.upperBound {
                if raw[n] != 0 { body(n) }
                n += 1
            }
        }
    }

    /// Number of voxels inside the mask.
    public var count: Int {
        voxels.withUnsafeBytes { raw in
            var total = 0, n = 0
            while n + 8 <= raw.count {
                // Each byte is 0 or 1, so the set bits of a word are its inside voxels.
                total += raw.loadUnaligned(fromByteOffset: n, as: UInt64.self).nonzeroBitCount
                n += 8
            }
            while n < raw.count {
                total += Int(raw[n])
                n += 1
            }
            return total
        }
    }

    public var isEmpty: Bool {
        voxels.withUnsafeBytes { raw in
            var n = 0
            while n + 8 <= raw.count {
                if raw.loadUnaligned(fromByteOffset: n, as: UInt64.self) != 0 { return false }
                n += 8
            }
            while n < raw.count {
                if raw[n] != 0 { return false }
                n += 1
            }
            return true
        }
    }

    /// The tightest box holding every voxel of the mask, or nil for an empty mask.
    public var boundingBox: IndexBox? {
        var lo = Index3(Int.max, Int.max, Int.max), hi = Index3(-1, -1, -1)
        let nx = grid.size.nx, ny = grid.size.ny
        for k in 0..<grid.size.nz {
            for j in 0..<ny {
                let row = (k * ny + j) * nx
                var first = -1, last = -1
                forEachInside(row..<(row + nx)) { n in
                    if first < 0 { first = n - row }
                    last = n - row
                }
                guard first >= 0 else { continue }
                lo = Index3(min(lo.i, first), min(lo.j, j), min(lo.k, k))
                hi = Index3(max(hi.i, last), max(hi.j, j), max(hi.k, k))
            }
        }
        return hi.i < 0 ? nil : IndexBox(lower: lo, upper: hi)
    }

    /// Volume of the mask in mm³ by voxel counting.
    public var physicalVolume: Double { Double(count) * grid.voxelVolume }

    /// World position (LPS, mm) of the mask's centre of mass, or nil when empty.
    public var centroid: Vector3? {
        var s = Vector3.zero
        var n = 0
        let nx = grid.size.nx, ny = grid.size.ny
        for k in 0..<grid.size.nz {
            for j in 0..<ny {
                let row = (k * ny + j) * nx
                forEachInside(row..<(row + nx)) { idx in
                    s = s + Vector3(Double(idx - row), Double(j), Double(k))
                    n += 1
                }
            }
        }
        guard n > 0 else { return nil }
        return grid.world(atContinuousIndex: (1.0 / Double(n)) * s)
    }

    /// `count` when `box` holds every inside voxel (e.g. `boundingBox`, known already), reading the box only.
    public func count(within box: IndexBox) -> Int {
        let nx = grid.size.nx, ny = grid.size.ny
        var total = 0
        for k in box.lower.k...box.upper.k {
            for j in box.lower.j...box.upper.j {
                let row = (k * ny + j) * nx
                forEachInside((row + box.lower.i)..<(row + box.upper.i + 1)) { _ in total += 1 }
            }
        }
        return total
    }

    /// `centroid` when `box` holds every inside voxel, reading the box only: the same voxels summed in the same
    /// order, so the same value to the last bit.
    public func centroid(within box: IndexBox) -> Vector3? {
        var s = Vector3.zero
        var n = 0
        let nx = grid.size.nx, ny = grid.size.ny
        for k in box.lower.k...box.upper.k {
            for j in box.lower.j...box.upper.j {
                let row = (k * ny + j) * nx
                forEachInside((row + box.lower.i)..<(row + box.upper.i + 1)) { idx in
                    s = s + Vector3(Double(idx - row), Double(j), Double(k))
                    n += 1
                }
            }
        }
        guard n > 0 else { return nil }
        return grid.world(atContinuousIndex: (1.0 / Double(n)) * s)
    }

    /// Voxel-wise AND NOT: the voxels of `self` that are not in `other` (same grid required).
    public func subtracting(_ other: Mask) -> Mask {
        precondition(grid.size == other.grid.size)
        return Mask(grid: grid, voxels: zip(voxels, other.voxels).map { $0 && !$1 })
    }

    public func union(_ other: Mask) -> Mask {
        precondition(grid.size == other.grid.size)
        return Mask(grid: grid, voxels: zip(voxels, other.voxels).map { $0 || $1 })
    }

    public func intersection(_ other: Mask) -> Mask {
        precondition(grid.size == other.grid.size)
        return Mask(grid: grid, voxels: zip(voxels, other.voxels).map { $0 && $1 })
    }

    /// Sørensen–Dice overlap with another mask on the same grid (1 when both are empty).
    public func dice(_ other: Mask) -> Double {
        precondition(grid.size == other.grid.size)
        var a = 0, b = 0, both = 0
        for (x, y) in zip(voxels, other.voxels) {
            if x { a += 1 }
            if y { b += 1 }
            if x && y { both += 1 }
        }
        return a + b == 0 ? 1 : 2 * Double(both) / Double(a + b)
    }
}

extension Volume where Element == Int32 {
    /// The mask of voxels carrying `label`.
    public func mask(label: Int32) -> Mask {
        // One plain loop over both buffers (the compiler vectorises it), not `map`'s element-by-element append.
        let out = [Bool](unsafeUninitializedCapacity: voxels.count) { buffer, initialised in
            voxels.withUnsafeBufferPointer { v in
                for n in 0..<v.count { buffer[n] = v[n] == label }
            }
            initialised = voxels.count
        }
        return Mask(grid: grid, voxels: out)
    }
    /// Distinct non-zero labels in ascending order, found in one pass that skips background voxels and
    /// voxels repeating the label before them (a label map is mostly long runs), so only label changes
    /// are looked up.
    public var labels: [Int32] {
        var seen = Set<Int32>()
        voxels.withUnsafeBufferPointer { v in
            var last: Int32 = 0
            for value in v where value != last {
                last = value
                if value != 0 { seen.insert(value) }
            }
        }
        return seen.sorted()
    }
}
