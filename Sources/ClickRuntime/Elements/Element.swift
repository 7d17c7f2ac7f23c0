import ClickLanguage

/// Where one port leads: the element on the other side and its port number. Held as
/// `Unmanaged` so that following a connection costs no reference counting.
public struct PortTarget {
    public let element: Unmanaged<Element>
    public let port: Int
}

/// Processing of a port after push/pull resolution.
public enum PortProcessing: Sendable, Equatable {
    case push, pull
}

/// An element: the unit of packet processing, as in Click. Subclasses are `final class`es
/// that declare their class name, port counts (`"1/1-2"`), processing (`"a/ah"`) and flow
/// code, read their configuration with `Arguments`, and move packets in batches:
///
/// - push ports: `push(port:_:)` receives a batch it now owns; `output(_:_:)` passes one on;
/// - pull ports: `pull(port:into:max:)` appends packets; `input(_:into:max:)` asks upstream.
///
/// Simple elements adopt `PacketAction` and write one `action(_:)` per packet; the base
/// class batches around it, in push and pull. (Such an element on a hot path also writes
/// `override func push(port:_:) { pushThrough(&batch) }`: then a push into it is one call,
/// where the base class's route to the loop costs two more.)
///
/// The Click class name is the Swift class name (`className`), so a class is named once;
/// `StandardElements` registers the classes by type.
open class Element: DescriptorWatcher {
    /// The element's name in the configuration (`outer/inner` inside compounds).
    public internal(set) var name = ""
    /// Index in the router, in configuration order.
    public internal(set) var index = -1
    public internal(set) var landmark = Landmark(file: "config", line: 0)
    /// The configuration string, as given (variables substituted).
    public internal(set) var configuration = ""
    public final internal(set) var inputProcessing: [PortProcessing] = []
    public final internal(set) var outputProcessing: [PortProcessing] = []
    /// Where each output goes (push outputs) / each input comes from (pull inputs).
    public final internal(set) var outputTargets: UnsafeMutablePointer<PortTarget>? = nil
    public final internal(set) var inputSources: UnsafeMutablePointer<PortTarget>? = nil
    public final internal(set) var ninputs = 0
    public final internal(set) var noutputs = 0
    /// The element's first task, once it made one (for the task handlers).
    public internal(set) var firstTask: Task?
    /// The router that runs this element; set when the router creates the element, before
    /// `configure`, and never nil afterwards. Unowned: the router owns its elements.
    public final unowned(unsafe) var router: Router! = nil {
        didSet {
            poolState = router?.pool.state
            scratch = router?.pool.scratch
            clockState = router?.clock.state
        }
    }

    /// The router's packet pool, clock and scratch storage in plain memory, for the hot
    /// path: reaching them through `router` would cost reference counting per call. Set
    /// with `router`; the router's pool and clock outlive its elements.
    public final private(set) var poolState: UnsafeMutablePointer<PacketPoolState>?
    @usableFromInline final private(set) var scratch: UnsafeMutablePointer<ScratchStack>?
    @usableFromInline final private(set) var clockState: UnsafeMutablePointer<RouterClockState>?

    /// Every element class is constructible without arguments: the registry makes
    /// instances from the type alone and `configure` does the rest.
    public required init() {
        if let action = self as? any PacketAction {
            let loops = Self.batchLoops(for: action)
            batchLoopsOwner = loops
            batchLoops = Unmanaged.passUnretained(loops)
        }
    }

    /// A `PacketAction`'s batch loops, which the base `push` and `pull` run. Reached
    /// unmanaged (its owner is `batchLoopsOwner`): calling through an existential of the
    /// element itself would cost a retain and a release per batch.
    @usableFromInline final var batchLoops: Unmanaged<PacketActionLoops>?
    private var batchLoopsOwner: PacketActionLoops?

    private static func batchLoops<A: PacketAction>(for action: A) -> PacketActionLoops {
        PacketActionLoopsOf<A>()
    }

    deinit {
        outputTargets?.deallocate()
        inputSources?.deallocate()
    }

    // MARK: Self-description (override)

