#if canImport(Glibc)
import Glibc
#endif
import CShims
import ClickLanguage

/// The state of a router clock, in plain memory so that elements read the time without
/// reference counting (each element keeps a pointer to it; see `Element.routerNow()`).
public struct RouterClockState {
    @usableFromInline let isSimulated: Bool
    @usableFromInline var simulated: Int64
    /// Router time as last read: the time of the current scheduler round (the scheduler
    /// reads the clock once per round) for per-packet uses that need no more precision
    /// than that, as Click's `Timestamp::recent()`.
    @usableFromInline var recent: Int64 = 0
    /// Click's time warp (the `timewarp` handler): router time runs `speed` times as fast
    /// as the wall clock from `warpBase` on, and with `noWait` jumps to the next timer
    /// when the router is idle. Off (the fast path) until first set.
    @usableFromInline var warped = false
    var speed: Double = 1
    var noWait = false
    var warpBaseReal: Int64 = 0
    var warpBaseRouter: Int64 = 0

    init(isSimulated: Bool, start: Int64) {
        self.isSimulated = isSimulated
        self.simulated = start
        self.recent = start
    }

    @inlinable @inline(__always) static func wallClock() -> Int64 {
        var ts = timespec()
        clock_gettime(CLOCK_REALTIME, &ts)
        return Int64(ts.tv_sec) &* 1_000_000_000 &+ Int64(ts.tv_nsec)
    }

    /// The router time now (simulated time advances a nanosecond per reading).
    @inlinable @inline(__always) public mutating func now() -> Int64 {
        if isSimulated {
            // A warp to a timer at the end of time stays there rather than wrapping.
            simulated = simulated.saturatingAdd(1)
            return simulated
        }
        recent = warped ? warpedNow() : Self.wallClock()
        return recent
    }

    /// The time of the current scheduler round (exact in simulated time, where reading
    /// the clock costs nothing and each reading is distinct, as in Click).
    @inlinable @inline(__always) public mutating func recentTime() -> Int64 {
        isSimulated ? now() : recent
    }

    @usableFromInline func warpedNow() -> Int64 {
        warpBaseRouter.saturatingAdd(RouterClock.clamped(Double(Self.wallClock() &- warpBaseReal) * speed))
    }
}

/// Router time in nanoseconds: the wall clock, or Click's simulated time (`--simtime`),
/// which starts at 1,000,000,000 s, advances one nanosecond per reading (so timestamps
/// are distinct; Click's nanosecond build does the same) and jumps to the next timer when
/// the router is idle.
public final class RouterClock {
    /// The clock's state; lives as long as the clock.
    public let state: UnsafeMutablePointer<RouterClockState>

    public init(simulated: Bool, start: Int64 = 1_000_000_000 * 1_000_000_000) {
        state = .allocate(capacity: 1)
        state.initialize(to: RouterClockState(isSimulated: simulated, start: start))
    }

    deinit { state.deallocate() }

    public var isSimulated: Bool { state.pointee.isSimulated }
    public var speed: Double { state.pointee.speed }
    public var noWait: Bool { state.pointee.noWait }

    @inline(__always) public func now() -> Int64 { state.pointee.now() }

    /// Reads the wall clock into the recent time (nothing in simulated time, whose every
    /// reading advances it).
    @inline(__always) func refreshRecent() {
        if !state.pointee.isSimulated { _ = state.pointee.now() }
    }

    /// A Double as Int64 nanoseconds, saturating (a warp factor can be anything positive).
    @usableFromInline static func clamped(_ d: Double) -> Int64 {
        d >= 9.2e18 ? Int64.max : d <= -9.2e18 ? Int64.min : Int64(d)
    }

    /// Sets the time warp: `speed` times the wall clock (> 0), or, with `noWait`, the wall
    /// clock's pace with idle waits skipped. Router time goes on from where it is.
    public func setWarp(speed: Double, noWait: Bool) {
        precondition(speed > 0, "checked by the timewarp handler")
        let current = now()
        state.pointee.warpBaseReal = RouterClockState.wallClock()
        state.pointee.warpBaseRouter = current
        state.pointee.speed = speed
        state.pointee.noWait = noWait
        state.pointee.warped = true
    }

