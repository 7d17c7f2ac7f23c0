import ClickRuntime

/// A VM whose ports are the network interfaces it was given (a Xen guest run by
/// `clickos-vm --xenstore`: ClickOS's `FromDevice(N)` is vif N, the guest's Nth interface):
/// names the Linux interface behind each port number, so that `FromDevice(N)` and
/// `ToDevice(N)` open it as they open a named interface.
public final class VMPortInterfaces: RouterService {
    /// Port N's interface is `names[N]`.
    public let names: [String]
    public init(_ names: [String]) { self.names = names }
    public func attach(to scheduler: Scheduler) {}
    public func detach(from scheduler: Scheduler) {}
}
