import Foundation

/// The RFC 5322 §3.3 date-time of the Date field, always in UTC (`+0000`),
/// formatted by hand: a formatter per message would cost more than the rest
/// of composition.
enum MessageDate {
    private static let dayNames: [StaticString] = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"]
    private static let monthNames: [StaticString] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ]

    /// Appends `Thu, 01 Jan 1970 00:00:00 +0000`.
    static func append(_ date: Date, to output: inout [UInt8]) {
        let seconds = Int(date.timeIntervalSince1970.rounded(.down))
        let (days, secondOfDay) = seconds.quotientAndRemainderFlooring(dividingBy: 86_400)
        let (year, month, day) = civilDate(daysSince1970: days)
        // 1970-01-01 was a Thursday (index 4 from Sunday).
        let (_, weekday) = (days + 4).quotientAndRemainderFlooring(dividingBy: 7)
        output.appendASCII(dayNames[weekday])
        output.appendASCII(", ")
        output.appendDecimal(day, width: 2)
        output.append(ASCII.space)
        output.appendASCII(monthNames[month - 1])
        output.append(ASCII.space)
        output.appendDecimal(year, width: 4)
        output.append(ASCII.space)
        output.appendDecimal(secondOfDay / 3600, width: 2)
        output.append(ASCII.colon)
        output.appendDecimal(secondOfDay / 60 % 60, width: 2)
        output.append(ASCII.colon)
        output.appendDecimal(secondOfDay % 60, width: 2)
        output.appendASCII(" +0000")
    }

    /// Days since 1970-01-01 to a proleptic Gregorian date, by eras of 400
    /// years (Howard Hinnant's `civil_from_days`).
    static func civilDate(daysSince1970: Int) -> (year: Int, month: Int, day: Int) {
        let shifted = daysSince1970 + 719_468
        let (era, dayOfEra) = shifted.quotientAndRemainderFlooring(dividingBy: 146_097)
        let yearOfEra = (dayOfEra - dayOfEra / 1460 + dayOfEra / 36524 - dayOfEra / 146_096) / 365
        let dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100)
        let monthIndex = (5 * dayOfYear + 2) / 153
        let day = dayOfYear - (153 * monthIndex + 2) / 5 + 1
        let month = monthIndex < 10 ? monthIndex + 3 : monthIndex - 9
        let year = yearOfEra + era * 400 + (month <= 2 ? 1 : 0)
        return (max(year, 0), month, day)
    }
}

extension Int {
    /// Division rounding toward negative infinity, so dates before 1970 work.
    func quotientAndRemainderFlooring(dividingBy divisor: Int) -> (Int, Int) {
        var (quotient, remainder) = quotientAndRemainder(dividingBy: divisor)
        if remainder < 0 {
            quotient -= 1
            remainder += divisor
        }
        return (quotient, remainder)
    }
}
