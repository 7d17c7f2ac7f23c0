import Messaging
import SwiftProtobuf

/// One fuzz input: the bytes as a received frame. Decoding must either give a valid
/// envelope (which re-encodes to the same bytes: compared as bytes, since a NaN double,
/// which the wire allows and the planner refuses, is not equal to itself) or a rejection
/// with a reply; any crash, trap or hang is a bug. Kept out of `main.swift` (C callbacks there trip the main-actor
/// check).
enum EnvelopeHarness {
    /// The envelope's bytes with map entries in a fixed order.
    static func canonical(_ envelope: Envelope) -> [UInt8] {
        var options = BinaryEncodingOptions()
        options.useDeterministicOrdering = true
        return (try? envelope.serializedBytes(options: options)) ?? []
    }

    static func run(_ bytes: UnsafeRawBufferPointer) {
        switch EnvelopeCodec.decode(Array(bytes)) {
        case .success(let envelope):
            let again = EnvelopeCodec.decode(EnvelopeCodec.encode(envelope))
            guard case .success(let same) = again, canonical(same) == canonical(envelope) else {
                fatalError("a valid envelope did not survive re-encoding")
            }
        case .failure(let rejection):
            let reply = EnvelopeCodec.reply(to: rejection, from: "fuzz")
            guard case .success = EnvelopeCodec.decode(EnvelopeCodec.encode(reply)) else {
                fatalError("an Error reply is not a valid envelope")
            }
        }
    }
}

#if FUZZING
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzOneInput(_ data: UnsafePointer<UInt8>, _ size: Int) -> Int32 {
    EnvelopeHarness.run(UnsafeRawBufferPointer(start: data, count: size))
    return 0
}

@_silgen_name("LLVMFuzzerRunDriver")
func LLVMFuzzerRunDriver(
    _ argc: UnsafeMutablePointer<Int32>,
    _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?>,
    _ callback: @convention(c) (UnsafePointer<UInt8>, Int) -> Int32
) -> Int32

/// SwiftPM renames an executable's entry point to `<target>_main`; libFuzzer owns `main`.
@_cdecl("fuzz_envelope_main")
public func fuzzMain(_ argc: Int32, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> Int32 {
    var count = argc
    var vector = argv
    return LLVMFuzzerRunDriver(&count, &vector) { data, size in fuzzOneInput(data, size) }
}
#endif
