/// Parsers for the value syntaxes SPEC §1 fixes: durations (`250ms`, `30s`, `5m`,
/// `2h`, `3d`), sizes (bytes, `100KB`, `10MB` in powers of 1000, `64KiB`, `25MiB`
/// in powers of 1024), booleans and comma-separated lists. Each returns nil or
/// throws a short reason; the loader adds the variable's name.
public enum ConfigurationValues {
    /// Parses one duration. The unit is required: a bare `30` is ambiguous.
    public static func duration(_ text: String) throws(ConfigurationProblem) -> Duration {
        let units: [(suffix: String, milliseconds: Int64)] = [
            ("ms", 1), ("s", 1000), ("m", 60_000), ("h", 3_600_000), ("d", 86_400_000),
        ]
        for unit in units where text.hasSuffix(unit.suffix) {
            let digits = text.dropLast(unit.suffix.count)
            // "5ms" also ends in "s": only accept when what remains is all digits.
            guard !digits.isEmpty, digits.utf8.allSatisfy(isDigit), digits.count <= 12, let count = Int64(digits) else { continue }
            return .milliseconds(count * unit.milliseconds)
        }
        throw ConfigurationProblem("\"\(text)\" is not a duration (write it like 250ms, 30s, 5m, 2h or 3d)")
    }

    /// Parses a comma-separated list of positive durations (a retry schedule).
    public static func schedule(_ text: String) throws(ConfigurationProblem) -> [Duration] {
        let items = list(text)
        guard !items.isEmpty else { throw ConfigurationProblem("the schedule is empty (write it like 1m,5m,15m)") }
        let written = text.split(separator: ",", omittingEmptySubsequences: false)
        guard written.count == items.count else {
            throw ConfigurationProblem("\"\(text)\" has an empty entry (write it like 1m,5m,15m)")
        }
        var result: [Duration] = []
        for item in items {
            let value = try duration(item)
            guard value > .zero else { throw ConfigurationProblem("\"\(item)\" must be longer than zero") }
            result.append(value)
        }
        return result
    }

    /// Parses a size in bytes.
    public static func size(_ text: String) throws(ConfigurationProblem) -> Int {
        let units: [(suffix: String, multiplier: Int)] = [
            ("KiB", 1 << 10), ("MiB", 1 << 20), ("GiB", 1 << 30),
            ("KB", 1000), ("MB", 1_000_000), ("GB", 1_000_000_000), ("B", 1), ("", 1),
        ]
        for unit in units where text.hasSuffix(unit.suffix) {
            let digits = text.dropLast(unit.suffix.count)
            guard !digits.isEmpty, digits.utf8.allSatisfy(isDigit), digits.count <= 12, let count = Int(digits) else { continue }
            return count * unit.multiplier
        }
        throw ConfigurationProblem("\"\(text)\" is not a size (write bytes, or like 100KB, 10MB, 64KiB, 25MiB)")
    }

    /// Parses a whole number within a range.
    public static func integer(_ text: String, in range: ClosedRange<Int>) throws(ConfigurationProblem) -> Int {
        guard !text.isEmpty, text.utf8.allSatisfy(isDigit), text.count <= 18, let value = Int(text) else {
            throw ConfigurationProblem("\"\(text)\" is not a whole number")
        }
        guard range.contains(value) else {
            throw ConfigurationProblem("\(value) is out of range (\(range.lowerBound)…\(range.upperBound))")
        }
        return value
    }

    /// Parses `true` or `false` (also `1`/`0`, `yes`/`no`, `on`/`off`, any case).
    public static func boolean(_ text: String) throws(ConfigurationProblem) -> Bool {
        switch text.lowercased() {
        case "true", "1", "yes", "on": return true
        case "false", "0", "no", "off": return false
        default: throw ConfigurationProblem("\"\(text)\" is not true or false")
        }
    }

    /// Splits on commas, trimming blanks and dropping empty items.
    public static func list(_ text: String) -> [String] {
        text.split(separator: ",").map { $0.trimmingBlanks() }.filter { !$0.isEmpty }
    }

    /// Renders a duration the way it is written in configuration.
    public static func format(_ duration: Duration) -> String {
        let milliseconds = duration.components.seconds * 1000 + duration.components.attoseconds / 1_000_000_000_000_000
        let units: [(suffix: String, milliseconds: Int64)] = [("d", 86_400_000), ("h", 3_600_000), ("m", 60_000), ("s", 1000)]
        for unit in units where milliseconds % unit.milliseconds == 0 && milliseconds > 0 {
            return "\(milliseconds / unit.milliseconds)\(unit.suffix)"
        }
        return "\(milliseconds)ms"
    }

    private static func isDigit(_ byte: UInt8) -> Bool { byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9") }
}

/// Why one configuration value is wrong, without the variable's name.
public struct ConfigurationProblem: Error, Sendable, Equatable {
    public let reason: String
    public init(_ reason: String) { self.reason = reason }
}

extension Substring {
    func trimmingBlanks() -> String {
        var slice = self[...]
        while let first = slice.first, first == " " || first == "\t" { slice = slice.dropFirst() }
        while let last = slice.last, last == " " || last == "\t" { slice = slice.dropLast() }
        return String(slice)
    }
}

extension String {
    func trimmingBlanks() -> String { self[...].trimmingBlanks() }
}
