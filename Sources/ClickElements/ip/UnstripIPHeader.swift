import ClickLanguage
import ClickRuntime

public final class UnstripIPHeader: Element, PacketAction {

    public override func push(port: Int, _ batch: inout PacketBatch) { pushThrough(&batch) }

    @inline(__always) public func action(_ p: Packet) -> Int {
        if let o = p.networkHeaderOffset, o < 0 { p.push(-o) }
        return 0
    }

}
