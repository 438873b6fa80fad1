/// An address-list field value (RFC 5322 §3.4) cut into its mailboxes, for the
/// fields the composer reads back: caller headers such as `Reply-To`, and
/// header sections being downgraded.
enum AddressList {
    /// The comma-separated items of an address list, trimmed (commas inside
    /// quotes, comments and angle brackets do not separate); nil when the list
    /// is empty or has a group (`team: a@b, c@d;`).
    static func items(of text: ArraySlice<UInt8>) -> [ArraySlice<UInt8>]? {
        var items: [ArraySlice<UInt8>] = []
        var itemStart = text.startIndex
        var inQuotes = false
        var escaped = false
        var angleDepth = 0
        var commentDepth = 0
        for index in text.indices {
            let byte = text[index]
            if escaped { escaped = false; continue }
            switch byte {
            case ASCII.backslash where inQuotes || commentDepth > 0: escaped = true
            case ASCII.quote where commentDepth == 0: inQuotes.toggle()
            case 0x28 where !inQuotes: commentDepth += 1
            case 0x29 where !inQuotes && commentDepth > 0: commentDepth -= 1
            case 0x3C where !inQuotes && commentDepth == 0: angleDepth += 1
            case 0x3E where !inQuotes && commentDepth == 0 && angleDepth > 0: angleDepth -= 1
            case ASCII.colon, 0x3B:
                if !inQuotes && commentDepth == 0 && angleDepth == 0 { return nil }
            case 0x2C where !inQuotes && commentDepth == 0 && angleDepth == 0:
                items.append(text[itemStart..<index].trimmingWhitespace())
                itemStart = index + 1
            default: break
            }
        }
        items.append(text[itemStart...].trimmingWhitespace())
        let mailboxes = items.filter { !$0.isEmpty }
        return mailboxes.isEmpty ? nil : mailboxes
    }
}
