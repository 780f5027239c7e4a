import Foundation
import ImagingCore
import WorkPool

/// The peritumoral ring of a lesion: tissue around it, within a distance in millimetres.
///
/// The ring holds the voxels whose centres lie within `widthMM` of a lesion voxel centre but
/// farther than `innerMarginMM` (with no margin: every voxel within the width that is not lesion).
/// Voxels of other lesions and, optionally, voxels below an intensity threshold (air) are removed.
/// Distances are physical (anisotropic voxels respected), through ImagingCore's `Morphology`.
public enum PeritumoralRing {
    /// The ring mask of `lesion` on the lesion's grid.
    ///
    /// - Parameters:
    ///   - otherLesions: union of the patient's other lesions on the same grid (nil: none).
    ///   - image: intensities on the same grid, needed for the air threshold.
    public static func mask(lesion: Mask, otherLesions: Mask?, image: Volume<Float>?,
                            settings: ExtractionSettings.RingSettings) -> Mask {
        let outer = Morphology.dilate(lesion, radiusMM: settings.widthMM)
        let inner = settings.innerMarginMM > 0 ? Morphology.dilate(lesion, radiusMM: settings.innerMarginMM) : lesion
        var ring = outer.subtracting(inner).subtracting(lesion)
        if settings.excludeOtherLesions, let others = otherLesions {
            ring = ring.subtracting(others)
        }
        if let threshold = settings.excludeBelowIntensity, let image {
            for t in 0..<ring.voxels.count where ring.voxels[t] && Double(image.voxels[t]) < threshold {
                ring.voxels[t] = false
            }
        }
        return ring
    }
}

/// The intratumoral core of a lesion: the lesion eroded by a margin in millimetres.
///
/// The core holds the lesion voxels whose every voxel centre within `marginMM` is lesion too
/// (binary erosion with a ball of that radius in physical units, `Morphology.erode`), so anisotropic
/// voxels are respected. The image edge counts as lesion (a lesion cut by the edge is not eroded
/// from there), as ITK does.
public enum IntratumoralCore {
    /// The core mask of `lesion` on the lesion's grid (empty when the margin reaches every voxel).
    /// The grid must hold a background voxel beside every lesion voxel that is not at the image edge
    /// (crop with a margin of one voxel), or the crop's edge counts as lesion.
    public static func mask(lesion: Mask, marginMM: Double) -> Mask {
        Morphology.erode(lesion, radiusMM: marginMM)
    }
}

/// The features of one lesion: its own region, its peritumoral ring, and, when the settings ask
/// for them (`ExtractionSettings.regions`), its intratumoral core and tumour and ring together.
public struct LesionFeatures: Sendable {
    /// The caller's name for the lesion (used in errors and warnings).
    public var label: String
    public var tumour: RegionFeatures
    /// nil when the settings ask for no ring, or when the ring is empty (see `warnings`).
    public var ring: RegionFeatures?
    /// nil when the settings ask for no core, or when the erosion leaves no voxel (see `warnings`).
    public var core: RegionFeatures?
    /// The union of tumour and ring; nil when the settings do not ask for it.
    public var tumourRing: RegionFeatures?
    /// The lesion's warnings, those of every region extracted among them.
    public var warnings: [String]

    public init(label: String, tumour: RegionFeatures, ring: RegionFeatures?, core: RegionFeatures? = nil,
                tumourRing: RegionFeatures? = nil, warnings: [String]) {
        self.label = label
        self.tumour = tumour
        self.ring = ring
        self.core = core
        self.tumourRing = tumourRing
        self.warnings = warnings
    }

    /// The features of `region`, nil when it was not extracted or is empty.
    public func features(of region: ExtractionSettings.Region) -> RegionFeatures? {
        switch region {
        case .tumour: return tumour
        case .ring: return ring
        case .core: return core
        case .tumourRing: return tumourRing
        }
    }
}

