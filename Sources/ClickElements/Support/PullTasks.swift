import ClickRuntime

extension Element {
    /// What an element that pulls from input 0 on its own schedule needs (Click's Unqueue
    /// family, a pulled ToDevice): a task that sleeps while every empty notifier upstream is
    /// inactive and is woken when one becomes active, and that signal. The task is
    /// scheduled now unless `scheduled` is false.
    func startPulling(scheduled: Bool = true) -> (task: Task, signal: UpstreamSignal?) {
        let task = makeTask()
        let signal = upstreamEmptySignal(0)
        signal?.addListener(task)
        if scheduled { task.schedule() }
        return (task, signal)
    }
}
