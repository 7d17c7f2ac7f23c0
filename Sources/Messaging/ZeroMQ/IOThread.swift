#if canImport(Glibc)
import Glibc
#endif

/// A dedicated OS thread (libzmq sockets belong to one thread, and blocking polls must
/// not run on the two-thread cooperative pool). The body runs until it returns.
final class IOThread: @unchecked Sendable {
    private var thread = pthread_t()
    private let body: @Sendable () -> Void

    init(_ body: @escaping @Sendable () -> Void) {
        self.body = body
    }

    func start() {
        let box = Unmanaged.passRetained(self).toOpaque()
        pthread_create(&thread, nil, { raw in
            // The box was retained for this thread; it is released here, once.
            guard let raw else { return nil }
            let me = Unmanaged<IOThread>.fromOpaque(raw).takeRetainedValue()
            me.body()
            return nil
        }, box)
    }

    func join() {
        pthread_join(thread, nil)
    }
}
