// firewall.click -- a stateless IP firewall as a chain function.
//
// Port 0 faces the chain's ingress (clients), port 1 its egress (servers). Forward traffic
// from clients must match $ALLOW; replies from servers must match $REPLY. Non-IP frames
// (ARP) pass both ways. Everything else is counted and dropped.
//
// Variables (override with NAME=value or a chain file's `define`):
//   ALLOW   IPFilter expression for client -> server packets
//   REPLY   IPFilter expression for server -> client packets

define($ALLOW tcp dst port 80 or icmp,
       $REPLY tcp src port 80 or icmp);

elementclass FilterDirection { $rule |
    input -> ethertype :: Classifier(12/0800, -);
    ethertype [0] -> Strip(14)
        -> CheckIPHeader
        -> filter :: IPFilter(allow $rule, deny all)
        -> Unstrip(14)
        -> passed :: Counter
        -> output;
    ethertype [1] -> output;
}

FromDevice(0) -> forward :: FilterDirection($ALLOW) -> Queue(1024) -> ToDevice(1);
FromDevice(1) -> reverse :: FilterDirection($REPLY) -> Queue(1024) -> ToDevice(0);