    /// The Click class name: the Swift class's own name, so that it is written once.
    /// (A class whose Swift name cannot be its Click name, a local test class, overrides it.)
    open class var className: String {
        let full = String(describing: self)
        // Local and private types print as "Name #1 in ..." or "(Name in _ABC)".
        let name = full.hasPrefix("(") ? String(full.dropFirst()) : full
        return String(name.prefix { $0.isLetter || $0.isNumber || $0 == "_" })
    }

    /// This element's Click class name.
    public final var className: String { type(of: self).className }
    /// Click's port-count specifier: `"1/1"`, `"1/1-2"`, `"0/1"`, `"1-/="`, `"-/-"`.
    open var portCount: String { "1/1" }
    /// Click's processing specifier: letters `h` push, `l` pull, `a` agnostic, per port.
    open var processing: String { "a/a" }
    /// Click's flow code: which inputs can reach which outputs (`"x/x"` all to all).
    open var flowCode: String { "x/x" }
    /// Elements with a lower phase are configured first (AddressInfo before its users).
    open var configurePhase: Int { ConfigurePhase.normal }
    /// Click's `configuration()`: the configuration as the element normalises it (defaults
    /// filled in, values clamped), for `-o` output and the `config` handler once the router
    /// is initialized; nil keeps the configuration as written.
    open var normalizedConfiguration: String? { nil }
    /// True if a running element accepts a new configuration through its `config` handler.
    open var canLiveReconfigure: Bool { false }

    // MARK: Life cycle (override)

    /// Reads the configuration. Report problems with `args.error(...)`; unread arguments
    /// are reported by the router ("unknown argument", "too many arguments").
    open func configure(_ args: inout Arguments) {}

    /// Called once all elements are configured and connected. Throw `ElementError` to fail.
    open func initialize() throws(ElementError) {}

    /// Called when the router stops or is replaced.
    open func cleanup() {}

    /// Hot reconfiguration: take over the state of `old` (same name and class) if it makes
    /// sense (queue contents, counters, flow tables). Default: nothing to keep.
    open func takeState(from old: Element) {}

    /// Adds the element's own handlers.
    open func addHandlers(_ handlers: inout HandlerSet) {}

    // MARK: Packet movement (override what the processing needs)

    /// Receives a batch on push input `port`; the element now owns the packets. A
    /// `PacketAction` runs its batch loop here; any other element with a push input
    /// overrides this, and debug builds stop where one was pushed to without doing so.
    open func push(port: Int, _ batch: inout PacketBatch) {
        if let batchLoops {
            batchLoops._withUnsafeGuaranteedRef { $0.push(self, &batch) }
            return
        }
        assertionFailure("\(declaration) got a push on input \(port) but implements no push")
        batch.killAll()
    }

    /// Appends up to `max` packets from pull output `port` to `batch`. A `PacketAction`
    /// runs its batch loop here; any other element with a pull output overrides this (debug
    /// builds stop where one does not).
    open func pull(port: Int, into batch: inout PacketBatch, max: Int) {
        if let batchLoops {
            batchLoops._withUnsafeGuaranteedRef { $0.pull(self, into: &batch, max: max) }
            return
        }
        assertionFailure("\(declaration) was pulled on output \(port) but implements no pull")
    }

    /// Runs the element's task; returns true if it did work. Active elements override.
    open func runTask(_ task: Task) -> Bool { false }

    /// Called when one of the element's timers fires.
    open func runTimer(_ timer: Timer) {}

    /// Called when a file descriptor the element watches becomes readable.
    open func selected(fd: Int32) {}

    // MARK: Helpers for subclasses

    /// Pushes `batch` out of output `port` and leaves the batch empty.
    @inlinable @inline(__always) public final func output(_ port: Int, _ batch: inout PacketBatch) {
        guard batch.count > 0, let targets = outputTargets else {
            batch.count = 0
            return
        }
        let target = targets[port]
        target.element._withUnsafeGuaranteedRef { $0.push(port: target.port, &batch) }
        batch.count = 0
    }

    /// Pulls up to `max` packets from input `port` into `batch`.
    @inlinable @inline(__always) public final func input(_ port: Int, into batch: inout PacketBatch, max: Int) {
        guard let sources = inputSources else { return }
        let source = sources[port]
        source.element._withUnsafeGuaranteedRef { $0.pull(port: source.port, into: &batch, max: max) }
    }

