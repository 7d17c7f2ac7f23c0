// Times at and beyond Click's largest: they saturate or are refused, and timers armed
// with them fire in simulated time without overflowing the clock.
TimedSource(INTERVAL 99999999999, LIMIT 3, STOP true) -> a :: AdjustTimestamp(1e300) -> AdjustTimestamp(-1e300) -> SetTimestampDelta -> Discard;
InfiniteSource(LIMIT 4) -> Queue(100000000) -> DelayUnqueue(1e30) -> c :: Counter(COUNT_CALL 4 stop) -> Discard;
InfiniteSource(LIMIT 4) -> Queue -> DelayShaper(4294967295.999999999) -> Unqueue -> Discard;
InfiniteSource(LIMIT 4) -> Queue -> LinkUnqueue(99999999999, 100Bps) -> Discard;
RatedSource(RATE 4294967295, LIMIT 10) -> TimeFilter(0, 99999999999) -> Discard;
Idle -> Queue -> RatedUnqueue(4294967295, BURST_SIZE 4294967295) -> Discard;
Idle -> Queue -> BandwidthRatedUnqueue(4294967295Bps, BURST_BYTES 4294967295) -> Discard;
Idle -> Queue -> TimedSink(1e300);
Idle -> Queue -> Shaper(0) -> Discard;
Script(wait 1e300, write c.reset, wait 99999999999s, stop);
