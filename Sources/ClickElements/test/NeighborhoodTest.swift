import ClickLanguage
import ClickRuntime

/// NeighborhoodTest()
///
/// Click's test of router neighbourhoods: its handlers list the elements near it in the
/// configuration, one name per line, as Click's ElementNeighborhoodTracker finds them
/// (breadth first, through the ports each element's flow code connects). Packets that
/// reach it are dropped.
///
/// Ports: any number of inputs and outputs, agnostic.
///
/// Handlers: `upstream`, `downstream` (read, with an optional distance, default 1): the
/// elements within that many connections upstream of all inputs or downstream of all
/// outputs; `upstreamN` and `downstreamN` the same from input or output N only.
public final class NeighborhoodTest: Element, PacketAction {
    public override var portCount: String { "-/-" }

    public override func push(port: Int, _ batch: inout PacketBatch) { pushThrough(&batch) }

    @inline(__always) public func action(_ p: Packet) -> Int { -1 }

    public override func addHandlers(_ h: inout HandlerSet) {
        for (forward, count, base) in [(false, ninputs, "upstream"), (true, noutputs, "downstream")] {
            for port in [nil] + (0..<count).map(Optional.some) {
                h.readWithParameter(base + (port.map(String.init) ?? "")) { [unowned self] (text: String) throws(ElementError) -> String in
                    let words = ConfigText.words(text)
                    var diameter = 1
                    if let word = words.first {
                        guard words.count == 1, let d = Int(word) else { throw ElementError("syntax error") }
                        diameter = d
                    }
                    return self.router.neighborhood(of: self, forward: forward, port: port, diameter: diameter)
                        .map { $0.name + "\n" }.joined()
                }
            }
        }
    }
}
