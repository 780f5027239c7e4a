import ArgumentParser
import Foundation
import ImagingCore
import LinearAlgebra
import Pipeline
#if canImport(Glibc)
import Glibc
#endif

// A file-size limit (`ulimit -f`) makes writes fail with EFBIG, reported like a full disk,
// instead of killing the process with SIGXFSZ halfway through a write.
signal(SIGXFSZ, SIG_IGN)

// OpenBLAS's workers busy-wait from the moment the library loads; most commands make no BLAS call,
// and those that do get the workers back at their first multi-threaded call.
BLASThreads.stopIdleWorkers()

// Large freed blocks stay in the heap for the next patient's arrays instead of being unmapped and faulted in
// again (`HeapReuse`).
HeapReuse.keepFreedMemory()

LesionMapCommand.main()
