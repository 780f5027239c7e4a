import Foundation

/// What `shard.json` in a shard folder records: where the shard came from.
public struct ShardDescription: Codable, Equatable, Sendable {
    /// The original manifest folder (absolute, standardised).
    public var source: String
    /// 1-based shard number and the number of shards.
    public var shard: Int
    public var shards: Int
    /// The shard's patients, in manifest order.
    public var patients: [String]
    /// Rows of the shard's lesions.csv.
    public var lesionRows: Int

    enum CodingKeys: String, CodingKey {
        case source, shard, shards, patients
        case lesionRows = "lesion_rows"
    }
}

/// Splitting a cohort manifest into patient shards, each a complete manifest, so that the shards can be
/// extracted by separate processes (cluster jobs) and their stores merged.
///
/// - Every patient's `patients.csv` row and all its `lesions.csv` rows go to one shard; rows keep the
///   manifest's order, and the shards are consecutive runs of patients, so shard 1's patients, then shard
///   2's, ... are the manifest's patients in order.
/// - Shards are balanced by lesion rows: the cut between shards k and k+1 falls at the patient boundary
///   nearest to k/N of the manifest's lesion rows (a patient is never split), with at least one patient per
///   shard. A label-map row that expands to several lesions counts as one row (its lesions are known only
///   when the mask is read).
/// - Shard k is the folder `shard-k` (k = 1...N) of the output folder: `lesions.csv`, `patients.csv`
///   (header and fields as in the original, re-quoted where needed) and `shard.json` (`ShardDescription`).
///   Relative image and mask paths are kept relative, and the shard folder gets a symbolic link for each
///   top-level entry they go through (`images -> /cohort/images`), so the paths resolve and read exactly as
///   in the original manifest: a shard's store then names images and masks as a store of the whole manifest
///   does. An absolute path inside the manifest folder is written the same way (relative, through a link);
///   a path leaving the manifest folder (`../x.nii.gz`, or absolute) is written as the absolute path it names.
public enum CohortSharding {
    public static let descriptionFile = "shard.json"

    /// The folder of shard `index` (1-based) inside `out`.
    public static func shardFolder(_ index: Int, in out: URL) -> URL {
        out.appendingPathComponent("shard-\(index)")
    }

    /// The description of the shard in `folder`, when it is one.
    public static func description(of folder: URL) -> ShardDescription? {
        guard let data = try? Data(contentsOf: folder.appendingPathComponent(descriptionFile)) else { return nil }
        return try? JSONDecoder().decode(ShardDescription.self, from: data)
    }

    /// Splits the (validated) manifest at `manifest` into `shards` shard folders inside `out`.
    /// Shard folders left in `out` by an earlier split are replaced; other folders named `shard-k` are refused.
    @discardableResult
    public static func split(_ manifest: URL, shards: Int, into out: URL) throws -> [ShardDescription] {
        let cohort = try CohortManifest.load(manifest)
        let folder = cohort.folder.standardizedFileURL
        guard shards >= 1 else { throw ManifestError(problems: [problem(folder.path, "--shards must be at least 1 (it is \(shards))")]) }
        guard shards <= cohort.patients.count else {
            throw ManifestError(problems: [problem(folder.path,
                "has \(cohort.patients.count) patient\(cohort.patients.count == 1 ? "" : "s"), fewer than the \(shards) shards asked for; a shard holds at least one patient")])
        }
        let outDir = out.standardizedFileURL
        if outDir.path == folder.path || folder.path.hasPrefix(outDir.path + "/") {
            throw ManifestError(problems: [problem(outDir.path, "is (or holds) the manifest folder; give another output folder")])
        }
        let lesionsTable = try CSVTable.parse(InputFile.utf8Text(folder.appendingPathComponent(CohortManifest.lesionsFile), what: "CSV file"),
                                              file: CohortManifest.lesionsFile)
        let patientsTable = try CSVTable.parse(InputFile.utf8Text(folder.appendingPathComponent(CohortManifest.patientsFile), what: "CSV file"),
                                               file: CohortManifest.patientsFile)
        func column(_ table: CSVTable, _ name: String) -> Int { table.header.firstIndex(of: name)! }
        let patientColumn = column(patientsTable, "patient_id"), lesionPatientColumn = column(lesionsTable, "patient_id")
        func cell(_ fields: [String], _ i: Int) -> String { i < fields.count ? fields[i].trimmingCharacters(in: .whitespaces) : "" }
        var lesionRowCount: [String: Int] = [:]
        for row in lesionsTable.rows { lesionRowCount[cell(row.fields, lesionPatientColumn), default: 0] += 1 }
        var patientRows: [String: [String]] = [:]
        for row in patientsTable.rows { patientRows[cell(row.fields, patientColumn)] = row.fields }

        let ids = cohort.patients.map(\.id)
        let ranges = partition(weights: ids.map { lesionRowCount[$0] ?? 0 }, parts: shards)
        let pathColumns = ["image", "mask"].compactMap { lesionsTable.header.firstIndex(of: $0) }
        try FileManager.default.createDirectory(at: outDir, withIntermediateDirectories: true)

        var written: [ShardDescription] = []
        for (k, range) in ranges.enumerated() {
            let shardFolder = Self.shardFolder(k + 1, in: outDir)
            try prepare(shardFolder)
            var links: Set<String> = []
            var rows: [[String]] = []
            let members = Set(ids[range])
            for row in lesionsTable.rows where members.contains(cell(row.fields, lesionPatientColumn)) {
                var fields = row.fields
                for c in pathColumns where c < fields.count {
                    fields[c] = rewrite(fields[c], manifestFolder: folder, links: &links)
                }
                rows.append(fields)
            }
            for name in links.sorted() {
                try FileManager.default.createSymbolicLink(
                    atPath: shardFolder.appendingPathComponent(name).path,
                    withDestinationPath: folder.appendingPathComponent(name).path)
            }
            let description = ShardDescription(source: folder.path, shard: k + 1, shards: shards,
                                               patients: Array(ids[range]), lesionRows: rows.count)
            try Data(CSVTable.render(header: lesionsTable.header, rows: rows).utf8)
                .write(to: shardFolder.appendingPathComponent(CohortManifest.lesionsFile), options: .atomic)
            try Data(CSVTable.render(header: patientsTable.header, rows: ids[range].map { patientRows[$0]! }).utf8)
                .write(to: shardFolder.appendingPathComponent(CohortManifest.patientsFile), options: .atomic)
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
            try encoder.encode(description).write(to: shardFolder.appendingPathComponent(descriptionFile), options: .atomic)
            written.append(description)
        }
        return written
    }

