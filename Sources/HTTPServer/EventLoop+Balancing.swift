import Synchronization

/// Evening out long-lived connections across loops. SO_REUSEPORT spreads new
/// connections by a hash of their addresses, which is fair on average but not
/// for a burst of a few dozen keep-alive connections (a load balancer's or a
/// benchmark's pool); the clients on the fuller loop then wait longer for the
/// whole life of their connections.
extension EventLoop {
    /// The loop owning the fewest connections, if it owns at least two fewer than this one.
    func balancingTarget() -> EventLoop? {
        guard peers.count > 1 else { return nil }
        var target: EventLoop?
        var fewest = connectionCount.load(ordering: .relaxed) - 1
        for peer in peers where peer !== self {
            let count = peer.connectionCount.load(ordering: .relaxed)
            if count < fewest {
                target = peer
                fewest = count
            }
        }
        return target
    }

    /// Hands a freshly accepted, not yet registered connection to this loop.
    /// It counts at once, so that a burst is not all sent to the same loop
    /// before it gets round to registering them. False once the loop is stopping.
    func adopt(_ fd: Int32, peer: SocketAddress) -> Bool {
        connectionCount.wrappingAdd(1, ordering: .relaxed)
        let accepted = inbox.withLock { inbox in
            guard !inbox.stopRequested else { return false }
            inbox.adoptions.append((fd: fd, peer: peer))
            return true
        }
        guard accepted else {
            connectionCount.subtract(1, ordering: .relaxed)
            return false
        }
        signalWake()
        return true
    }
}
