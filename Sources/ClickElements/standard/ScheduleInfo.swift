import ClickLanguage
import ClickRuntime

/// ScheduleInfo(ELEMENT PARAM, ...)
///
/// Gives elements' tasks a share of their thread other than the default: ELEMENT (an
/// element or compound name, relative to the compound holding this ScheduleInfo) gets
/// PARAM times the default 1024 tickets. PARAM is a real number with ten fractional bits;
/// the shares of an element and the compounds holding it multiply, and 32 is the most a
/// task can have (32768 tickets, with a warning). With any share set, tasks run in Click's
/// stride order: a task with twice the tickets runs twice as often. Configured before
/// other elements; each element's `tickets` handler shows the result.
///
/// Ports: none.
public final class ScheduleInfo: Element {
    public override var portCount: String { "0/0" }
    public override var configurePhase: Int { ConfigurePhase.first }

    public override func configure(_ args: inout Arguments) {
        let scope = name.lastIndex(of: "/").map { String(name[...$0]) } ?? ""
        for argument in args.remaining() {
            let parts = ConfigText.words(argument)
            if parts.isEmpty { continue }
            guard parts.count == 2, let share = Self.fixedPoint(parts[1]) else {
                args.error("expected 'ELEMENTNAME PARAM'")
                continue
            }
            router.scheduleShares[scope + ConfigText.unquote(parts[0])] = share
        }
    }

    /// A non-negative real with ten fractional bits (Click's FixedPointArg(10)), rounded.
    static func fixedPoint(_ text: String) -> Int? {
        guard let value = Double(text), value.isFinite, value >= 0, value < Double(1 << 21) else { return nil }
        return Int((value * 1024).rounded())
    }
}
