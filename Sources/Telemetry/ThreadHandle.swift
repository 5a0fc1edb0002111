#if canImport(Glibc)
import Glibc
#endif
import CThreadShims

/// A dedicated OS thread that can be joined. The receive loop, the batch processor, the store
/// writer and the recorders spin or block on their own threads, never on the two-thread Swift
/// concurrency pool.
public final class ThreadHandle: @unchecked Sendable {
    private var thread: pthread_t
    private let body: () -> Void

    private init(body: @escaping () -> Void) {
        self.body = body
        thread = pthread_t()
    }

    /// Starts `body` on a new thread named `name` (the first 15 bytes show in `top -H`, `perf`
    /// and /proc/PID/task/*/comm).
    public static func start(name: String, _ body: @escaping @Sendable () -> Void) -> ThreadHandle {
        let handle = ThreadHandle(body: {
            _ = skygate_set_current_thread_name(name)
            body()
        })
        let context = Unmanaged.passRetained(handle).toOpaque()
        let status = pthread_create(&handle.thread, nil, { context in
            let handle = Unmanaged<ThreadHandle>.fromOpaque(context!).takeRetainedValue()
            handle.body()
            return nil
        }, context)
        precondition(status == 0, "pthread_create failed: \(status)")
        return handle
    }

    /// Waits for the thread to finish.
    public func join() {
        pthread_join(thread, nil)
    }

    /// Starts `body` on a new named thread that nobody joins: its resources go back to the system
    /// when it ends (a helper that ends by itself, as the status page's refresher does).
    public static func detach(name: String, _ body: @escaping @Sendable () -> Void) {
        pthread_detach(start(name: name, body).thread)
    }
}
