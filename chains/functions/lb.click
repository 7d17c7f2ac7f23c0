// lb.click -- a layer-4 load balancer as a chain function.
//
// Port 0 faces the clients, port 1 the servers. New TCP and UDP flows to the virtual
// address $VIP are spread over the servers $SERVER0, $SERVER1, $SERVER2 in turn (the
// destination is rewritten; existing flows keep their server); replies come back from
// $VIP. Other traffic from clients passes unchanged; traffic from the servers that
// belongs to no balanced flow passes too.
//
// Variables: VIP (default 10.2.0.100), SERVER0..SERVER2 (defaults 10.2.0.10-12).

define($VIP 10.2.0.100, $SERVER0 10.2.0.10, $SERVER1 10.2.0.11, $SERVER2 10.2.0.12);

servers :: RoundRobinIPMapper(- - $SERVER0 - 0 1, - - $SERVER1 - 0 1, - - $SERVER2 - 0 1);
lb :: IPRewriter(servers, pass 1);

FromDevice(0) -> in0 :: Classifier(12/0800, -);
in0 [0] -> Strip(14) -> CheckIPHeader -> vip :: IPClassifier(dst host $VIP and (tcp or udp), -);
vip [0] -> [0] lb;
vip [1] -> Unstrip(14) -> out1 :: Queue(1024);
in0 [1] -> out1;

FromDevice(1) -> in1 :: Classifier(12/0800, -);
in1 [0] -> Strip(14) -> CheckIPHeader -> [1] lb;
in1 [1] -> out0 :: Queue(1024);

lb [0] -> Unstrip(14) -> out1;
lb [1] -> Unstrip(14) -> out0;

out0 -> ToDevice(0);
out1 -> ToDevice(1);
