import MailComposer
import MailgateTesting
import Testing

@Suite struct PunycodeTests {
    struct Sample: CustomTestStringConvertible, Sendable {
        let name: String
        let unicode: String
        let punycode: String
        var testDescription: String { name }
    }

    /// RFC 3492 §7.1. The RFC writes some samples with mixed-case annotations
    /// (upper-case letters in the encoding); an encoder without annotations
    /// writes those letters in lower case, so they are lower-cased here, the
    /// basic code points (kept as given) aside.
    static let samples: [Sample] = [
        Sample(name: "(A) Arabic (Egyptian)", unicode: "\u{0644}\u{064A}\u{0647}\u{0645}\u{0627}\u{0628}\u{062A}\u{0643}\u{0644}\u{0645}\u{0648}\u{0634}\u{0639}\u{0631}\u{0628}\u{064A}\u{061F}", punycode: "egbpdaj6bu4bxfgehfvwxn"),
        Sample(name: "(B) Chinese (simplified)", unicode: "他们为什么不说中文", punycode: "ihqwcrb4cv8a8dqg056pqjye"),
        Sample(name: "(C) Chinese (traditional)", unicode: "他們爲什麽不說中文", punycode: "ihqwctvzc91f659drss3x8bo0yb"),
        Sample(name: "(D) Czech", unicode: "Pro\u{010D}prost\u{011B}nemluv\u{00ED}\u{010D}esky", punycode: "Proprostnemluvesky-uyb24dma41a"),
        Sample(name: "(E) Hebrew", unicode: "\u{05DC}\u{05DE}\u{05D4}\u{05D4}\u{05DD}\u{05E4}\u{05E9}\u{05D5}\u{05D8}\u{05DC}\u{05D0}\u{05DE}\u{05D3}\u{05D1}\u{05E8}\u{05D9}\u{05DD}\u{05E2}\u{05D1}\u{05E8}\u{05D9}\u{05EA}", punycode: "4dbcagdahymbxekheh6e0a7fei0b"),
        Sample(name: "(F) Hindi (Devanagari)", unicode: "\u{092F}\u{0939}\u{0932}\u{094B}\u{0917}\u{0939}\u{093F}\u{0928}\u{094D}\u{0926}\u{0940}\u{0915}\u{094D}\u{092F}\u{094B}\u{0902}\u{0928}\u{0939}\u{0940}\u{0902}\u{092C}\u{094B}\u{0932}\u{0938}\u{0915}\u{0924}\u{0947}\u{0939}\u{0948}\u{0902}", punycode: "i1baa7eci9glrd9b2ae1bj0hfcgg6iyaf8o0a1dig0cd"),
        Sample(name: "(G) Japanese (kanji and hiragana)", unicode: "なぜみんな日本語を話してくれないのか", punycode: "n8jok5ay5dzabd5bym9f0cm5685rrjetr6pdxa"),
        Sample(name: "(H) Korean (Hangul syllables)", unicode: "세계의모든사람들이한국어를이해한다면얼마나좋을까", punycode: "989aomsvi5e83db1d2a355cv1e0vak1dwrv93d5xbh15a0dt30a5jpsd879ccm6fea98c"),
        Sample(name: "(I) Russian (Cyrillic)", unicode: "почемужеонинеговорятпорусски", punycode: "b1abfaaepdrnnbgefbadotcwatmq2g4l"),
        Sample(name: "(J) Spanish", unicode: "Porqu\u{00E9}nopuedensimplementehablarenEspa\u{00F1}ol", punycode: "PorqunopuedensimplementehablarenEspaol-fmd56a"),
        Sample(name: "(K) Vietnamese", unicode: "T\u{1EA1}isaoh\u{1ECD}kh\u{00F4}ngth\u{1EC3}ch\u{1EC9}n\u{00F3}iti\u{1EBF}ngVi\u{1EC7}t", punycode: "TisaohkhngthchnitingVit-kjcr8268qyxafd2f1b9g"),
        Sample(name: "(L) 3<nen>B<gumi><kinpachi><sensei>", unicode: "3年B組金八先生", punycode: "3B-ww4c5e180e575a65lsy2b"),
        Sample(name: "(M) <amuro><namie>-with-SUPER-MONKEYS", unicode: "安室奈美恵-with-SUPER-MONKEYS", punycode: "-with-SUPER-MONKEYS-pc58ag80a8qai00g7n9n"),
        Sample(name: "(N) Hello-Another-Way-<sorezore><no><basho>", unicode: "Hello-Another-Way-それぞれの場所", punycode: "Hello-Another-Way--fc4qua05auwb3674vfr0b"),
        Sample(name: "(O) <hitotsu><yane><no><shita>2", unicode: "ひとつ屋根の下2", punycode: "2-u9tlzr9756bt3uc0v"),
        Sample(name: "(P) Maji<de>Koi<suru>5<byou><mae>", unicode: "MajiでKoiする5秒前", punycode: "MajiKoi5-783gue6qz075azm5e"),
        Sample(name: "(Q) <pafii>de<runba>", unicode: "パフィーdeルンバ", punycode: "de-jg4avhby1noc0d"),
        Sample(name: "(R) <sono><supiido><de>", unicode: "そのスピードで", punycode: "d9juau41awczczp"),
        Sample(name: "(S) -> $1.00 <-", unicode: "-> $1.00 <-", punycode: "-> $1.00 <--"),
    ]

