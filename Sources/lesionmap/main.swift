import ArgumentParser
import Foundation
import ImagingCore
import Pipeline
#if canImport(Glibc)
import Glibc
#endif

// A file-size limit (`ulimit -f`) makes writes fail with EFBIG, reported like a full disk,
// instead of killing the process with SIGXFSZ halfway through a write.
signal(SIGXFSZ, SIG_IGN)

// Large freed blocks stay in the heap for the next patient's arrays instead of being unmapped and faulted in
// again (`HeapReuse`).
HeapReuse.keepFreedMemory()

LesionMapCommand.main()
