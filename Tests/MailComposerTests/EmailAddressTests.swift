import MailComposer
import MailgateTesting
import Testing

@Suite struct EmailAddressTests {
    struct Valid: CustomTestStringConvertible, Sendable {
        let input: String
        let localPart: String
        let domain: String
        var requiresSMTPUTF8 = false
        var testDescription: String { input }
    }

    static let valid: [Valid] = [
        Valid(input: "alice@example.com", localPart: "alice", domain: "example.com"),
        Valid(input: "Alice.Smith+tag@Example.COM", localPart: "Alice.Smith+tag", domain: "example.com"),
        Valid(input: "o'hara!#$%&*/=?^_`{|}~-@sub.domain-x.co.uk", localPart: "o'hara!#$%&*/=?^_`{|}~-", domain: "sub.domain-x.co.uk"),
        Valid(input: "user@localhost", localPart: "user", domain: "localhost"),
        Valid(input: "user@a1.b2", localPart: "user", domain: "a1.b2"),
        Valid(input: "\"john doe\"@example.com", localPart: "\"john doe\"", domain: "example.com"),
        Valid(input: "\"john\"@example.com", localPart: "john", domain: "example.com"),
        Valid(input: "\"a\\\"b\"@example.com", localPart: "\"a\\\"b\"", domain: "example.com"),
        Valid(input: "\"a\\b\"@example.com", localPart: "ab", domain: "example.com"),
        Valid(input: "\"a@b\"@example.com", localPart: "\"a@b\"", domain: "example.com"),
        Valid(input: "\"a..b\"@example.com", localPart: "\"a..b\"", domain: "example.com"),
        Valid(input: "user@[192.0.2.1]", localPart: "user", domain: "[192.0.2.1]"),
        Valid(input: "user@[IPv6:2001:DB8::1]", localPart: "user", domain: "[IPv6:2001:db8::1]"),
        Valid(input: "user@[IPv6:::ffff:192.0.2.1]", localPart: "user", domain: "[IPv6:::ffff:192.0.2.1]"),
        Valid(input: "user@[IPv6:1:2:3:4:5:6:7:8]", localPart: "user", domain: "[IPv6:1:2:3:4:5:6:7:8]"),
        Valid(input: "user@bücher.de", localPart: "user", domain: "xn--bcher-kva.de"),
        Valid(input: "user@BÜCHER.DE", localPart: "user", domain: "xn--bcher-kva.de"),
        Valid(input: "user@bu\u{308}cher.de", localPart: "user", domain: "xn--bcher-kva.de"),
        Valid(input: "user@例え.テスト", localPart: "user", domain: "xn--r8jz45g.xn--zckzah"),
        Valid(input: "user@例え。テスト", localPart: "user", domain: "xn--r8jz45g.xn--zckzah"),
        Valid(input: "user@xn--bcher-kva.de", localPart: "user", domain: "xn--bcher-kva.de"),
        Valid(input: "x@ＦＵＬＬ.example", localPart: "x", domain: "full.example"),
        Valid(input: "x@ｅxample．org", localPart: "x", domain: "example.org"),
        Valid(input: "jörg@example.com", localPart: "jörg", domain: "example.com", requiresSMTPUTF8: true),
        Valid(input: "用户@例子.广告", localPart: "用户", domain: "xn--fsqu00a.xn--4rr70v", requiresSMTPUTF8: true),
        Valid(input: "\"jörg müller\"@example.com", localPart: "\"jörg müller\"", domain: "example.com", requiresSMTPUTF8: true),
        Valid(input: String(repeating: "a", count: 64) + "@example.com", localPart: String(repeating: "a", count: 64), domain: "example.com"),
        Valid(input: "a@" + String(repeating: "b", count: 63) + ".com", localPart: "a", domain: String(repeating: "b", count: 63) + ".com"),
    ]

    @Test(arguments: valid)
    func parsesValidAddress(_ row: Valid) throws {
        let address = try EmailAddress.parse(row.input)
        #expect(address.localPart == row.localPart)
        #expect(address.domain == row.domain)
        #expect(address.requiresSMTPUTF8 == row.requiresSMTPUTF8)
        #expect(address.string == row.localPart + "@" + row.domain)
    }

    struct Invalid: CustomTestStringConvertible, Sendable {
        let input: String
        let error: AddressError
        var testDescription: String { input.debugDescription }
    }

