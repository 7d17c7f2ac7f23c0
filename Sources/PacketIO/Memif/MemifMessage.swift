/// One memif control message (protocol 2.0, `reference/memif.md`): every message on the
/// control socket is exactly 128 bytes, a little-endian `u16` type then a packed payload.
public enum MemifMessage: Equatable, Sendable {
    case ack
    case hello(name: String, minVersion: UInt16, maxVersion: UInt16, maxRegion: UInt16,
               maxS2CRing: UInt16, maxC2SRing: UInt16, maxLog2RingSize: UInt8)
    case initialize(version: UInt16, id: UInt32, mode: UInt8, secret: String, name: String)
    case addRegion(index: UInt16, size: UInt64)
    case addRing(flags: UInt16, index: UInt16, region: UInt16, offset: UInt32, log2Size: UInt8, privateHeaderSize: UInt16)
    case connect(interfaceName: String)
    case connected(interfaceName: String)
    case disconnect(code: UInt32, reason: String)

    public static let size = 128
    public static let version: UInt16 = 0x0200
    public static let cookie: UInt32 = 0x3E31_F20
    /// ADD_RING flag bit 0: the ring carries client-to-server traffic.
    public static let ringC2S: UInt16 = 1

    /// Why a received message could not be decoded; the text is the DISCONNECT reason
    /// libmemif and DPDK send for it.
    public struct DecodeError: Error, Equatable, Sendable {
        public let reason: String
    }

    public var typeCode: UInt16 {
        switch self {
        case .ack: 1
        case .hello: 2
        case .initialize: 3
        case .addRegion: 4
        case .addRing: 5
        case .connect: 6
        case .connected: 7
        case .disconnect: 8
        }
    }

    /// The 128 wire bytes.
    public func encoded() -> [UInt8] {
        var b = [UInt8](repeating: 0, count: Self.size)
        func u8(_ v: UInt8, _ at: Int) { b[at] = v }
        func u16(_ v: UInt16, _ at: Int) { b[at] = UInt8(v & 0xFF); b[at + 1] = UInt8(v >> 8) }
        func u32(_ v: UInt32, _ at: Int) { for i in 0..<4 { b[at + i] = UInt8((v >> (8 * UInt32(i))) & 0xFF) } }
        func u64(_ v: UInt64, _ at: Int) { for i in 0..<8 { b[at + i] = UInt8((v >> (8 * UInt64(i))) & 0xFF) } }
        func text(_ s: String, _ at: Int, _ width: Int) {
            // NUL-padded; a name that fills the field keeps no terminator, as in C.
            for (i, c) in s.utf8.prefix(width).enumerated() { b[at + i] = c }
        }
        u16(typeCode, 0)
        switch self {
        case .ack:
            break
        case let .hello(name, minVersion, maxVersion, maxRegion, maxS2C, maxC2S, maxLog2):
            text(name, 2, 32)
            u16(minVersion, 34)
            u16(maxVersion, 36)
            u16(maxRegion, 38)
            u16(maxS2C, 40)
            u16(maxC2S, 42)
            u8(maxLog2, 44)
        case let .initialize(version, id, mode, secret, name):
            u16(version, 2)
            u32(id, 4)
            u8(mode, 8)
            text(secret, 9, 24)
            text(name, 33, 32)
        case let .addRegion(index, size):
            u16(index, 2)
            u64(size, 4)
        case let .addRing(flags, index, region, offset, log2Size, privateHeaderSize):
            u16(flags, 2)
            u16(index, 4)
            u16(region, 6)
            u32(offset, 8)
            u8(log2Size, 12)
            u16(privateHeaderSize, 13)
        case let .connect(name), let .connected(name):
            text(name, 2, 32)
        case let .disconnect(code, reason):
            u32(code, 2)
            text(reason, 6, 96)
        }
        return b
    }

    /// Decodes one received datagram.
    public static func decode(_ bytes: UnsafeRawBufferPointer) -> Result<MemifMessage, DecodeError> {
        guard bytes.count == size else { return .failure(DecodeError(reason: "Invalid message size")) }
        func u8(_ at: Int) -> UInt8 { bytes[at] }
        func u16(_ at: Int) -> UInt16 { UInt16(bytes[at]) | UInt16(bytes[at + 1]) << 8 }
        func u32(_ at: Int) -> UInt32 { (0..<4).reduce(0) { $0 | UInt32(bytes[at + $1]) << (8 * UInt32($1)) } }
        func u64(_ at: Int) -> UInt64 { (0..<8).reduce(0) { $0 | UInt64(bytes[at + $1]) << (8 * UInt64($1)) } }
        func text(_ at: Int, _ width: Int) -> String {
            let field = bytes[at..<(at + width)]
            let end = field.firstIndex(of: 0) ?? field.endIndex
            return String(decoding: bytes[at..<end], as: UTF8.self)
        }
        switch u16(0) {
        case 1:
            return .success(.ack)
        case 2:
            return .success(.hello(name: text(2, 32), minVersion: u16(34), maxVersion: u16(36), maxRegion: u16(38),
                                   maxS2CRing: u16(40), maxC2SRing: u16(42), maxLog2RingSize: u8(44)))
        case 3:
            return .success(.initialize(version: u16(2), id: u32(4), mode: u8(8), secret: text(9, 24), name: text(33, 32)))
        case 4:
            return .success(.addRegion(index: u16(2), size: u64(4)))
        case 5:
            return .success(.addRing(flags: u16(2), index: u16(4), region: u16(6), offset: u32(8), log2Size: u8(12),
                                     privateHeaderSize: u16(13)))
        case 6:
            return .success(.connect(interfaceName: text(2, 32)))
        case 7:
            return .success(.connected(interfaceName: text(2, 32)))
        case 8:
            return .success(.disconnect(code: u32(2), reason: text(6, 96)))
        default:
            return .failure(DecodeError(reason: "Unknown message type"))
        }
    }
}
