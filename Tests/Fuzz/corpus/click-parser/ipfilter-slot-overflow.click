Idle -> IPFilter(99999999999 tcp, 3 udp, -1 icmp, allow -) -> Discard;
