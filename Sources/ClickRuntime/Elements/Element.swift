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
/// Simple elements adopt `PacketAction` and write one `action(_:)` per packet; the runtime
/// batches around it.
open class Element {
    /// The element's name in the configuration (`outer/inner` inside compounds).
    public internal(set) var name = ""
    /// Index in the router, in configuration order.
    public internal(set) var index = -1
    public internal(set) var landmark = Landmark(file: "config", line: 0)
    /// The configuration string, as given (variables substituted).
    public internal(set) var configuration = ""
    public internal(set) var inputProcessing: [PortProcessing] = []
    public internal(set) var outputProcessing: [PortProcessing] = []
    /// Where each output goes (push outputs) / each input comes from (pull inputs).
    public internal(set) var outputTargets: UnsafeMutablePointer<PortTarget>? = nil
    public internal(set) var inputSources: UnsafeMutablePointer<PortTarget>? = nil
    public internal(set) var ninputs = 0
    public internal(set) var noutputs = 0
    /// Scratch batches for outputs other than 0 (see `PacketClassifier`).
    public internal(set) var sideBatches: UnsafeMutablePointer<PacketBatch>? = nil
    var sideStorage: [BatchStorage] = []
    /// The router that runs this element; set when the router creates the element, before
    /// `configure`, and never nil afterwards. Unowned: the router owns its elements.
    public unowned(unsafe) var router: Router! = nil

    public init() {}

    deinit {
        outputTargets?.deallocate()
        inputSources?.deallocate()
        sideBatches?.deallocate()
    }

    // MARK: Self-description (override)

    open var className: String { "Element" }
    /// Click's port-count specifier: `"1/1"`, `"1/1-2"`, `"0/1"`, `"1-/="`, `"-/-"`.
    open var portCount: String { "1/1" }
    /// Click's processing specifier: letters `h` push, `l` pull, `a` agnostic, per port.
    open var processing: String { "a/a" }
    /// Click's flow code: which inputs can reach which outputs (`"x/x"` all to all).
    open var flowCode: String { "x/x" }
    /// Elements with a lower phase are configured first (AddressInfo before its users).
    open var configurePhase: Int { ConfigurePhase.normal }
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

    /// Receives a batch on push input `port`; the element now owns the packets.
    open func push(port: Int, _ batch: inout PacketBatch) {
        batch.killAll()
    }

    /// Appends up to `max` packets from pull output `port` to `batch`.
    open func pull(port: Int, into batch: inout PacketBatch, max: Int) {}

    /// Runs the element's task; returns true if it did work. Active elements override.
    open func runTask(_ task: Task) -> Bool { false }

    /// Called when one of the element's timers fires.
    open func runTimer(_ timer: Timer) {}

    /// Called when a file descriptor the element watches becomes readable.
    open func selected(fd: Int32) {}

    // MARK: Helpers for subclasses

    /// Pushes `batch` out of output `port` and leaves the batch empty.
    @inline(__always) public final func output(_ port: Int, _ batch: inout PacketBatch) {
        guard batch.count > 0, let targets = outputTargets else {
            batch.count = 0
            return
        }
        let target = targets[port]
        target.element._withUnsafeGuaranteedRef { $0.push(port: target.port, &batch) }
        batch.count = 0
    }

    /// Pulls up to `max` packets from input `port` into `batch`.
    @inline(__always) public final func input(_ port: Int, into batch: inout PacketBatch, max: Int) {
        guard let sources = inputSources else { return }
        let source = sources[port]
        source.element._withUnsafeGuaranteedRef { $0.pull(port: source.port, into: &batch, max: max) }
    }

    /// Pushes one packet out of `port` through a side batch.
    public final func output(_ port: Int, single packet: Packet) {
        guard let side = sideBatches else {
            packet.kill()
            return
        }
        side[port].append(packet)
        output(port, &side[port])
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
    @inline(__always) public final var pool: PacketPool { router.pool }

    /// Allocates side batches for outputs 1..<noutputs (called by the router).
    func prepareSideBatches() {
        guard noutputs > 0 else { return }
        let batches = UnsafeMutablePointer<PacketBatch>.allocate(capacity: noutputs)
        for i in 0..<noutputs {
            let storage = BatchStorage()
            sideStorage.append(storage)
            (batches + i).initialize(to: storage.batch())
        }
        sideBatches = batches
    }
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
/// -1 to drop it (the runtime kills it). The runtime batches around it, in push and pull
/// context; packets sent to other outputs go out after the batch's output-0 packets.
public protocol PacketAction: Element {
    func action(_ packet: Packet) -> Int
}

extension PacketAction {
    /// The batch push loop for a `PacketAction`; call it from `push(port:_:)`.
    @inline(__always) public func pushThrough(_ batch: inout PacketBatch) {
        var kept = 0
        var sides = false
        let n = noutputs
        for i in 0..<batch.count {
            let p = batch[i]
            let o = action(p)
            if o == 0 {
                batch[kept] = p
                kept += 1
            } else if o < 0 || o >= n {
                p.kill()
            } else {
                sideBatches.unsafelyUnwrapped[o].append(p)
                sides = true
            }
        }
        batch.count = kept
        if kept > 0 { output(0, &batch) }
        if sides, let side = sideBatches {
            for o in 1..<n where side[o].count > 0 { output(o, &side[o]) }
        }
    }

    /// The batch pull loop for a `PacketAction` (agnostic element in pull context).
    @inline(__always) public func pullThrough(into batch: inout PacketBatch, max: Int) {
        let start = batch.count
        input(0, into: &batch, max: max)
        var kept = start
        var sides = false
        let n = noutputs
        for i in start..<batch.count {
            let p = batch[i]
            let o = action(p)
            if o == 0 {
                batch[kept] = p
                kept += 1
            } else if o < 0 || o >= n || !outputIsPush(o) {
                p.kill()
            } else {
                sideBatches.unsafelyUnwrapped[o].append(p)
                sides = true
            }
        }
        batch.count = kept
        if sides, let side = sideBatches {
            for o in 1..<n where side[o].count > 0 { output(o, &side[o]) }
        }
    }
}
