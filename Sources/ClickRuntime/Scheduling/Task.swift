import ClickLanguage

/// A task: the way an active element (a source, an `Unqueue`, a device) gets run by its
/// router thread. A scheduled task runs again and again while it reports work; an element
/// unschedules its task when it has nothing to do and reschedules it when woken (by a
/// notifier or a timer), so an idle router sleeps.
public final class Task {
    /// The element the task runs; its owner (held unmanaged, so that running a task costs
    /// no reference counting).
    public let elementRef: Unmanaged<Element>
    public var element: Element { elementRef.takeUnretainedValue() }
    public internal(set) var isScheduled = false
    /// The scheduler of the element's router thread (which outlives its tasks), unmanaged
    /// so that scheduling costs no reference counting.
    var scheduler: Unmanaged<Scheduler>?
    /// Position in the scheduler's run list while scheduled.
    var slot = -1
    /// The task's share of its thread under Click's stride scheduler: 1024 by default,
    /// from 1 to 32768 (`tickets` handler, ScheduleInfo).
    public private(set) var tickets = Task.defaultTickets
    /// Stride-scheduling state: the pass grows by the stride each run; the lowest runs next.
    var stride: UInt32 = Task.stride1 / UInt32(Task.defaultTickets)
    var pass: UInt32 = 0

    public static let defaultTickets = 1 << 10
    public static let maximumTickets = 1 << 15
    static let stride1: UInt32 = 1 << 16

    public init(element: Element) {
        self.elementRef = Unmanaged.passUnretained(element)
    }

    /// Runs the element's task once; returns whether it did work.
    @inline(__always) func run() -> Bool {
        elementRef._withUnsafeGuaranteedRef { $0.runTask(self) }
    }

    /// Sets the task's tickets, pinned to 1...32768 as Click pins them. A task with other
    /// than the default share makes its scheduler order tasks by pass, as Click's does.
    public func setTickets(_ n: Int) {
        tickets = min(max(n, 1), Task.maximumTickets)
        stride = Task.stride1 / UInt32(tickets)
        if tickets != Task.defaultTickets { scheduler?._withUnsafeGuaranteedRef { $0.useStrideOrder() } }
    }

    /// Puts the task on its thread's run list.
    public func schedule() {
        guard !isScheduled, let scheduler else { return }
        scheduler._withUnsafeGuaranteedRef { $0.add(self) }
    }

    /// Takes the task off the run list until it is scheduled again.
    public func unschedule() {
        guard isScheduled, let scheduler else { return }
        scheduler._withUnsafeGuaranteedRef { $0.remove(self) }
    }
}

/// A one-shot timer owned by an element; `schedule(after:)` or `schedule(at:)` arms it and
/// the element's `runTimer(_:)` runs when it expires.
public final class Timer {
    public unowned(unsafe) let element: Element
    /// Expiry in nanoseconds of router time; 0 when not scheduled.
    public internal(set) var expiry: Int64 = 0
    public internal(set) var isScheduled = false
    var scheduler: Unmanaged<Scheduler>?
    var heapIndex = -1
    /// When it was last armed, among its scheduler's armings (ties between equal expiries).
    var armedOrder: UInt64 = 0

    public init(element: Element) {
        self.element = element
    }

    public func schedule(at time: Int64) {
        guard let scheduler else { return }
        scheduler._withUnsafeGuaranteedRef { $0.arm(self, at: time) }
    }

    public func schedule(after nanoseconds: Int64) {
        guard let scheduler else { return }
        // Saturating: a delay from a configuration or a handler can be as long as Click's
        // longest time; past the end of Int64 the timer simply never fires.
        scheduler._withUnsafeGuaranteedRef { $0.arm(self, at: $0.clock.now().saturatingAdd(max(0, nanoseconds))) }
    }

    public func unschedule() {
        guard isScheduled, let scheduler else { return }
        scheduler._withUnsafeGuaranteedRef { $0.disarm(self) }
    }
}

/// A notifier signal (Click's `NotifierSignal`): a queue says whether it is non-empty (or
/// non-full); pullers listening on it sleep while it is inactive and are woken when it
/// becomes active.
public final class NotifierSignal {
    public private(set) var isActive: Bool
    /// Tasks and signals to wake, unmanaged: they belong to elements of the same router,
    /// which all live as long as one another. Kept in plain memory, so that waking costs
    /// no reference counting (iterating an Array would retain its buffer).
    private var listeners = UnmanagedList<Task>()
    private var dependents = UnmanagedList<NotifierSignal>()

    public init(active: Bool) {
        self.isActive = active
    }

    deinit {
        listeners.free()
        dependents.free()
    }

    public func addListener(_ task: Task) {
        listeners.insert(task)
    }

    /// Makes `signal` become active whenever this one does (an element that merges
    /// several upstream notifiers, such as TimeSortedSched, announces their wake-ups).
    public func addDependent(_ signal: NotifierSignal) {
        if signal !== self { dependents.insert(signal) }
    }

    /// Sets the signal; becoming active wakes every listener and dependent signal. The
    /// common case, no change, is a comparison in the caller (queues set their signals
    /// on every push and pull).
    @inlinable @inline(__always) public func set(_ active: Bool) {
        if active != isActive { change(to: active) }
    }

    @usableFromInline func change(to active: Bool) {
        isActive = active
        if active {
            for i in 0..<listeners.count { listeners.items[i]._withUnsafeGuaranteedRef { $0.schedule() } }
            for i in 0..<dependents.count { dependents.items[i]._withUnsafeGuaranteedRef { $0.set(true) } }
        }
    }
}

/// A set of unretained object references in plain memory, for lists walked on the packet
/// path; its owner frees it.
struct UnmanagedList<T: AnyObject> {
    private(set) var items = UnsafeMutablePointer<Unmanaged<T>>.allocate(capacity: 2)
    private(set) var count = 0
    private var capacity = 2

    /// Adds `object` unless it is there already.
    mutating func insert(_ object: T) {
        let ref = Unmanaged.passUnretained(object)
        for i in 0..<count where items[i].toOpaque() == ref.toOpaque() { return }
        if count == capacity {
            let bigger = UnsafeMutablePointer<Unmanaged<T>>.allocate(capacity: capacity * 2)
            bigger.moveInitialize(from: items, count: count)
            items.deallocate()
            items = bigger
            capacity *= 2
        }
        (items + count).initialize(to: ref)
        count += 1
    }

    func free() {
        items.deallocate()
    }
}
