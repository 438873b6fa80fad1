import Foundation
import MailgateTesting

/// What Python's `email` package (policy.default) makes of a message: the
/// independent reader the composition tests compare against.
struct ParsedMessage: Decodable {
    var subject: String?
    var from: [ParsedAddress]?
    var to: [ParsedAddress]?
    var cc: [ParsedAddress]?
    var replyTo: [ParsedAddress]?
    /// Display names of From and To decoded by `email.header.decode_header`,
    /// which follows RFC 2047 §6.2 (white space between adjacent encoded words
    /// is dropped); policy.default's address parser keeps it, so its names
    /// differ from the sender's for names longer than one encoded word.
    var fromNames: [String]?
    var toNames: [String]?
    /// Every field as (name, decoded value), in order.
    var headers: [[String]]
    var date: String?
    var messageID: String?
    var root: ParsedPart

    var headerNames: [String] { headers.map { $0[0] } }

    func header(_ name: String) -> [String] {
        headers.filter { $0[0].lowercased() == name.lowercased() }.map { $0[1] }
    }

    /// Every leaf part, depth first.
    var leaves: [ParsedPart] { root.leaves }
}

struct ParsedAddress: Decodable, Equatable {
    var name: String
    var username: String
    var domain: String
}

struct ParsedPart: Decodable {
    var contentType: String
    var parameters: [String: String]
    var filename: String?
    var contentID: String?
    var disposition: String?
    var transferEncoding: String?
    var defects: [String]
    var headerDefects: [String]
    var parts: [ParsedPart]?
    /// Base64 of the decoded body of a leaf part.
    var content: String?

    var contentBytes: [UInt8] { content.flatMap { Data(base64Encoded: $0) }.map { [UInt8]($0) } ?? [] }
    var leaves: [ParsedPart] { parts.map { $0.flatMap(\.leaves) } ?? [self] }
    /// Defects of this part and all below it.
    var allDefects: [String] { defects + headerDefects + (parts ?? []).flatMap(\.allDefects) }
}

enum PythonEmailParser {
    private static let script = PythonScript(#"""
import sys, json, base64, email, email.utils
from email.parser import BytesParser
from email import policy
from email.header import decode_header, make_header

def rfc2047_names(data, name):
    # policy.default's address parser puts a space between adjacent encoded
    # words of a display name, against RFC 2047 6.2; decode_header follows it.
    values = email.message_from_bytes(data).get_all(name)
    if values is None:
        return None
    return [str(make_header(decode_header(n))) for n, _ in email.utils.getaddresses(values)]

def addresses(msg, name):
    header = msg[name]
    if header is None:
        return None
    return [{"name": a.display_name, "username": a.username, "domain": a.domain} for a in header.addresses]

def part(p):
    content_type = p["content-type"]
    info = {
        "contentType": p.get_content_type(),
        "parameters": dict(content_type.params) if content_type is not None else {},
        "filename": p.get_filename(),
        "contentID": str(p["content-id"]) if p["content-id"] is not None else None,
        "disposition": p.get_content_disposition(),
        "transferEncoding": str(p["content-transfer-encoding"]) if p["content-transfer-encoding"] is not None else None,
        "defects": [type(d).__name__ for d in p.defects],
        "headerDefects": [k + ": " + type(d).__name__ for k, v in p.items() for d in v.defects],
    }
    if p.is_multipart():
        info["parts"] = [part(c) for c in p.iter_parts()]
    else:
        info["content"] = base64.b64encode(p.get_payload(decode=True) or b"").decode()
    return info

results = []
for encoded in json.load(sys.stdin):
    data = base64.b64decode(encoded)
    msg = BytesParser(policy=policy.default).parsebytes(data)
    results.append({
        "fromNames": rfc2047_names(data, "from"),
        "toNames": rfc2047_names(data, "to"),
        "subject": str(msg["subject"]) if msg["subject"] is not None else None,
        "from": addresses(msg, "from"),
        "to": addresses(msg, "to"),
        "cc": addresses(msg, "cc"),
        "replyTo": addresses(msg, "reply-to"),
        "headers": [[k, str(v)] for k, v in msg.items()],
        "date": msg["date"].datetime.isoformat() if msg["date"] is not None else None,
        "messageID": str(msg["message-id"]) if msg["message-id"] is not None else None,
        "root": part(msg),
    })
print(json.dumps(results))
"""#)

    /// Parses all `messages` in one Python run.
    static func parse(_ messages: [[UInt8]]) throws -> [ParsedMessage] {
        let input = try JSONEncoder().encode(messages.map { Data($0).base64EncodedString() })
        return try script.runJSON([ParsedMessage].self, input: [UInt8](input))
    }

    static func parse(_ message: [UInt8]) throws -> ParsedMessage {
        try parse([message])[0]
    }
}
