import SwiftProtobuf

/// The generated names, shortened for the rest of the code base.
public typealias Envelope = Clickos_V1_Envelope
public typealias WireError = Clickos_V1_Error

/// Encoding and validation of the one message type on the wire (proto/clickos.proto):
/// every received frame either becomes a usable `Envelope` or a `WireError` to send back,
/// never a crash.
public enum EnvelopeCodec {
    /// The protocol version this build speaks.
    public static let version: UInt32 = 1
    /// Frames larger than this are refused unread (a Telemetry of a thousand VMs is
    /// about 200 kB).
    public static let maximumFrameSize = 16 << 20

    /// A received frame that cannot be used, with the reply it deserves.
    public struct Rejection: Error, Equatable, CustomStringConvertible {
        public let code: WireError.Code
        public let message: String
        /// The request id, when the frame got far enough to have one.
        public let requestID: UInt64

        public var description: String { "\(code): \(message)" }
    }

    /// Decodes and validates one frame: well-formed, this version, one payload.
    public static func decode(_ bytes: [UInt8]) -> Result<Envelope, Rejection> {
        guard bytes.count <= maximumFrameSize else {
            return .failure(Rejection(code: .malformed, message: "frame of \(bytes.count) bytes exceeds \(maximumFrameSize)", requestID: 0))
        }
        let envelope: Envelope
        do {
            envelope = try Envelope(serializedBytes: bytes)
        } catch {
            return .failure(Rejection(code: .malformed, message: "not an Envelope: \(error)", requestID: 0))
        }
        guard envelope.version == version else {
            return .failure(Rejection(code: .unsupportedVersion,
                                      message: "protocol version \(envelope.version) is not supported (this side speaks \(version))",
                                      requestID: envelope.requestID))
        }
        guard envelope.payload != nil else {
            return .failure(Rejection(code: .missingPayload, message: "the envelope carries no payload (or one this side does not know)",
                                      requestID: envelope.requestID))
        }
        return .success(envelope)
    }

    /// The wire bytes of `envelope`.
    public static func encode(_ envelope: Envelope) -> [UInt8] {
        // Serializing a message built from generated types cannot fail (no required
        // fields in proto3, no Any to resolve); an empty frame would be answered MALFORMED.
        (try? envelope.serializedBytes()) ?? []
    }

    /// A new envelope from `sender` carrying `payload`.
    public static func make(sender: String, requestID: UInt64, _ payload: Envelope.OneOf_Payload) -> Envelope {
        var e = Envelope()
        e.version = version
        e.sender = sender
        e.requestID = requestID
        e.payload = payload
        return e
    }

    /// The Error reply to a rejected frame.
    public static func reply(to rejection: Rejection, from sender: String) -> Envelope {
        var error = WireError()
        error.code = rejection.code
        error.message = rejection.message
        return make(sender: sender, requestID: rejection.requestID, .error(error))
    }

    /// An Error reply to request `requestID`.
    public static func error(_ code: WireError.Code, _ message: String, requestID: UInt64, from sender: String) -> Envelope {
        reply(to: Rejection(code: code, message: message, requestID: requestID), from: sender)
    }
}
