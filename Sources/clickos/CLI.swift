import ArgumentParser

/// `clickos`: the operator's command line: chains and hosts through the planner, the
/// planner daemon itself, offline checks and plans, this host's VMs, and the demo.
@main
struct ClickOSCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "clickos",
        abstract: "ClickOS in Swift: Click configurations as tiny VMs, stitched into service chains.",
        subcommands: [ApplyCommand.self, DeleteCommand.self, ChainsCommand.self, HostsCommand.self, TopCommand.self, CheckCommand.self, PlanCommand.self,
                      PlannerCommand.self, VMCommand.self, DemoCommand.self, KeygenCommand.self])
}
