import COpenBLAS

/// OpenBLAS's thread pool, from the process's point of view.
///
/// OpenBLAS is loaded by the first matrix product or decomposition (see `COpenBLAS`), so a command that makes none
/// (`features`, `extract`) never loads it and never starts its worker threads. When it loads, its workers, which
/// busy-wait for work, are stopped at once; OpenBLAS starts them again at its next multi-threaded call, so commands
/// that do use BLAS (`compare`, MIL training) keep every core.
public enum BLASThreads {
    /// Whether this process has loaded OpenBLAS (it has made a BLAS or LAPACK call).
    public static var isLoaded: Bool { lm_openblas_is_loaded() != 0 }

    /// Stops OpenBLAS's idle worker threads, e.g. after a burst of BLAS calls followed by long work without any.
    /// Returns whether the pool was stopped (false when OpenBLAS is not loaded, or when the installed OpenBLAS has
    /// no thread server of its own, e.g. an OpenMP or serial build). Never loads OpenBLAS.
    @discardableResult
    public static func stopIdleWorkers() -> Bool {
        lm_openblas_stop_idle_threads() != 0
    }
}
