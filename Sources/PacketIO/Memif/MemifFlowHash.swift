#if canImport(Glibc)
import Glibc
#endif
import CShims
import VMInterface
import ClickRuntime

extension MemifPort {
    /// A flow's hash: symmetric in source and destination, so both directions of a
    /// connection land on the same ring number.
    static func flowHash(_ p: Packet) -> UInt32 {
        let data = UnsafeRawPointer(p.data)
        let length = p.length
        func word(_ offset: Int) -> UInt32 { UInt32(bigEndian: data.loadUnaligned(fromByteOffset: offset, as: UInt32.self)) }
        func half(_ offset: Int) -> UInt32 { UInt32(UInt16(bigEndian: data.loadUnaligned(fromByteOffset: offset, as: UInt16.self))) }
        var key: UInt32
        if length >= 34 && half(12) == 0x0800 && data.load(fromByteOffset: 14, as: UInt8.self) >> 4 == 4 {
            let protocolNumber = UInt32(data.load(fromByteOffset: 23, as: UInt8.self))
            key = (word(26) ^ word(30)) &+ protocolNumber
            let headerLength = Int(data.load(fromByteOffset: 14, as: UInt8.self) & 0x0F) * 4
            let fragmented = half(20) & 0x3FFF != 0
            if (protocolNumber == 6 || protocolNumber == 17) && !fragmented && length >= 14 + headerLength + 4 {
                key ^= half(14 + headerLength) ^ half(14 + headerLength + 2)
            }
        } else if length >= 12 {
            key = word(0) ^ half(4) ^ word(6) ^ half(10)
        } else {
            key = 0
        }
        // Spread the bits (a multiplicative hash), then use the high half.
        return (key &* 0x9E37_79B1) >> 16
    }
}
