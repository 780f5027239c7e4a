import Foundation

/// A medical image file that could not be read or written, naming the file and what is wrong.
public struct ImageIOError: Error, CustomStringConvertible, Equatable {
    /// The file that was being read or written.
    public let file: URL
    /// What is wrong with it, in words.
    public let reason: String

    public init(file: URL, reason: String) {
        self.file = file
        self.reason = reason
    }

    public var description: String { "\(file.path): \(reason)" }
}
