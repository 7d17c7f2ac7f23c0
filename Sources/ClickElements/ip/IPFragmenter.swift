import ClickLanguage
import ClickRuntime

/// IPFragmenter(MTU [, *keywords* HONOR_DF, VERBOSE, HEADROOM])
///
/// Fragments IP packets longer than MTU bytes (RFC 791): fragments carry 8-byte-aligned
/// pieces of the payload, the first one all the options, later ones only the options whose
/// copy bit is set; they leave in order on output 0. A packet too long but marked Don't
/// Fragment goes to output 1 (usually ICMPError(…, unreachable, needfrag)) unless HONOR_DF
/// is false.
///
/// A large segment (from FromDevice with GSO true) is measured as Linux's forwarding
/// measures it: by the packets it stands for. If they fit it goes on whole; if not and it
/// is marked Don't Fragment it goes to output 1; otherwise it is cut into its packets,
/// which are fragmented.
///
/// Ports: 1 input, 1 or 2 outputs, push. Handlers: `drops`, `fragments` (read).
public final class IPFragmenter: Element {
    public override var portCount: String { "1/1-2" }
    public override var processing: String { "h/h" }
    var mtu = 1500
    var honorDF = true
    var verbose = false
    public private(set) var drops = 0
    public private(set) var fragments = 0

    public override func configure(_ args: inout Arguments) {
        mtu = args.mandatory("MTU", .unsignedInteger) ?? 1500
        honorDF = args.positional("HONOR_DF", .bool) ?? true
        verbose = args.positional("VERBOSE", .bool) ?? false
        unsupportedKeywords(&args, ["HEADROOM"], because: "fragments are pool buffers with a fixed headroom")
        if mtu < 8 { args.error("MTU must be at least 8") }
    }

    /// Options copied into later fragments.
    func copiedOptions(_ ip: UnsafeMutableRawPointer, _ hl: Int) -> [UInt8] {
        var out: [UInt8] = []
        var o = 20
        while o < hl {
            let kind = ip.byte(o)
            if kind == 0 { break }
            if kind == 1 {
                o += 1
                continue
            }
            guard o + 1 < hl else { break }
            let length = Int(ip.byte(o + 1))
            guard length >= 2, o + length <= hl else { break }
            if kind & 0x80 != 0 { for k in 0..<length { out.append(ip.byte(o + k)) } }
            o += length
        }
        while out.count % 4 != 0 { out.append(0) }
        return out
    }

    public override func push(port: Int, _ batch: inout PacketBatch) {
        // The common case: every packet fits, and the batch goes on as it is.
        var fits = true
        for i in 0..<batch.count {
            // As Click: what counts is the packet's length from its IP header on, not the
            // IP length field (a packet with EXTRA_LENGTH is not fragmented).
            guard batch[i].networkHeader != nil, measuredLength(batch[i]) <= mtu else {
                fits = false
                break
            }
        }
        if fits {
            output(0, &batch)
            return
        }
        withScratchBatch { out in fragment(&batch, into: &out) }
    }

    private func fragment(_ batch: inout PacketBatch, into out: inout PacketBatch) {
        for i in 0..<batch.count {
            let p = batch[i]
            guard let ip = p.networkHeader, let offset = p.networkHeaderOffset else {
                p.kill()
                continue
            }
            if measuredLength(p) <= mtu {
                if out.isFull { output(0, &out) }
                out.append(p)
                continue
            }
            let fragmentField = ip.be16(IPv4Header.fragment)
            // As in Click: a DF packet, or one whose header leaves no room for 8 bytes of
            // data in the first fragment, cannot be fragmented.
            let hl = Int(ip.byte(0) & 0x0F) << 2
            if (fragmentField & 0x4000 != 0 && honorDF) || (mtu - hl) & ~7 < 8 {
                if verbose || drops < 5 {
                    router.chatter("IPFragmenter(\(mtu)) DF \(IPv4Address(ip.be32(12))) \(IPv4Address(ip.be32(16))) len=\(p.length)")
                }
                drops &+= 1
                if noutputs > 1 { output(1, single: p) } else { p.kill() }
                continue
            }
            if p.isLargeSegment {
                cutAndFragment(p, into: &out)
                continue
            }
            split(p, ip, offset: offset) { f in
                if out.isFull { output(0, &out) }
                out.append(f)
            }
        }
        batch.count = 0
        output(0, &out)
    }