    /// Router nanoseconds `interval` from now, in wall-clock nanoseconds.
    func wallInterval(_ interval: Int64) -> Int64 {
        state.pointee.warped && speed != 1 ? Self.clamped(Double(interval) / speed) : interval
    }

    /// Simulated time, or a no-wait warp: moves the clock forward to `time`.
    func warp(to time: Int64) {
        if isSimulated {
            if time > state.pointee.simulated { state.pointee.simulated = time }
        } else if noWait {
            let current = now()
            if time > current { state.pointee.warpBaseRouter &+= time &- current }
        }
    }
}

/// One router thread's scheduler: runs scheduled tasks round-robin, fires timers, watches
/// file descriptors, and sleeps (no CPU) when there is nothing to do.
public final class Scheduler {
    public let clock: RouterClock
    /// The scheduled tasks, unmanaged (each is owned by its element, and a task leaves
    /// the list before its element goes): running one costs no reference counting.
    private var runList: [Unmanaged<Task>] = []
    private var heap: [Timer] = []
    /// Timers that fire once when `run()` starts, before the first round of tasks.
    private var firstTimers: [Timer] = []
    private struct Watch {
        let fd: Int32
        unowned(unsafe) let watcher: any DescriptorWatcher
    }
    private var watches: [Watch] = []
    /// `poll` arguments for `watches`, rebuilt only when the set changes.
    private var pollSet: [pollfd] = []
    private var pollSetValid = false
    /// While busy, descriptors are checked once every this many loop passes: a poll
    /// system call per pass would cost more than the packets it moves.
    private static let busyPollInterval = 16
    /// Set by `stop()`; the loop returns soon after.
    public private(set) var stopRequested = false
    /// Passes through the loop, for statistics.
    public private(set) var iterations = 0

    public init(clock: RouterClock) {
        self.clock = clock
    }

    public var hasScheduledTasks: Bool { !runList.isEmpty }
    public var hasTimers: Bool { !heap.isEmpty }

    /// False while every task has the default tickets: tasks then run round-robin (pass
    /// after pass of the run list, up to 128 runs between timer checks), the cheapest loop. Once a task has another share, the run list is
    /// kept in Click's stride order (lowest pass first) and `run` runs Click's way.
    public private(set) var strideOrder = false

    /// `a` comes after `b` in pass order (Click's PASS_GT, which wraps).
    @inline(__always) static func passAfter(_ a: UInt32, _ b: UInt32) -> Bool { Int32(bitPattern: a &- b) > 0 }

    func add(_ task: Task) {
        task.isScheduled = true
        guard strideOrder else {
            task.slot = runList.count
            runList.append(Unmanaged.passUnretained(task))
            return
        }
        // As Click's Task::fast_schedule: one stride past the head's pass, before the first
        // task whose pass is greater.
        task.pass = (runList.first?.takeUnretainedValue().pass ?? 0) &+ task.stride
        insertInPassOrder(task, from: 0)
    }

    func remove(_ task: Task) {
        let i = task.slot
        if strideOrder {
            runList.remove(at: i)
            renumber(from: i)
        } else {
            let last = runList.removeLast()
            if i < runList.count {
                runList[i] = last
                last._withUnsafeGuaranteedRef { $0.slot = i }
            }
        }
        task.slot = -1
        task.isScheduled = false
    }

    private func insertInPassOrder(_ task: Task, from start: Int) {
        var j = start
        while j < runList.count, !Self.passAfter(runList[j].takeUnretainedValue().pass, task.pass) { j += 1 }
        runList.insert(Unmanaged.passUnretained(task), at: j)
        renumber(from: j)
    }

    /// Sets the run-list positions of the tasks from `start` on.
    private func renumber(from start: Int) {
        for k in start..<runList.count { runList[k]._withUnsafeGuaranteedRef { $0.slot = k } }
    }

