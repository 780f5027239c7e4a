import Foundation
import ImagingCore

/// How lesions of a follow-up time point are lined up with the lesions already known (`LesionMatcher`).
public struct MatchingSettings: Sendable, Equatable {
    /// Gating distance, mm: a follow-up lesion is matched only to a known lesion whose centroid lies at most this
    /// far from its own after alignment; also the inlier distance of the alignment and the distance beyond which a
    /// lesion named the same at both time points is reported as having moved implausibly.
    public var gateMM: Double
    /// Ambiguity margin, mm: a match is refused when a second candidate lies within this much of the chosen one's
    /// distance (both within the gate), as the choice between them would be a coin toss.
    public var ambiguityMarginMM: Double
    /// Largest shift between the two scans' patient coordinates that the alignment considers, mm. Patient
    /// repositioning between two scans in one scanner's coordinates stays well below it; a scan of another
    /// patient or of another body region needs a larger shift, or fails to line up at all.
    public var maxShiftMM: Double
    /// Largest rotation the alignment fits, degrees (beyond it, a translation only).
    public var maxRotationDegrees: Double

    public init(gateMM: Double = 20, ambiguityMarginMM: Double = 5, maxShiftMM: Double = 100,
                maxRotationDegrees: Double = 10) {
        self.gateMM = gateMM
        self.ambiguityMarginMM = ambiguityMarginMM
        self.maxShiftMM = maxShiftMM
        self.maxRotationDegrees = maxRotationDegrees
    }

    public static let standard = MatchingSettings()
}

/// A lesion as the matcher sees it: how messages name it, and its centroid (patient coordinates, LPS mm).
public struct MatchLesion: Sendable, Equatable {
    public var name: String
    public var position: Vector3
    public init(name: String, position: Vector3) { self.name = name; self.position = position }
}

/// Why a follow-up time point cannot be matched.
public enum MatchingFailure: Error, Sendable, Equatable, CustomStringConvertible {
    /// Two candidates within the margin of each other: (follow-up lesion, candidates with distances, mm).
    case ambiguous(lesion: String, candidates: [(String, Double)], marginMM: Double)
    /// The lesions do not line up with the known ones under any rigid alignment within the bounds.
    case noAlignment(detail: String)

    public static func == (a: MatchingFailure, b: MatchingFailure) -> Bool { a.description == b.description }

    public var description: String {
        switch self {
        case let .ambiguous(lesion, candidates, margin):
            let list = candidates.map { "\($0.0) at \(format($0.1)) mm" }.joined(separator: ", ")
            return "ambiguous match: follow-up lesion \(lesion) could be \(list) (within \(format(margin)) mm of each other); give lesion_id and roi for these lesions in the manifest"
        case let .noAlignment(detail):
            return "the lesions do not line up with the baseline lesions: \(detail); is this scan another patient's (or another body region)? Give lesion ids in the manifest, or raise --match-max-shift if the scans' coordinates differ that much"
        }
    }
}

func format(_ v: Double) -> String { String(format: "%.1f", v) }

/// Matching of one follow-up time point's lesions to the known lesions of a patient.
///
/// The follow-up is first aligned rigidly onto the known lesions (`RigidAlignment`, over the centroids of every
/// lesion of the time point, named or not), then the unnamed follow-up lesions are assigned to the known lesions
/// not already named at this time point by the Hungarian method (Kuhn-Munkres), minimising the sum of centroid
/// distances after alignment, pairs farther apart than the gate being forbidden. Unassigned follow-up lesions
/// are new and receive `N1`, `N2`, ... (the first numbers not yet taken by the patient, in the order given).
public enum LesionMatcher {
    public struct Outcome: Sendable {
        /// Follow-up positions to known (baseline) positions.
        public var transform: RigidTransform
        /// The id of each unnamed follow-up lesion, in the order given.
        public var ids: [String]
        /// Which of `ids` are new lesions.
        public var isNew: [Bool]
        /// Distance after alignment of each unnamed lesion to its match (nil for new lesions), mm.
        public var distances: [Double?]
        /// Named follow-up lesions whose known position is farther than the gate after alignment: (name, mm).
        public var implausibleMoves: [(String, Double)]
        /// Number of lesions that agree under the alignment, and root mean square residual of those, mm.
        public var consensus: Int
        public var rmsResidualMM: Double
    }

