import Foundation

/// The domain of an address, checked and brought to the ASCII form that SMTP
/// and DNS carry: lower-case LDH labels (RFC 5321 §4.1.2, RFC 1123 §2.1), IDN
/// labels as A-labels (RFC 5891 §4.2), or an address literal.
enum DomainName {
    /// RFC 5321 §4.5.3.1.2.
    static let maximumOctets = 255
    /// RFC 1035 §2.3.4.
    static let maximumLabelOctets = 63

    /// Returns the ASCII form of `bytes` (the part after the `@`).
    static func asciiForm(of bytes: ArraySlice<UInt8>) throws(AddressError) -> String {
        guard let first = bytes.first else { throw .emptyDomain }
        if first == 0x5B { return try AddressLiteral.validated(Substring(String(decoding: bytes, as: UTF8.self))) }
        let ascii: String
        if bytes.allSatisfy({ $0 < 0x80 }) {
            ascii = try checkedASCIILabels(bytes)
        } else {
            ascii = try internationalLabels(String(decoding: bytes, as: UTF8.self))
        }
        guard ascii.utf8.count <= maximumOctets else { throw .domainTooLong(octets: ascii.utf8.count) }
        return ascii
    }

    /// Lower-cases and checks a domain that is ASCII already.
    private static func checkedASCIILabels(_ bytes: ArraySlice<UInt8>) throws(AddressError) -> String {
        let lowered = bytes.map(ASCII.lowercased)
        var labelStart = 0
        for index in 0...lowered.count where index == lowered.count || lowered[index] == ASCII.dot {
            try checkLDHLabel(lowered[labelStart..<index])
            if index == lowered.count && lowered[labelStart..<index].allSatisfy(ASCII.isDigit) {
                throw .numericTopLevelDomain
            }
            labelStart = index + 1
        }
        return String(decoding: lowered, as: UTF8.self)
    }

    /// An LDH label: letters, digits, hyphens, not starting or ending with a
    /// hyphen; an `xn--` label must also decode as Punycode.
    private static func checkLDHLabel(_ label: ArraySlice<UInt8>) throws(AddressError) {
        guard !label.isEmpty else { throw .emptyDomainLabel }
        guard label.count <= maximumLabelOctets else { throw .domainLabelTooLong(octets: label.count) }
        for byte in label where !(ASCII.isLetter(byte) || ASCII.isDigit(byte) || byte == 0x2D) {
            throw .invalidDomainCharacter(Character(Unicode.Scalar(byte)))
        }
        guard label.first != 0x2D, label.last != 0x2D else { throw .domainLabelHyphen }
        if label.count > 4, label.starts(with: "xn--".utf8) {
            let encoded = String(decoding: label.dropFirst(4), as: UTF8.self)
            guard let decoded = Punycode.decode(encoded), decoded.contains(where: { !$0.isASCII }) else {
                throw .invalidPunycodeLabel(String(decoding: label, as: UTF8.self))
            }
        }
    }

    /// IDNA (UTS #46 mapping): NFKC, so that full-width and other compatibility
    /// forms become the characters they stand for (`ＦＵＬＬ` → `full`), lower
    /// case, the IDNA2003 label separators, then each non-ASCII label to
    /// "xn--" + Punycode.
    private static func internationalLabels(_ text: String) throws(AddressError) -> String {
        let mapped = text.precomposedStringWithCompatibilityMapping.lowercased()
        let separators: Set<Character> = [".", "\u{3002}", "\u{FF0E}", "\u{FF61}"]
        let labels = mapped.split(omittingEmptySubsequences: false, whereSeparator: separators.contains)
        var asciiLabels: [String] = []
        asciiLabels.reserveCapacity(labels.count)
        for label in labels {
            if label.utf8.allSatisfy({ $0 < 0x80 }) {
                try checkLDHLabel(ArraySlice(label.utf8))
                asciiLabels.append(String(label))
            } else {
                asciiLabels.append(try aLabel(for: label))
            }
        }
        if let last = asciiLabels.last, last.utf8.allSatisfy(ASCII.isDigit) { throw .numericTopLevelDomain }
        return asciiLabels.joined(separator: ".")
    }

