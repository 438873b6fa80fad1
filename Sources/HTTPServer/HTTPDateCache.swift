#if canImport(Glibc)
import Glibc
#endif

/// The `Date: …\r\n` header line (IMF-fixdate, RFC 9110 §5.6.7), formatted once
/// per second per loop instead of once per response.
struct HTTPDateCache {
    private(set) var headerLine: [UInt8] = []
    private var second = -1

    private static let weekdays = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"]
    private static let months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]

    /// Reformats the line if the wall-clock second changed.
    mutating func update() {
        var now = timespec()
        clock_gettime(CLOCK_REALTIME_COARSE, &now)
        guard now.tv_sec != second else { return }
        second = now.tv_sec
        headerLine = Self.headerLine(forUnixTime: now.tv_sec)
    }

    static func headerLine(forUnixTime seconds: Int) -> [UInt8] {
        var time = time_t(seconds)
        var parts = tm()
        gmtime_r(&time, &parts)
        func twoDigits(_ value: Int32) -> String { value < 10 ? "0\(value)" : "\(value)" }
        let text = "Date: \(weekdays[Int(parts.tm_wday)]), \(twoDigits(parts.tm_mday)) \(months[Int(parts.tm_mon)]) "
            + "\(parts.tm_year + 1900) \(twoDigits(parts.tm_hour)):\(twoDigits(parts.tm_min)):\(twoDigits(parts.tm_sec)) GMT\r\n"
        return Array(text.utf8)
    }
}
