import ClickLanguage
import ClickRuntime

/// The IPFilter/IPClassifier expression language (`elements/ip/ipfilter.hh`): primitives
/// (`host`, `net`, `port`, `ip proto`, `ip vers|hl|id|tos|dscp|ttl|len|ect|ce|frag|unfrag`,
/// `tcp opt`, `tcp win`, `icmp type`, `ip[..]`, `transp[..]`, `tcp[..]`, `udp[..]`,
/// `icmp[..]`, `ether host`, `true`, `false`), with `src`/`dst`/`src or dst`/`src and dst`
/// qualifiers, `and or not` (`&& || !`), parentheses, `?:`, relations and masks,
/// abbreviations (a bare `tcp`, `syn`, address, prefix or port name), and qualifiers that
/// carry over (`src port 80 or 81`).
///
/// Chains of `and` and `or` are n-ary nodes, not nested pairs, so that a rule of 100,000
/// alternatives is a flat list: the tree is only as deep as the parentheses, `?:` and
/// `not`s written, and those are limited (`FilterParser.maximumDepth`).
public indirect enum FilterExpression: Sendable, Equatable {
    case test(FilterNode)
    case not(FilterExpression)
    /// Holds when every member holds.
    case all([FilterExpression])
    /// Holds when some member holds.
    case any([FilterExpression])
    case choice(FilterExpression, FilterExpression, FilterExpression)
    case constant(Bool)

    /// `a and b`.
    static func and(_ a: FilterExpression, _ b: FilterExpression) -> FilterExpression { .all([a, b]) }
    /// `a or b`.
    static func or(_ a: FilterExpression, _ b: FilterExpression) -> FilterExpression { .any([a, b]) }
}

public struct FilterSyntaxError: Error, Sendable, CustomStringConvertible {
    /// Click's messages for the problem, in order (a misplaced field gives two).
    public var messages: [String]
    public var message: String { messages.joined(separator: "\n") }
    public var description: String { message }

    public init(message: String) { messages = [message] }
    public init(messages: [String]) { self.messages = messages }
}

enum FilterNames {
    static let protocols: [String: UInt32] = ["icmp": 1, "igmp": 2, "ipip": 4, "tcp": 6, "udp": 17]
    static let icmpTypes: [String: UInt32] = [
        "echo-reply": 0, "unreachable": 3, "sourcequench": 4, "redirect": 5, "echo": 8, "routeradvert": 9,
        "routersolicit": 10, "timeexceeded": 11, "time-exceeded": 11, "parameterproblem": 12, "timestamp": 13,
        "timestamp-reply": 14, "inforeq": 15, "inforeq-reply": 16, "maskreq": 17, "maskreq-reply": 18,
    ]
    static let tcpFlags: [String: UInt32] = ["fin": 1, "syn": 2, "rst": 4, "psh": 8, "ack": 16, "urg": 32]
}
