#if canImport(Glibc)
import Glibc
#endif
import ClickLanguage
import ClickRuntime

/// ToDump(FILENAME [, SNAPLEN, ENCAP, *keywords* USE_ENCAP_FROM, EXTRA_LENGTH, UNBUFFERED, NANO])
///
/// Writes packets to FILENAME (`-` for standard output) as a pcap file tcpdump reads:
/// link type ENCAP (ETHER by default, IP, ...), at most SNAPLEN bytes per packet (default
/// 2000), timestamps from the timestamp annotation: nanoseconds by default, as Click built
/// with nanosecond timestamps (its default on Linux) writes them; microseconds with
/// `NANO false`; a packet without a timestamp gets the current time. Packets pass through
/// to output 0 if it exists.
///
/// A header that cannot be written fails initialization ("unable to write file header").
/// A later write error (a full disk, a file size limit) is reported once, as Click does
/// (`ToDump(FILENAME): No space left on device`); from then on packets are not written
/// and each is counted in `write_errors`.
///
/// Ports: 1 input, 0 or 1 output, agnostic. Handlers: `count`, `write_errors`, `filename`
/// (read); `flush` (write).
public final class ToDump: Element, PacketAction {
    public override var portCount: String { "1/0-1" }
    var filename = ""
    var snaplen = 2000
    /// EXTRA_LENGTH: the recorded original length includes the EXTRA_LENGTH annotation
    /// (bytes a Truncate removed).
    var extraLength = true
    var linktype: UInt32 = 1
    var nano = true
    var unbuffered = false
    var file: UnsafeMutablePointer<FILE>? = nil
    var ownsFile = false
    public private(set) var count = 0
    /// Packets not written because writing failed.
    public private(set) var writeErrors = 0
    var failed = false

    public override func configure(_ args: inout Arguments) {
        filename = args.mandatory("FILENAME", .string) ?? ""
        snaplen = args.positional("SNAPLEN", .unsignedInteger) ?? 2000
        if let e = args.positional("ENCAP", .word) {
            if let t = PcapEncap.names[e.uppercased()] { linktype = t } else { args.error("bad encapsulation type '\(e)'", keyword: "ENCAP") }
        }
        extraLength = args.keyword("EXTRA_LENGTH", .bool) ?? true
        unsupportedKeywords(&args, ["USE_ENCAP_FROM"], because: "give ENCAP instead")
        unbuffered = args.keyword("UNBUFFERED", .bool) ?? false
        nano = args.keyword("NANO", .bool) ?? true
        if snaplen == 0 { snaplen = 65535 }
    }

    public override func initialize() throws(ElementError) {
        if filename == "-" {
            file = fdopen(dup(1), "wb")
        } else {
            file = fopen(filename, "wb")
        }
        guard let file else { throw ElementError("\(filename): \(String(cString: strerror(errno)))") }
        ownsFile = true
        var header = [UInt8]()
        func le32(_ v: UInt32) { header += [UInt8(v & 0xFF), UInt8(v >> 8 & 0xFF), UInt8(v >> 16 & 0xFF), UInt8(v >> 24)] }
        le32(nano ? 0xA1B2_3C4D : 0xA1B2_C3D4)
        header += [2, 0, 4, 0]
        le32(0)
        le32(0)
        le32(UInt32(snaplen))
        le32(linktype)
        let wrote = header.withUnsafeBytes { fwrite($0.baseAddress, 1, $0.count, file) }
        if wrote != header.count || fflush(file) != 0 {
            throw ElementError("\(filename): unable to write file header (\(String(cString: strerror(errno))))")
        }
    }

    /// Reports the first write error (with errno's words) and counts every packet lost.
    func writeFailed(_ error: Int32, packets: Int = 1) {
        if !failed {
            failed = true
            router.chatter("ToDump(\(filename)): \(String(cString: strerror(error)))")
        }
        writeErrors &+= packets
    }

    public override func cleanup() {
        if let file, ownsFile {
            // Buffered records reach the file only now: a failure here loses them too.
            if fflush(file) != 0 && !failed { writeFailed(errno, packets: 0) }
            fclose(file)
        }
        file = nil
    }

    public override func push(port: Int, _ batch: inout PacketBatch) { pushThrough(&batch) }

    @inline(__always) public func action(_ p: Packet) -> Int {
        guard let file else { return 0 }
        // A packet without a timestamp (one made by ARPResponder, say) is written with
        // the current time, as Click's ToDump does.
        let ts = p.timestamp != 0 ? p.timestamp : routerNow()
        let seconds = UInt32(truncatingIfNeeded: ts / 1_000_000_000)
        let fraction = UInt32(truncatingIfNeeded: nano ? ts % 1_000_000_000 : (ts % 1_000_000_000) / 1000)
        let captured = min(p.length, snaplen)
        if failed {
            writeErrors &+= 1
            return noutputs > 0 ? 0 : -1
        }
        var record = (seconds.littleEndian, fraction.littleEndian, UInt32(captured).littleEndian,
                      UInt32(truncatingIfNeeded: p.length + (extraLength ? Int(p.annotation32(Annotation.extraLength)) : 0)).littleEndian)
        let wrote = withUnsafeBytes(of: &record) { fwrite($0.baseAddress, 1, 16, file) }
        if wrote != 16 || fwrite(p.data, 1, captured, file) != captured || (unbuffered && fflush(file) != 0) {
            writeFailed(errno)
            return noutputs > 0 ? 0 : -1
        }
        count &+= 1
        return noutputs > 0 ? 0 : -1
    }


    public override func addHandlers(_ h: inout HandlerSet) {
        h.integer("count", get: { [unowned self] in self.count })
        h.integer("write_errors", get: { [unowned self] in self.writeErrors })
        h.read("filename") { [unowned self] in self.filename }
        h.write("flush") { [unowned self] _ in
            if let f = self.file, fflush(f) != 0 { self.writeFailed(errno, packets: 0) }
        }
    }
}
