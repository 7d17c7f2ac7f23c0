define($A 1 2, $B "x");
require(package foo);
x :: Message(${A[1]} ${B-d} "$A" \<48 49> /* c */ 0x10, 10.0.0.1/8, 00:11:22:33:44:55, ::1, 10Mbps, 5ms);
# 10 "f.click"
(-> Idle [1,] => [0-1] ( ) ); a -> b;
