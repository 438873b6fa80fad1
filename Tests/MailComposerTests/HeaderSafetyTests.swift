import MailComposer
import Testing

@Suite struct HeaderSafetyTests {
    @Test(arguments: [
        ("X-Campaign", true), ("x-a.b_c!#$%", true), ("X Campaign", false), ("X:Campaign", false),
        ("", false), ("Ä-Header", false), ("X-\tTab", false), ("X-\u{7F}", false),
    ])
    func validatesFieldNames(_ name: String, _ isValid: Bool) {
        #expect(HeaderSafety.isValidFieldName(name) == isValid)
    }

    @Test(arguments: [
        ("From", true), ("from", true), ("TO", true), ("cc", true), ("BCC", true), ("Date", true),
        ("Message-Id", true), ("mime-version", true), ("Content-Type", true), ("content-x-anything", true),
        ("Subject", false), ("X-From", false), ("Contents", false), ("Reply-To", false), ("List-Unsubscribe", false),
    ])
    func knowsReservedFieldNames(_ name: String, _ isReserved: Bool) {
        #expect(HeaderSafety.isReservedFieldName(name) == isReserved)
    }

    @Test(arguments: [
        ("plain", false), ("tab\there", false), ("cr\rhere", true), ("lf\nhere", true), ("crlf\r\nhere", true),
        ("nul\u{0}here", true), ("ünïcödé", false),
    ])
    func findsLineBreaks(_ text: String, _ hasLineBreak: Bool) {
        #expect(HeaderSafety.containsLineBreak(text) == hasLineBreak)
    }

    struct ExtraHeader: CustomTestStringConvertible, Sendable {
        let name: String
        let value: String
        let error: HeaderError?
        var testDescription: String { "\(name.debugDescription): \(value.prefix(40).debugDescription)" }
    }

    static let extraHeaders: [ExtraHeader] = [
        ExtraHeader(name: "X-Campaign", value: "fall", error: nil),
        ExtraHeader(name: "X-Unicode", value: "Grüße ✓", error: nil),
        ExtraHeader(name: "List-Unsubscribe", value: "<https://example.com/u/" + String(repeating: "x", count: 900) + ">", error: nil),
        ExtraHeader(name: "", value: "x", error: .emptyName),
        ExtraHeader(name: "X Bad", value: "x", error: .invalidName),
        ExtraHeader(name: "X-A\r\nBcc", value: "x", error: .invalidName),
        ExtraHeader(name: "X-" + String(repeating: "n", count: 75), value: "x", error: .nameTooLong(octets: 77)),
        ExtraHeader(name: "bcc", value: "evil@example.net", error: .reservedName("bcc")),
        ExtraHeader(name: "Content-Type", value: "text/html", error: .reservedName("Content-Type")),
        ExtraHeader(name: "Message-ID", value: "<x@y>", error: .reservedName("Message-ID")),
        ExtraHeader(name: "X-Evil", value: "a\r\nBcc: evil@example.net", error: .lineBreak),
        ExtraHeader(name: "X-Evil", value: "a\nb", error: .lineBreak),
        ExtraHeader(name: "X-Evil", value: "a\rb", error: .lineBreak),
        ExtraHeader(name: "X-Evil", value: "a\u{0}b", error: .lineBreak),
        ExtraHeader(name: "X-Evil", value: "a\u{1B}b", error: .controlCharacter),
        ExtraHeader(name: "X-Long", value: String(repeating: "w", count: 991), error: .wordTooLong(octets: 991)),
        ExtraHeader(name: "Reply-To", value: "Jörg <j@example.org>, \"Sales, EU\" <s@example.org>", error: nil),
        ExtraHeader(name: "sender", value: "ops@example.org", error: nil),
        ExtraHeader(name: "Reply-To", value: "not an address", error: .invalidAddressList(.missingAtSign)),
        ExtraHeader(name: "Resent-To", value: "team: a@example.org;", error: .invalidAddressList(nil)),
        ExtraHeader(name: "Sender", value: "a@example.org, ", error: nil),
    ]

    @Test(arguments: extraHeaders)
    func checksExtraHeaders(_ row: ExtraHeader) {
        if let error = row.error {
            #expect(throws: error) { try HeaderSafety.checkExtraHeader(name: row.name, value: row.value) }
        } else {
            #expect(throws: Never.self) { try HeaderSafety.checkExtraHeader(name: row.name, value: row.value) }
        }
    }

    @Test func listsEveryProblemOfAHeaderSet() {
        let fields = [
            HeaderField(name: "X-Ok", value: "fine"), HeaderField(name: "Bcc", value: "x@y.z"),
            HeaderField(name: "Reply-To", value: "a@b.c"), HeaderField(name: "X-Bad", value: "a\nb"),
            HeaderField(name: "References", value: "<a@b>"), HeaderField(name: "references", value: "<c@d>"),
        ]
        let problems = HeaderSafety.problems(in: fields, hasSubject: true, hasReplyTo: true)
        #expect(problems.map(\.name) == ["Bcc", "Reply-To", "X-Bad", "references"])
        #expect(problems.map(\.error) == [.reservedName("Bcc"), .repeatedField, .lineBreak, .repeatedField])
        #expect(HeaderSafety.problems(in: fields.filter { $0.name == "Reply-To" }, hasSubject: true, hasReplyTo: false).isEmpty)
    }

    @Test func checksSubjectText() {
        #expect(throws: HeaderError.lineBreak) { try HeaderSafety.checkText("Hello\r\nBcc: evil@example.net") }
        #expect(throws: HeaderError.controlCharacter) { try HeaderSafety.checkText("Hello\u{8}") }
        #expect(throws: Never.self) { try HeaderSafety.checkText("Your order ✓\tthanks") }
    }
}
