import ClickRuntime

/// The standard element library: every element class this module implements (Click's
/// `EXPORT_ELEMENT`), and Click's aliases. A class's Click name is its Swift name.
public enum StandardElements {
    public static var registry: ElementRegistry {
        var r = ElementRegistry()
        for type in classes { r.register(type) }
        for (alias, type) in aliases { r.register(type, alias: alias) }
        return r
    }

    /// The element classes, by area.
    public static let classes: [Element.Type] = [
        Idle.self, Discard.self, InfiniteSource.self, Counter.self, Queue.self, SimpleQueue.self,
        NotifierQueue.self, FullNoteQueue.self, FrontDropQueue.self, Unqueue.self,
        RatedSource.self, TimedSource.self, RatedUnqueue.self, BandwidthRatedUnqueue.self,
        Shaper.self, BandwidthShaper.self, TimedSink.self, RoundRobinSched.self, PrioSched.self,
        Tee.self, PullTee.self, Paint.self, PaintTee.self, PaintSwitch.self, CheckPaint.self,
        Strip.self, Unstrip.self, Pad.self, StoreData.self, CheckLength.self, SetPacketType.self, SetAnnoByte.self, TruncateIPPayload.self, StoreEtherAddress.self, EnsureEther.self, CheckARPHeader.self, StripToNetworkHeader.self, Null.self, PushNull.self, PullNull.self, Align.self, Print.self,
        Message.self, Script.self, DriverManager.self, Switch.self, StaticSwitch.self,
        RoundRobinSwitch.self, HashSwitch.self, FlowHashSwitch.self, FlowJunction.self,
        RandomSwitch.self, AddressInfo.self, ScheduleInfo.self, ClickyInfo.self, AlignmentInfo.self, PortInfo.self, Classifier.self, IPFilter.self,
        IPClassifier.self, CheckIPHeader.self, MarkIPHeader.self, DecIPTTL.self,
        DropBroadcasts.self, FixIPSrc.self, GetIPAddress.self, SetIPAddress.self,
        SetIPChecksum.self, IPMirror.self, IPGWOptions.self, IPFragmenter.self, ICMPError.self,
        StaticIPLookup.self, LinearIPLookup.self, RadixIPLookup.self, DirectIPLookup.self,
        RangeIPLookup.self, LookupIPRoute.self, EtherEncap.self, EtherMirror.self,
        EtherRewrite.self, ARPResponder.self, ARPQuerier.self, IPEncap.self, UDPIPEncap.self,
        StripIPHeader.self, UnstripIPHeader.self, SetTCPChecksum.self, SetUDPChecksum.self,
        CheckTCPHeader.self, CheckUDPHeader.self, CheckICMPHeader.self, ICMPPingResponder.self,
        SetIPDSCP.self, Truncate.self, SetTimestamp.self, RatedSplitter.self,
        BandwidthRatedSplitter.self, RandomSeed.self, MarkIPCE.self, AdjustTimestamp.self,
        SetTimestampDelta.self, TimeFilter.self, Resize.self, StoreIPAddress.self, Hub.self,
        Bypass.self, InputSwitch.self, PullSwitch.self, MarkMACHeader.self, HostEtherFilter.self,
        VLANEncap.self, VLANDecap.self, SetVLANAnno.self, EtherVLANEncap.self,
        StripEtherVLANHeader.self, ToDump.self, FromDump.self, ControlSocket.self, FromDevice.self,
        ToDevice.self, KernelTun.self, McastSocket.self, KernelTap.self, AverageCounter.self, RandomSample.self, IPRewriter.self, TCPRewriter.self,
        UDPRewriter.self, ICMPPingRewriter.self, IPRewriterPatterns.self, RoundRobinIPMapper.self,
        SourceIPHashMapper.self, MixedQueue.self, SimplePullSwitch.self, StrideSched.self,
        TimeSortedSched.self, DelayUnqueue.self, DelayShaper.self, LinkUnqueue.self,
        FromIPSummaryDump.self, ToIPSummaryDump.self, SetIPECN.self, VXLANEncap.self,
        VXLANDecap.self, IPPrint.self, RED.self, ICMPPingSource.self, ARPPrint.self,
        IPAddrRewriter.self, IPAddrPairRewriter.self, ICMPRewriter.self, FTPPortMapper.self, ARPTable.self,
        ICMPIPEncap.self, Clipboard.self, IPReassembler.self, AggregateIPFlows.self, AggregateCounter.self,
        IPRateMonitor.self, IPInputCombo.self, IPOutputCombo.self,
        // Click's self-test elements that its test suite runs.
        TokenBucketTest.self, SchedOrderTest.self, NeighborhoodTest.self, TimerTest.self,
    ]

    /// Other names Click knows these classes by.
    public static let aliases: [(String, Element.Type)] = [
        ("SetECN", SetIPECN.self),
    ]
}
