import MailQueue

/// Where a transaction goes: the relay, or a recipient domain's MX hosts.
/// Connection limits and reuse are per destination.
public enum Destination: Hashable, Sendable, CustomStringConvertible {
    case relay
    case domain(String)

    public var description: String {
        switch self {
        case .relay: "relay"
        case .domain(let name): name
        }
    }
}

/// One SMTP transaction to make: a message's recipients that share a destination,
/// at most 100 of them (RFC 5321 §4.5.3.1.8), so the body crosses the wire once.
public struct DeliveryJob: Sendable {
    public var destination: Destination
    public var content: MessageContent
    public var recipients: [ClaimedRecipient]

    public init(destination: Destination, content: MessageContent, recipients: [ClaimedRecipient]) {
        self.destination = destination
        self.content = content
        self.recipients = recipients
    }

    /// The most recipients in one transaction.
    public static let maximumRecipients = 100

    /// Groups claimed recipients by message and destination into jobs of at most
    /// `maximumRecipients`, keeping the order in which they were claimed.
    public static func plan(
        _ claimed: [ClaimedRecipient], relayMode: Bool
    ) -> [(messageID: String, destination: Destination, recipients: [ClaimedRecipient])] {
        var order: [GroupKey] = []
        var groups: [GroupKey: [ClaimedRecipient]] = [:]
        for recipient in claimed {
            let key = GroupKey(messageID: recipient.messageID, destination: relayMode ? .relay : .domain(recipient.domain))
            if groups[key] == nil { order.append(key) }
            groups[key, default: []].append(recipient)
        }
        return order.flatMap { key in
            let members = groups[key]!
            return stride(from: 0, to: members.count, by: maximumRecipients).map { start in
                (key.messageID, key.destination, Array(members[start..<min(start + maximumRecipients, members.count)]))
            }
        }
    }

    private struct GroupKey: Hashable {
        var messageID: String
        var destination: Destination
    }
}