    /// Consecutive ranges of `weights.count` items into `parts` non-empty parts whose weight sums are as
    /// equal as patient boundaries allow: cut k falls at the boundary nearest to k/parts of the total.
    public static func partition(weights: [Int], parts: Int) -> [Range<Int>] {
        precondition(parts >= 1 && parts <= weights.count)
        var prefix = [0]
        for w in weights { prefix.append(prefix.last! + w) }
        let total = Double(prefix.last!)
        var cuts = [0]
        for k in 1..<parts {
            let target = total * Double(k) / Double(parts)
            // The boundary nearest the target, ties to the earlier one, leaving room for the parts after it.
            var best = cuts.last! + 1
            let latest = weights.count - (parts - k)
            for b in best...latest where abs(Double(prefix[b]) - target) < abs(Double(prefix[best]) - target) { best = b }
            cuts.append(best)
        }
        cuts.append(weights.count)
        return (0..<parts).map { cuts[$0]..<cuts[$0 + 1] }
    }

    /// A shard folder ready to be written: absent, empty, or an earlier shard (then emptied).
    private static func prepare(_ shardFolder: URL) throws {
        let fm = FileManager.default
        if InputFile.kind(shardFolder) != .missing || (try? fm.destinationOfSymbolicLink(atPath: shardFolder.path)) != nil {
            let entries = (try? fm.contentsOfDirectory(atPath: shardFolder.path)) ?? []
            guard InputFile.kind(shardFolder) == .directory,
                  entries.isEmpty || description(of: shardFolder) != nil else {
                throw ManifestError(problems: [problem(shardFolder.path,
                    "exists and is not a shard folder written by `lesionmap shard`; choose another output folder")])
            }
            // Only what a split writes (the manifest files, its description and its links) is removed, and only
            // when nothing else is there.
            for name in entries {
                let isLink = (try? fm.destinationOfSymbolicLink(atPath: shardFolder.appendingPathComponent(name).path)) != nil
                guard isLink || [CohortManifest.lesionsFile, CohortManifest.patientsFile, descriptionFile].contains(name) else {
                    throw ManifestError(problems: [problem(shardFolder.path,
                        "holds '\(name)', which `lesionmap shard` did not write; move it away or choose another output folder")])
                }
            }
            for name in entries { try fm.removeItem(at: shardFolder.appendingPathComponent(name)) }
        }
        try fm.createDirectory(at: shardFolder, withIntermediateDirectories: true)
    }

    /// A manifest path cell as the shard writes it (see the type's documentation), noting the top-level
    /// entries of the manifest folder the shard must link to. A path inside the manifest folder, relative or
    /// absolute, becomes relative (the store shows either as relative to the manifest folder).
    static func rewrite(_ cell: String, manifestFolder: URL, links: inout Set<String>) -> String {
        let trimmed = cell.trimmingCharacters(in: .whitespaces)
        guard !trimmed.isEmpty else { return cell }
        let resolved = (trimmed.hasPrefix("/") ? URL(fileURLWithPath: trimmed)
                        : manifestFolder.appendingPathComponent(trimmed)).standardizedFileURL.path
        let base = manifestFolder.path + "/"
        guard resolved.hasPrefix(base) else { return resolved }
        let inside = String(resolved.dropFirst(base.count))
        let top = String(inside.split(separator: "/", maxSplits: 1).first ?? Substring(inside))
        // A top-level entry that a shard's own files would shadow is named by its absolute path instead.
        guard ![CohortManifest.lesionsFile, CohortManifest.patientsFile, descriptionFile].contains(top) else { return resolved }
        links.insert(top)
        return inside
    }

    private static func problem(_ file: String, _ message: String) -> ManifestProblem {
        ManifestProblem(file: file, row: nil, column: nil, message: message)
    }
}
