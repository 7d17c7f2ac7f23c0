import Messaging
import SwiftProtobuf
import Testing

@Suite("envelope encoding and validation")
struct EnvelopeCodecTests {
    func telemetry(vms: Int) -> Envelope {
        var t = Clickos_V1_Telemetry()
        t.hostName = "host-a"
        t.startUnixNs = 1_000_000_000
        t.endUnixNs = 2_000_000_000
        t.vms = (0..<vms).map { i in
            var vm = Clickos_V1_VMTelemetry()
            vm.vm = "web-fw-\(i)"
            vm.chain = "web"
            vm.function = "fw"
            vm.instance = UInt32(i)
            vm.cpuNs = 123_456
            vm.ports = (0..<2).map { p in
                var port = Clickos_V1_PortTelemetry()
                port.port = UInt32(p)
                port.linkUp = true
                port.rxPackets = UInt64(i * 1000 + p)
                port.rxPps = 1.5e6
                return port
            }
            return vm
        }
        return EnvelopeCodec.make(sender: "host-a", requestID: 42, .telemetry(t))
    }

    @Test func everyPayloadKindRoundTrips() throws {
        var desired = Clickos_V1_HostDesiredState()
        desired.hostName = "host-b"
        desired.generation = 7
        var vm = Clickos_V1_VMSpec()
        vm.name = "web-nat-0"
        vm.configuration = "FromDevice(0) -> ToDevice(1);"
        vm.defines = ["PUBLIC": "10.2.0.1"]
        desired.vms = [vm]
        var link = Clickos_V1_LinkSpec()
        link.server = "vm:web-fw-0:1"
        link.client = "vm:web-nat-0:0"
        desired.links = [link]
        var register = Clickos_V1_Register()
        register.hostName = "host-b"
        register.cores = 2
        register.packetsPerCore = 14e6
        register.vmBackends = ["process"]
        var apply = Clickos_V1_ApplyChainRequest()
        apply.chain.name = "web"
        apply.chain.functions = [Clickos_V1_FunctionSpec()]
        let payloads: [Envelope.OneOf_Payload] = [
            .register(register), .heartbeat(Clickos_V1_Heartbeat()), .desiredState(desired), .ack(Clickos_V1_Ack()),
            .applyChain(apply), .listHosts(Clickos_V1_ListHostsRequest()), .planReply(Clickos_V1_PlanReply()),
            .error(WireError()),
        ]
        for (i, p) in payloads.enumerated() {
            let e = EnvelopeCodec.make(sender: "s", requestID: UInt64(i), p)
            let decoded = try EnvelopeCodec.decode(EnvelopeCodec.encode(e)).get()
            #expect(decoded == e)
        }
        let big = telemetry(vms: 100)
        #expect(try EnvelopeCodec.decode(EnvelopeCodec.encode(big)).get() == big)
    }

    @Test func badFramesAreRejectedWithTheRightCode() {
        // Not protobuf at all (a truncated length-delimited field).
        let garbage: [UInt8] = [0x12, 0xFF, 0xFF, 0x01]
        #expect(rejection(garbage)?.code == .malformed)
        // A truncated real message.
        let whole = EnvelopeCodec.encode(telemetry(vms: 3))
        #expect(rejection(Array(whole.prefix(whole.count - 5)))?.code == .malformed)
        // A future version, keeping its request id for the reply.
        var future = telemetry(vms: 1)
        future.version = 2
        let r = rejection(EnvelopeCodec.encode(future))
        #expect(r?.code == .unsupportedVersion && r?.requestID == 42)
        #expect(r?.message.contains("version 2") == true)
        // No payload.
        var empty = Envelope()
        empty.version = EnvelopeCodec.version
        empty.requestID = 9
        #expect(rejection(EnvelopeCodec.encode(empty))?.code == .missingPayload)
        // An empty frame is a version-0 envelope.
        #expect(rejection([])?.code == .unsupportedVersion)
    }

    @Test func aRejectionBecomesAnErrorReplyWithItsRequestID() throws {
        var future = telemetry(vms: 1)
        future.version = 9
        guard case .failure(let r) = EnvelopeCodec.decode(EnvelopeCodec.encode(future)) else {
            Issue.record("accepted a version-9 envelope")
            return
        }
        let reply = EnvelopeCodec.reply(to: r, from: "planner")
        let decoded = try EnvelopeCodec.decode(EnvelopeCodec.encode(reply)).get()
        #expect(decoded.requestID == 42 && decoded.sender == "planner")
        guard case .error(let e) = decoded.payload else {
            Issue.record("not an Error reply")
            return
        }
        #expect(e.code == .unsupportedVersion)
    }

    @Test func randomBytesNeverCrashTheDecoder() {
        var generator = SystemRandomNumberGenerator()
        var accepted = 0
        for _ in 0..<20_000 {
            let n = Int.random(in: 0..<200, using: &generator)
            let bytes = (0..<n).map { _ in UInt8.random(in: 0...255, using: &generator) }
            if case .success = EnvelopeCodec.decode(bytes) { accepted += 1 }
        }
        // Random bytes essentially never make a version-1 envelope with a payload.
        #expect(accepted < 20)
    }

    func rejection(_ bytes: [UInt8]) -> EnvelopeCodec.Rejection? {
        if case .failure(let r) = EnvelopeCodec.decode(bytes) { return r }
        return nil
    }
}
