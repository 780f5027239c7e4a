/// Errors raised by geometry and volume operations.
public enum ImagingError: Error, CustomStringConvertible, Equatable {
    case gridMismatch(String)
    case invalidGeometry(String)
    case emptyRegion(String)

    public var description: String {
        switch self {
        case .gridMismatch(let s): return "grid mismatch: \(s)"
        case .invalidGeometry(let s): return "invalid geometry: \(s)"
        case .emptyRegion(let s): return "empty region: \(s)"
        }
    }
}

/// The sampling grid of a 3D image: size, voxel spacing, origin and direction cosines.
///
/// `origin` is the world position (LPS, mm) of the centre of voxel `[0, 0, 0]`;
/// the world position of a continuous index `p` is `origin + direction * (spacing ⊙ p)`.
/// Two volumes can be combined voxel by voxel only when their grids agree.
public struct ImageGrid: Hashable, Sendable, CustomStringConvertible {
    public var size: Size3
    public var spacing: Vector3
    public var origin: Vector3
    public var direction: Matrix3

    public init(size: Size3, spacing: Vector3 = Vector3(1, 1, 1), origin: Vector3 = .zero,
                direction: Matrix3 = .identity) {
        self.size = size
        self.spacing = spacing
        self.origin = origin
        self.direction = direction
    }

    public var voxelCount: Int { size.count }
    /// Volume of one voxel in mm³.
    public var voxelVolume: Double { spacing.x * spacing.y * spacing.z }

    /// Throws unless the grid can be used: positive sizes and spacings, invertible direction.
    public func validate() throws {
        guard size.nx > 0, size.ny > 0, size.nz > 0 else {
            throw ImagingError.invalidGeometry("image size \(size) has an empty axis")
        }
        guard spacing.x > 0, spacing.y > 0, spacing.z > 0,
              spacing.x.isFinite, spacing.y.isFinite, spacing.z.isFinite else {
            throw ImagingError.invalidGeometry("voxel spacing \(spacing) must be positive and finite")
        }
        guard direction.inverse != nil else {
            throw ImagingError.invalidGeometry("direction matrix is singular")
        }
    }

    @inline(__always)
    public func linearIndex(_ i: Int, _ j: Int, _ k: Int) -> Int { (k * size.ny + j) * size.nx + i }

    @inline(__always)
    public func index(ofLinear n: Int) -> Index3 {
        let i = n % size.nx
        let j = (n / size.nx) % size.ny
        return Index3(i, j, n / (size.nx * size.ny))
    }

    @inline(__always)
    public func contains(_ i: Int, _ j: Int, _ k: Int) -> Bool {
        i >= 0 && j >= 0 && k >= 0 && i < size.nx && j < size.ny && k < size.nz
    }

    /// World position (LPS, mm) of a continuous voxel index.
    public func world(atContinuousIndex p: Vector3) -> Vector3 {
        origin + direction * p.scaled(by: spacing)
    }

    /// World position (LPS, mm) of the centre of a voxel.
    public func world(at index: Index3) -> Vector3 {
        world(atContinuousIndex: Vector3(Double(index.i), Double(index.j), Double(index.k)))
    }

    /// Continuous voxel index of a world position; the exact inverse of `world(atContinuousIndex:)`.
    public func continuousIndex(ofWorld w: Vector3) -> Vector3 {
        let inv = direction.inverse ?? .identity
        let d = inv * (w - origin)
        return Vector3(d.x / spacing.x, d.y / spacing.y, d.z / spacing.z)
    }

    /// Whether `other` samples the same voxels, within `tolerance` mm on origin and spacing.
    public func matches(_ other: ImageGrid, tolerance: Double = 1e-3) -> Bool {
        size == other.size
            && (spacing - other.spacing).length <= tolerance
            && (origin - other.origin).length <= tolerance
            && direction.maxDifference(to: other.direction) <= 1e-4
    }

    /// Throws `gridMismatch` describing the first difference from `other`.
    public func requireMatch(_ other: ImageGrid, tolerance: Double = 1e-3, context: String = "") throws {
        guard !matches(other, tolerance: tolerance) else { return }
        let prefix = context.isEmpty ? "" : context + ": "
        if size != other.size {
            throw ImagingError.gridMismatch("\(prefix)size \(size) vs \(other.size)")
        }
        if (spacing - other.spacing).length > tolerance {
            throw ImagingError.gridMismatch("\(prefix)spacing \(spacing) vs \(other.spacing)")
        }
        if (origin - other.origin).length > tolerance {
            throw ImagingError.gridMismatch("\(prefix)origin \(origin) vs \(other.origin)")
        }
        throw ImagingError.gridMismatch("\(prefix)direction cosines differ")
    }

    /// The grid of the sub-box `box` of this grid (same spacing and direction, shifted origin).
    public func subgrid(_ box: IndexBox) -> ImageGrid {
        ImageGrid(size: box.size, spacing: spacing,
                  origin: world(at: box.lower), direction: direction)
    }

    public var description: String {
        "grid \(size) spacing \(spacing) origin \(origin)"
    }
}

/// An axis-aligned box of voxel indices, `lower` inclusive to `upper` inclusive.
public struct IndexBox: Hashable, Sendable, CustomStringConvertible {
    public var lower: Index3
    public var upper: Index3

    public init(lower: Index3, upper: Index3) { self.lower = lower; self.upper = upper }

    public var size: Size3 { Size3(upper.i - lower.i + 1, upper.j - lower.j + 1, upper.k - lower.k + 1) }

    /// This box grown by `margin` voxels per axis and clipped to `grid`.
    public func expanded(by margin: Index3, within grid: Size3) -> IndexBox {
        IndexBox(lower: Index3(max(0, lower.i - margin.i), max(0, lower.j - margin.j), max(0, lower.k - margin.k)),
                 upper: Index3(min(grid.nx - 1, upper.i + margin.i), min(grid.ny - 1, upper.j + margin.j),
                               min(grid.nz - 1, upper.k + margin.k)))
    }

    public var description: String { "\(lower)...\(upper)" }
}
