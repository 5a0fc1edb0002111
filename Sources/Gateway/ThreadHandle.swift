#if canImport(Glibc)
import Glibc
#endif
import CThreadShims

/// A dedicated OS thread that can be joined. The receive loop, the batch processor and the store
/// writer spin or block on their own threads, never on the two-thread Swift concurrency pool.
final class ThreadHandle: @unchecked Sendable {
    private var thread: pthread_t
    private let body: () -> Void

    private init(body: @escaping () -> Void) {
        self.body = body
        thread = pthread_t()
    }

    /// Starts `body` on a new thread named `name` (the first 15 bytes show in `top -H`, `perf`
    /// and /proc/PID/task/*/comm).
    static func start(name: String, _ body: @escaping @Sendable () -> Void) -> ThreadHandle {
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
    func join() {
        pthread_join(thread, nil)
    }
}

/// Nanoseconds since the Unix epoch (CLOCK_REALTIME): the clock of receive timestamps.
func realtimeNanoseconds() -> UInt64 {
    var now = timespec()
    clock_gettime(CLOCK_REALTIME, &now)
    return UInt64(now.tv_sec) * 1_000_000_000 + UInt64(now.tv_nsec)
}
