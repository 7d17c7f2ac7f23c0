import ClickLanguage
import ClickRuntime

/// SchedOrderTest(ID [, *keywords* SIZE, STOP, LIMIT])
///
/// Click's test of task scheduling order. Each run of its task writes ID into a buffer that
/// all SchedOrderTest elements of the router share (SIZE entries, the largest any of them
/// asks for; 1024 by default). Once the buffer is full, a SchedOrderTest with STOP true
/// stops the driver. With LIMIT, the task runs at most LIMIT times.
///
/// Ports: none.
///
/// Handlers: `order` (read) gives the IDs in the order the tasks ran, separated by spaces;
/// when its task runs, the task handlers (`scheduled`, `tickets`, `home_thread`).
public final class SchedOrderTest: Element {
    public override var portCount: String { "0/0" }

    private var id = 0
    private var size = 0
    private var stop = false
    private var limit = 0
    private var count = 0
    /// The router's first SchedOrderTest, which holds the shared buffer.
    private unowned(unsafe) var main: SchedOrderTest?
    private var order: [Int] = []
    private var capacity = 0
    private var task: Task?

    public override func configure(_ args: inout Arguments) {
        id = args.mandatory("ID", .integer) ?? 0
        size = args.keyword("SIZE", .unsignedInteger) ?? 0
        stop = args.keyword("STOP", .bool) ?? false
        limit = args.keyword("LIMIT", .unsignedInteger) ?? 0
    }

    public override func initialize() throws(ElementError) {
        let all = router.elements.compactMap { $0 as? SchedOrderTest }
        // The router holds this element, so `all` is never empty.
        let first = all.first ?? self
        main = first
        if first === self {
            capacity = all.map(\.size).max() ?? 0
            if capacity == 0 { capacity = 1024 }
            order.reserveCapacity(capacity)
        }
        let t = makeTask()
        task = t
        t.schedule()
    }

    public override func runTask(_ task: Task) -> Bool {
        guard let main else { return false }
        if main.order.count < main.capacity {
            main.order.append(id)
        } else if stop {
            router.requestStop()
        }
        count += 1
        if limit != 0 && count >= limit { task.unschedule() }
        return true
    }

    public override func addHandlers(_ handlers: inout HandlerSet) {
        handlers.read("order") { [unowned self] in
            guard let main else { return "" }
            return main.order.map(String.init).joined(separator: " ") + "\n"
        }
    }
}