    /// - Parameters:
    ///   - known: lesions known so far (baseline and new lesions of earlier follow-ups), by id, in baseline
    ///     coordinates.
    ///   - named: follow-up lesions whose id is given (`name` is the id), in the follow-up's coordinates.
    ///   - unnamed: follow-up lesions to name, in the follow-up's coordinates.
    ///   - taken: every id the patient already uses (new ids avoid them).
    ///   - assign: false to align and check only (named lesions' moves, the alignment itself), leaving
    ///     unnamed lesions with their own names.
    public static func match(known: [MatchLesion], named: [MatchLesion], unnamed: [MatchLesion], taken: Set<String>,
                             settings: MatchingSettings = .standard, assign: Bool = true) throws -> Outcome {
        let moving = named.map(\.position) + unnamed.map(\.position)
        let fixed = known.map(\.position)
        let alignment = RigidAlignment.estimate(moving: moving, fixed: fixed, inlierDistance: settings.gateMM,
                                                maxShift: settings.maxShiftMM,
                                                maxRotationDegrees: settings.maxRotationDegrees)
        if alignment.noHypothesis {
            let nearest = fixed.flatMap { f in moving.map { (f - $0).length } }.min() ?? 0
            throw MatchingFailure.noAlignment(detail: "the closest pair of lesion centroids is \(format(nearest)) mm apart, more than the largest shift considered (\(format(settings.maxShiftMM)) mm)")
        }
        let k = min(fixed.count, moving.count)
        if k >= 2 && alignment.correspondences.count < 2 {
            throw MatchingFailure.noAlignment(detail: "under the best rigid alignment only \(alignment.correspondences.count) of \(moving.count) follow-up lesions lies within \(format(settings.gateMM)) mm of one of the \(fixed.count) baseline lesions")
        }
        let t = alignment.transform
        var outcome = Outcome(transform: t, ids: unnamed.map(\.name), isNew: unnamed.map { _ in false },
                              distances: unnamed.map { _ in nil }, implausibleMoves: [],
                              consensus: alignment.correspondences.count, rmsResidualMM: alignment.rmsResidual)
        let byID = Dictionary(known.map { ($0.name, $0.position) }, uniquingKeysWith: { a, _ in a })
        for n in named {
            guard let p = byID[n.name] else { continue }
            let d = (t.apply(n.position) - p).length
            if d > settings.gateMM { outcome.implausibleMoves.append((n.name, d)) }
        }
        guard assign, !unnamed.isEmpty else { return outcome }

        let claimed = Set(named.map(\.name))
        let candidates = known.filter { !claimed.contains($0.name) }
        let moved = unnamed.map { t.apply($0.position) }
        let distance = moved.map { p in candidates.map { (p - $0.position).length } }
        let pairs = Hungarian.assign(cost: distance, forbiddenAbove: settings.gateMM)
        var usedIDs = taken
        var nextNew = 1
        for (f, match) in pairs.enumerated() {
            if let c = match {
                let d = distance[f][c]
                // Another known lesion nearly as close to this follow-up lesion, or another follow-up lesion nearly
                // as close to this known lesion: refused rather than guessed.
                var rivals = candidates.indices.filter { $0 != c && distance[f][$0] <= settings.gateMM
                    && distance[f][$0] - d < settings.ambiguityMarginMM }.map { (candidates[$0].name, distance[f][$0]) }
                if !rivals.isEmpty {
                    rivals.insert((candidates[c].name, d), at: 0)
                    throw MatchingFailure.ambiguous(lesion: unnamed[f].name, candidates: rivals,
                                                    marginMM: settings.ambiguityMarginMM)
                }
                if let g = moved.indices.first(where: { $0 != f && distance[$0][c] <= settings.gateMM
                    && distance[$0][c] - d < settings.ambiguityMarginMM }) {
                    throw MatchingFailure.ambiguous(lesion: candidates[c].name,
                                                    candidates: [(unnamed[f].name, d), (unnamed[g].name, distance[g][c])],
                                                    marginMM: settings.ambiguityMarginMM)
                }
                outcome.ids[f] = candidates[c].name
                outcome.distances[f] = d
            }
        }
        for f in pairs.indices where pairs[f] == nil {
            while usedIDs.contains("N\(nextNew)") { nextNew += 1 }
            outcome.ids[f] = "N\(nextNew)"
            outcome.isNew[f] = true
            usedIDs.insert("N\(nextNew)")
        }
        return outcome
    }
}

/// Minimum-cost assignment (Kuhn-Munkres, O(n^3) with potentials) of rows to columns of a rectangular cost
/// matrix; entries above `forbiddenAbove` may not be used, and rows left without an allowed column get nil.
public enum Hungarian {
    public static func assign(cost: [[Double]], forbiddenAbove limit: Double) -> [Int?] {
        let rows = cost.count
        let cols = cost.first?.count ?? 0
        guard rows > 0, cols > 0 else { return Array(repeating: nil, count: rows) }
        // Square problem of size n: a forbidden pair, or a dummy row/column, costs `big`, more than any set of
        // allowed pairs together, so the optimum uses as many allowed pairs as possible, then the cheapest.
        let n = max(rows, cols)
        let big = (limit.isFinite ? limit : (cost.flatMap { $0 }.max() ?? 1)) * Double(n + 1) + 1
        var a = [[Double]](repeating: [Double](repeating: big, count: n + 1), count: n + 1)
        for r in 0..<rows { for c in 0..<cols where cost[r][c] <= limit { a[r + 1][c + 1] = cost[r][c] } }
        // Potentials u (rows), v (columns); p[j] = row matched to column j (1-based, 0 = none).
        var u = [Double](repeating: 0, count: n + 1), v = u
        var p = [Int](repeating: 0, count: n + 1), way = p
        for i in 1...n {
            p[0] = i
            var j0 = 0
            var minv = [Double](repeating: .infinity, count: n + 1)
            var used = [Bool](repeating: false, count: n + 1)
            repeat {
                used[j0] = true
                let i0 = p[j0]
                var delta = Double.infinity, j1 = 0
                for j in 1...n where !used[j] {
                    let cur = a[i0][j] - u[i0] - v[j]
                    if cur < minv[j] { minv[j] = cur; way[j] = j0 }
                    if minv[j] < delta { delta = minv[j]; j1 = j }
                }
                for j in 0...n {
                    if used[j] { u[p[j]] += delta; v[j] -= delta } else { minv[j] -= delta }
                }
                j0 = j1
            } while p[j0] != 0
            repeat {
                let j1 = way[j0]
                p[j0] = p[j1]
                j0 = j1
            } while j0 != 0
        }
        var out = [Int?](repeating: nil, count: rows)
        for j in 1...n where p[j] >= 1 && p[j] <= rows && j <= cols && cost[p[j] - 1][j - 1] <= limit {
            out[p[j] - 1] = j - 1
        }
        return out
    }
}
