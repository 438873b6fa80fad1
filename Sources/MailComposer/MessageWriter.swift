/// Builds a message into one byte buffer, folding header fields as it goes.
///
/// Header text is written as words separated by folding white space: a word
/// goes on the current line if the line stays within 78 columns, else the line
/// is folded (CRLF, then the white space) before it (RFC 5322 §2.2.3, §3.2.2).
/// Every word the composer hands over is short (addresses ≤ 257, encoded
/// words ≤ 75, raw words checked), so no line can pass 998 octets.
struct MessageWriter {
    private(set) var bytes: [UInt8] = []
    /// Octets on the current header line so far.
    private var column = 0
    /// Whether the current field has a value word yet: the line is never
    /// folded right after `Name:` when a word could still follow it there.
    private var fieldHasValue = false

    init(capacity: Int) {
        bytes.reserveCapacity(capacity)
    }

    // MARK: Fields

    mutating func beginField(_ name: StaticString) {
        bytes.appendASCII(name)
        bytes.append(ASCII.colon)
        column = name.utf8CodeUnitCount + 1
        fieldHasValue = false
    }

    mutating func beginField(_ name: String) {
        bytes.append(contentsOf: name.utf8)
        bytes.append(ASCII.colon)
        column = name.utf8.count + 1
        fieldHasValue = false
    }

    mutating func endField() {
        bytes.appendCRLF()
    }

    /// A whole field whose value is one short ASCII word.
    mutating func writeField(_ name: StaticString, value: StaticString) {
        beginField(name)
        bytes.append(ASCII.space)
        bytes.appendASCII(value)
        endField()
    }

    /// Ends the header section (of the message or of a MIME part).
    mutating func endHeaderSection() {
        bytes.appendCRLF()
    }

    // MARK: Words

    /// Makes room for a word of `length` octets that follows white space:
    /// folds the line first when the word would pass 78 columns.
    private mutating func prepareWord(length: Int) {
        if fieldHasValue && column + 1 + length > LineLimits.preferredOctets {
            bytes.appendCRLF()
            column = 0
        }
        bytes.append(ASCII.space)
        column += 1 + length
        fieldHasValue = true
    }

    /// One word after folding white space.
    mutating func appendWord(_ word: some Collection<UInt8>) {
        prepareWord(length: word.count)
        bytes.append(contentsOf: word)
    }

    mutating func appendWord(_ word: StaticString) {
        prepareWord(length: word.utf8CodeUnitCount)
        bytes.appendASCII(word)
    }

    /// Text attached to the previous word with no white space, such as the `;`
    /// after a parameter; never a fold point.
    mutating func appendAttached(_ text: StaticString) {
        bytes.appendASCII(text)
        column += text.utf8CodeUnitCount
    }

    /// Unstructured ASCII text kept as it is (RFC 5322 §3.2.5): folds only in
    /// front of a white-space character that precedes a visible one, so that
    /// unfolding (removing the CRLFs) gives back the text exactly and no line
    /// is white space alone.
    ///
    /// With `mayFoldFirst`, the line may also fold in front of the text (the
    /// white space that precedes it), as between two words.
    mutating func appendUnstructured(_ text: some BidirectionalCollection<UInt8>, mayFoldFirst: Bool = false) {
        if mayFoldFirst, fieldHasValue {
            var firstEnd = text.startIndex
            while firstEnd != text.endIndex && (firstEnd == text.startIndex || !isFoldPoint(firstEnd, in: text)) {
                firstEnd = text.index(after: firstEnd)
            }
            if column + 1 + text.distance(from: text.startIndex, to: firstEnd) > LineLimits.preferredOctets {
                bytes.appendCRLF()
                column = 0
            }
        }
        bytes.append(ASCII.space)
        column += 1
        var start = text.startIndex
        while start != text.endIndex {
            var end = text.index(after: start)
            while end != text.endIndex && !isFoldPoint(end, in: text) { end = text.index(after: end) }
            let length = text.distance(from: start, to: end)
            if start != text.startIndex && fieldHasValue && column + length > LineLimits.preferredOctets {
                bytes.appendCRLF()
                column = 0
            }
            bytes.append(contentsOf: text[start..<end])
            column += length
            fieldHasValue = true
            start = end
        }
    }

    private func isFoldPoint<Text: BidirectionalCollection<UInt8>>(_ index: Text.Index, in text: Text) -> Bool {
        guard ASCII.isWhitespace(text[index]) else { return false }
        let next = text.index(after: index)
        return next != text.endIndex && !ASCII.isWhitespace(text[next])
    }

