import ClickElements
import ClickLanguage
import ClickTestSupport
import Testing
@testable import ClickRuntime

/// SetPacketType and SetAnnoByte against Click 2.1: the same configuration printed these
/// lines and this warning.
@Suite struct SetPacketTypeTests {
    @Test func clickAgreesPacketTypesAndAnnotationBytes() {
        let (b, lines) = buildAndRun("""
            InfiniteSource(LIMIT 1, STOP true, LENGTH 20) -> t :: Tee(3) -> SetPacketType(broadcast) -> DropBroadcasts -> Print(bcast, 0) -> Discard;
            t[1] -> SetPacketType(HOST) -> DropBroadcasts -> Print(host, 0) -> Discard;
            t[2] -> SetAnnoByte(PAINT, 7) -> CheckPaint(7) -> Print(painted, 0) -> Discard
            """)
        #expect(b.log.text.contains("While configuring 'SetAnnoByte@11 :: SetAnnoByte':\n  warning: SetAnnoByte(ANNO, VALUE) is obsolete, use Paint(VALUE, ANNO) instead"), "\(b.log.text)")
        #expect(lines == ["DropBroadcasts: dropped a packet", "host:   20", "painted:   20"])
    }

    @Test func unknownTypesAreRefusedInClicksWords() {
        #expect(build("Idle -> SetPacketType(frob) -> Discard").log.errorMessages.contains("  unrecognized packet type 'frob'"))
        // Click's AnnoArg says "parse error" for an annotation it does not know.
        for config in ["Paint(1, FROB)", "SetAnnoByte(FROB, 3)", "GetIPAddress(16, FROB)"] {
            #expect(build("Idle -> \(config) -> Discard").log.errorMessages.contains("  ANNO: parse error"), "\(config)")
        }
    }
}