    /// Pushes one packet out of `port`.
    public final func output(_ port: Int, single packet: Packet) {
        withScratchBatch { batch in
            batch.append(packet)
            output(port, &batch)
        }
    }

    /// Runs `body` with an empty batch whose storage is on the stack. Every call gets its
    /// own storage, so an element that a packet re-enters (an ICMP error routed back
    /// through the element that caused it) never overwrites packets still in flight.
    @inlinable @inline(__always) public final func withScratchBatch<R>(_ body: (inout PacketBatch) -> R) -> R {
        let n = BatchStorage.defaultCapacity
        let storage = takeScratch(n)
        defer { giveBackScratch(storage, n) }
        var batch = PacketBatch(storage: storage, capacity: n)
        return body(&batch)
    }

    /// `count` packet slots from the thread's scratch stack (allocated when it is full,
    /// or when the element has no router). Give them back with `giveBackScratch`, last
    /// taken first. (Not `withUnsafeTemporaryAllocation`: its closure costs the caller a
    /// retain and a release of the element per call.)
    @inlinable @inline(__always) public final func takeScratch(_ count: Int) -> UnsafeMutablePointer<Packet> {
        if let scratch, let slots = scratch.pointee.take(count) { return slots }
        return .allocate(capacity: count)
    }

    @inlinable @inline(__always) public final func giveBackScratch(_ slots: UnsafeMutablePointer<Packet>, _ count: Int) {
        if let scratch, slots >= scratch.pointee.base, slots < scratch.pointee.base + scratch.pointee.capacity {
            scratch.pointee.giveBack(count)
        } else {
            slots.deallocate()
        }
    }

    /// The router time now (a clock reading; simulated time advances).
    @inlinable @inline(__always) public final func routerNow() -> Int64 {
        // Set with `router`, before any element code runs.
        clockState!.pointee.now()
    }

    /// The router time of the current scheduler round: as precise as per-packet
    /// timestamps and rate estimates need, without a clock reading per packet (Click's
    /// `Timestamp::recent()`); exact in simulated time.
    @inlinable @inline(__always) public final func recentRouterTime() -> Int64 {
        // Set with `router`, before any element code runs.
        clockState!.pointee.recentTime()
    }

    /// Returned by a `dispatch` chooser that has taken the packet over (queued it): the
    /// packet is neither sent nor killed.
    public static let packetKept = Int.min

    /// Sends each packet of `batch` to the output `choose` returns for it; -1 (or a port
    /// that does not exist) kills it; `Element.packetKept` leaves it to the chooser.
    /// Packets leave in their order, in runs: consecutive packets for the same output go
    /// out together, and a change of output sends the run so far first. So paths that
    /// split here and merge later see the packets in the order Click's one-at-a-time
    /// processing gives them, and a batch that all goes one way is one push.
    @inlinable @inline(__always) public final func dispatch(_ batch: inout PacketBatch, _ choose: (Packet) -> Int) {
        let n = noutputs
        let count = batch.count
        if n <= 1 {
            var kept = 0
            for i in 0..<count {
                let p = batch[i]
                let o = choose(p)
                if o == 0 {
                    batch[kept] = p
                    kept += 1
                } else if o != Element.packetKept {
                    p.kill()
                }
            }
            batch.count = kept
            output(0, &batch)
            return
        }
        // Runs are gathered in place: the packets of the current run sit at
        // batch[runStart..<kept] (never ahead of the packet being chosen), and each run goes
        // out as a batch viewing just those slots, so no packet is copied elsewhere and a
        // receiver cannot reach the packets still to be chosen.
        var kept = 0
        var runStart = 0
        var runPort = 0
        for i in 0..<count {
            let p = batch[i]
            let o = choose(p)
            if o == Element.packetKept { continue }
            if o < 0 || o >= n {
                p.kill()
                continue
            }
            if o != runPort && kept > runStart {
                var run = PacketBatch(storage: batch.storage + runStart, capacity: kept - runStart, count: kept - runStart)
                output(runPort, &run)
                runStart = kept
            }
            runPort = o
            batch[kept] = p
            kept += 1
        }
        if kept > runStart {
            var run = PacketBatch(storage: batch.storage + runStart, capacity: kept - runStart, count: kept - runStart)
            output(runPort, &run)
        }
        batch.count = 0
    }

