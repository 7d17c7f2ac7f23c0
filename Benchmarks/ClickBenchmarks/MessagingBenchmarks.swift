import Dispatch
import Messaging

#if canImport(Glibc)
import Glibc
#endif

// The control-plane figures of issue 5: a Telemetry message of 100 VMs (two ports each)
// over tcp loopback, request/response through the daemon bridge and one-way through
// raw sockets.

func telemetryEnvelope(vms: Int, id: UInt64) -> Envelope {
    let t = sampleTelemetry(host: "host-a", vms: vms, pps: 1.2e6) { i in ("chain\(i / 3)", "fn\(i % 3)") }
    return EnvelopeCodec.make(sender: "host-a", requestID: id, .telemetry(t))
}

/// A host's telemetry of `vms` VMs (named by `names`: chain and function of VM i), two
/// ports each with counters and the rate `pps` each way.
func sampleTelemetry(host: String, vms: Int, pps: Double, names: (Int) -> (chain: String, function: String)) -> Clickos_V1_Telemetry {
    var t = Clickos_V1_Telemetry()
    t.hostName = host
    t.hostCpuCores = 3.2
    t.vms = (0..<vms).map { i in
        var vm = Clickos_V1_VMTelemetry()
        (vm.chain, vm.function) = names(i)
        vm.vm = "\(vm.chain)-\(vm.function)-0"
        vm.cpuNs = 1_234_567
        vm.cpuNsPerPacket = 73.5
        vm.memoryBytes = 6 << 20
        vm.ports = (0..<2).map { p in
            var port = Clickos_V1_PortTelemetry()
            port.port = UInt32(p)
            port.linkUp = true
            port.rxPackets = 123_456_789
            port.txPackets = 123_456_000
            port.rxBytes = 7_901_234_496
            port.rxPps = pps
            port.txPps = pps
            return port
        }
        return vm
    }
    return t
}

/// The `messaging` group.
func benchmarkMessaging() {
    let sample = telemetryEnvelope(vms: 100, id: 1)
    let frame = EnvelopeCodec.encode(sample)
    report("Telemetry envelope of 100 VMs (2 ports each): \(frame.count) bytes")
    let codec = measure("encode + decode + validate it", repetitions: 15) {
        for i in 0..<100 {
            var e = sample
            e.requestID = UInt64(i)
            precondition((try? EnvelopeCodec.decode(EnvelopeCodec.encode(e)).get()) != nil)
        }
    }
    report("encode + decode + validate a 100-VM Telemetry: median \(f1(Measurement.milliseconds(codec.median) * 10)) us")

    // Request/response through MessageServer and MessageClient (async bridge, both ends
    // decode and validate).
    guard let server = try? MessageServer(endpoint: "tcp://127.0.0.1:*", handler: { e in
        EnvelopeCodec.make(sender: "planner", requestID: e.requestID, .ack(Clickos_V1_Ack()))
    }), let client = try? MessageClient(endpoint: server.endpoint, sender: "host-a") else {
        report("messaging: could not start the server")
        return
    }
    guard case .telemetry(let t) = sample.payload else { return }
    let rounds = 20_000
    var rates: [Double] = []
    for _ in 0..<3 {
        let t0 = nowSeconds()
        let done = DispatchSemaphore(value: 0)
        _Concurrency.Task {
            for _ in 0..<rounds { _ = try? await client.request(.telemetry(t), timeout: 5, retries: 0) }
            done.signal()
        }
        done.wait()
        rates.append(Double(rounds) / (nowSeconds() - t0))
    }
    let rtt = 1e6 / median(rates)
    report("request/response, 100-VM Telemetry -> Ack, tcp loopback, one outstanding: median \(f1(rtt)) us round trip (\(Int(median(rates))) requests/s; \(rates.count) runs of \(rounds))")
    client.close()
    server.stop()

    // One-way: PUSH/PULL of the same frame, the receiver decoding and validating each.
    guard let context = try? ZMQContext(), let pull = try? ZMQSocket(context, .pull), let push = try? ZMQSocket(context, .push) else { return }
    try? pull.bind("tcp://127.0.0.1:*")
    try? push.connect(pull.lastEndpoint)
    var oneWay: [Double] = []
    let count = 50_000
    for _ in 0..<3 {
        let t0 = nowSeconds()
        let sender = SocketBox(push)
        let bytes = frame
        let sent = DispatchSemaphore(value: 0)
        // The PUSH socket is used by that thread only until `sent` is signalled.
        DispatchQueue.global().async {
            for _ in 0..<count { try? sender.socket.send([bytes]) }
            sent.signal()
        }
        var received = 0
        while received < count {
            if let m = try? pull.receive(), case .success = EnvelopeCodec.decode(m[0]) { received += 1 }
        }
        sent.wait()
        oneWay.append(Double(count) / (nowSeconds() - t0))
    }
    report("one-way PUSH/PULL, 100-VM Telemetry, tcp loopback, decoded and validated: median \(Int(median(oneWay))) messages/s (\(f1(median(oneWay) * Double(frame.count) * 8 / 1e9)) Gb/s)")
    push.close()
    pull.close()
}

/// Hands a socket to one other thread for a while (libzmq allows moving a socket between
/// threads with a full barrier between uses; the semaphore is that barrier).
struct SocketBox: @unchecked Sendable {
    let socket: ZMQSocket
    init(_ socket: ZMQSocket) { self.socket = socket }
}