    /// The length that must fit the MTU: the packet's from its IP header on, or for a
    /// large segment that of each packet it stands for (headers plus one segment).
    @inline(__always) func measuredLength(_ p: Packet) -> Int {
        guard p.isLargeSegment else { return p.networkLength }
        guard let ip = p.networkHeader,
            let layout = SegmentLayout(ip, length: p.networkLength, gsoType: p.gsoType & 0x7F, segmentSize: p.gsoSize, linkHeader: false)
        else { return p.networkLength }
        return layout.headerLength + layout.segmentSize
    }

    /// Cuts the large segment `p`, whose packets do not fit and may be fragmented, into
    /// those packets and fragments each that needs it; a segment that cannot be cut is
    /// dropped (counted).
    private func cutAndFragment(_ p: Packet, into out: inout PacketBatch) {
        var made = 0
        if let ip = p.networkHeader,
            let layout = SegmentLayout(ip, length: p.networkLength, gsoType: p.gsoType & 0x7F, segmentSize: p.gsoSize, linkHeader: false) {
            made = layout.cutAll(ip, length: p.networkLength, pool: pool) { piece in
                let pieceIP = piece.data
                piece.setNetworkHeader(at: 0, headerLength: Int(pieceIP.byte(0) & 0x0F) << 2)
                piece.meta.pointee.annotations = p.meta.pointee.annotations
                piece.timestamp = p.timestamp
                if piece.length <= mtu {
                    if out.isFull { output(0, &out) }
                    out.append(piece)
                } else {
                    split(piece, pieceIP, offset: 0) { f in
                        if out.isFull { output(0, &out) }
                        out.append(f)
                    }
                }
            }
        }
        if made == 0 { drops &+= 1 }
        p.kill()
    }

    /// Splits `p` (IP header `ip` at `offset`) into fragments of at most MTU bytes, passes
    /// each to `emit` in order, and frees `p`. Options marked "copied" go into every
    /// fragment; annotations and timestamp are kept.
    func split(_ p: Packet, _ ip: UnsafeMutableRawPointer, offset: Int, emit: (Packet) -> Void) {
        let total = Int(ip.be16(IPv4Header.totalLength))
        var fragmentField = ip.be16(IPv4Header.fragment)
        if fragmentField & 0x4000 != 0 {
            // As Click: a DF packet fragmented anyway (HONOR_DF false) loses DF, and its ID,
            // which cannot be trusted to be unique, becomes a random one (Click stores the
            // low 16 bits of `click_random()` in host order).
            ip.setBE16(IPv4Header.id, UInt16(truncatingIfNeeded: router.random.clickRandom()).byteSwapped)
            fragmentField &= ~0x4000
        }
        let hl = Int(ip.byte(0) & 0x0F) << 2
        let laterOptions = copiedOptions(ip, hl)
        let baseOffset = Int(fragmentField & 0x1FFF) * 8
        let moreAfter = fragmentField & 0x2000 != 0
        let payload = min(total, p.length - offset) - hl
        var sent = 0
        var first = true
        while sent < payload {
            let headerLength = first ? hl : 20 + laterOptions.count
            var chunk = min(payload - sent, (mtu - headerLength) & ~7)
            if chunk <= 0 { break }
            let last = sent + chunk >= payload
            if last { chunk = payload - sent }
            guard let f = pool.make() else { break }
            guard f.put(headerLength + chunk) else {
                f.kill()
                break
            }
            let d = f.data
            if first {
                d.copyMemory(from: ip, byteCount: hl)
            } else {
                d.copyMemory(from: ip, byteCount: 20)
                // A non-empty array's buffer always has a base address.
                laterOptions.withUnsafeBytes { if let base = $0.baseAddress, !laterOptions.isEmpty { (d + 20).copyMemory(from: base, byteCount: laterOptions.count) } }
                d.setByte(0, 0x40 | UInt8(headerLength >> 2))
            }
            (d + headerLength).copyMemory(from: ip + hl + sent, byteCount: chunk)
            d.setBE16(IPv4Header.totalLength, UInt16(headerLength + chunk))
            var field = UInt16((baseOffset + sent) / 8) | (fragmentField & 0x4000)
            if !last || moreAfter { field |= 0x2000 }
            d.setBE16(IPv4Header.fragment, field)
            setIPChecksum(d)
            f.setNetworkHeader(at: 0, headerLength: headerLength)
            f.meta.pointee.annotations = p.meta.pointee.annotations
            f.timestamp = p.timestamp
            emit(f)
            fragments &+= 1
            sent += chunk
            first = false
        }
        p.kill()
    }

    public override func addHandlers(_ h: inout HandlerSet) {
        h.integer("drops", get: { [unowned self] in self.drops })
        h.integer("fragments", get: { [unowned self] in self.fragments })
    }
}
