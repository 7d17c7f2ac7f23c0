import ClickLanguage
import ClickRuntime

/// InfiniteSource([DATA, LIMIT, BURST, ACTIVE, *keywords* LENGTH, STOP, END_CALL, TIMESTAMP])
///
/// Generates packets with contents DATA (default: Click's 70-byte phrase), LENGTH bytes
/// long if given (DATA repeated to fill). In push context a task pushes BURST packets per
/// run (default 1) until LIMIT packets (default -1, no limit) have gone; then it calls
/// END_CALL (`element.handler value`) or, with STOP true, stops the driver. It pauses while
/// a downstream queue is full. In pull context it answers every pull.
///
/// Ports: no inputs, 1 output, agnostic.
///
/// Handlers: `count` (read), `reset` (write), `data`, `length`, `limit`, `burst`,
/// `active` (read/write).
public final class InfiniteSource: Element, EmptyNotifier {
    /// Pulled, it says when it has nothing more to give (inactive, or at LIMIT), as Click's
    /// ActiveNotifier, so its puller sleeps; a handler that makes it able to give again
    /// wakes it.
    public let emptySignal = NotifierSignal(active: true)

    /// Wakes a sleeping puller once the source can give packets again.
    func wakeIfAble() {
        if active && (limit < 0 || count < limit) {
            emptySignal.set(true)
            task?.schedule()
        }
    }

    public override var portCount: String { "0/1" }
    public override var processing: String { "a/a" }

    static let defaultData = Array("Random bullshit in a packet, at least 64 bytes long. Well, now it is.".utf8)

    var data: [UInt8] = InfiniteSource.defaultData
    var template: UnsafeMutableRawPointer? = nil
    var limit = -1
    var burst = 1
    var active = true
    var stop = false
    var endCall: HandlerCall? = nil
    var stamp = true
    public private(set) var count = 0
    var task: Task?
    var fullSignal: NotifierSignal?
    let storage = BatchStorage()

    deinit { template?.deallocate() }

    /// DATA repeated or cut to LENGTH bytes (zeros if DATA is empty), for the sources'
    /// LENGTH keyword; a length no packet buffer holds is refused.
    static func resized(_ data: [UInt8], to length: Int, _ args: inout Arguments) -> [UInt8] {
        guard length >= 0, length <= PacketPool.defaultBufferSize - PacketPool.defaultHeadroom else {
            args.error(length < 0 ? "must be non-negative" : "too large", keyword: "LENGTH")
            return data
        }
        if data.isEmpty { return [UInt8](repeating: 0, count: length) }
        var filled: [UInt8] = []
        filled.reserveCapacity(length)
        while filled.count < length { filled.append(contentsOf: data.prefix(length - filled.count)) }
        return filled
    }

    public override func configure(_ args: inout Arguments) {
        var d = args.positional("DATA", .bytes) ?? InfiniteSource.defaultData
        limit = args.positional("LIMIT", .integer) ?? -1
        burst = args.positional("BURST", .integer) ?? 1
        active = args.positional("ACTIVE", .bool) ?? true
        if let length = args.keyword("LENGTH", .integer) { d = Self.resized(d, to: length, &args) }
        stop = args.keyword("STOP", .bool) ?? false
        if let text = args.keyword("END_CALL", .string) {
            endCall = HandlerCall(text)
            if endCall == nil { args.error("syntax error", keyword: "END_CALL") }
        }
        stamp = args.keyword("TIMESTAMP", .bool) ?? true
        if burst < 1 { args.error("must be at least 1", keyword: "BURST") }
        if d.count > PacketPool.defaultBufferSize - PacketPool.defaultHeadroom { args.error("too large", keyword: "DATA") }
        setData(d)
    }

    func setData(_ d: [UInt8]) {
        data = d
        template?.deallocate()
        let t = UnsafeMutableRawPointer.allocate(byteCount: max(d.count, 1), alignment: 16)
        d.withUnsafeBytes { if let base = $0.baseAddress, d.count > 0 { t.copyMemory(from: base, byteCount: d.count) } }
        template = t
    }

