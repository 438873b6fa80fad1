import Foundation
import JSON
import Logging

/// A swift-log handler that writes one line per entry to stderr, as text or as
/// one JSON object (`MAILGATE_LOG_FORMAT`). Each line goes out in one `write`,
/// so lines from different threads never interleave.
///
/// What is logged is chosen by the callers, which never pass secrets or message
/// bodies; this handler adds nothing but the time, level and label.
public struct LogLineHandler: LogHandler {
    public var metadata: Logger.Metadata = [:]
    public var logLevel: Logger.Level
    private let label: String
    private let format: GatewayConfiguration.LogFormat

    public init(label: String, level: Logger.Level, format: GatewayConfiguration.LogFormat) {
        self.label = label
        self.logLevel = level
        self.format = format
    }

    /// Installs the handler process-wide. Call once, before the first logger is made.
    public static func bootstrap(level: Logger.Level, format: GatewayConfiguration.LogFormat) {
        LoggingSystem.bootstrap { label in LogLineHandler(label: label, level: level, format: format) }
    }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    public func log(event: LogEvent) {
        var merged = metadata
        if let extra = event.metadata { merged.merge(extra) { _, new in new } }
        let time = Date().timeIntervalSince1970
        var line: [UInt8]
        switch format {
        case .text: line = Array(textLine(event: event, metadata: merged, time: time).utf8)
        case .json: line = jsonLine(event: event, metadata: merged, time: time)
        }
        line.append(0x0A)
        line.withUnsafeBytes { buffer in
            var offset = 0
            while offset < buffer.count {
                let written = Foundation.write(2, buffer.baseAddress! + offset, buffer.count - offset)
                if written <= 0 { if errno == EINTR { continue } else { return } }
                offset += written
            }
        }
    }

    private func textLine(event: LogEvent, metadata: Logger.Metadata, time: Double) -> String {
        var text = "\(timestamp(time)) \(event.level.rawValue.uppercased()) \(label): \(oneLine("\(event.message)"))"
        for key in metadata.keys.sorted() {
            text += " \(key)=\(oneLine(metadata[key]!.description))"
        }
        return text
    }

    private func jsonLine(event: LogEvent, metadata: Logger.Metadata, time: Double) -> [UInt8] {
        var object: JSONObject = [
            "time": .string(timestamp(time)),
            "level": .string(event.level.rawValue),
            "logger": .string(label),
            "message": .string("\(event.message)"),
        ]
        for key in metadata.keys.sorted() {
            object[key] = json(metadata[key]!)
        }
        return JSONWriter.bytes(.object(object))
    }

    private func json(_ value: Logger.Metadata.Value) -> JSONValue {
        switch value {
        case .string(let text): .string(text)
        case .stringConvertible(let item): .string(item.description)
        case .array(let items): .array(items.map(json))
        case .dictionary(let members): .object(JSONObject(members.keys.sorted().map { (key: $0, value: json(members[$0]!)) }))
        }
    }

    /// RFC 3339 with milliseconds, UTC.
    private func timestamp(_ time: Double) -> String {
        let whole = RFC3339.format(secondsSince1970: time)
        let milliseconds = Int((time - time.rounded(.down)) * 1000)
        let fraction = milliseconds < 10 ? "00\(milliseconds)" : milliseconds < 100 ? "0\(milliseconds)" : "\(milliseconds)"
        return whole.dropLast() + ".\(fraction)Z"
    }

    /// Keeps a log entry on one line whatever a value holds (no log injection).
    private func oneLine(_ text: String) -> String {
        guard text.contains(where: { $0 == "\n" || $0 == "\r" }) else { return text }
        return text.replacingOccurrences(of: "\r", with: "\\r").replacingOccurrences(of: "\n", with: "\\n")
    }
}
