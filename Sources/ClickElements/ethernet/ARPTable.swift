import ClickLanguage
import ClickRuntime

/// ARPTable([*keywords* CAPACITY, ENTRY_CAPACITY, ENTRY_PACKET_CAPACITY, TIMEOUT])
///
/// An ARP table that several ARPQueriers share (`ARPQuerier(IP, ETH, TABLE t)`): what one
/// learns, the others use. CAPACITY (or ENTRY_CAPACITY) bounds the entries (default
/// 2048), ENTRY_PACKET_CAPACITY the packets waiting per address (16), TIMEOUT the life
/// of an entry (5 minutes).
///
/// Ports: none. Handlers: `table`, `count` (read); `insert` (write `IP ETH`), `delete`
/// (write `IP`), `clear` (write).
public final class ARPTable: Element {
    public override var portCount: String { "0/0" }
    public let store = ARPEntries()

    public override func configure(_ args: inout Arguments) {
        store.capacity = args.keyword("CAPACITY", .unsignedInteger) ?? args.keyword("ENTRY_CAPACITY", .unsignedInteger) ?? 2048
        store.entryPacketCapacity = args.keyword("ENTRY_PACKET_CAPACITY", .unsignedInteger) ?? 16
        if let t = args.keyword("TIMEOUT", .timestamp) { store.timeout = ARPEntries.effectiveTimeout(t) }
    }

    public override func cleanup() { store.clear() }

    public override func takeState(from old: Element) {
        guard let old = old as? ARPTable else { return }
        store.entries = old.store.entries
        old.store.entries = [:]
    }

    public override func addHandlers(_ h: inout HandlerSet) { store.addTableHandlers(&h, clock: router.clock) }
}
