import Foundation
import ImagingCore

/// The last few values computed from arrays, each recognised by its array's storage and a shape (grid size,
/// flags) that goes with it.
///
/// The response maps of one region share the region's masks (the same storage), and what follows from the masks
/// alone (their row extents, the morphological mask cropped for the texture families, the distances to its
/// border) is the same for each map: it is computed for the first map and found for the others. The memo keeps
/// each remembered array alive, so no other array can have that storage meanwhile, and an array whose owner
/// changes it is copied first (its storage is shared with the memo), so a remembered value never goes stale.
final class StorageMemo<Element, Value>: @unchecked Sendable {
    private let lock = NSLock()
    private let capacity: Int
    /// Most recently used first.
    private var entries: [(key: [Element], shape: [Int], value: Value)] = []

    init(capacity: Int) { self.capacity = capacity }

    /// The value remembered for `key` (its storage) and `shape`, or `compute()` remembered.
    func value(for key: [Element], shape: [Int], compute: () -> Value) -> Value {
        lock.lock()
        if let hit = entries.firstIndex(where: { $0.shape == shape && Self.identical($0.key, key) }) {
            let entry = entries.remove(at: hit)
            entries.insert(entry, at: 0)
            lock.unlock()
            return entry.value
        }
        lock.unlock()
        let value = compute()
        lock.lock()
        entries.insert((key, shape, value), at: 0)
        if entries.count > capacity { entries.removeLast() }
        lock.unlock()
        return value
    }

    /// Whether `a` and `b` are the same storage (an empty array has none worth remembering).
    private static func identical(_ a: [Element], _ b: [Element]) -> Bool {
        a.count == b.count && !a.isEmpty
            && a.withUnsafeBufferPointer { a in b.withUnsafeBufferPointer { b in a.baseAddress == b.baseAddress } }
    }
}

/// The memos of values that follow from a region's masks alone.
enum MaskMemos {
    /// Row extents of a region's intensity mask (`Preprocessor.rowExtents`), read by several families of each map.
    static let rowExtents = StorageMemo<Bool, [(lower: Int, upper: Int)]>(capacity: 2)
    /// The morphological mask's box and the mask cropped to it (`Discretiser.textureROI`).
    static let morphologicalCrop = StorageMemo<Bool, (box: IndexBox, mask: [Bool])?>(capacity: 2)
    /// Distances to the border of a mask (`BorderDistance.map`), in-plane or in 3D.
    static let borderDistances = StorageMemo<Bool, [Int32]>(capacity: 4)
}
