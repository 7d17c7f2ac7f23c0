InfiniteSource(LIMIT 5) -> c :: Counter -> Discard;
