import DNSClient
import Foundation
import MailComposer
import MailQueue
import SMTPClient

/// How the gateway reaches destinations: one relay, or each domain's MX hosts.
public enum DeliveryRoute: Sendable {
    /// Every message to the smarthost of `MAILGATE_RELAY`.
    case relay(RelayEndpoint)
    /// Each domain's MX hosts (`MAILGATE_DNS_SERVER`, `MAILGATE_MX_PORT`).
    case mx(resolver: DNSResolver, port: Int)
}

/// The relay as the connector needs it.
public struct RelayEndpoint: Sendable {
    public var host: String
    public var port: Int
    public var tls: TLSPolicy
    public var credentials: SMTPCredentials?

    public init(host: String, port: Int, tls: TLSPolicy, credentials: SMTPCredentials?) {
        self.host = host
        self.port = port
        self.tls = tls
        self.credentials = credentials
    }
}

/// Opens SMTP sessions over the network: resolves the relay or the MX hosts,
/// tries their addresses in order, and falls back as SPEC §3 and §6 say.
public struct SMTPDestinationConnector: DestinationConnector {
    private let client: SMTPClient
    private let route: DeliveryRoute

    public init(client: SMTPClient, route: DeliveryRoute) {
        self.client = client
        self.route = route
    }

    public func openSession(to destination: Destination, for job: DeliveryJob, beforeConnecting: () -> Void) -> SessionOpening {
        switch (route, destination) {
        case (.relay(let relay), _):
            return openRelay(relay, beforeConnecting: beforeConnecting)
        case (.mx(let resolver, let port), .domain(let domain)):
            return openMX(domain: domain, resolver: resolver, port: port, beforeConnecting: beforeConnecting)
        case (.mx, .relay):
            preconditionFailure("relay jobs are planned only in relay mode")
        }
    }

    // MARK: Relay

    private func openRelay(_ relay: RelayEndpoint, beforeConnecting: () -> Void) -> SessionOpening {
        let addresses: [String]
        switch HostAddresses.resolve(relay.host) {
        case .success(let resolved): addresses = resolved
        case .failure(let failure):
            // Decided without connecting: not an attempt (SPEC §6).
            return .failed(.transient, SMTPResponseRecord(code: 451, enhancedCode: "4.4.3", message: failure.reason, host: relay.host), attempted: false)
        }
        let loopback = addresses.allSatisfy(HostAddresses.isLoopback)
        var lastError: SMTPError?
        if !addresses.isEmpty { beforeConnecting() }
        for address in addresses {
            let endpoint = SMTPEndpoint(
                hostName: relay.host, address: address, port: relay.port, tls: relay.tls, credentials: relay.credentials,
                allowsClearTextAuthentication: loopback)
            do throws(SMTPError) {
                return .opened(SMTPDeliverySession(connection: try client.connect(to: endpoint), hostName: relay.host))
            } catch {
                lastError = error
                // Only a failure to reach this address is worth trying the next one for.
                guard case .connectFailed = error else { break }
            }
        }
        return failure(lastError, host: relay.host)
    }

    /// The verdict of a failed connection: the reply's class, except that a refused
    /// AUTH or STARTTLS defers (SPEC §6: a relay's 535 is a configuration problem,
    /// not a bounce; and like Postfix's `encrypt`, a relay that will not start the
    /// TLS it must use holds the mail rather than destroys it).
    private func failure(_ error: SMTPError?, host: String) -> SessionOpening {
        guard let error else {
            return .failed(.transient, SMTPResponseRecord(code: 451, enhancedCode: "4.4.1", message: "no address to connect to", host: host), attempted: false)
        }
        let reply = error.recordedReply
        var verdict = RecipientAttempt.verdict(forCode: reply.code)
        switch error {
        case .authenticationRefused, .startTLSRefused: verdict = .transient
        default: break
        }
        return .failed(verdict, SMTPDeliverySession.record(reply, host: host), attempted: true)
    }

    // MARK: MX