    /// A U-label to its A-label. Letters, marks, digits and hyphens only: a
    /// close approximation of IDNA2008's PVALID (RFC 5892) that keeps out
    /// spaces, punctuation, symbols and invisible format characters.
    private static func aLabel(for label: Substring) throws(AddressError) -> String {
        let scalars = Array(label.unicodeScalars)
        for scalar in scalars where !isAllowedInLabel(scalar) {
            throw .invalidDomainCharacter(Character(scalar))
        }
        guard scalars.first != "-", scalars.last != "-" else { throw .domainLabelHyphen }
        guard let encoded = Punycode.encode(scalars) else { throw .invalidPunycodeLabel(String(label)) }
        let aLabel = "xn--" + encoded
        guard aLabel.utf8.count <= maximumLabelOctets else { throw .domainLabelTooLong(octets: aLabel.utf8.count) }
        return aLabel
    }

    private static func isAllowedInLabel(_ scalar: Unicode.Scalar) -> Bool {
        if scalar.isASCII {
            let byte = UInt8(scalar.value)
            return ASCII.isLetter(byte) || ASCII.isDigit(byte) || byte == 0x2D
        }
        switch scalar.properties.generalCategory {
        case .lowercaseLetter, .uppercaseLetter, .titlecaseLetter, .modifierLetter, .otherLetter,
             .nonspacingMark, .spacingMark, .enclosingMark, .decimalNumber:
            return true
        default:
            return false
        }
    }
}

/// An address literal in brackets (RFC 5321 §4.1.3): `[192.0.2.1]` or
/// `[IPv6:2001:db8::1]`. General (tagged) literals are refused.
enum AddressLiteral {
    static func validated(_ text: Substring) throws(AddressError) -> String {
        guard text.count >= 3, text.last == "]" else { throw .invalidAddressLiteral }
        let inner = text.dropFirst().dropLast()
        let prefix = "ipv6:"
        if inner.lowercased().hasPrefix(prefix) {
            guard isIPv6(inner.dropFirst(prefix.count)) else { throw .invalidAddressLiteral }
            return "[IPv6:" + inner.dropFirst(prefix.count).lowercased() + "]"
        }
        guard isIPv4(inner) else { throw .invalidAddressLiteral }
        return String(text)
    }

    /// Four decimal octets 0–255 without leading zeros.
    static func isIPv4(_ text: Substring) -> Bool {
        let parts = text.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 4 else { return false }
        return parts.allSatisfy { part in
            guard (1...3).contains(part.count), part.utf8.allSatisfy(ASCII.isDigit) else { return false }
            guard part.count == 1 || part.first != "0" else { return false }
            return Int(part).map { $0 <= 255 } ?? false
        }
    }

    /// RFC 4291 §2.2 text forms: eight groups, or fewer around one `::`,
    /// optionally ending in a dotted IPv4 address that counts as two groups.
    static func isIPv6(_ text: Substring) -> Bool {
        var groupsText = text
        var groupBudget = 8
        if let lastColon = text.lastIndex(of: ":"), text[text.index(after: lastColon)...].contains(".") {
            guard isIPv4(text[text.index(after: lastColon)...]) else { return false }
            groupsText = text[...lastColon]
            if groupsText.hasSuffix("::") == false { groupsText = groupsText.dropLast() }
            groupBudget = 6
        }
        let halves = groupsText.components(separatedBy: "::")
        guard halves.count <= 2 else { return false }
        var groupCount = 0
        for half in halves where !half.isEmpty {
            for group in half.split(separator: ":", omittingEmptySubsequences: false) {
                guard (1...4).contains(group.count), group.allSatisfy(\.isHexDigit) else { return false }
                groupCount += 1
            }
        }
        return halves.count == 2 ? groupCount < groupBudget : groupCount == groupBudget
    }
}
