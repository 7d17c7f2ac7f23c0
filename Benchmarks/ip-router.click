// A two-interface IP router with ARP, in the manner of Click's conf/make-ip-conf.pl output,
// for Benchmarks/veth-router.sh and VethRouterTests (which fill in R0_MAC and R1_MAC).
// r0: 10.1.0.1/24 (client side), r1: 10.2.0.1/24 (server side).

c0 :: Classifier(12/0806 20/0001, 12/0806 20/0002, 12/0800, -);
c1 :: Classifier(12/0806 20/0001, 12/0806 20/0002, 12/0800, -);
fd0 :: FromDevice(r0) -> c0;
fd1 :: FromDevice(r1) -> c1;
out0 :: Queue(1000) -> td0 :: ToDevice(r0);
out1 :: Queue(1000) -> td1 :: ToDevice(r1);

arpq0 :: ARPQuerier(10.1.0.1, R0_MAC) -> out0;
arpq1 :: ARPQuerier(10.2.0.1, R1_MAC) -> out1;
c0[0] -> ARPResponder(10.1.0.1 R0_MAC) -> out0;
c1[0] -> ARPResponder(10.2.0.1 R1_MAC) -> out1;
c0[1] -> [1]arpq0;
c1[1] -> [1]arpq1;
c0[3] -> Discard;
c1[3] -> Discard;

rt :: StaticIPLookup(10.1.0.1/32 0, 10.2.0.1/32 0, 10.1.0.255/32 0, 10.2.0.255/32 0,
                     10.1.0.0/24 1, 10.2.0.0/24 2);
ip :: Strip(14) -> CheckIPHeader(INTERFACES 10.1.0.1/24 10.2.0.1/24) -> GetIPAddress(16) -> [0]rt;
c0[2] -> Paint(1) -> ip;
c1[2] -> Paint(2) -> ip;
rt[0] -> Discard;

rt[1] -> DropBroadcasts -> cp1 :: PaintTee(1) -> gio1 :: IPGWOptions(10.1.0.1)
      -> FixIPSrc(10.1.0.1) -> dt1 :: DecIPTTL -> fr1 :: IPFragmenter(1500) -> [0]arpq0;
rt[2] -> DropBroadcasts -> cp2 :: PaintTee(2) -> gio2 :: IPGWOptions(10.2.0.1)
      -> FixIPSrc(10.2.0.1) -> dt2 :: DecIPTTL -> fr2 :: IPFragmenter(1500) -> [0]arpq1;

dt1[1] -> ICMPError(10.1.0.1, timeexceeded) -> [0]rt;
dt2[1] -> ICMPError(10.2.0.1, timeexceeded) -> [0]rt;
fr1[1] -> ICMPError(10.1.0.1, unreachable, needfrag) -> [0]rt;
fr2[1] -> ICMPError(10.2.0.1, unreachable, needfrag) -> [0]rt;
gio1[1] -> ICMPError(10.1.0.1, parameterproblem) -> [0]rt;
gio2[1] -> ICMPError(10.2.0.1, parameterproblem) -> [0]rt;
cp1[1] -> ICMPError(10.1.0.1, redirect, host) -> [0]rt;
cp2[1] -> ICMPError(10.2.0.1, redirect, host) -> [0]rt;
