import ClickRuntime

/// The standard element library: every element class this module implements, by its
/// Click class name (plus Click's aliases).
public enum StandardElements {
    public static var registry: ElementRegistry {
        var r = ElementRegistry()
        for (name, make) in classes { r.register(name, make) }
        return r
    }

    static var classes: [(String, () -> Element)] { [
        ("Idle", { Idle() }),
        ("Discard", { Discard() }),
        ("InfiniteSource", { InfiniteSource() }),
        ("Counter", { Counter() }),
        ("Queue", { Queue() }),
        ("SimpleQueue", { SimpleQueue() }),
        ("NotifierQueue", { NotifierQueue() }),
        ("FullNoteQueue", { FullNoteQueue() }),
        ("FrontDropQueue", { FrontDropQueue() }),
        ("Unqueue", { Unqueue() }),
        ("Tee", { Tee() }),
        ("PullTee", { PullTee() }),
        ("Paint", { Paint() }),
        ("PaintTee", { PaintTee() }),
        ("PaintSwitch", { PaintSwitch() }),
        ("CheckPaint", { CheckPaint() }),
        ("Strip", { Strip() }),
        ("Unstrip", { Unstrip() }),
        ("StripToNetworkHeader", { StripToNetworkHeader() }),
        ("Null", { Null() }),
        ("Align", { Align() }),
        ("Print", { Print() }),
        ("Message", { Message() }),
        ("Switch", { Switch() }),
        ("StaticSwitch", { StaticSwitch() }),
        ("RoundRobinSwitch", { RoundRobinSwitch() }),
        ("HashSwitch", { HashSwitch() }),
        ("RandomSwitch", { RandomSwitch() }),
        ("AddressInfo", { AddressInfo() }),
        ("PortInfo", { PortInfo() }),
        ("Classifier", { Classifier() }),
        ("IPFilter", { IPFilter() }),
        ("IPClassifier", { IPClassifier() }),
        ("CheckIPHeader", { CheckIPHeader() }),
        ("MarkIPHeader", { MarkIPHeader() }),
        ("DecIPTTL", { DecIPTTL() }),
        ("DropBroadcasts", { DropBroadcasts() }),
        ("FixIPSrc", { FixIPSrc() }),
        ("GetIPAddress", { GetIPAddress() }),
        ("SetIPAddress", { SetIPAddress() }),
        ("SetIPChecksum", { SetIPChecksum() }),
        ("IPMirror", { IPMirror() }),
        ("IPGWOptions", { IPGWOptions() }),
        ("IPFragmenter", { IPFragmenter() }),
        ("ICMPError", { ICMPError() }),
        ("StaticIPLookup", { StaticIPLookup() }),
        ("LinearIPLookup", { LinearIPLookup() }),
        ("RadixIPLookup", { RadixIPLookup() }),
        ("DirectIPLookup", { DirectIPLookup() }),
        ("RangeIPLookup", { RangeIPLookup() }),
        ("LookupIPRoute", { LookupIPRoute() }),
        ("EtherEncap", { EtherEncap() }),
        ("EtherMirror", { EtherMirror() }),
        ("EtherRewrite", { EtherRewrite() }),
        ("ARPResponder", { ARPResponder() }),
    ] }
}
