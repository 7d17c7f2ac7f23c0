import CShims
import Glibc

/// An element that runs when the process receives a signal (Click's
/// `Master::add_signal_handler`): Script(TYPE SIGNAL ...).
public protocol SignalHandling: Element {
    /// Called on the router's thread, soon after `signal` arrived. The element is no longer
    /// registered for it: to hear the next one it registers again.
    func handleSignal(_ signal: Int32)
}

extension Router {
    /// Asks for `signal` to be delivered to `element`, catching it from now on. False if it
    /// cannot be caught (SIGKILL, SIGSTOP, out of range).
    @discardableResult
    public func addSignalHandler(_ signal: Int32, _ element: any SignalHandling) -> Bool {
        if signalHandlers.contains(where: { $0.signal == signal && $0.element === element }) { return true }
        if !signalHandlers.contains(where: { $0.signal == signal }) {
            guard clickos_signal_watch(signal) == 0 else { return false }
        }
        signalHandlers.append((signal, element))
        scheduler.signalFlag = UnsafeRawPointer(clickos_signals_pending_flag()).assumingMemoryBound(to: Int32.self)
        scheduler.onSignal = { [unowned self] in self.processSignals() }
        return true
    }

    /// Gives back every signal this router catches (at cleanup).
    public func removeSignalHandlers() {
        for signal in Set(signalHandlers.map(\.signal)) { clickos_signal_restore(signal) }
        signalHandlers.removeAll()
    }

    /// Runs the elements waiting for each signal that arrived, as Click's
    /// `Master::process_signals`: each is taken off the list first; a signal nobody waits
    /// for any more goes back to its default action (the driver's graceful stop for SIGINT
    /// and SIGTERM), and one that arrived again meanwhile is then redelivered.
    func processSignals() {
        for signal in Int32(1)...64 where clickos_signal_take(signal) != 0 {
            let waiting = signalHandlers.filter { $0.signal == signal }
            signalHandlers.removeAll { $0.signal == signal }
            for (_, element) in waiting { element.handleSignal(signal) }
            if !signalHandlers.contains(where: { $0.signal == signal }) {
                clickos_signal_restore(signal)
                if clickos_signal_take(signal) != 0 || waiting.isEmpty { kill(getpid(), signal) }
            }
        }
    }
}
