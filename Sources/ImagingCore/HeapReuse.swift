internal import CMalloc

/// How the C allocator (glibc's malloc, which Swift arrays use) hands back large blocks, for the whole process.
///
/// By default glibc maps each block above a threshold (128 KiB, raised as large blocks are freed) straight from
/// the kernel and unmaps it when freed, and returns freed memory at the top of its heaps to the kernel beyond
/// 128 KiB. A cohort extraction allocates the same few large arrays for every patient (the decoded image and
/// label map, each lesion's whole-image mask, the resampled boxes), so each was mapped afresh and every page of
/// it faulted in and cleared by the kernel: on the 40-patient synthetic cohort about 67,000 page faults and a
/// tenth of the CPU time. Keeping freed blocks up to `largestReusedBlock` in the heap and never trimming below
/// `retainedFreeBytes` lets the next patient reuse the same pages (about 9,000 faults). The cost: the process
/// keeps its peak heap until it exits instead of shrinking after a large step. Blocks above 32 MiB (whole
/// images of large scans) are still mapped and unmapped one by one.
public enum HeapReuse {
    /// Blocks up to this size come from (and return to) the heap: glibc's ceiling for the setting, 32 MiB.
    public static let largestReusedBlock: Int32 = 32 << 20
    /// Free memory the heaps keep before returning any to the kernel.
    public static let retainedFreeBytes: Int32 = 1 << 30

    /// Applies the two settings (glibc only; elsewhere nothing happens). Returns whether both were accepted.
    @discardableResult
    public static func keepFreedMemory() -> Bool {
        cmalloc_set_thresholds(largestReusedBlock, retainedFreeBytes) != 0
    }
}
