import Foundation
import Synchronization

/// Contents of the messages whose recipients this instance has just claimed,
/// fetched in one query right after the claim, so that the `messageContent` call
/// delivery makes for each message costs no round trip of its own (over the
/// network, a round trip per message would bound a gateway's delivery rate).
///
/// Bounded: a content larger than `largestKept` is not kept (it is read when asked
/// for), nothing more is kept past `capacity` bytes, an entry is handed out once,
/// and entries nobody asked for within `lifetime` are dropped. Contents never
/// change once stored, so a kept one is never stale.
final class PostgresContentCache: Sendable {
    static let capacity = 64 << 20
    static let largestKept = 1 << 20
    static let lifetime = Duration.seconds(60)

    private struct Entry {
        var content: MessageContent
        var keptAt: ContinuousClock.Instant
    }

    private struct State {
        var entries: [String: Entry] = [:]
        var bytes = 0
    }

    private let state = Mutex(State())

    /// The ids among `messageIDs` not kept already.
    func missing(_ messageIDs: Set<String>) -> [String] {
        state.withLock { state in messageIDs.filter { state.entries[$0] == nil }.sorted() }
    }

    func keep(_ contents: [MessageContent]) {
        let now = ContinuousClock.now
        state.withLock { state in
            for (id, entry) in state.entries where now - entry.keptAt > Self.lifetime {
                state.entries[id] = nil
                state.bytes -= entry.content.content.count
            }
            for content in contents where state.entries[content.messageID] == nil {
                guard state.bytes + content.content.count <= Self.capacity else { break }
                state.entries[content.messageID] = Entry(content: content, keptAt: now)
                state.bytes += content.content.count
            }
        }
    }

    /// The kept content of `messageID`, removed from the cache.
    func take(_ messageID: String) -> MessageContent? {
        state.withLock { state in
            guard let entry = state.entries.removeValue(forKey: messageID) else { return nil }
            state.bytes -= entry.content.content.count
            return entry.content
        }
    }
}
