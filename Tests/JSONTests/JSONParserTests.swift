import JSON
import Testing

@Suite struct JSONParserTests {
    @Test(arguments: [
        ("null", JSONValue.null),
        ("true", .bool(true)),
        (" false ", .bool(false)),
        ("0", .number(JSONNumber(text: "0"))),
        ("-12.5e+3", .number(JSONNumber(text: "-12.5e+3"))),
        ("\"a\\\"b\\\\c\\/d\\n\"", .string("a\"b\\c/d\n")),
        ("\"\\u00e4\\u20ac\\ud83d\\ude00\"", .string("ä€😀")),
        ("\"Ä✓\"", .string("Ä✓")),
        ("[]", .array([])),
        ("[1,[2,{}]]", [1, [2, [:]]]),
        ("{\"a\":1,\"b\":[true,null]}", ["a": 1, "b": [true, nil]]),
    ] as [(String, JSONValue)])
    func parsesValidDocuments(text: String, expected: JSONValue) throws {
        #expect(try JSONParser.parse(text) == expected)
    }

    @Test(arguments: [
        "", " ", "nul", "tru", "01", "-", "1.", "1e", ".5", "+1", "[1,]", "{\"a\":1,}", "{a:1}", "{\"a\" 1}",
        "[1 2]", "\"unterminated", "\"bad \\x escape\"", "\"\\ud800\"", "\"\\udc00x\"", "\"tab\there\"",
        "{} {}", "[", "{", "\u{FEFF}{}", "NaN", "Infinity", "'single'",
    ])
    func refusesInvalidDocuments(text: String) {
        #expect(throws: JSONParseError.self) { try JSONParser.parse(text) }
    }

    @Test func refusesInvalidUTF8() {
        #expect(throws: JSONParseError.self) { try JSONParser.parse([0x22, 0xC3, 0x28, 0x22]) }
        #expect(throws: JSONParseError.self) { try JSONParser.parse([0x22, 0xED, 0xA0, 0x80, 0x22]) }
    }

    @Test func boundsNesting() throws {
        let deep = String(repeating: "[", count: 65) + String(repeating: "]", count: 65)
        #expect(throws: JSONParseError.self) { try JSONParser.parse(deep) }
        let fine = String(repeating: "[", count: 64) + String(repeating: "]", count: 64)
        _ = try JSONParser.parse(fine)
        let hostile = String(repeating: "[", count: 100_000)
        #expect(throws: JSONParseError.self) { try JSONParser.parse(hostile) }
    }

    @Test func keepsMemberOrderAndDuplicates() throws {
        let value = try JSONParser.parse("{\"b\":1,\"a\":2,\"b\":3}")
        #expect(value.objectValue?.keys == ["b", "a", "b"])
        #expect(value["b"] == 1)
    }
}

@Suite struct JSONWriterTests {
    @Test func escapesWhatMustBeEscaped() {
        let value: JSONValue = ["s": "quote\" back\\ nl\n cr\r tab\t nul\u{0} del\u{7F} ls\u{2028} ps\u{2029} ä€"]
        #expect(
            JSONWriter.string(value)
                == "{\"s\":\"quote\\\" back\\\\ nl\\n cr\\r tab\\t nul\\u0000 del\\u007f ls\\u2028 ps\\u2029 ä€\"}")
    }

    @Test func roundTrips() throws {
        let value: JSONValue = ["a": [1, .number(JSONNumber(text: "2.5")), "x"], "b": ["c": nil, "d": true]]
        #expect(try JSONParser.parse(JSONWriter.bytes(value)) == value)
    }

    @Test func writesNumbersAsGiven() {
        #expect(JSONWriter.string(.number(JSONNumber(3))) == "3")
        #expect(JSONWriter.string(.number(JSONNumber(0.25))) == "0.25")
        #expect(JSONWriter.string(.number(JSONNumber(1e20))) == "1e+20")
    }
}

@Suite struct RFC3339Tests {
    @Test func formatsUTCSeconds() {
        #expect(RFC3339.format(secondsSince1970: 0) == "1970-01-01T00:00:00Z")
        #expect(RFC3339.format(secondsSince1970: 1_796_040_000.9) == "2026-11-30T12:00:00Z")
    }

    @Test(arguments: [
        ("2026-11-30T12:00:00Z", 1_796_040_000.0),
        ("2026-11-30t12:00:00z", 1_796_040_000.0),
        ("2026-11-30T13:30:00+01:30", 1_796_040_000.0),
        ("2026-11-30T12:00:00.5Z", 1_796_040_000.5),
        ("2024-02-29T00:00:00Z", 1_709_164_800.0),
    ])
    func parses(text: String, seconds: Double) {
        #expect(RFC3339.parse(text) == seconds)
    }

    @Test(arguments: [
        "2026-11-30", "2026-11-30T12:00:00", "2026-13-01T00:00:00Z", "2025-02-29T00:00:00Z", "2026-11-30T24:00:00Z",
        "2026-11-30T12:00:00.Z", "2026-11-30T12:00:00+0100", "tomorrow", "2026-11-30T12:00:00Zjunk",
    ])
    func refuses(text: String) {
        #expect(RFC3339.parse(text) == nil)
    }
}
