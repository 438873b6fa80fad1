/// Walks the header section of a message or MIME entity that has CRLF line
/// ends (composed, or `raw` after normalisation): where it ends, where each
/// field ends, what a field is called and what it says. Indices are those of
/// the slice given, so entities nested in a message are read in place.
enum HeaderSection {
    /// One field: its bytes (name, colon, value, every line's CRLF) and its name in lower case.
    struct Field {
        var range: Range<Int>
        var name: String
    }

    /// The index just past the CRLF of the last field, where the empty line
    /// starts; the entity's start when it has no fields, its end when it has
    /// no body.
    static func end(of entity: ArraySlice<UInt8>) -> Int {
        var index = entity.startIndex
        if entity.count >= 2, entity[index] == ASCII.cr, entity[index + 1] == ASCII.lf { return index }
        while index + 3 < entity.endIndex {
            if entity[index] == ASCII.cr, entity[index + 1] == ASCII.lf, entity[index + 2] == ASCII.cr,
               entity[index + 3] == ASCII.lf {
                return index + 2
            }
            index += 1
        }
        return entity.endIndex
    }

    /// The fields of `entity`'s header section, in order.
    static func fields(of entity: ArraySlice<UInt8>) -> [Field] {
        let headerEnd = end(of: entity)
        var fields: [Field] = []
        var start = entity.startIndex
        while start < headerEnd {
            let fieldEnd = self.fieldEnd(in: entity, from: start, limit: headerEnd)
            fields.append(Field(range: start..<fieldEnd, name: name(of: entity[start..<fieldEnd])))
            start = fieldEnd
        }
        return fields
    }

    /// The end of the field starting at `start`: past the CRLF of its last
    /// line (continuation lines begin with white space).
    static func fieldEnd(in bytes: ArraySlice<UInt8>, from start: Int, limit: Int) -> Int {
        var index = start
        while index < limit {
            if bytes[index] == ASCII.lf, index + 1 >= limit || !ASCII.isWhitespace(bytes[index + 1]) {
                return index + 1
            }
            index += 1
        }
        return limit
    }

    /// A field's name in lower case (empty for a line without a colon).
    static func name(of field: ArraySlice<UInt8>) -> String {
        guard let colon = field.firstIndex(of: ASCII.colon) else { return "" }
        return String(decoding: field[..<colon].trimmingWhitespace().map(ASCII.lowercased), as: UTF8.self)
    }

    /// A field's value, unfolded (RFC 5322 §2.2.3) and trimmed.
    static func value(of field: ArraySlice<UInt8>) -> ArraySlice<UInt8> {
        guard let colon = field.firstIndex(of: ASCII.colon) else { return [] }
        return field[(colon + 1)...].filter { $0 != ASCII.cr && $0 != ASCII.lf }[...].trimmingWhitespace()
    }
}
