import ArgumentParser
import Foundation
import JSON
import MailgateCore

/// `mailgate send`: sends one message through a running gateway and prints its id.
struct Send: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Send one message through a running gateway's API and print its id.")

    @Option(help: "The sender, a@b.c or \"Name <a@b.c>\".") var from: String
    @Option(help: "A recipient (repeat for more).") var to: [String] = []
    @Option(help: "A Cc recipient (repeat for more).") var cc: [String] = []
    @Option(help: "A Bcc recipient (repeat for more).") var bcc: [String] = []
    @Option(help: "The subject.") var subject: String?
    @Option(help: "The plain-text body.") var text: String?
    @Option(help: "The HTML body.") var html: String?
    @Option(help: ArgumentHelp("A file to attach (repeat for more).", valueName: "file")) var attach: [String] = []
    @Option(help: "The gateway's URL (env MAILGATE_URL; default http://127.0.0.1:8080).") var url: String?
    @Option(name: .customLong("api-key"), help: "The API key (env MAILGATE_API_KEY).") var apiKey: String?

    func validate() throws {
        guard !to.isEmpty || !cc.isEmpty || !bcc.isEmpty else { throw ValidationError("give at least one --to, --cc or --bcc") }
        guard text != nil || html != nil else { throw ValidationError("give --text or --html") }
    }

    func run() throws {
        let environment = ProcessInfo.processInfo.environment
        var request: JSONObject = ["from": .string(from)]
        for (field, addresses) in [("to", to), ("cc", cc), ("bcc", bcc)] where !addresses.isEmpty {
            request[field] = .array(addresses.map(JSONValue.string))
        }
        if let subject { request["subject"] = .string(subject) }
        if let text { request["text"] = .string(text) }
        if let html { request["html"] = .string(html) }
        if !attach.isEmpty { request["attachments"] = .array(try attach.map(Self.attachment)) }

        let client = GatewayClient(
            baseURL: url ?? environment["MAILGATE_URL"] ?? "http://127.0.0.1:8080",
            apiKey: apiKey ?? environment["MAILGATE_API_KEY"])
        let response: GatewayClient.Response
        do {
            response = try client.post(path: "/v1/messages", json: JSONWriter.bytes(.object(request)))
        } catch {
            throw CommandFailure(message: "\(error)")
        }
        let body = try? JSONParser.parse(response.body)
        guard response.status == 202, let id = body?["id"]?.stringValue else {
            let detail = body?["detail"]?.stringValue ?? String(decoding: response.body.prefix(500), as: UTF8.self)
            let errors = body?["errors"]?.arrayValue?.compactMap { error -> String? in
                guard let field = error["field"]?.stringValue, let message = error["message"]?.stringValue else { return nil }
                return "\(field): \(message)"
            } ?? []
            throw CommandFailure(message: ([ "the gateway answered \(response.status): \(detail)"] + errors).joined(separator: "\n  "))
        }
        print(id)
    }

    private static func attachment(path: String) throws -> JSONValue {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw CommandFailure(message: "cannot read \(path)")
        }
        return [
            "filename": .string((path as NSString).lastPathComponent),
            "content_type": .string(MediaTypes.guess(forFileName: path)),
            "content": .string(data.base64EncodedString()),
        ]
    }
}

/// Media types for common attachment file extensions.
enum MediaTypes {
    static func guess(forFileName name: String) -> String {
        switch (name as NSString).pathExtension.lowercased() {
        case "pdf": "application/pdf"
        case "txt", "log": "text/plain"
        case "csv": "text/csv"
        case "html", "htm": "text/html"
        case "json": "application/json"
        case "png": "image/png"
        case "jpg", "jpeg": "image/jpeg"
        case "gif": "image/gif"
        case "zip": "application/zip"
        case "ics": "text/calendar"
        default: "application/octet-stream"
        }
    }
}
