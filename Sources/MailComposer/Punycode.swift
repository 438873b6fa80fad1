/// Punycode (RFC 3492), the Bootstring encoding that turns an internationalized
/// domain label into the ASCII A-label carried in DNS and SMTP (after "xn--").
public enum Punycode {
    // RFC 3492 §5: the parameter values for Punycode.
    private static let base = 36
    private static let tMin = 1
    private static let tMax = 26
    private static let skew = 38
    private static let damp = 700
    private static let initialBias = 72
    private static let initialN = 128
    /// The RFC's overflow bound (§6.4): arithmetic on a 32-bit unsigned integer.
    private static let limit = Int(UInt32.max)

    /// Encodes `scalars`; nil only when the input would overflow (§6.4), which
    /// a label of sensible length never does. Basic code points keep their case.
    public static func encode(_ scalars: [Unicode.Scalar]) -> String? {
        let input = scalars.map { Int($0.value) }
        var output: [UInt8] = input.filter { $0 < 0x80 }.map { UInt8($0) }
        let basicCount = output.count
        var handled = basicCount
        if basicCount > 0 { output.append(0x2D) }
        var n = initialN
        var delta = 0
        var bias = initialBias
        while handled < input.count {
            guard let next = input.filter({ $0 >= n }).min() else { return nil }
            guard next - n <= (limit - delta) / (handled + 1) else { return nil }
            delta += (next - n) * (handled + 1)
            n = next
            for codePoint in input {
                if codePoint < n {
                    delta += 1
                    if delta > limit { return nil }
                }
                if codePoint == n {
                    appendVariableLengthInteger(delta, bias: bias, to: &output)
                    bias = adapt(delta: delta, pointCount: handled + 1, isFirst: handled == basicCount)
                    delta = 0
                    handled += 1
                }
            }
            delta += 1
            n += 1
        }
        return String(decoding: output, as: UTF8.self)
    }

    /// Decodes the part of an A-label after "xn--"; nil when it is not valid
    /// Punycode. Digits are read case-insensitively (§5).
    public static func decode(_ text: String) -> [Unicode.Scalar]? {
        let bytes = Array(text.utf8)
        guard bytes.allSatisfy({ $0 < 0x80 }) else { return nil }
        let delimiter = bytes.lastIndex(of: 0x2D)
        var output: [Int] = delimiter.map { bytes[..<$0].map(Int.init) } ?? []
        var position = delimiter.map { $0 + 1 } ?? 0
        var n = initialN
        var i = 0
        var bias = initialBias
        while position < bytes.count {
            let oldI = i
            var weight = 1
            var k = base
            while true {
                guard position < bytes.count, let digit = digitValue(bytes[position]) else { return nil }
                position += 1
                guard digit <= (limit - i) / weight else { return nil }
                i += digit * weight
                let threshold = self.threshold(k, bias: bias)
                if digit < threshold { break }
                guard weight <= limit / (base - threshold) else { return nil }
                weight *= base - threshold
                k += base
            }
            bias = adapt(delta: i - oldI, pointCount: output.count + 1, isFirst: oldI == 0)
            guard i / (output.count + 1) <= limit - n else { return nil }
            n += i / (output.count + 1)
            i %= output.count + 1
            guard n >= 0x80 else { return nil }
            output.insert(n, at: i)
            i += 1
        }
        var scalars: [Unicode.Scalar] = []
        scalars.reserveCapacity(output.count)
        for codePoint in output {
            guard let scalar = Unicode.Scalar(UInt32(codePoint)) else { return nil }
            scalars.append(scalar)
        }
        return scalars
    }

    /// §6.3: writes `q` as a generalized variable-length integer.
    private static func appendVariableLengthInteger(_ value: Int, bias: Int, to output: inout [UInt8]) {
        var q = value
        var k = base
        while true {
            let t = threshold(k, bias: bias)
            if q < t { break }
            output.append(digitByte(t + (q - t) % (base - t)))
            q = (q - t) / (base - t)
            k += base
        }
        output.append(digitByte(q))
    }

    private static func threshold(_ k: Int, bias: Int) -> Int {
        if k <= bias { return tMin }
        if k >= bias + tMax { return tMax }
        return k - bias
    }

    /// §6.1, the bias adaptation function.
    private static func adapt(delta: Int, pointCount: Int, isFirst: Bool) -> Int {
        var delta = isFirst ? delta / damp : delta / 2
        delta += delta / pointCount
        var k = 0
        while delta > ((base - tMin) * tMax) / 2 {
            delta /= base - tMin
            k += base
        }
        return k + (base - tMin + 1) * delta / (delta + skew)
    }

    private static func digitByte(_ digit: Int) -> UInt8 {
        digit < 26 ? UInt8(0x61 + digit) : UInt8(0x30 + digit - 26)
    }

    private static func digitValue(_ byte: UInt8) -> Int? {
        switch byte {
        case 0x30...0x39: Int(byte) - 0x30 + 26
        case 0x41...0x5A: Int(byte) - 0x41
        case 0x61...0x7A: Int(byte) - 0x61
        default: nil
        }
    }
}
