import Foundation

/// An exclusive `flock` on a file in the data directory, held for the store's
/// life, so that two gateways never run on one SQLite queue: each would clear the
/// other's leases at start and send the same recipients twice. The lock file
/// holds the owner's pid for the error message. The kernel drops the lock when the
/// process dies, however it dies, so a `kill -9` leaves nothing to clean up.
final class DirectoryLock: @unchecked Sendable {
    private var descriptor: Int32

    /// Takes the lock or throws `.locked` naming the process that holds it.
    init(path: String, directory: String) throws(StoreError) {
        let descriptor = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o644)
        guard descriptor >= 0 else {
            throw .unavailable("cannot open \(path): \(String(cString: strerror(errno)))")
        }
        while flock(descriptor, LOCK_EX | LOCK_NB) != 0 {
            let code = errno
            if code == EINTR { continue }
            let holder = Self.readPID(descriptor)
            close(descriptor)
            if code == EWOULDBLOCK {
                let who = holder.map { " (pid \($0))" } ?? ""
                throw .locked("\(directory) is in use by another mailgate process\(who)")
            }
            throw .unavailable("cannot lock \(path): \(String(cString: strerror(code)))")
        }
        self.descriptor = descriptor
        Self.writePID(descriptor)
    }

    deinit { release() }

    /// Unlocks and closes the file; later calls do nothing.
    func release() {
        guard descriptor >= 0 else { return }
        close(descriptor)
        descriptor = -1
    }

    /// fsyncs a directory, making the entries created in it durable.
    static func sync(directory: String) {
        let descriptor = open(directory, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard descriptor >= 0 else { return }
        _ = fsync(descriptor)
        close(descriptor)
    }

    private static func writePID(_ descriptor: Int32) {
        let text = Array("\(getpid())\n".utf8)
        _ = ftruncate(descriptor, 0)
        _ = text.withUnsafeBytes { pwrite(descriptor, $0.baseAddress, $0.count, 0) }
    }

    private static func readPID(_ descriptor: Int32) -> Int32? {
        var buffer = [UInt8](repeating: 0, count: 32)
        let count = buffer.withUnsafeMutableBytes { pread(descriptor, $0.baseAddress, $0.count, 0) }
        guard count > 0 else { return nil }
        let text = String(decoding: buffer[..<count], as: UTF8.self)
        return Int32(text.trimmingCharacters(in: .whitespacesAndNewlines))
    }
}
