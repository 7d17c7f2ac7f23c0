import ClickLanguage
import ClickRuntime

/// StrideSched(TICKETS0, ..., TICKETS*N-1*)
///
/// Packet-based stride scheduling over N pull inputs: input *i* gets a share of the
/// output proportional to TICKETS*i*. On each pull the inputs are tried in stride order
/// (lowest pass first, ties by input number) until one gives a packet; an input that
/// gives nothing is not tried again for that pull. Each input tried advances its pass by
/// its stride (65536 / tickets). An input with 0 tickets is never pulled; tickets above
/// 32768 count as 32768.
///
/// Ports: N pull inputs (one per TICKETS argument), 1 pull output.
///
/// Handlers: with N inputs, `tickets0` ... `tickets*N-1*` (read/write).
public final class StrideSched: Element {
    public override var portCount: String { "1-/1" }
    public override var processing: String { "l/l" }
    static let stride1 = 1 << 16
    static let maxTickets = 1 << 15

    var tickets: [Int] = []
    var stride: [Int] = []
    var pass: [Int] = []
    /// Inputs in pull order: ascending pass, ties by input number.
    var order: [Int] = []

    public override func configure(_ args: inout Arguments) {
        tickets = []
        var i = 0
        while let t = args.positional("TICKETS\(i)", .integer) {
            if t < 0 {
                args.error("tickets must be >= 0", keyword: "TICKETS\(i)")
            } else {
                if t > Self.maxTickets { configurationWarning("input \(i)'s tickets reduced to \(Self.maxTickets)") }
                tickets.append(Swift.min(t, Self.maxTickets))
            }
            i += 1
        }
        if tickets.isEmpty { args.error("expected at least one TICKETS argument") }
    }

    public override func initialize() throws(ElementError) {
        guard tickets.count == ninputs else {
            throw ElementError("need \(ninputs) arguments, one per input port")
        }
        stride = tickets.map { $0 > 0 ? Self.stride1 / $0 : 0 }
        pass = stride
        order = (0..<ninputs).filter { tickets[$0] > 0 }
        sortOrder()
    }

    func sortOrder() {
        order.sort { pass[$0] != pass[$1] ? pass[$0] < pass[$1] : $0 < $1 }
    }

    /// Puts input `i`, whose pass grew, back in its place in `order`.
    func reposition(_ slot: Int) {
        var k = slot
        let i = order[k]
        while k + 1 < order.count, pass[order[k + 1]] < pass[i] || (pass[order[k + 1]] == pass[i] && order[k + 1] < i) {
            order[k] = order[k + 1]
            k += 1
        }
        order[k] = i
    }

    public override func pull(port: Int, into batch: inout PacketBatch, max: Int) {
        var got = 0
        while got < max && !batch.isFull {
            var produced = false
            // Each input is tried at most once per packet; the ones tried move back.
            var tried = 0
            while tried < order.count {
                let i = order[0]
                let before = batch.count
                input(i, into: &batch, max: 1)
                pass[i] &+= stride[i]
                reposition(0)
                tried += 1
                if batch.count > before {
                    produced = true
                    break
                }
            }
            if !produced { return }
            got += 1
        }
    }

    public override var normalizedConfiguration: String? { tickets.map(String.init).joined(separator: ", ") }

    public override func addHandlers(_ h: inout HandlerSet) {
        for i in 0..<tickets.count {
            h.integer("tickets\(i)", get: { [unowned self] in self.tickets[i] }, set: { [unowned self] (v: Int) throws(ElementError) in
                guard v >= 0 else { throw ElementError("tickets must be >= 0") }
                let t = Swift.min(v, Self.maxTickets)
                self.tickets[i] = t
                self.stride[i] = t > 0 ? Self.stride1 / t : 0
                // Restart the input's pass from the current front so it neither starves
                // nor floods the others.
                let base = self.order.first.map { self.pass[$0] } ?? 0
                self.pass[i] = base &+ self.stride[i]
                self.order = (0..<self.tickets.count).filter { self.tickets[$0] > 0 }
                self.sortOrder()
            })
        }
    }
}