    /// Switches to stride order (a task's tickets changed): the scheduled tasks are put in
    /// pass order as if scheduled again in their current order.
    func useStrideOrder() {
        guard !strideOrder else { return }
        strideOrder = true
        let tasks = runList
        runList.removeAll(keepingCapacity: true)
        for t in tasks { add(t.takeUnretainedValue()) }
    }

    /// Click's RouterThread::run_tasks under stride scheduling: the head runs; if it stays
    /// scheduled its pass grows by its stride (to the next task's pass if it did no work,
    /// and the round ends when it is alone and idle) and it moves behind every task whose
    /// pass is not greater. Returns whether any task worked.
    private func runTasksInStrideOrder() -> Bool {
        var worked = false
        var budget = Self.tasksPerRound
        while budget > 0, !stopRequested, !batchEnded, let first = runList.first {
            let task = first.takeUnretainedValue()
            budget -= 1
            let didWork = task.run()
            worked = worked || didWork
            guard task.isScheduled, task.slot == 0 else { continue }
            task.pass &+= task.stride
            if !didWork {
                if runList.count < 2 { break }
                let next = runList[1].takeUnretainedValue().pass
                if Self.passAfter(next, task.pass) { task.pass = next }
            }
            runList.removeFirst()
            renumber(from: 0)
            insertInPassOrder(task, from: 0)
        }
        return worked
    }

    /// Click's tasks per iteration of its driver loop, between timer checks.
    static let tasksPerRound = 128

    /// Set by `endTaskBatch`: the current batch of task runs ends after the running task.
    private var batchEnded = false

    /// Ends the current batch of task runs once the running task returns, so that timers
    /// due now (a DriverManager's next step after a stop event, as Click's driver checks
    /// stops after every task) run before any other task.
    public func endTaskBatch() { batchEnded = true }

    /// Makes `task` and `timer` belong to this scheduler.
    public func adopt(_ task: Task) { task.scheduler = Unmanaged.passUnretained(self) }
    public func adopt(_ timer: Timer) { timer.scheduler = Unmanaged.passUnretained(self) }

    /// Calls `watcher.selected(fd:)` when `fd` becomes readable. The watcher must stay
    /// alive until it unwatches (the scheduler does not retain it).
    public func watch(fd: Int32, for watcher: any DescriptorWatcher) {
        watches.append(Watch(fd: fd, watcher: watcher))
        pollSetValid = false
    }

    public func unwatch(fd: Int32) {
        watches.removeAll { $0.fd == fd }
        pollSetValid = false
    }

    public func stop() { stopRequested = true }

    /// Until this time (clock nanoseconds), an idle scheduler polls its descriptors
    /// instead of sleeping.
    private var awakeUntil: Int64 = 0

    /// Keeps the scheduler polling rather than sleeping for the next `nanoseconds`: for
    /// short exchanges where every step waits on a peer (a memif handshake runs in
    /// lock-step), a sleeping process would pay a wake-up per step — tens of
    /// microseconds on a virtual CPU that halts when idle.
    public func stayAwake(forNanoseconds nanoseconds: Int64) {
        awakeUntil = max(awakeUntil, clock.now() + nanoseconds)
    }

    /// Clears a stop request so the scheduler can run again (DriverManager's `wait_stop`).
    public func resume() { stopRequested = false }

    // MARK: Timers (a binary heap on expiry)

    func arm(_ timer: Timer, at time: Int64) {
        if timer.isScheduled { disarm(timer) }
        timer.expiry = time
        armings &+= 1
        timer.armedOrder = armings
        timer.isScheduled = true
        timer.heapIndex = heap.count
        heap.append(timer)
        siftUp(heap.count - 1)
    }

    func disarm(_ timer: Timer) {
        let i = timer.heapIndex
        guard timer.isScheduled, i >= 0, i < heap.count else { return }
        let last = heap.removeLast()
        if i < heap.count {
            heap[i] = last
            last.heapIndex = i
            siftDown(i)
            siftUp(i)
        }
        timer.isScheduled = false
        timer.heapIndex = -1
    }

