// Sizes and counts at the edges of their fields.
InfiniteSource(LENGTH 2147483647, BURST 2147483647, LIMIT -1) -> Discard;
InfiniteSource(LENGTH 2048, BURST 99999999999999999999999) -> Truncate(4294967295) -> Strip(4294967295) -> Discard;
Idle -> Unstrip(4294967295) -> Resize(-2147483648, 2147483647) -> Align(8, 7) -> Discard;
Idle -> IPEncap(6, 1.2.3.4, 2.3.4.5, TTL 256, TOS -1, DSCP 64) -> Discard;
Idle -> EtherEncap(0x10000, 1:2:3:4:5:6, 1:2:3:4:5:6) -> Discard;
Idle -> IPFragmenter(4294967295) -> Discard;
Idle -> RED(4294967295, 4294967295, 1e400) -> Queue(-1) -> Discard;
Idle -> Paint(256) -> CheckPaint(255) -> PaintTee(99999999999) -> Discard;
Idle -> HashSwitch(2147483647, 2147483647) -> Discard;
Idle -> RandomSample(1e-400) -> Discard;
ICMPPingSource(1.2.3.4, 5.6.7.8, INTERVAL 4294967.295, IDENTIFIER 65536, LIMIT 2147483648) -> Discard;