    /// 253 octets: a valid domain that makes `a@` + it 255 octets long.
    static let longDomain = [63, 63, 63, 61].map { String(repeating: "d", count: $0) }.joined(separator: ".")
    static let invalid: [Invalid] = [
        Invalid(input: "", error: .empty),
        Invalid(input: "alice", error: .missingAtSign),
        Invalid(input: "@example.com", error: .emptyLocalPart),
        Invalid(input: "alice@", error: .emptyDomain),
        Invalid(input: "al ice@example.com", error: .invalidLocalPartCharacter(" ")),
        Invalid(input: "al(ice)@example.com", error: .invalidLocalPartCharacter("(")),
        Invalid(input: "alice..smith@example.com", error: .misplacedDot),
        Invalid(input: ".alice@example.com", error: .misplacedDot),
        Invalid(input: "alice.@example.com", error: .misplacedDot),
        Invalid(input: "a@b@example.com", error: .invalidDomainCharacter("@")),
        Invalid(input: "\"unterminated@example.com", error: .unterminatedQuotedString),
        Invalid(input: "\"ab\"c@example.com", error: .invalidLocalPartCharacter("c")),
        Invalid(input: "\"\"@example.com", error: .emptyLocalPart),
        Invalid(input: "\"ab\"", error: .missingAtSign),
        Invalid(input: "alice@example..com", error: .emptyDomainLabel),
        Invalid(input: "alice@.example.com", error: .emptyDomainLabel),
        Invalid(input: "alice@example.com.", error: .emptyDomainLabel),
        Invalid(input: "alice@-example.com", error: .domainLabelHyphen),
        Invalid(input: "alice@example-.com", error: .domainLabelHyphen),
        Invalid(input: "alice@exa_mple.com", error: .invalidDomainCharacter("_")),
        Invalid(input: "alice@bü cher.de", error: .invalidDomainCharacter(" ")),
        Invalid(input: "alice@☃.com", error: .invalidDomainCharacter("☃")),
        Invalid(input: "alice@192.0.2.1", error: .numericTopLevelDomain),
        Invalid(input: "alice@xn--ab-99999.com", error: .invalidPunycodeLabel("xn--ab-99999")),
        Invalid(input: "alice@[300.1.1.1]", error: .invalidAddressLiteral),
        Invalid(input: "alice@[192.0.2.01]", error: .invalidAddressLiteral),
        Invalid(input: "alice@[192.0.2.1", error: .invalidAddressLiteral),
        Invalid(input: "alice@[IPv6:1::2::3]", error: .invalidAddressLiteral),
        Invalid(input: "alice@[IPv6:1:2:3:4:5:6:7]", error: .invalidAddressLiteral),
        Invalid(input: "alice@[tag:content]", error: .invalidAddressLiteral),
        Invalid(input: "alice\r\n@example.com", error: .lineBreak),
        Invalid(input: "alice@example.com\nBcc: x@y.z", error: .lineBreak),
        Invalid(input: "alice@exam\0ple.com", error: .lineBreak),
        Invalid(input: "ali\u{7}ce@example.com", error: .controlCharacter),
        Invalid(input: "ali\u{85}ce@example.com", error: .controlCharacter),
        Invalid(input: "ali\tce@example.com", error: .controlCharacter),
        Invalid(input: String(repeating: "a", count: 65) + "@example.com", error: .localPartTooLong(octets: 65)),
        Invalid(input: "a@" + String(repeating: "b", count: 64) + ".com", error: .domainLabelTooLong(octets: 64)),
        Invalid(input: "a@" + String(repeating: "ü", count: 60) + ".com", error: .domainLabelTooLong(octets: 66)),
        Invalid(input: "a@" + longDomain, error: .addressTooLong(octets: 2 + longDomain.utf8.count)),
        Invalid(
            input: "a@" + String(repeating: "abcdefg.", count: 32) + "com",
            error: .domainTooLong(octets: 32 * 8 + 3)
        ),
    ]

    @Test(arguments: invalid)
    func refusesInvalidAddressWithItsReason(_ row: Invalid) {
        #expect(throws: row.error) { try EmailAddress.parse(row.input) }
        #expect(!row.error.message.isEmpty)
    }

    /// Python's `idna` codec (IDNA 2003) agrees with our A-labels for domains
    /// where the two standards agree.
    @Test func internationalDomainsMatchPythonsIDNACodec() throws {
        let domains = ["bücher.de", "ＢＵＣＨＥＲ.de", "münchen.example", "例え.テスト", "пример.испытание", "ελληνικά.gr", "παράδειγμα.δοκιμή", "مثال.إختبار"]
        let script = PythonScript(#"import sys; print("\n".join(l.encode("idna").decode() for l in sys.stdin.read().split("\n")))"#)
        let expected = String(decoding: try script.run(input: Array(domains.joined(separator: "\n").utf8)), as: UTF8.self)
            .split(separator: "\n").map(String.init)
        let ours = try domains.map { try EmailAddress.parse("a@" + $0).domain }
        #expect(ours == expected)
    }
}
