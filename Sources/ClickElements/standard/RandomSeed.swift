import ClickLanguage
import ClickRuntime

/// RandomSeed([SEED])
///
/// Seeds the router's random numbers with SEED, so that the elements that draw at random
/// (RandomSample, RandomSwitch, RED, rewriter port choice, Script's `random`) repeat
/// their choices from run to run. Without SEED, seeds from the system's random source.
///
/// Ports: none. Handlers: `seed` (write: reseed with a number, or at random if empty).
public final class RandomSeed: Element {
    public override var portCount: String { "0/0" }
    public override var configurePhase: Int { ConfigurePhase.first }

    public override func configure(_ args: inout Arguments) {
        if let seed = args.positional("SEED", .unsignedInteger) {
            router.random = RandomSource(seed: UInt64(seed))
        } else {
            router.random = RandomSource()
        }
    }

    public override func addHandlers(_ h: inout HandlerSet) {
        h.write("seed") { [unowned self] text throws(ElementError) in
            let t = ConfigText.words(text).joined(separator: " ")
            if t.isEmpty {
                self.router.random = RandomSource()
            } else if let seed = IntegerValue.parse(t, signed: false) {
                self.router.random = RandomSource(seed: UInt64(seed))
            } else {
                throw ElementError("expected unsigned integer")
            }
        }
    }
}
