import ClickLanguage
import ClickRuntime

/// CheckIPHeader([OFFSET, *keywords* INTERFACES, BADSRC, GOODDST, CHECKSUM, VERBOSE, DETAILS])
///
/// Checks that packets hold a valid IPv4 header OFFSET bytes in (default 0): version 4,
/// header length at least 20 and within the packet, total length at least the header and
/// no more than the packet, a correct checksum (unless CHECKSUM false), and, with BADSRC or
/// INTERFACES, a source address that is not a broadcast or multicast address (RFC 1812
/// 5.3.7). Valid packets are shortened to the IP length, get their network header and
/// destination address annotation set, and go to output 0; invalid ones go to output 1 if
/// it exists, otherwise they are dropped. The first invalid packet is reported
/// (`c: IP header check failed: bad IP checksum`); with VERBOSE every one is. DETAILS
/// counts drops by reason.
///
/// Ports: 1 input, 1 or 2 outputs, agnostic (output 1 push).
///
/// Handlers: `drops` (read), `drop_details` (read, with DETAILS).
public final class CheckIPHeader: Element, PacketAction {
    public override var portCount: String { "1/1-2" }
    public override var processing: String { "a/ah" }

    var offset = 0
    var checksum = true
    var verbose = false
    var details = false
    var badSources: [UInt32] = []
    var goodDestinations: [UInt32] = []
    var checkSource = false
    public private(set) var drops = 0
    var reasonCounts = [Int](repeating: 0, count: Reason.allCases.count)

    enum Reason: Int, CaseIterable {
        case tiny, badVersion, badHeaderLength, badIPLength, badChecksum, badSource
        var text: String {
            switch self {
            case .tiny: return "tiny packet"
            case .badVersion: return "bad IP version"
            case .badHeaderLength: return "bad IP header length"
            case .badIPLength: return "bad IP length"
            case .badChecksum: return "bad IP checksum"
            case .badSource: return "bad source address"
            }
        }
    }

    public override func configure(_ args: inout Arguments) {
        offset = args.positional("OFFSET", .unsignedInteger) ?? 0
        configureAddressChecks(&args, badSources: args.keyword("BADSRC", .string))
        checksum = args.keyword("CHECKSUM", .bool) ?? true
        verbose = args.keyword("VERBOSE", .bool) ?? false
        details = args.keyword("DETAILS", .bool) ?? false
    }

    /// BADSRC (given, as a keyword or positionally by IPInputCombo), INTERFACES and GOODDST.
    func configureAddressChecks(_ args: inout Arguments, badSources list: String?) {
        if let list {
            for word in ConfigText.words(list) {
                if let (a, _) = IPv4Address.parse(word) { badSources.append(a.value) } else { args.error("bad address '\(word)'", keyword: "BADSRC") }
            }
            checkSource = true
        }
        if let list = args.keyword("INTERFACES", .string) {
            for word in ConfigText.words(list) {
                if let p = IPv4Prefix.parse(word) {
                    badSources.append(p.broadcast.value)
                    goodDestinations.append(p.address.value)
                } else {
                    args.error("bad interface '\(word)'", keyword: "INTERFACES")
                }
            }
            checkSource = true
        }
        if let list = args.keyword("GOODDST", .string) {
            for word in ConfigText.words(list) {
                if let (a, _) = IPv4Address.parse(word) { goodDestinations.append(a.value) }
            }
        }
    }

    /// The address lists, copied to plain memory at initialization so that the per-packet
    /// checks touch no Swift array.
    var badList = UnsafeMutableBufferPointer<UInt32>.allocate(capacity: 0)
    var goodList = UnsafeMutableBufferPointer<UInt32>.allocate(capacity: 0)

    deinit {
        badList.deallocate()
        goodList.deallocate()
    }

    public override func initialize() throws(ElementError) {
        badList.deallocate()
        goodList.deallocate()
        badList = .allocate(capacity: badSources.count)
        _ = badList.initialize(from: badSources)
        goodList = .allocate(capacity: goodDestinations.count)
        _ = goodList.initialize(from: goodDestinations)
    }

    @inline(__always) func isBadSource(_ a: UInt32) -> Bool {
        for i in 0..<badList.count where badList[i] == a { return true }
        return false
    }

    @inline(__always) func isGoodDestination(_ a: UInt32) -> Bool {
        for i in 0..<goodList.count where goodList[i] == a { return true }
        return false
    }

    /// Counts a bad packet and sends it to output 1. The first one is reported, every one
    /// with VERBOSE, in Click's words (`c: IP header check failed: bad IP checksum`).
    @inline(__always) func reject(_ reason: Reason) -> Int {
        if drops == 0 || verbose { router.chatter("\(name): IP header check failed: \(reason.text)") }
        drops &+= 1
        reasonCounts[reason.rawValue] &+= 1
        return 1
    }

    public override func push(port: Int, _ batch: inout PacketBatch) { pushThrough(&batch) }

    @inline(__always) public func action(_ p: Packet) -> Int {
        let available = p.length - offset
        guard available >= IPv4Header.minimumLength else { return reject(.tiny) }
        let ip = p.data + offset
        let vhl = ip.byte(0)
        guard vhl >> 4 == 4 else { return reject(.badVersion) }
        let hl = Int(vhl & 0x0F) << 2
        guard hl >= 20 else { return reject(.badHeaderLength) }  // a header longer than the packet fails the length check below, as in Click
        let ipLength = Int(ip.be16(IPv4Header.totalLength))
        guard ipLength >= hl, ipLength <= available else { return reject(.badIPLength) }
        if checksum {
            let good = hl == 20 ? isValidIPv4HeaderChecksum20(ip) : internetChecksum(ip, hl) == 0
            if !good { return reject(.badChecksum) }
        }
        if checkSource {
            let src = ip.be32(IPv4Header.source)
            if src == 0xFFFF_FFFF || src >> 28 == 0xE || isBadSource(src) {
                // A good destination (one of ours) may still come from a broadcast source.
                if !isGoodDestination(ip.be32(IPv4Header.destination)) { return reject(.badSource) }
            }
        }
        if available > ipLength { p.take(available - ipLength) }
        p.setNetworkHeader(at: offset, headerLength: hl)
        p.destinationIPAnnotation = ip.be32(IPv4Header.destination)
        return 0
    }


    public override func takeState(from old: Element) {
        guard let old = old as? CheckIPHeader else { return }
        drops = old.drops
        reasonCounts = old.reasonCounts
    }

    public override func addHandlers(_ h: inout HandlerSet) {
        h.integer("drops", get: { [unowned self] in self.drops })
        if details {
            h.read("drop_details") { [unowned self] in dropDetails(self.reasonCounts, Reason.allCases.map(\.text)) }
        }
    }
}
