import Foundation
import MailQueue
import MailgateTesting
import Testing

@Suite struct SortableIDTests {
    static let crockford = Set("0123456789abcdefghjkmnpqrstvwxyz")

    @Test(arguments: SortableID.Kind.allCases)
    func hasPrefixAndTwentySixCrockfordCharacters(_ kind: SortableID.Kind) {
        let id = SortableID.generate(kind)
        #expect(id.hasPrefix(kind.rawValue + "_"))
        let encoded = id.dropFirst(kind.rawValue.count + 1)
        #expect(encoded.count == 26)
        #expect(encoded.allSatisfy(Self.crockford.contains))
        #expect(SortableID.isValid(id, kind: kind))
    }

    @Test func encodesMillisecondsFirst() {
        var generator = SeededGenerator(seed: 1)
        let id = SortableID.generate(.message, at: Date(timeIntervalSince1970: 1_796_040_000.123), using: &generator)
        let timeCharacters = id.dropFirst(4).prefix(10)
        let digits = Array("0123456789abcdefghjkmnpqrstvwxyz")
        let milliseconds = timeCharacters.reduce(0) { $0 * 32 + digits.firstIndex(of: $1)! }
        #expect(milliseconds == 1_796_040_000_123)
    }

    @Test func sortsByCreationTime() {
        var generator = SeededGenerator(seed: 2)
        let start = 1_796_040_000.0
        let ids = (0..<500).map { step in
            SortableID.generate(.event, at: Date(timeIntervalSince1970: start + Double(step) * 0.001), using: &generator)
        }
        #expect(ids == ids.sorted())
        #expect(Set(ids).count == ids.count)
        let sameMillisecond = (0..<100).map { _ in SortableID.generate(.message, at: Date(timeIntervalSince1970: start), using: &generator) }
        #expect(Set(sameMillisecond).count == 100)
    }

    @Test func spreadsRandomBitsOverEveryCharacter() {
        var generator = SeededGenerator(seed: 3)
        var seen = Array(repeating: Set<Character>(), count: 16)
        for _ in 0..<400 {
            let random = Array(SortableID.generate(.message, at: Date(), using: &generator).suffix(16))
            for (index, character) in random.enumerated() { seen[index].insert(character) }
        }
        #expect(seen.allSatisfy { $0.count == 32 })
    }

    @Test(arguments: [
        ("msg_01jdq3z7x8k9m2n4p6r8t0v2w4", true),
        ("evt_01jdq3z7x8k9m2n4p6r8t0v2w4", false),
        ("msg_01jdq3z7x8k9m2n4p6r8t0v2w", false),
        ("msg_01JDQ3Z7X8K9M2N4P6R8T0V2W4", false),
        ("msg_01jdq3z7x8k9m2n4p6r8t0v2wi", false),
        ("msg_81jdq3z7x8k9m2n4p6r8t0v2w4", false),
        ("msg-01jdq3z7x8k9m2n4p6r8t0v2w4", false),
    ])
    func validatesMessageIDs(_ text: String, _ isValid: Bool) {
        #expect(SortableID.isValid(text, kind: .message) == isValid)
    }
}
