import Foundation
import ImagingCore

/// NIfTI voxel-to-world transforms, read the way ITK's `NiftiImageIO` (ITK 5.4, as in SimpleITK 2.x)
/// reads them and written so that every common reader agrees.
///
/// Matrices are kept in single precision, as nifti_clib stores them, so the resulting
/// origin and directions are the ones ITK computes, not merely close to them.
enum NIfTIGeometry {
    /// A 4x4 affine in single precision, row-major (`m[row][column]`).
    typealias Mat44 = [[Float]]

    /// The LPS grid ITK derives from a header, and which transform it used.
    ///
    /// ITK's choice: with neither code set, origin 0 and identity directions. Otherwise the sform
    /// is used when it agrees element by element with the qform, or when it is orthonormal
    /// (after removing column scales) and either the qform code is 0, or the sform code is 1
    /// (scanner anatomical), or both codes are set and the two transforms describe the same
    /// space within 1e-4. In every other case the qform is used; a file whose only transform
    /// is a sheared sform is refused, as ITK refuses it.
    /// Spacing always comes from `pixdim`; `xyzt_units` metres or microns rescale spacing
    /// and origin to millimetres.
    static func itkGrid(size: Size3, pixdim: [Float], qfac: Float, qformCode rawQCode: Int,
                        sformCode rawSCode: Int, quatern: [Float], qoffset: [Float], srow: [[Float]],
                        spaceUnits: UInt8, file: URL) throws -> (grid: ImageGrid, source: NIfTITransformSource) {
        let qCode = max(0, rawQCode), sCode = max(0, rawSCode)
        let unitScale: Double = spaceUnits == 1 ? 1e3 : (spaceUnits == 3 ? 1e-3 : 1)
        let spacing = Vector3(Double(pixdim[0]) * unitScale, Double(pixdim[1]) * unitScale,
                              Double(pixdim[2]) * unitScale)
        guard qCode != 0 || sCode != 0 else {
            return (ImageGrid(size: size, spacing: spacing), .none)
        }
        let qto: Mat44 = qCode > 0
            ? quaternionToMatrix(b: quatern[0], c: quatern[1], d: quatern[2], offset: qoffset,
                                 spacing: pixdim, qfac: qfac)
            : [[pixdim[0], 0, 0, 0], [0, pixdim[1], 0, 0], [0, 0, pixdim[2], 0], [0, 0, 0, 1]]
        let sto: Mat44 = sCode > 0 ? srow + [[0, 0, 0, 1]] : Array(repeating: [0, 0, 0, 0], count: 4)

        var preferSform = elementwiseSimilar(sto, qto)
        if !preferSform || sCode != 0 {
            if isOrthonormalAfterScaling(sto) {
                if qCode == 0 && sCode != 0 {
                    preferSform = true
                } else if sCode == 1 {
                    preferSform = true
                } else if qCode != 0 && sCode != 0 {
                    preferSform = describeSameSpace(sto, qto)
                }
            }
        }
        let chosen: Mat44
        let source: NIfTITransformSource
        if preferSform {
            (chosen, source) = (sto, .sform)
        } else if qCode != 0 {
            (chosen, source) = (qto, .qform)
        } else {
            throw ImageIOError(file: file, reason: "has no usable orientation: the sform (code \(sCode)) is "
                               + "not orthonormal and there is no qform")
        }

        // NIfTI world is RAS; LPS negates x and y.
        let flip: [Double] = [-1, -1, 1]
        let origin = Vector3(flip[0] * Double(chosen[0][3]) * unitScale, flip[1] * Double(chosen[1][3]) * unitScale,
                             Double(chosen[2][3]) * unitScale)
        let columns = (0..<3).map { c -> Vector3 in
            let v = Vector3(flip[0] * Double(chosen[0][c]), flip[1] * Double(chosen[1][c]), Double(chosen[2][c]))
            return (1 / v.length) * v
        }
        let grid = ImageGrid(size: size, spacing: spacing, origin: origin,
                             direction: Matrix3(columns: columns[0], columns[1], columns[2]))
        do {
            try grid.validate()
            guard origin.x.isFinite, origin.y.isFinite, origin.z.isFinite else {
                throw ImagingError.invalidGeometry("origin \(origin) is not finite")
            }
        } catch {
            throw ImageIOError(file: file, reason: "has unusable geometry from its \(source.rawValue): \(error)")
        }
        return (grid, source)
    }