    private func openMX(domain: String, resolver: DNSResolver, port: Int, beforeConnecting: () -> Void) -> SessionOpening {
        let hosts: [String]
        do throws(DNSError) {
            switch try resolver.lookupMX(domain) {
            case .exchanges(let records): hosts = records.map(\.host)
            case .noMX: hosts = [domain]
            case .nullMX:
                return .failed(.permanent, SMTPResponseRecord(
                    code: 556, enhancedCode: "5.1.2", message: "\(domain) does not accept mail (null MX)", host: nil), attempted: false)
            }
        } catch {
            if case .nxdomain = error {
                return .failed(.permanent, SMTPResponseRecord(
                    code: 550, enhancedCode: "5.1.2", message: "\(domain): no such domain (NXDOMAIN)", host: nil), attempted: false)
            }
            return .failed(.transient, SMTPResponseRecord(
                code: 451, enhancedCode: "4.4.3", message: "MX lookup for \(domain) failed: \(error)", host: nil), attempted: false)
        }
        var lastFailure: SessionOpening?
        var connected = false
        // Hosts that have no address for certain (NXDOMAIN, or no A/AAAA record).
        var hostsWithoutAddress = 0
        for host in hosts {
            let addresses: [String]
            do throws(DNSError) {
                addresses = try resolver.lookupAddresses(host)
            } catch {
                if case .nxdomain = error { hostsWithoutAddress += 1 }
                // Not an attempt unless another host was connected to (SPEC §6).
                lastFailure = .failed(.transient, SMTPResponseRecord(
                    code: 451, enhancedCode: "4.4.3", message: "address lookup for \(host) failed: \(error)", host: host),
                    attempted: connected)
                continue
            }
            if addresses.isEmpty { hostsWithoutAddress += 1 }
            for address in addresses {
                if !connected { beforeConnecting() }
                connected = true
                switch connectOpportunistically(host: host, address: address, port: port) {
                case .success(let session): return .opened(session)
                case .failure(let error): lastFailure = failure(error, host: host)
                }
            }
        }
        if hostsWithoutAddress == hosts.count {
            // RFC 5321 §5.1: MX records (or the implicit MX) that name no usable
            // host are an error, not a wait; Postfix bounces them at once too.
            return .failed(.permanent, SMTPResponseRecord(
                code: 550, enhancedCode: "5.4.4", message: "\(domain): no mail host has an address (\(hosts.joined(separator: ", ")))",
                host: nil), attempted: false)
        }
        return lastFailure ?? .failed(.transient, SMTPResponseRecord(
            code: 451, enhancedCode: "4.4.4", message: "\(domain) has no reachable mail host", host: nil), attempted: connected)
    }

    /// STARTTLS when offered, without certificate checks; when the handshake
    /// fails, this attempt goes on over a new plain connection (SPEC §6).
    private func connectOpportunistically(host: String, address: String, port: Int) -> Result<SMTPDeliverySession, SMTPError> {
        var endpoint = SMTPEndpoint(hostName: host, address: address, port: port, tls: .opportunistic)
        do throws(SMTPError) {
            return .success(SMTPDeliverySession(connection: try client.connect(to: endpoint), hostName: host))
        } catch {
            guard error.isTLSFailure else { return .failure(error) }
        }
        endpoint.tls = .disabled
        do throws(SMTPError) {
            return .success(SMTPDeliverySession(connection: try client.connect(to: endpoint), hostName: host))
        } catch {
            return .failure(error)
        }
    }
}

/// One SMTP connection carrying jobs to its destination.
final class SMTPDeliverySession: DeliverySession {
    private let connection: SMTPConnection
    private let hostName: String

    init(connection: SMTPConnection, hostName: String) {
        self.connection = connection
        self.hostName = hostName
    }

    var isUsable: Bool { connection.isUsable }

    func deliver(_ job: DeliveryJob) -> [RecipientAttempt]? {
        let reused = connection.transactionCount > 0
        // UTF-8 headers need `MAIL FROM … SMTPUTF8` even when this transaction's
        // addresses are ASCII (RFC 6531 §3.4), so it is declared wherever offered. A
        // peer without SMTPUTF8 still gets the message for its ASCII recipients
        // (SPEC §2 bounces only the recipients whose own address needs it), with
        // its header fields downgraded to ASCII (RFC 6857). A peer without
        // 8BITMIME gets 8-bit bodies (only `raw` ones have them) re-encoded.
        var content = job.content.content
        var requires8BitMIME = job.content.requires8BitMIME
        let peerTakesUTF8 = connection.capabilities.smtpUTF8
        if job.content.requiresSMTPUTF8 && !peerTakesUTF8 {
            content = HeaderDowngrade.downgraded(content)
            requires8BitMIME = content.contains { $0 >= 0x80 }
        }
        if requires8BitMIME && !connection.capabilities.eightBitMIME {
            content = SevenBitConversion.converted(content)
            requires8BitMIME = content.contains { $0 >= 0x80 }
        }
        let envelope = SMTPEnvelope(
            sender: job.content.envelopeFrom,
            recipients: job.recipients.map(\.email),
            content: content,
            requires8BitMIME: requires8BitMIME,
            contentRequiresSMTPUTF8: job.content.requiresSMTPUTF8 && peerTakesUTF8)
        do throws(SMTPError) {
            let result = try connection.send(envelope)
            return zip(job.recipients, result.recipients).map { recipient, outcome in
                RecipientAttempt(
                    recipientID: recipient.recipientID, verdict: RecipientAttempt.verdict(forCode: outcome.reply.code),
                    response: Self.record(outcome.reply, host: hostName), attempted: true)
            }
        } catch {
            // A cached connection the server dropped (or closed with 421) while idle:
            // not the message's fault, so it goes again on a new connection.
            if reused && (error.peerReply == nil || error.peerReply?.isClosingConnection == true) { return nil }
            let response = Self.record(error.recordedReply, host: hostName)
            return job.recipients.map {
                RecipientAttempt(recipientID: $0.recipientID, verdict: RecipientAttempt.verdict(forCode: error.recordedReply.code), response: response, attempted: true)
            }
        }
    }

    func close() { connection.quit() }

    static func record(_ reply: SMTPReply, host: String) -> SMTPResponseRecord {
        SMTPResponseRecord(code: reply.code, enhancedCode: reply.enhancedCode?.description, message: reply.message, host: host)
    }
}
