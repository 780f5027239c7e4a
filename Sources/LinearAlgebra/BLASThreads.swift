import COpenBLAS

/// OpenBLAS's thread pool, from the process's point of view.
public enum BLASThreads {
    /// Stops OpenBLAS's worker threads, which the library starts when it loads and which then busy-wait
    /// for work: a command that makes no BLAS call (`features`, `extract`) would spend CPU on them for
    /// nothing. OpenBLAS restarts them at its next multi-threaded call, so commands that do use BLAS
    /// (`compare`, MIL training) keep every core. Returns whether the pool was stopped (false when the
    /// installed OpenBLAS has no thread server of its own, e.g. an OpenMP or serial build).
    @discardableResult
    public static func stopIdleWorkers() -> Bool {
        copenblas_stop_idle_threads() != 0
    }
}
