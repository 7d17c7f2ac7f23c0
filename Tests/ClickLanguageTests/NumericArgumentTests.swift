import ClickLanguage
import Testing

/// Click's numeric argument types: the same ranges and the same words as `lib/args.cc`
/// (checked against Click 2.1's userlevel driver).
@Suite struct NumericArgumentTests {
    func read<T>(_ text: String, _ type: ValueType<T>) -> ArgumentReading<T> {
        type.read(text, ValueContext())
    }

    func message<T>(_ text: String, _ type: ValueType<T>) -> String? {
        if case .error(let m) = read(text, type) { return m }
        return nil
    }

    func value<T>(_ text: String, _ type: ValueType<T>) -> T? { type.parse(text, ValueContext()) }

    @Test func integersHaveTheirFieldsRanges() {
        #expect(value("2147483647", .integer) == 2_147_483_647)
        #expect(value("-2147483648", .integer) == -2_147_483_648)
        #expect(message("2147483648", .integer) == "out of range, bound 2147483647")
        #expect(message("-2147483649", .integer) == "out of range, bound -2147483648")
        #expect(message("99999999999999999999999", .integer) == "out of range, bound 2147483647")
        #expect(value("4294967295", .unsignedInteger) == 4_294_967_295)
        #expect(message("99999999999", .unsignedInteger) == "out of range, bound 4294967295")
        #expect(message("-1", .unsignedInteger) == "invalid number")
        #expect(message("1.5", .unsignedInteger) == "invalid number")
        #expect(message("1e300", .unsignedInteger) == "invalid number")
        #expect(message("abc", .integer) == "invalid number")
        #expect(message("256", .uint8) == "out of range, bound 255")
        #expect(message("0x10000", .uint16) == "out of range, bound 65535")
        #expect(value("0x_ff", .uint16) == nil)
        #expect(value("0xff", .uint16) == 255)
        #expect(value("0b101", .uint8) == 5)
        #expect(value("010", .uint8) == 8)
        #expect(value("-9223372036854775808", .int64) == Int.min)
        #expect(message("9223372036854775808", .int64) == "out of range, bound 9223372036854775807")
        #expect(message("4096", .bounded(0, 4095)) == "out of range, bound 4095")
        #expect(message("-2", .bounded(-1, 4095)) == "out of range, bound -1")
    }

    @Test func timestampsSaturateAsClicksDo() {
        #expect(value("1.5", .timestamp) == 1_500_000_000)
        #expect(value("250ms", .timestamp) == 250_000_000)
        #expect(value("2min", .timestamp) == 120_000_000_000)
        // Click's Timestamp has 32-bit seconds: beyond them it keeps its largest value.
        let largest = ClickRanges.maximumTimestampNanoseconds
        #expect(value("99999999999", .timestamp) == largest)
        #expect(value("1e300", .timestamp) == largest)
        #expect(value("1e30h", .timestamp) == largest)
        #expect(message("-1", .timestamp) == "parse error")
        #expect(message("abc", .timestamp) == "parse error")
        // Click's cp_time negates the whole seconds and adds the fraction back: -1.5 is
        // -1 s + 0.5 s, and the most negative time is -4294967295 s + 0.999999999 s.
        #expect(value("-1.5", .signedTimestamp) == -500_000_000)
        #expect(value("-2", .signedTimestamp) == -2_000_000_000)
        #expect(value("-1e300", .signedTimestamp) == -4_294_967_295_000_000_000 + 999_999_999)
    }

    @Test func secondsAreThirtyTwoBitCounts() {
        let largest: Int64? = value("4294967295", .wholeSeconds)
        #expect(largest == Int64(4_294_967_295) * 1_000_000_000)
        #expect(message("4294967296", .wholeSeconds) == "out of range")
        #expect(message("99999999999", .wholeSeconds) == "out of range")
        #expect(message("1e300", .wholeSeconds) == "out of range")
        #expect(value("60s", .wholeSeconds) == 60_000_000_000)
        #expect(value("2h", .wholeSeconds) == 7_200_000_000_000)
        #expect(message("-1", .wholeSeconds) == "parse error")
        // Milliseconds: 2^32 ms is 49.7 days.
        #expect(value("1.5", .seconds(fractionDigits: 3)) == 1_500_000_000)
        #expect(value("4294967.295", .seconds(fractionDigits: 3)) == 4_294_967_295_000_000)
        #expect(message("4294968", .seconds(fractionDigits: 3)) == "out of range")
    }

    @Test func bandwidthsAndRealsAreBounded() {
        #expect(value("1Mbps", .bandwidth) == 125_000)
        #expect(value("4294967295Bps", .bandwidth) == 4_294_967_295)
        #expect(message("1e300bps", .bandwidth) == "out of range")
        #expect(message("40Gbps", .bandwidth) == "out of range")
        #expect(message("abc", .bandwidth) == "parse error")
        #expect(value("0.25", .real) == 0.25)
        #expect(message("1e400", .real) == "out of range, bound inf")
        #expect(message("-1e400", .real) == "out of range, bound -inf")
        #expect(message("1e-400", .real) == "underflow, rounded to 0")
        #expect(value("0e-400", .real) == 0)
        #expect(message("1e400", .fixedPoint(fractionBits: 16)) == "out of range, bound 65535.99998")
        #expect(value("0.5", .fixedPoint(fractionBits: 16)) == 0.5)
    }

    @Test func saturatingArithmetic() {
        #expect(Int64.max.saturatingAdd(1) == .max)
        #expect(Int64.min.saturatingAdd(-1) == .min)
        #expect(Int64(5).saturatingAdd(-7) == -2)
        #expect(Int64.min.saturatingSubtract(1) == .min)
        #expect(Int64(1).saturatingSubtract(.min) == .max)
        #expect(Int64.max.saturatingMultiply(2) == .max)
        #expect(Int64.min.saturatingMultiply(2) == .min)
        #expect(ClickRanges.nanoseconds(seconds: .infinity) == .max)
        #expect(ClickRanges.nanoseconds(seconds: -.infinity) == .min)
        #expect(ClickRanges.nanoseconds(seconds: .nan) == 0)
        #expect(ClickRanges.nanoseconds(seconds: 1.5) == 1_500_000_000)
    }

    @Test func argumentsReportClicksWords() {
        var args = Arguments(["CAPACITY 99999999999", "TTL 256", "INTERVAL -1"])
        _ = args.keyword("CAPACITY", .unsignedInteger)
        _ = args.keyword("TTL", .uint8)
        _ = args.keyword("INTERVAL", .timestamp)
        #expect(args.finish() == ["CAPACITY: out of range, bound 4294967295", "TTL: out of range, bound 255", "INTERVAL: parse error"])
    }
}
