// iprouter.click -- a two-interface IPv4 router in Click's standard structure (the IP
// router of Kohler et al., "The Click modular router", TOCS 2000), as a compound class.
//
//   IPRouter2($ADDR0, $NET0, $ETH0, $NEXT0, $ADDR1, $NET1, $ETH1, $NEXT1)
//
// Interface i has address $ADDRi on network $NETi (ADDR/LEN) and Ethernet address
// $ETHi; $NEXTi is the Ethernet address frames leaving interface i are sent to (a fixed
// next hop stands in for ARP, as in Click's fake-iprouter). Input i takes Ethernet frames
// received on interface i; output i emits frames to transmit on it (push: put a Queue
// after it). Output 2 receives packets addressed to the router itself.
//
// Per interface: classification (ARP requests, ARP replies, IP, other), ARP responses,
// header checks (RFC 1812 source rules), route lookup, then broadcast drop, redirects,
// IP options, source fix-up, TTL decrement, fragmentation and encapsulation, with ICMP
// errors for every failure.

elementclass IPRouter2 {
    $addr0, $net0, $eth0, $next0, $addr1, $net1, $eth1, $next1 |

    rt :: StaticIPLookup($addr0/32 0, $addr1/32 0, $net0 1, $net1 2);

    // Interface 0 in.
    input [0] -> c0 :: Classifier(12/0806 20/0001, 12/0806 20/0002, 12/0800, -);
    c0 [0] -> ARPResponder($addr0 $eth0) -> [0] output;
    c0 [1] -> Discard;
    c0 [2] -> Paint(1) -> Strip(14)
        -> CheckIPHeader(INTERFACES $net0 $net1)
        -> GetIPAddress(16) -> rt;
    c0 [3] -> Discard;

    // Interface 1 in.
    input [1] -> c1 :: Classifier(12/0806 20/0001, 12/0806 20/0002, 12/0800, -);
    c1 [0] -> ARPResponder($addr1 $eth1) -> [1] output;
    c1 [1] -> Discard;
    c1 [2] -> Paint(2) -> Strip(14)
        -> CheckIPHeader(INTERFACES $net0 $net1)
        -> GetIPAddress(16) -> rt;
    c1 [3] -> Discard;

    // Local delivery.
    rt [0] -> EtherEncap(0x0800, 00:00:00:00:00:00, 00:00:00:00:00:00) -> [2] output;

    // Interface 0 out.
    rt [1] -> DropBroadcasts
        -> cp0 :: PaintTee(1)
        -> gio0 :: IPGWOptions($addr0)
        -> FixIPSrc($addr0)
        -> dt0 :: DecIPTTL
        -> fr0 :: IPFragmenter(1500)
        -> EtherEncap(0x0800, $eth0, $next0)
        -> [0] output;
    cp0 [1] -> ICMPError($addr0, redirect, host) -> rt;
    gio0 [1] -> ICMPError($addr0, parameterproblem) -> rt;
    dt0 [1] -> ICMPError($addr0, timeexceeded) -> rt;
    fr0 [1] -> ICMPError($addr0, unreachable, needfrag, PMTU 1500) -> rt;

    // Interface 1 out.
    rt [2] -> DropBroadcasts
        -> cp1 :: PaintTee(2)
        -> gio1 :: IPGWOptions($addr1)
        -> FixIPSrc($addr1)
        -> dt1 :: DecIPTTL
        -> fr1 :: IPFragmenter(1500)
        -> EtherEncap(0x0800, $eth1, $next1)
        -> [1] output;
    cp1 [1] -> ICMPError($addr1, redirect, host) -> rt;
    gio1 [1] -> ICMPError($addr1, parameterproblem) -> rt;
    dt1 [1] -> ICMPError($addr1, timeexceeded) -> rt;
    fr1 [1] -> ICMPError($addr1, unreachable, needfrag, PMTU 1500) -> rt;
}
