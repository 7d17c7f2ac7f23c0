import ClickLanguage
import ClickRuntime

/// ICMPPingSource(SRC, DST [, *keywords* INTERVAL, IDENTIFIER, LIMIT, DATA, ACTIVE, VERBOSE, STOP])
///
/// Sends an ICMP echo request from SRC to DST every INTERVAL seconds (default 1): an IP
/// packet (TTL 255, the destination annotation set) with identifier IDENTIFIER (default
/// 0), sequence numbers counting up from 1 and payload DATA (default 56 zero bytes). Stops
/// after LIMIT requests (then, with STOP true, stops the driver). Echo replies pushed
/// into its optional input are matched to the requests; with VERBOSE (default true) each
/// is reported as `SRC: icmp_seq=N ttl=T time=MS ms`, and `summary` gives ping's totals.
///
/// Ports: 0 or 1 push input (replies), 1 output, push.
///
/// Handlers: `count`, `summary` (read); `active`, `limit`, `interval`, `src`, `dst`
/// (read/write); `reset_counts` (write).
public final class ICMPPingSource: Element {
    public override var portCount: String { "0-1/1" }
    public override var processing: String { "h/h" }
    var src = IPv4Address(0)
    var dst = IPv4Address(0)
    var intervalNanoseconds: Int64 = 1_000_000_000
    var identifier: UInt16 = 0
    var limit = -1
    var data = [UInt8](repeating: 0, count: 56)
    var active = true
    var verbose = true
    var stop = false
    public private(set) var count = 0
    /// Send time of each outstanding sequence number, and the round trips measured.
    var sentAt: [UInt16: Int64] = [:]
    var roundTrips: [Double] = []
    var timer: Timer?

    public override func configure(_ args: inout Arguments) {
        src = args.mandatory("SRC", .ipv4Address) ?? src
        dst = args.mandatory("DST", .ipv4Address) ?? dst
        // Click's SecondsArg(3): milliseconds in 32 bits.
        intervalNanoseconds = args.keyword("INTERVAL", .seconds(fractionDigits: 3)) ?? 1_000_000_000
        identifier = UInt16(args.keyword("IDENTIFIER", .uint16) ?? 0)
        limit = args.keyword("LIMIT", .integer) ?? -1
        data = args.keyword("DATA", .bytes) ?? data
        active = args.keyword("ACTIVE", .bool) ?? true
        verbose = args.keyword("VERBOSE", .bool) ?? true
        stop = args.keyword("STOP", .bool) ?? false
    }

    public override func initialize() throws(ElementError) {
        let t = makeTimer()
        timer = t
        if active { t.schedule(after: 0) }
    }

    public override func cleanup() { timer?.unschedule() }


    /// Builds the next echo request.
    func makeRequest() -> Packet? {
        let length = 28 + data.count
        guard let p = pool.make(repeatElement(UInt8(0), count: length)) else { return nil }
        let ip = p.data
        let sequence = UInt16(truncatingIfNeeded: count + 1)
        ip.setByte(0, 0x45)
        ip.setBE16(2, UInt16(length))
        ip.setBE16(4, sequence)
        ip.setByte(8, 255)
        ip.setByte(9, 1)
        ip.setBE32(12, src.value)
        ip.setBE32(16, dst.value)
        setIPChecksum(ip)
        let icmp = ip + 20
        icmp.setByte(0, 8)
        icmp.setBE16(4, identifier)
        icmp.setBE16(6, sequence)
        for (i, b) in data.enumerated() { icmp.setByte(8 + i, b) }
        icmp.setBE16(2, internetChecksum(icmp, 8 + data.count))
        p.setNetworkHeader(at: 0, headerLength: 20)
        p.destinationIPAnnotation = dst.value
        let now = routerNow()
        p.timestamp = now
        sentAt[sequence] = now
        if sentAt.count > 4096, let oldest = sentAt.min(by: { $0.value < $1.value }) { sentAt[oldest.key] = nil }
        return p
    }

    public override func runTimer(_ timer: Timer) {
        guard active else { return }
        if limit >= 0 && count >= limit {
            if stop { router.requestStop() }
            return
        }
        if let p = makeRequest() {
            count &+= 1
            output(0, single: p)
        }
        timer.schedule(after: max(intervalNanoseconds, 1))
    }

    public override func push(port: Int, _ batch: inout PacketBatch) {
        let now = routerNow()
        for i in 0..<batch.count {
            let p = batch[i]
            guard let ip = p.networkHeader, p.networkLength >= 28, ip.byte(9) == 1,
                  let t = p.transportHeader, t.byte(0) == 0, t.be16(4) == identifier,
                  let sent = sentAt.removeValue(forKey: t.be16(6)) else { continue }
            let ms = Double(now - sent) / 1e6
            roundTrips.append(ms)
            if verbose {
                router.chatter("\(declaration): \(IPv4Address(ip.be32(12))): icmp_seq=\(t.be16(6)) ttl=\(ip.byte(8)) time=\(format3(ms)) ms")
            }
        }
        batch.killAll()
    }

    public override func addHandlers(_ h: inout HandlerSet) {
        h.integer("count", get: { [unowned self] in self.count })
        h.boolean("active", get: { [unowned self] in self.active }, set: { [unowned self] v in
            self.active = v
            if v, let t = self.timer, !t.isScheduled { t.schedule(after: 0) }
        })
        h.integer("limit", get: { [unowned self] in self.limit }, set: { [unowned self] v in
            self.limit = v
            if let t = self.timer, !t.isScheduled, self.active { t.schedule(after: 0) }
        })
        h.readWrite("interval", read: { [unowned self] in formatNumber(Double(self.intervalNanoseconds) / 1e9) }, write: { [unowned self] (t: String) throws(ElementError) in
            self.intervalNanoseconds = try ValueType.seconds(fractionDigits: 3).written(t)
        })
        h.readWrite("src", read: { [unowned self] in self.src.description }, write: { [unowned self] (t: String) throws(ElementError) in
            guard let a = IPv4Address.parse(t.trimmingCharacters())?.address else { throw ElementError("expected IP address") }
            self.src = a
        })
        h.readWrite("dst", read: { [unowned self] in self.dst.description }, write: { [unowned self] (t: String) throws(ElementError) in
            guard let a = IPv4Address.parse(t.trimmingCharacters())?.address else { throw ElementError("expected IP address") }
            self.dst = a
        })
        h.write("reset_counts") { [unowned self] _ in
            self.count = 0
            self.roundTrips = []
            self.sentAt = [:]
        }
        h.read("summary") { [unowned self] in self.summary }
    }

    /// ping(8)'s closing lines.
    var summary: String {
        let received = roundTrips.count
        let loss = count == 0 ? 0 : Double(count - received) * 100 / Double(count)
        var s = "--- \(dst) ping statistics ---\n\(count) packets transmitted, \(received) received, \(formatNumber((loss * 10).rounded() / 10))% packet loss\n"
        if received > 0 {
            let mean = roundTrips.reduce(0, +) / Double(received)
            let variance = roundTrips.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / Double(received)
            s += "rtt min/avg/max/mdev = \(format3(roundTrips.min() ?? 0))/\(format3(mean))/\(format3(roundTrips.max() ?? 0))/\(format3(variance.squareRoot())) ms\n"
        }
        return s
    }
}