    /// Timers fire in order of expiry, and timers due at the same moment in the order they
    /// were scheduled (so which of two runs first does not depend on the heap's shape).
    @inline(__always) static func before(_ a: Timer, _ b: Timer) -> Bool {
        a.expiry < b.expiry || (a.expiry == b.expiry && a.armedOrder < b.armedOrder)
    }

    /// Timers armed so far: each arming's order, for ties.
    private var armings: UInt64 = 0

    private func siftUp(_ start: Int) {
        var i = start
        while i > 0 {
            let parent = (i - 1) / 2
            if !Self.before(heap[i], heap[parent]) { break }
            heap.swapAt(parent, i)
            heap[parent].heapIndex = parent
            heap[i].heapIndex = i
            i = parent
        }
    }

    private func siftDown(_ start: Int) {
        var i = start
        while true {
            let l = 2 * i + 1, r = l + 1
            var m = i
            if l < heap.count && Self.before(heap[l], heap[m]) { m = l }
            if r < heap.count && Self.before(heap[r], heap[m]) { m = r }
            if m == i { return }
            heap.swapAt(m, i)
            heap[m].heapIndex = m
            heap[i].heapIndex = i
            i = m
        }
    }

    /// Fires the timers due by `now`; returns how many fired. At most as many as were
    /// armed on entry: a timer that re-arms itself for a time already past (a delay of 0,
    /// or any delay once the clock saturates at the end of time) runs again next round,
    /// not in an endless loop here.
    private func runTimers(now: Int64) -> Int {
        var fired = 0
        let budget = heap.count
        while fired < budget, let top = heap.first, top.expiry <= now, !stopRequested {
            disarm(top)
            top.element.runTimer(top)
            fired += 1
        }
        return fired
    }

    // MARK: The loop

    /// A flag that, once non-zero, stops the loop (the driver's SIGINT/SIGTERM flag). A
    /// signal also interrupts the idle sleep, so an idle router stops at once.
    public var interruptFlag: UnsafePointer<Int32>?

    /// Set while elements wait for signals (Script TYPE SIGNAL): when the flag is non-zero
    /// at the top of a round, it is cleared and `onSignal` runs.
    public var signalFlag: UnsafePointer<Int32>?
    public var onSignal: (() -> Void)?

    /// When set, `run()` also returns after this many passes (fuzzing and tests run
    /// configurations that may never stop by themselves).
    public var maximumRounds: Int?

    /// Fires `timer` when `run()` starts, before any task runs (Click's driver manager,
    /// whose first instructions come before the first task).
    public func runFirst(_ timer: Timer) {
        firstTimers.append(timer)
    }

    /// Runs until `stop()` (or, in simulated time, until nothing can ever happen again).
    public func run() {
        let first = firstTimers
        firstTimers = []
        for timer in first where !stopRequested { timer.element.runTimer(timer) }
        var rounds = 0
        while !stopRequested {
            if let maximumRounds {
                if rounds >= maximumRounds { return }
                rounds += 1
            }
            if let interruptFlag, interruptFlag.pointee != 0 {
                stopRequested = true
                break
            }
            if let signalFlag, signalFlag.pointee != 0 {
                clickos_signals_pending_clear()
                onSignal?()
            }
            iterations &+= 1
            batchEnded = false
            // One clock reading per round: per-packet timestamps and rates use it.
            clock.refreshRecent()
            var worked = false
            var i = 0
            // A stop request takes effect once this round of tasks is over, as in Click
            // (whose driver checks for stops between task batches): every task scheduled
            // now gets its turn, so two sources with STOP both finish their batch.
            if strideOrder {
                worked = runTasksInStrideOrder()
            } else {
                // Up to Click's 128 task runs between timer checks, round after round of
                // the run list, while the tasks have work (idle polls end the round).
                var budget = Self.tasksPerRound
                while budget > 0 && !stopRequested && !batchEnded {
                    var passWorked = false
                    i = 0
                    while i < runList.count && budget > 0 && !batchEnded {
                        let task = runList[i]
                        budget -= 1
                        if task._withUnsafeGuaranteedRef({ $0.run() }) { passWorked = true }
                        // The task may have unscheduled itself (and another moved into its slot).
                        if i < runList.count && runList[i].toOpaque() == task.toOpaque() { i += 1 }
                    }
                    worked = worked || passWorked
                    if !passWorked || runList.isEmpty { break }
                }
            }
            if stopRequested { break }
            if !heap.isEmpty && runTimers(now: clock.now()) > 0 { worked = true }
            if stopRequested { break }
            if worked || !runList.isEmpty {
                if !watches.isEmpty && iterations % Self.busyPollInterval == 0 { pollWatches(timeout: 0) }
                continue
            }
            // Idle: sleep until the next timer or file descriptor event.
            if clock.isSimulated || clock.noWait {
                if !watches.isEmpty { pollWatches(timeout: 0) }
                guard let next = heap.first else {
                    if watches.isEmpty { return }
                    continue
                }
                clock.warp(to: next.expiry)
                continue
            }
            // Timers are kept to the microsecond (ppoll), so short naps and high rates
            // are not rounded up to whole milliseconds.
            let now = clock.now()
            if now < awakeUntil {
                pollWatches(timeout: 0)
                clickos_pause(16)
                continue
            }
            var timeout: Int64 = -1
            if let next = heap.first {
                timeout = clock.wallInterval(max(0, next.expiry.saturatingAdd(-now)))
            }
            pollWatches(timeout: timeout)
        }
    }

