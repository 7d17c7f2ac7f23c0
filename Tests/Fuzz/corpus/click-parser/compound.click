elementclass P { $n, KEY $k | input -> q :: Queue($n) -> [0] output; input[1] -> Paint($k) -> [1]output || ... }
a, b :: Idle; a => P(1, KEY 2) => b;