    /// Text as a run of RFC 2047 encoded words, each sized to the room left on
    /// its line (at most 75 octets), folding between them. White space
    /// between adjacent encoded words is dropped when decoding (RFC 2047
    /// §6.2), so the text comes back exactly.
    ///
    /// The first word stays on the field's first line even when little room
    /// is left (some readers keep the white space of a fold right after the
    /// colon). With `keepWhole`, text that fits one word goes on a fresh line
    /// rather than being split to fill this one: readers that get §6.2 wrong
    /// in phrases (Python's address parser) then still read a short display
    /// name exactly.
    mutating func appendEncodedWords(_ utf8: [UInt8], keepWhole: Bool = false) {
        var encoder = EncodedWordEncoder(utf8)
        while !encoder.isFinished {
            var room = LineLimits.preferredOctets - column - 1
            let wantsWhole = keepWhole && encoder.remainingLength <= EncodedWordEncoder.maximumLength
            if fieldHasValue && (room < EncodedWordEncoder.minimumLength || (wantsWhole && encoder.remainingLength > room)) {
                bytes.appendCRLF()
                column = 0
                room = LineLimits.preferredOctets - 1
            }
            room = max(room, EncodedWordEncoder.minimumLength)
            bytes.append(ASCII.space)
            column += 1 + encoder.writeWord(maximumLength: min(room, EncodedWordEncoder.maximumLength), into: &bytes)
            fieldHasValue = true
        }
    }

    /// Free text (a subject, a caller header value): as it is when that is
    /// safe and readable, else encoded words (`UnstructuredForm`).
    mutating func appendText(_ text: String, form: UnstructuredForm) {
        switch form {
        case .raw: appendUnstructured(text.utf8)
        case .encoded: appendEncodedWords(Array(text.utf8))
        }
    }

    // MARK: Addresses

    /// `<id@host>`.
    mutating func appendMessageID(_ messageID: MessageID) {
        prepareWord(length: messageID.id.utf8.count + messageID.host.utf8.count + 3)
        bytes.append(0x3C)
        bytes.append(contentsOf: messageID.id.utf8)
        bytes.append(ASCII.at)
        bytes.append(contentsOf: messageID.host.utf8)
        bytes.append(0x3E)
    }

    /// `a@b, Name <c@d>`: a comma after each mailbox but the last; folds
    /// between words of a name and between mailboxes.
    mutating func appendMailboxList(_ mailboxes: some Collection<Mailbox>) {
        var remaining = mailboxes.count
        for mailbox in mailboxes {
            remaining -= 1
            let hasComma = remaining > 0
            if let name = mailbox.displayName {
                appendPhrase(name)
                appendAddress(mailbox.address, angleBrackets: true, comma: hasComma)
            } else {
                appendAddress(mailbox.address, angleBrackets: false, comma: hasComma)
            }
        }
    }

    private mutating func appendAddress(_ address: EmailAddress, angleBrackets: Bool, comma: Bool) {
        let length = address.localPart.utf8.count + 1 + address.domain.utf8.count
            + (angleBrackets ? 2 : 0) + (comma ? 1 : 0)
        prepareWord(length: length)
        if angleBrackets { bytes.append(0x3C) }
        bytes.append(contentsOf: address.localPart.utf8)
        bytes.append(ASCII.at)
        bytes.append(contentsOf: address.domain.utf8)
        if angleBrackets { bytes.append(0x3E) }
        if comma { bytes.append(0x2C) }
    }

    /// A display name as atoms, a quoted string or encoded words (`PhraseForm`).
    private mutating func appendPhrase(_ name: String) {
        let utf8 = Array(name.utf8)
        switch PhraseForm(utf8) {
        case .atoms:
            var start = 0
            while let end = utf8[start...].firstIndex(of: ASCII.space) {
                appendWord(utf8[start..<end])
                start = end + 1
            }
            appendWord(utf8[start...])
        case .quoted:
            appendWord(PhraseForm.quotedString(utf8))
        case .encoded:
            appendEncodedWords(utf8, keepWhole: true)
        }
    }

    // MARK: Bodies

    mutating func append(_ byte: UInt8) {
        bytes.append(byte)
    }

    mutating func append(_ text: StaticString) {
        bytes.appendASCII(text)
    }

    mutating func append(contentsOf content: some Sequence<UInt8>) {
        bytes.append(contentsOf: content)
    }

    mutating func appendCRLF() {
        bytes.appendCRLF()
    }

    /// Direct access for the body encoders, which write long runs of bytes.
    mutating func withBytes<Result>(_ body: (inout [UInt8]) -> Result) -> Result {
        body(&bytes)
    }
}
