/// Something outside the element graph that a router's thread must serve while it runs
/// (a VM's ports, with their control sockets and timers), handed to `Router.build` and
/// passed on to a hot-swapped successor. The runtime knows only this face; elements find
/// the service they need by type (`router.service((any VMPortProvider).self)`).
public protocol RouterService: AnyObject {
    /// Starts serving its descriptors and timers from `scheduler`'s loop.
    func attach(to scheduler: Scheduler)
    /// Stops serving them from `scheduler` (before a replacement router attaches).
    func detach(from scheduler: Scheduler)
}

/// Anything a scheduler can tell that a descriptor became readable: elements, and
/// services outside the element graph such as a VM's ports.
public protocol DescriptorWatcher: AnyObject {
    func selected(fd: Int32)
}
