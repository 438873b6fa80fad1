#if canImport(Glibc)
import Glibc
#endif

/// Why the server could not start (or do what was asked), with the errno of
/// the failing call where there is one.
public enum HTTPServerError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The listen address is not `host:port` with an IP literal or `localhost`.
    case invalidListenAddress(String)
    /// Another socket already listens there (EADDRINUSE).
    case addressInUse(String)
    /// A system call failed.
    case systemCall(String, errno: Int32)
    /// `start()` on a server that is already running or was shut down.
    case invalidState(String)

    public var description: String {
        switch self {
        case .invalidListenAddress(let address):
            "invalid listen address '\(address)': expected host:port, e.g. 127.0.0.1:8080 or [::]:8080"
        case .addressInUse(let address):
            "address \(address) is already in use"
        case .systemCall(let call, let code):
            "\(call) failed: \(String(cString: strerror(code))) (errno \(code))"
        case .invalidState(let reason):
            reason
        }
    }
}