    /// Waits up to `timeout` nanoseconds (-1: until a descriptor or a signal) and tells
    /// the watchers of ready descriptors.
    private func pollWatches(timeout: Int64) {
        if watches.isEmpty {
            // Nothing to watch: sleep until the next timer, or until a signal if there is
            // none (ppoll, so that a caught interrupt arrives only while we sleep).
            if timeout != 0 { _ = clickos_ppoll(nil, 0, timeout) }
            return
        }
        if !pollSetValid {
            pollSet = watches.map { pollfd(fd: $0.fd, events: Int16(POLLIN), revents: 0) }
            pollSetValid = true
        }
        let n = pollSet.withUnsafeMutableBufferPointer { clickos_ppoll($0.baseAddress, UInt($0.count), timeout) }
        guard n > 0 else { return }
        // Watchers may watch and unwatch while being told: work from copies.
        let snapshot = watches
        let ready = pollSet
        for (k, pfd) in ready.enumerated() where pfd.revents != 0 && k < snapshot.count {
            snapshot[k].watcher.selected(fd: pfd.fd)
        }
    }
}

extension Element {
    /// A new task for this element on its router's thread (not yet scheduled), with the
    /// tickets ScheduleInfo gives the element.
    public func makeTask() -> Task {
        let task = Task(element: self)
        router.scheduler.adopt(task)
        if let tickets = scheduleTickets() { task.setTickets(tickets) }
        if firstTask == nil { firstTask = task }
        return task
    }

    /// The tickets ScheduleInfo gives this element, nil for the default: the shares of the
    /// element and of each compound holding it, multiplied (Click's ScheduleInfo::query).
    /// Above 32768 tickets, a warning and 32768.
    func scheduleTickets() -> Int? {
        let shares = router.scheduleShares
        guard !shares.isEmpty else { return nil }
        var tickets = Task.defaultTickets
        var found = false
        var prefix = ""
        for component in name.split(separator: "/", omittingEmptySubsequences: false) {
            prefix += prefix.isEmpty ? String(component) : "/" + component
            guard let share = shares[prefix], share != Task.defaultTickets else { continue }
            tickets = Int((Int64(tickets) * Int64(share)) >> 10)
            found = true
        }
        guard found else { return nil }
        if tickets > Task.maximumTickets {
            router.chatter("\(landmark): While initializing '\(declaration)':\n  warning: ScheduleInfo too high; reduced to 32")
            tickets = Task.maximumTickets
        }
        return tickets
    }

    /// A new timer for this element on its router's thread.
    public func makeTimer() -> Timer {
        let timer = Timer(element: self)
        router.scheduler.adopt(timer)
        return timer
    }
}
