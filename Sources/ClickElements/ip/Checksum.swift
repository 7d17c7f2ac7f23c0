/// The Internet checksum (RFC 1071) over `length` bytes at `data`, folded and complemented.
@inline(__always) public func internetChecksum(_ data: UnsafeRawPointer, _ length: Int, initial: UInt32 = 0) -> UInt16 {
    ~foldChecksum(checksumSum(data, length, initial: initial))
}

/// True if the 20-byte IPv4 header (no options) at `ip` has a correct checksum: the
/// common case, summed as five 32-bit words.
@inline(__always) public func isValidIPv4HeaderChecksum20(_ ip: UnsafeRawPointer) -> Bool {
    var sum: UInt64 = 0
    for k in 0..<5 { sum &+= UInt64(UInt32(bigEndian: ip.loadUnaligned(fromByteOffset: 4 * k, as: UInt32.self))) }
    sum = (sum & 0xFFFF_FFFF) &+ (sum >> 32)
    var s32 = UInt32(truncatingIfNeeded: sum) 
    s32 = (s32 & 0xFFFF) &+ (s32 >> 16)
    s32 = (s32 & 0xFFFF) &+ (s32 >> 16)
    s32 = (s32 & 0xFFFF) &+ (s32 >> 16)
    return s32 == 0xFFFF
}

/// The unfolded one's-complement sum of 16-bit big-endian words.
@inline(__always) public func checksumSum(_ data: UnsafeRawPointer, _ length: Int, initial: UInt32 = 0) -> UInt32 {
    var sum = UInt64(initial)
    var i = 0
    while i + 8 <= length {
        let w = UInt64(bigEndian: data.loadUnaligned(fromByteOffset: i, as: UInt64.self))
        sum &+= (w >> 48) &+ ((w >> 32) & 0xFFFF) &+ ((w >> 16) & 0xFFFF) &+ (w & 0xFFFF)
        i += 8
    }
    while i + 2 <= length {
        sum &+= UInt64(UInt16(bigEndian: data.loadUnaligned(fromByteOffset: i, as: UInt16.self)))
        i += 2
    }
    if i < length { sum &+= UInt64(data.load(fromByteOffset: i, as: UInt8.self)) << 8 }
    while sum >> 32 != 0 { sum = (sum & 0xFFFF_FFFF) &+ (sum >> 32) }
    return UInt32(sum)
}

@inline(__always) public func foldChecksum(_ sum: UInt32) -> UInt16 {
    var s = sum
    while s >> 16 != 0 { s = (s & 0xFFFF) &+ (s >> 16) }
    return UInt16(s)
}

/// Click's `click_update_zero_in_cksum`: an incremental update can leave 0x0000 (-0) in
/// the checksum at `offset` where all `length` bytes of `data` (the checksum included) are
/// zero and the checksum must be 0xFFFF; this corrects that case.
@inline(__always) public func fixZeroChecksum(at offset: Int, _ data: UnsafeMutableRawPointer, _ length: Int) {
    guard data.be16(offset) == 0 else { return }
    for i in 0..<length where data.byte(i) != 0 { return }
    data.setBE16(offset, 0xFFFF)
}

/// Incremental update (RFC 1624): the checksum after a 16-bit field changes from `old` to `new`.
@inline(__always) public func updatedChecksum(_ checksum: UInt16, old: UInt16, new: UInt16) -> UInt16 {
    let sum = UInt32(~checksum) &+ UInt32(~old) &+ UInt32(new)
    return ~foldChecksum(sum)
}

/// Field offsets in an IPv4 header.
public enum IPv4Header {
    public static let versionIHL = 0
    public static let tos = 1
    public static let totalLength = 2
    public static let id = 4
    public static let fragment = 6
    public static let ttl = 8
    public static let proto = 9
    public static let checksum = 10
    public static let source = 12
    public static let destination = 16
    public static let minimumLength = 20
}

extension UnsafeMutableRawPointer {
    @inline(__always) func be16(_ o: Int) -> UInt16 { UInt16(bigEndian: loadUnaligned(fromByteOffset: o, as: UInt16.self)) }
    @inline(__always) func setBE16(_ o: Int, _ v: UInt16) { storeBytes(of: v.bigEndian, toByteOffset: o, as: UInt16.self) }
    @inline(__always) func be32(_ o: Int) -> UInt32 { UInt32(bigEndian: loadUnaligned(fromByteOffset: o, as: UInt32.self)) }
    @inline(__always) func setBE32(_ o: Int, _ v: UInt32) { storeBytes(of: v.bigEndian, toByteOffset: o, as: UInt32.self) }
    @inline(__always) func byte(_ o: Int) -> UInt8 { load(fromByteOffset: o, as: UInt8.self) }
    @inline(__always) func setByte(_ o: Int, _ v: UInt8) { storeBytes(of: v, toByteOffset: o, as: UInt8.self) }
}

/// Recomputes the IP header checksum of the header at `ip` (header length from IHL).
@inline(__always) func setIPChecksum(_ ip: UnsafeMutableRawPointer) {
    let hl = Int(ip.byte(0) & 0x0F) << 2
    ip.setBE16(IPv4Header.checksum, 0)
    ip.setBE16(IPv4Header.checksum, internetChecksum(ip, hl))
}

/// Sets the TOS byte of the header at `ip`, updating its checksum incrementally.
@inline(__always) func setIPTOS(_ ip: UnsafeMutableRawPointer, _ tos: UInt8) {
    let old = ip.be16(0)
    ip.setByte(IPv4Header.tos, tos)
    ip.setBE16(IPv4Header.checksum, updatedChecksum(ip.be16(IPv4Header.checksum), old: old, new: ip.be16(0)))
}