    public final func outputIsPush(_ port: Int) -> Bool {
        port < outputProcessing.count && outputProcessing[port] == .push
    }

    public final func inputIsPull(_ port: Int) -> Bool {
        port < inputProcessing.count && inputProcessing[port] == .pull
    }

    /// The element's declaration as Click prints it: `name :: Class`.
    public var declaration: String { "\(name) :: \(className)" }

    /// The packet pool of this element's router thread.
    @inlinable @inline(__always) public final var pool: PacketPool { router.pool }
}

/// Configure phases: lower runs first.
public enum ConfigurePhase {
    public static let first = 0
    public static let info = 20
    public static let privileged = 90
    public static let normal = 100
    public static let last = 2000
}

/// An element's failure to initialize or to accept a handler write; the message follows
/// Click's wording where Click has one.
public struct ElementError: Error, CustomStringConvertible, Sendable {
    public var message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}

/// A per-packet element: `action` returns the output port for the packet (usually 0), or
/// -1 to drop it (the runtime kills it). The element writes only `action(_:)` (and
/// overrides `push` only to do something per batch): the base `Element` moves the batches
/// around it in push and pull context, through this protocol's batch loops, which the
/// compiler specializes for each conforming class (the action is inlined in its loop).
/// Packets sent to other outputs go out after the batch's output-0 packets.
public protocol PacketAction: Element {
    /// What happens to one packet: the output port, or -1 to drop it.
    func action(_ packet: Packet) -> Int

    /// The batch loops. Requirements (not just extension methods) so that each class's
    /// witness is the loop specialized for it; classes do not implement them.
    func pushActions(_ batch: inout PacketBatch)
    func pullActions(into batch: inout PacketBatch, max: Int)
}

/// A `PacketAction` class's batch loops behind a class interface, so that the base
/// `Element` reaches them through a vtable rather than an existential of the element.
open class PacketActionLoops {
    public init() {}
    open func push(_ element: Element, _ batch: inout PacketBatch) {}
    open func pull(_ element: Element, into batch: inout PacketBatch, max: Int) {}
}

/// The batch loops of the `PacketAction` class `A`.
final class PacketActionLoopsOf<A: PacketAction>: PacketActionLoops {
    override func push(_ element: Element, _ batch: inout PacketBatch) {
        // Made for `element`'s own class by `Element.init`.
        unsafeDowncast(element, to: A.self).pushActions(&batch)
    }

    override func pull(_ element: Element, into batch: inout PacketBatch, max: Int) {
        unsafeDowncast(element, to: A.self).pullActions(into: &batch, max: max)
    }
}

extension PacketAction {
    @inlinable public func pushActions(_ batch: inout PacketBatch) { pushThrough(&batch) }
    @inlinable public func pullActions(into batch: inout PacketBatch, max: Int) { pullThrough(into: &batch, max: max) }

    /// The batch push loop: `action` for each packet, then out by output.
    @inlinable @inline(__always) public func pushThrough(_ batch: inout PacketBatch) {
        dispatch(&batch) { action($0) }
    }

    /// The batch pull loop (agnostic element in pull context): packets for output 0 are
    /// returned, those for other (push) outputs are pushed there.
    @inlinable @inline(__always) public func pullThrough(into batch: inout PacketBatch, max: Int) {
        let start = batch.count
        input(0, into: &batch, max: max)
        var kept = start
        let n = noutputs
        withScratchBatch { side in
            for i in start..<batch.count {
                let p = batch[i]
                let o = action(p)
                if o == 0 {
                    batch[kept] = p
                    kept += 1
                } else if o == 1 && n > 1 && outputIsPush(1) {
                    // Pull-through elements have at most one side output, a push one ("a/ah").
                    side.append(p)
                    if side.isFull { output(1, &side) }
                } else {
                    p.kill()
                }
            }
            if side.count > 0 { output(1, &side) }
        }
        batch.count = kept
    }
}
