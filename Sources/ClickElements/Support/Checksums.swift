import ClickLanguage
import ClickRuntime

/// The TCP/UDP checksum over the pseudo-header and `length` bytes at `transport`.
func transportChecksum(_ ip: UnsafeMutableRawPointer, proto: UInt8, transport: UnsafeMutableRawPointer, length: Int) -> UInt16 {
    let c = internetChecksum(transport, length, initial: pseudoHeaderSum(ip, proto: proto, length: length))
    return proto == 17 && c == 0 ? 0xFFFF : c
}

/// The pseudo-header's sum as Click's `click_in_cksum_pseudohdr` takes it: source,
/// destination (the final one of a loose or strict source route option, where the header
/// has one), protocol and transport length.
func pseudoHeaderSum(_ ip: UnsafeMutableRawPointer, proto: UInt8, length: Int) -> UInt32 {
    var destination = UInt32(ip.be16(16)) &+ UInt32(ip.be16(18))
    let headerLength = Int(ip.byte(0) & 0x0F) << 2
    var o = 20
    while o < headerLength {
        let kind = ip.byte(o)
        if kind == 1 { o += 1; continue }
        if kind == 0 || o + 1 >= headerLength { break }
        let optionLength = Int(ip.byte(o + 1))
        if optionLength < 2 || o + optionLength > headerLength { break }
        if (kind == 131 || kind == 137) && optionLength >= 7 {
            destination = UInt32(ip.be16(o + optionLength - 4)) &+ UInt32(ip.be16(o + optionLength - 2))
            break
        }
        o += optionLength
    }
    return UInt32(ip.be16(12)) &+ UInt32(ip.be16(14)) &+ destination &+ UInt32(proto) &+ UInt32(length)
}