/// Features of every lesion of a scan, lesions in parallel on all cores (or on the threads of the pipeline
/// that calls it, `WorkPool`).
///
/// Each lesion is processed on its bounding box plus the ring and interpolation margins, so memory
/// stays proportional to the lesions, not to the scan; the scan itself is shared read-only.
public enum LesionFeatureExtractor {
    /// Features of each lesion mask (all on `image`'s grid), in input order.
    ///
    /// Before any work, each lesion's memory is estimated (`ExtractionMemory.estimate`); lesions whose
    /// estimate exceeds `budget` are refused together (`RadiomicsError.overMemoryBudget`, one line per
    /// lesion naming the setting responsible), and the others run in parallel only while their
    /// estimates fit in the budget together.
    ///
    /// - Parameters:
    ///   - labels: names of the lesions for errors and warnings (default "lesion 1", ...);
    ///     an empty lesion throws `RadiomicsError.emptyMask` naming it.
    ///   - budget: the memory budget; nil takes `ExtractionMemoryLimit.automatic` now.
    ///   - modality: the scan's modality (`CT`, `PT`, `MR`, ...); settings that make no sense for it
    ///     are refused before any work (`RadiomicsError.modalityRefused`, one line per lesion naming
    ///     the setting) and pointless ones warned (`ModalityChecks`). Nil: no modality checks.
    ///
    /// Every lesion whose discretisation leaves fewer than 8 or more than 1,000 grey levels gets a
    /// warning with the count (`ModalityChecks.greyLevelWarning`).
    ///   - boundingBoxes: each mask's bounding box where the caller knows it (`.some(nil)` for an empty mask), so
    ///     that it is not found again by a pass over the whole image; nil (or a nil element): found here.
    public static func extract(image: Volume<Float>, lesions: [Mask], boundingBoxes: [IndexBox??]? = nil,
                               labels: [String]? = nil,
                               settings: ExtractionSettings, budget: MemoryBudget? = nil,
                               modality: String? = nil) throws -> [LesionFeatures] {
        let names = labels ?? lesions.indices.map { "lesion \($0 + 1)" }
        guard names.count == lesions.count else {
            throw RadiomicsError.invalidSettings("\(lesions.count) lesion masks but \(names.count) labels")
        }
        if let given = boundingBoxes, given.count != lesions.count {
            throw RadiomicsError.invalidSettings("\(lesions.count) lesion masks but \(given.count) bounding boxes")
        }
        if let modality, let refused = ModalityChecks.refusal(settings, modality: modality, labels: names) {
            throw refused
        }
        for (m, name) in zip(lesions, names) {
            do {
                try image.grid.requireMatch(m.grid, context: name)
            } catch let error as ImagingError {
                throw RadiomicsError.gridMismatch(error.description)
            }
        }
        let boxes = lesions.indices.map { n in boundingBoxes?[n] ?? lesions[n].boundingBox }
        if let empty = boxes.firstIndex(where: { $0 == nil }) { throw RadiomicsError.emptyMask(names[empty]) }
        let budget = budget ?? ExtractionMemoryLimit.automatic.budget()
        let estimates = try zip(boxes, names).map { box, name in
            do {
                return try ExtractionMemory.estimate(image: image, lesionBox: box!, settings: settings)
            } catch let error as RadiomicsError {
                throw RadiomicsError.invalidSettings("\(name): \(error)")
            }
        }
        let refused = ExtractionMemory.refusals(labels: names, estimates: estimates, settings: settings, budget: budget)
        guard refused.isEmpty else { throw RadiomicsError.overMemoryBudget(refused.joined(separator: "\n")) }
        // On a worker of a pipelined cohort extraction the lesions share that pipeline's threads with
        // the other patients in flight; elsewhere they run on all cores (`WorkPool.forEach`).
        let results = WorkPool.map(lesions.count) { n -> Result<LesionFeatures, Error> in
            budget.reserve(estimates[n].bytes)
            defer { budget.release(estimates[n].bytes) }
            return Result {
                // The other lesions whose boxes reach the ring's box, on that box (excluded from the ring).
                let others: (IndexBox) -> Mask = { ringBox in
                    var union = Mask(grid: lesions[n].cropped(to: ringBox).grid, repeating: false)
                    for (m, other) in lesions.enumerated() where m != n && overlaps(boxes[m]!, ringBox) {
                        union = union.union(other.cropped(to: ringBox))
                    }
                    return union
                }
                return try extractOne(image: image, lesion: lesions[n], box: boxes[n]!, others: others,
                                      label: names[n], settings: settings, modality: modality)
            }
        }
        return try results.map { try $0.get() }
    }

    /// The features of every region `settings` extract for one lesion of `image` (its mask on the image's grid),
    /// the scan's other lesions given as one mask on the same grid (excluded from the ring when the settings say
    /// so; nil: none). The same computation as `extract(image:lesions:...)` gives each lesion, without the
    /// modality refusal and memory budget, which the caller applies (`lesionmap robustness`, on a perturbed
    /// neighbourhood of the lesion).
    public static func extractOne(image: Volume<Float>, lesion: Mask, others: Mask?, label: String,
                                  settings: ExtractionSettings, modality: String?) throws -> LesionFeatures {
        try image.grid.requireMatch(lesion.grid, context: label)
        if let others { try image.grid.requireMatch(others.grid, context: label) }
        guard let box = lesion.boundingBox else { throw RadiomicsError.emptyMask(label) }
        return try extractOne(image: image, lesion: lesion, box: box,
                              others: { ringBox in others?.cropped(to: ringBox) ?? Mask(grid: lesion.cropped(to: ringBox).grid, repeating: false) },
                              label: label, settings: settings, modality: modality)
    }

