import Foundation
import Synchronization

/// The one drain budget of a shutdown (SPEC §5: at most 30 s in all): started by
/// the first signal, shared by every service that lets work in flight end.
public final class ShutdownClock: Sendable {
    public static let budget: Duration = .seconds(30)
    private let deadline = Mutex<Date?>(nil)

    public init() {}

    /// Starts the clock; later calls keep the first start.
    public func start() {
        deadline.withLock { deadline in
            if deadline == nil { deadline = Date().addingTimeInterval(Self.budget.seconds) }
        }
    }

    /// What is left of the budget (all of it before the clock starts), a little
    /// kept back so that the last steps fit.
    public var remaining: Duration {
        guard let end = deadline.withLock({ $0 }) else { return Self.budget }
        let left = end.timeIntervalSinceNow - 1
        return left > 0 ? .milliseconds(Int64(left * 1000)) : .zero
    }
}

extension Duration {
    var seconds: Double { Double(components.seconds) + Double(components.attoseconds) / 1e18 }
}