    /// nifti_clib's `nifti_quatern_to_mat44`: rotation from the quaternion (b, c, d) with
    /// a = sqrt(1 - b² - c² - d²), columns scaled by the spacing, the third negated when qfac < 0.
    static func quaternionToMatrix(b qb: Float, c qc: Float, d qd: Float, offset: [Float], spacing: [Float],
                                   qfac: Float) -> Mat44 {
        var b = Double(qb), c = Double(qc), d = Double(qd)
        var a = 1 - (b * b + c * c + d * d)
        if a < 1e-7 {  // 180 degree rotation: renormalise (b, c, d)
            a = 1 / (b * b + c * c + d * d).squareRoot()
            b *= a; c *= a; d *= a
            a = 0
        } else {
            a = a.squareRoot()
        }
        let xd = spacing[0] > 0 ? Double(spacing[0]) : 1
        let yd = spacing[1] > 0 ? Double(spacing[1]) : 1
        var zd = spacing[2] > 0 ? Double(spacing[2]) : 1
        if qfac < 0 { zd = -zd }
        let r: [[Double]] = [
            [(a * a + b * b - c * c - d * d) * xd, 2 * (b * c - a * d) * yd, 2 * (b * d + a * c) * zd],
            [2 * (b * c + a * d) * xd, (a * a + c * c - b * b - d * d) * yd, 2 * (c * d - a * b) * zd],
            [2 * (b * d - a * c) * xd, 2 * (c * d + a * b) * yd, (a * a + d * d - c * c - b * b) * zd],
        ]
        return (0..<3).map { row in r[row].map { Float($0) } + [offset[row]] } + [[0, 0, 0, 1]]
    }

    /// ITK's first test: rotation-and-scale parts equal within 1e-5, translations and bottom rows within 1e-7.
    private static func elementwiseSimilar(_ s: Mat44, _ q: Mat44) -> Bool {
        for r in 0..<3 {
            for c in 0..<3 where abs(s[r][c] - q[r][c]) > 1e-5 { return false }
        }
        let translation = (0..<4).reduce(Float(0)) { $0 + abs(s[$1][3] - q[$1][3]) }
        let bottom = (0..<4).reduce(Float(0)) { $0 + abs(s[3][$1] - q[3][$1]) }
        return translation <= 1e-7 && bottom <= 1e-7
    }

    /// ITK's "decomposable without skew" test: with each column scaled to unit length, R·Rᵀ is
    /// the identity within 1e-4 (single precision, as ITK computes it).
    private static func isOrthonormalAfterScaling(_ m: Mat44) -> Bool {
        var r = [[Float]](repeating: [0, 0, 0], count: 3)
        for c in 0..<3 {
            let norm = (0..<3).reduce(Float(0)) { $0 + m[$1][c] * m[$1][c] }.squareRoot()
            guard norm > 0 else { return false }
            for row in 0..<3 { r[row][c] = m[row][c] / norm }
        }
        for i in 0..<3 {
            for j in 0..<3 {
                let dot = r[i][0] * r[j][0] + r[i][1] * r[j][1] + r[i][2] * r[j][2]
                if !(abs(dot - (i == j ? 1 : 0)) <= 1e-4) { return false }
            }
        }
        return true
    }

    /// Whether two orthonormal-after-scaling transforms describe the same space within 1e-4:
    /// same scales (ITK compares singular values, which for such matrices are the column lengths),
    /// same rotation, same offset. ITK builds the rotation test from SVDs, whose singular vectors are
    /// not unique when two spacings are equal; comparing the normalised matrices directly is what that
    /// test intends. The two can only disagree for transforms closer than 1e-4 but not element-wise
    /// equal, where either choice gives positions within about 1e-4 of each other.
    private static func describeSameSpace(_ s: Mat44, _ q: Mat44) -> Bool {
        func columnLengths(_ m: Mat44) -> [Double] {
            (0..<3).map { c in (0..<3).reduce(0.0) { $0 + Double(m[$1][c]) * Double(m[$1][c]) }.squareRoot() }
        }
        let sLengths = columnLengths(s), qLengths = columnLengths(q)
        guard zip(sLengths.sorted(), qLengths.sorted()).allSatisfy({ abs($0 - $1) <= 1e-4 }) else { return false }
        for i in 0..<3 {
            for j in 0..<3 {
                // (S normalised) · (Q normalised)ᵀ must be the identity.
                let dot = (0..<3).reduce(0.0) {
                    $0 + Double(s[i][$1]) / sLengths[$1] * Double(q[j][$1]) / qLengths[$1]
                }
                if abs(dot - (i == j ? 1 : 0)) > 1e-4 { return false }
            }
        }
        return (0..<4).allSatisfy { abs(s[$0][3] - q[$0][3]) <= 1e-4 && abs(s[3][$0] - q[3][$0]) <= 1e-4 }
    }

