import ClickLanguage
import ClickRuntime

/// The TCP/UDP checksum over the pseudo-header and `length` bytes at `transport`.
func transportChecksum(_ ip: UnsafeMutableRawPointer, proto: UInt8, transport: UnsafeMutableRawPointer, length: Int) -> UInt16 {
    var pseudo = UInt32(ip.be16(12)) &+ UInt32(ip.be16(14)) &+ UInt32(ip.be16(16)) &+ UInt32(ip.be16(18))
    pseudo &+= UInt32(proto) &+ UInt32(length)
    let c = internetChecksum(transport, length, initial: pseudo)
    return proto == 17 && c == 0 ? 0xFFFF : c
}