    @Test(arguments: samples)
    func encodesRFC3492Sample(_ sample: Sample) {
        #expect(Punycode.encode(Array(sample.unicode.unicodeScalars)) == sample.punycode)
    }

    @Test(arguments: samples)
    func decodesRFC3492Sample(_ sample: Sample) {
        #expect(Punycode.decode(sample.punycode) == Array(sample.unicode.unicodeScalars))
    }

    @Test func decodesMixedCaseAnnotationsCaseInsensitively() {
        // The RFC's own spelling of sample (I).
        #expect(Punycode.decode("b1abfaaepdrnnbgefbaDotcwatmq2g4l") == Array("почемужеонинеговорятпорусски".unicodeScalars))
    }

    @Test func refusesInvalidPunycode() {
        #expect(Punycode.decode("zzzzzzzzzzzzzzzzzzzzzzzzzz") == nil)
        #expect(Punycode.decode("ab-99999") == nil)
        #expect(Punycode.decode("ab-c!") == nil)
        #expect(Punycode.decode("ü-abc") == nil)
    }

    /// Python's `punycode` codec is an independent RFC 3492 implementation.
    @Test func agreesWithPythonOnSeededRandomLabels() throws {
        var generator = SeededGenerator(seed: 3492)
        let pools: [ClosedRange<UInt32>] = [0x61...0x7A, 0xE0...0xFF, 0x400...0x44F, 0x3040...0x309F, 0x4E00...0x9FFF, 0x1F600...0x1F64F]
        let labels: [String] = (0..<200).map { _ in
            let length = Int.random(in: 1...20, using: &generator)
            var scalars = String.UnicodeScalarView()
            for _ in 0..<length {
                let pool = pools.randomElement(using: &generator)!
                scalars.append(Unicode.Scalar(UInt32.random(in: pool, using: &generator))!)
            }
            return String(scalars)
        }
        let script = PythonScript(#"import sys; print("\n".join(l.encode("punycode").decode() for l in sys.stdin.read().split("\n")))"#)
        let output = String(decoding: try script.run(input: Array(labels.joined(separator: "\n").utf8)), as: UTF8.self)
        let expected = output.split(separator: "\n", omittingEmptySubsequences: false).dropLast().map(String.init)
        #expect(expected.count == labels.count)
        for (label, python) in zip(labels, expected) {
            #expect(Punycode.encode(Array(label.unicodeScalars)) == python, "\(label)")
            #expect(Punycode.decode(python) == Array(label.unicodeScalars), "\(python)")
        }
    }
}
