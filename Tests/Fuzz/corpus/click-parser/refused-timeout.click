Idle -> IPRewriter(pattern 1.2.3.4 - - - 0 0, TIMEOUT 18446744073) -> Discard;