    public override func initialize() throws(ElementError) {
        try endCall?.initialize(in: router, context: self, write: true)
        if outputIsPush(0) {
            let task = makeTask()
            self.task = task
            fullSignal = downstreamFullSignal(0)
            fullSignal?.addListener(task)
            if active { task.schedule() }
        }
    }

    public override func cleanup() {
        task?.unschedule()
    }

    /// Makes up to `n` packets into `batch`; returns how many.
    @inline(__always) func generate(_ n: Int, into batch: inout PacketBatch) -> Int {
        guard let template, let state = poolState else { return 0 }
        let now = stamp ? recentRouterTime() : 0
        let length = data.count
        var made = 0
        while made < n, let m = state.pointee.allocate() {
            let p = Packet(meta: m)
            p.put(length)
            p.data.copyMemory(from: template, byteCount: length)
            m.pointee.timestamp = now
            batch.append(p)
            made += 1
        }
        return made
    }

    public override func runTask(_ task: Task) -> Bool {
        guard active else {
            task.unschedule()
            return false
        }
        if let fullSignal, !fullSignal.isActive {
            task.unschedule()
            return false
        }
        var remaining = burst
        if limit >= 0 { remaining = min(remaining, limit - count) }
        if remaining <= 0 {
            finish(task)
            return false
        }
        var sent = 0
        while remaining > 0 {
            var batch = storage.batch()
            let made = generate(min(remaining, batch.capacity), into: &batch)
            if made == 0 { break }
            count &+= made
            sent += made
            remaining -= made
            output(0, &batch)
        }
        // As in Click, the stop (or END_CALL) comes on the run after the last packet, so
        // that other tasks get one more pass at what was just sent.
        return sent > 0
    }

    private func finish(_ task: Task) {
        task.unschedule()
        active = false
        if let endCall {
            if let error = endCall.callWrite(in: router) { router.chatter("\(declaration): END_CALL: \(error.message)") }
        } else if stop {
            router.requestStop()
        }
    }

    public override func pull(port: Int, into batch: inout PacketBatch, max: Int) {
        guard active else {
            emptySignal.set(false)
            return
        }
        var n = Swift.min(max, batch.capacity - batch.count)
        if limit >= 0 { n = Swift.min(n, limit - count) }
        if n <= 0 {
            if limit >= 0 && count >= limit {
                emptySignal.set(false)
                if stop { router.requestStop() ; active = false }
            }
            return
        }
        count &+= generate(n, into: &batch)
    }

    public override func takeState(from old: Element) {
        if let old = old as? InfiniteSource { count = old.count }
    }

    public override func addHandlers(_ h: inout HandlerSet) {
        h.integer("count", get: { [unowned self] in self.count })
        h.write("reset") { [unowned self] _ in
            self.count = 0
            self.active = true
            self.wakeIfAble()
        }
        h.readWrite("data", read: { [unowned self] in String(decoding: self.data, as: UTF8.self) }, write: { [unowned self] text in
            self.setData(ConfigText.unquoteBytes(text))
        })
        h.integer("length", get: { [unowned self] in self.data.count }, set: { [unowned self] n throws(ElementError) in
            guard n >= 0, n <= PacketPool.defaultBufferSize - PacketPool.defaultHeadroom else { throw ElementError("length out of range") }
            var d = self.data.isEmpty ? [UInt8](repeating: 0, count: n) : []
            while d.count < n { d.append(contentsOf: self.data.prefix(n - d.count)) }
            self.setData(d)
        })
        h.integer("limit", get: { [unowned self] in self.limit }, set: { [unowned self] n in
            self.limit = n
            self.wakeIfAble()
        })
        h.integer("burst", get: { [unowned self] in self.burst }, set: { [unowned self] n throws(ElementError) in
            guard n >= 1 else { throw ElementError("burst must be at least 1") }
            self.burst = n
        })
        h.boolean("active", get: { [unowned self] in self.active }, set: { [unowned self] v in
            self.active = v
            self.wakeIfAble()
        })
    }
}
