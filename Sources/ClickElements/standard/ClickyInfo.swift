import ClickLanguage
import ClickRuntime

/// ClickyInfo([ARGUMENTS...])
///
/// Information for the Clicky GUI (its STYLE sheet, for example), which this project does
/// not use: the configuration is kept as written, so a configuration that names it runs
/// and flattens unchanged, and nothing else happens.
///
/// Ports: none.
public final class ClickyInfo: Element {
    public override var portCount: String { "0/0" }

    public override func configure(_ args: inout Arguments) {
        _ = args.remaining()
    }
}
