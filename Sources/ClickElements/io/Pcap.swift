#if canImport(Glibc)
import Glibc
#endif
import ClickLanguage
import ClickRuntime

/// pcap link types for ENCAP arguments.
enum PcapEncap {
    static let names: [String: UInt32] = [
        "ETHER": 1, "IP": 101, "FDDI": 10, "ATM": 11, "802_11": 105, "SLL": 113, "AIRONET": 120, "HDLC": 104,
        "PPP_HDLC": 50, "PPP": 9, "SUNATM": 123, "PRISM": 119, "NULL": 0,
    ]
    static func name(_ linktype: UInt32) -> String { names.first { $0.value == linktype }?.key ?? String(linktype) }
}