    /// The RAS transform written for a grid: `matrix` (rotation times spacing) and `offset` for the sform,
    /// and the quaternion (b, c, d) with `qfac` for the qform of the same rotation.
    struct RASTransform {
        var matrix: Matrix3
        var offset: [Double]
        var quaternion: [Double]
        var qfac: Double
    }

    static func rasTransform(of grid: ImageGrid) -> RASTransform {
        let lpsToRas = Matrix3(rows: [[-1, 0, 0], [0, -1, 0], [0, 0, 1]])
        let rotation = lpsToRas * grid.direction
        let scale = Matrix3(rows: [[grid.spacing.x, 0, 0], [0, grid.spacing.y, 0], [0, 0, grid.spacing.z]])
        let origin = lpsToRas * grid.origin
        let (quaternion, qfac) = quaternion(of: rotation)
        return RASTransform(matrix: rotation * scale, offset: [origin.x, origin.y, origin.z],
                            quaternion: quaternion, qfac: qfac)
    }

    /// nifti_clib's `nifti_mat44_to_quatern` for a rotation matrix: the quaternion (b, c, d) with a ≥ 0
    /// of the nearest proper rotation, and qfac = -1 when the matrix is a reflection.
    static func quaternion(of direction: Matrix3) -> (bcd: [Double], qfac: Double) {
        // Gram-Schmidt: the qform can only hold an orthonormal rotation.
        let x = direction.column(0), y0 = direction.column(1), z0 = direction.column(2)
        let u = (1 / x.length) * x
        let v1 = y0 - u.dot(y0) * u
        let v = (1 / v1.length) * v1
        var w = z0 - u.dot(z0) * u - v.dot(z0) * v
        w = (1 / w.length) * w
        var qfac = 1.0
        if Matrix3(columns: u, v, w).determinant < 0 {
            qfac = -1
            w = -w
        }
        let r = Matrix3(columns: u, v, w)
        var a = r[0, 0] + r[1, 1] + r[2, 2] + 1
        var b: Double, c: Double, d: Double
        if a > 0.5 {
            a = 0.5 * a.squareRoot()
            b = 0.25 * (r[2, 1] - r[1, 2]) / a
            c = 0.25 * (r[0, 2] - r[2, 0]) / a
            d = 0.25 * (r[1, 0] - r[0, 1]) / a
        } else {
            let xd = 1 + r[0, 0] - (r[1, 1] + r[2, 2])
            let yd = 1 + r[1, 1] - (r[0, 0] + r[2, 2])
            let zd = 1 + r[2, 2] - (r[0, 0] + r[1, 1])
            if xd > 1 {
                b = 0.5 * xd.squareRoot()
                c = 0.25 * (r[0, 1] + r[1, 0]) / b
                d = 0.25 * (r[0, 2] + r[2, 0]) / b
                a = 0.25 * (r[2, 1] - r[1, 2]) / b
            } else if yd > 1 {
                c = 0.5 * yd.squareRoot()
                b = 0.25 * (r[0, 1] + r[1, 0]) / c
                d = 0.25 * (r[1, 2] + r[2, 1]) / c
                a = 0.25 * (r[0, 2] - r[2, 0]) / c
            } else {
                d = 0.5 * zd.squareRoot()
                b = 0.25 * (r[0, 2] + r[2, 0]) / d
                c = 0.25 * (r[1, 2] + r[2, 1]) / d
                a = 0.25 * (r[1, 0] - r[0, 1]) / d
            }
            if a < 0 { b = -b; c = -c; d = -d }
        }
        return ([b, c, d], qfac)
    }
}