    /// One lesion's regions; `others(ringBox)` gives the other lesions on the ring's box.
    private static func extractOne(image: Volume<Float>, lesion full: Mask, box: IndexBox, others otherLesions: (IndexBox) -> Mask,
                                   label: String, settings: ExtractionSettings, modality: String?) throws -> LesionFeatures {
        let lesion = PlacedMask(mask: full.cropped(to: box), offset: box.lower)
        let tumour = try RadiomicsExtractor.extract(image: image, mask: lesion, settings: settings, context: label,
                                                    modality: modality)
        var warnings = tumour.warnings
        warnings += modality.map { m in ModalityChecks.warnings(settings, modality: m).map { "\(label), \(m) scan: \($0)" } } ?? []
        if let lo = tumour.value(ibsiTag: "int_mask_min_int_reseg_roi"), let hi = tumour.value(ibsiTag: "int_mask_max_int_reseg_roi"),
           let w = ModalityChecks.greyLevelWarning(lowest: lo, highest: hi, settings: settings, label: label, modality: modality) {
            warnings.append(w)
        }
        let regions = settings.extractedRegions
        var result = LesionFeatures(label: label, tumour: tumour, ring: nil, warnings: [])
        if regions.contains(.core) {
            // The erosion runs on the lesion box grown by one voxel, so that background surrounds the
            // lesion wherever the image does (the erosion treats the crop's edge as lesion).
            let coreBox = box.expanded(by: Index3(1, 1, 1), within: image.grid.size)
            let margin = settings.effectiveCoreMarginMM
            let core = IntratumoralCore.mask(lesion: full.cropped(to: coreBox), marginMM: margin)
            if core.isEmpty {
                warnings.append("\(label): intratumoral core is empty (the lesion eroded by \(ExtractionSettings.text(margin)) mm leaves no voxel); its core features are NaN")
            } else {
                result.core = try RadiomicsExtractor.extract(
                    image: image, mask: PlacedMask(mask: core, offset: coreBox.lower), settings: settings,
                    context: "\(label) intratumoral core", modality: modality)
                warnings += result.core!.warnings
            }
        }
        guard let ringSettings = settings.ring, regions.contains(.ring) || regions.contains(.tumourRing) else {
            result.warnings = warnings
            return result
        }
        // The ring's box: the lesion box grown by the ring width.
        let sp = image.grid.spacing
        let margin = Index3(Int((ringSettings.widthMM / sp.x).rounded(.up)) + 1,
                            Int((ringSettings.widthMM / sp.y).rounded(.up)) + 1,
                            Int((ringSettings.widthMM / sp.z).rounded(.up)) + 1)
        let ringBox = box.expanded(by: margin, within: image.grid.size)
        let lesionOnBox = full.cropped(to: ringBox)
        let others: Mask? = ringSettings.excludeOtherLesions ? otherLesions(ringBox) : nil
        let ring = PeritumoralRing.mask(lesion: lesionOnBox, otherLesions: others,
                                        image: image.cropped(to: ringBox), settings: ringSettings)
        if regions.contains(.ring) {
            if ring.isEmpty {
                warnings.append("\(label): peritumoral ring is empty (width \(ringSettings.widthMM) mm)")
            } else {
                result.ring = try RadiomicsExtractor.extract(
                    image: image, mask: PlacedMask(mask: ring, offset: ringBox.lower), settings: settings,
                    context: "\(label) peritumoral ring", modality: modality)
                warnings += result.ring!.warnings
            }
        }
        if regions.contains(.tumourRing) {
            // Tumour and ring together: the lesion and its ring as the ring's rules left it.
            result.tumourRing = try RadiomicsExtractor.extract(
                image: image, mask: PlacedMask(mask: lesionOnBox.union(ring), offset: ringBox.lower),
                settings: settings, context: "\(label) tumour and ring", modality: modality)
            warnings += result.tumourRing!.warnings
        }
        result.warnings = warnings
        return result
    }

    private static func overlaps(_ a: IndexBox, _ b: IndexBox) -> Bool {
        a.lower.i <= b.upper.i && b.lower.i <= a.upper.i && a.lower.j <= b.upper.j && b.lower.j <= a.upper.j
            && a.lower.k <= b.upper.k && b.lower.k <= a.upper.k
    }
}
