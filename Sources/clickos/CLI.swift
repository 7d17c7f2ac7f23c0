import ArgumentParser

/// `clickos`: the operator's command line. For now it drives the VMs of this host and
/// runs the demo; the planner, chains and hosts arrive with their issues.
@main
struct ClickOSCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "clickos",
        abstract: "ClickOS in Swift: Click configurations as tiny VMs, stitched into service chains.",
        subcommands: [VMCommand.self, CheckCommand.self, PlanCommand.self, DemoCommand.self, KeygenCommand.self])
}
