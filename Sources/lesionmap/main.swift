import ArgumentParser
import Foundation
import Pipeline
#if canImport(Glibc)
import Glibc
#endif

// A file-size limit (`ulimit -f`) makes writes fail with EFBIG, reported like a full disk,
// instead of killing the process with SIGXFSZ halfway through a write.
signal(SIGXFSZ, SIG_IGN)

LesionMapCommand.main()
