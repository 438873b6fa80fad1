import MailComposer
import Testing

@Suite struct MailboxTests {
    struct Valid: CustomTestStringConvertible, Sendable {
        let input: String
        let name: String?
        let address: String
        var testDescription: String { input }
    }

    static let valid: [Valid] = [
        Valid(input: "alice@example.com", name: nil, address: "alice@example.com"),
        Valid(input: "  alice@example.com\t", name: nil, address: "alice@example.com"),
        Valid(input: "<alice@example.com>", name: nil, address: "alice@example.com"),
        Valid(input: "Alice <alice@example.com>", name: "Alice", address: "alice@example.com"),
        Valid(input: "Alice Smith<alice@example.com>", name: "Alice Smith", address: "alice@example.com"),
        Valid(input: "\"Alice\" Smith <alice@example.com>", name: "Alice Smith", address: "alice@example.com"),
        Valid(input: "Carol \"The <Boss>\" Ä <carol@example.net>", name: "Carol The <Boss> Ä", address: "carol@example.net"),
        Valid(input: "\"Smith, Alice\" <alice@example.com>", name: "Smith, Alice", address: "alice@example.com"),
        Valid(input: "\"Quote \\\"Q\\\" Name\" <q@example.com>", name: "Quote \"Q\" Name", address: "q@example.com"),
        Valid(input: "\"<odd> name\" <a@b.example>", name: "<odd> name", address: "a@b.example"),
        Valid(input: "\"\" <a@b.example>", name: nil, address: "a@b.example"),
        Valid(input: "Jörg Müller <j@bücher.de>", name: "Jörg Müller", address: "j@xn--bcher-kva.de"),
        Valid(input: "Doe, John <john@example.com>", name: "Doe, John", address: "john@example.com"),
        Valid(input: "\"a@b\"@example.com", name: nil, address: "\"a@b\"@example.com"),
    ]

    @Test(arguments: valid)
    func parsesMailbox(_ row: Valid) throws {
        let mailbox = try Mailbox.parse(row.input)
        #expect(mailbox.displayName == row.name)
        #expect(mailbox.address.string == row.address)
    }

    struct Invalid: CustomTestStringConvertible, Sendable {
        let input: String
        let error: AddressError
        var testDescription: String { input.debugDescription }
    }

    static let invalid: [Invalid] = [
        Invalid(input: "   ", error: .empty),
        Invalid(input: "Alice <alice@example.com", error: .missingClosingAngleBracket),
        Invalid(input: "Alice alice@example.com>", error: .unexpectedAngleBracket),
        Invalid(input: "Alice <a<b@example.com>", error: .unexpectedAngleBracket),
        Invalid(input: "Alice <alice@example.com> x", error: .textAfterAddress),
        Invalid(input: "Alice <alice@example.com> <b@example.com>", error: .textAfterAddress),
        Invalid(input: "Al\"ice <alice@example.com>", error: .unterminatedDisplayName),
        Invalid(input: "Alice > Bob <alice@example.com>", error: .displayNameNeedsQuotes),
        Invalid(input: "\"Alice <alice@example.com>", error: .unterminatedDisplayName),
        Invalid(input: "Alice\r\nBcc: evil@example.net <alice@example.com>", error: .lineBreak),
        Invalid(input: "Alice <alice@example.com>\r\nBcc: evil@example.net", error: .lineBreak),
        Invalid(input: "Al\u{1B}ice <alice@example.com>", error: .controlCharacter),
        Invalid(input: "a@example.com, b@example.com", error: .invalidDomainCharacter(",")),
        Invalid(input: "Alice <>", error: .empty),
        Invalid(input: "alice@example.com (Alice)", error: .invalidDomainCharacter(" ")),
    ]

    @Test(arguments: invalid)
    func refusesMalformedMailbox(_ row: Invalid) {
        #expect(throws: row.error) { try Mailbox.parse(row.input) }
    }

    @Test func objectFormChecksNameAndEmailSeparately() throws {
        let carol = try Mailbox(email: "carol@example.net", name: "Carol Ä")
        #expect(carol.displayName == "Carol Ä")
        #expect(try Mailbox(email: "carol@example.net", name: "  ").displayName == nil)
        #expect(try Mailbox(email: "carol@example.net", name: nil).displayName == nil)

        let badName = #expect(throws: AddressError.self) { try Mailbox(email: "carol@example.net", name: "Carol\r\nBcc: x@y.z") }
        #expect(badName == .displayNameLineBreak)
        #expect(badName?.concernsDisplayName == true)
        let badEmail = #expect(throws: AddressError.self) { try Mailbox(email: "carol@", name: "Carol") }
        #expect(badEmail == .emptyDomain)
        #expect(badEmail?.concernsDisplayName == false)
        #expect(throws: AddressError.displayNameControlCharacter) { try Mailbox(email: "c@d.example", name: "a\u{1}b") }
    }

    @Test func describesMailboxReadably() throws {
        #expect(try Mailbox.parse("Alice <alice@example.com>").description == "Alice <alice@example.com>")
        #expect(try Mailbox.parse("\"Smith, Alice\" <alice@example.com>").description == "\"Smith, Alice\" <alice@example.com>")
        #expect(try Mailbox.parse("alice@example.com").description == "alice@example.com")
    }
}
