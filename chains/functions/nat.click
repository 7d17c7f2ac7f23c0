// nat.click -- network address and port translation (NAPT) as a chain function.
//
// Port 0 faces the chain's ingress (the inside: clients), port 1 its egress (the outside).
// TCP and UDP flows from inside leave with source address $PUBLIC and a source port from
// $PORTS; pings leave with $PUBLIC and a fresh echo identifier; replies are translated
// back. Packets from outside that belong to no flow are dropped; so is other IP traffic.
// Non-IP frames pass unchanged.
//
// Variables:
//   PUBLIC   the outside address flows get (default 10.2.0.1)
//   PORTS    the source port range, e.g. 1024-65535 (default)

define($PUBLIC 10.2.0.1, $PORTS 1024-65535);

nat :: IPRewriter(pattern $PUBLIC $PORTS - - 0 1, drop,
                  TCP_DONE_TIMEOUT 30s, UDP_TIMEOUT 60s);
ping :: ICMPPingRewriter(pattern $PUBLIC $PORTS - - 0 1, drop, TIMEOUT 60s);

FromDevice(0) -> in0 :: Classifier(12/0800, -);
in0 [0] -> Strip(14) -> CheckIPHeader -> kind0 :: IPClassifier(icmp, -);
kind0 [0] -> [0] ping;
kind0 [1] -> [0] nat;
in0 [1] -> out1 :: Queue(1024);

FromDevice(1) -> in1 :: Classifier(12/0800, -);
in1 [0] -> Strip(14) -> CheckIPHeader -> kind1 :: IPClassifier(icmp, -);
kind1 [0] -> [1] ping;
kind1 [1] -> [1] nat;
in1 [1] -> out0 :: Queue(1024);

nat [0] -> Unstrip(14) -> out1;
nat [1] -> Unstrip(14) -> out0;
ping [0] -> Unstrip(14) -> out1;
ping [1] -> Unstrip(14) -> out0;

out0 -> ToDevice(0);
out1 -> ToDevice(1);
