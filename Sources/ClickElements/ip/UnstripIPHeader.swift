import ClickLanguage
import ClickRuntime

public final class UnstripIPHeader: Element, PacketAction {

    @inline(__always) public func action(_ p: Packet) -> Int {
        if let o = p.networkHeaderOffset, o < 0 { p.push(-o) }
        return 0
    }

}
