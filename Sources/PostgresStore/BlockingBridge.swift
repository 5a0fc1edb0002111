import Foundation

/// Runs postgres-nio's async calls for callers on plain threads (the writer thread, a Dispatch
/// worker, a command's main thread) and blocks them until the call is done.
///
/// The tasks run on one thread of their own (a `TaskExecutor` preference), never on the Swift
/// concurrency pool: a caller that blocks a pool thread (a test, an HTTP handler's helper) would
/// otherwise wait for a task that needs that very pool, and with two cores the pool is two
/// threads wide.
enum BlockingBridge {
    static let executor = ThreadTaskExecutor(name: "skygate-pg")

    private final class ResultBox<T>: @unchecked Sendable {
        // @unchecked: `result` is guarded by `lock`.
        let lock = NSLock()
        var result: Result<T, any Error>?
    }

    /// Nil when the operation did not finish within `timeout` (it goes on; its result is
    /// dropped): the caller then closes the connection, which fails whatever still waits on it.
    /// `abandon` is asked every `pollInterval` while waiting: true gives up at once (the
    /// connection is closed, so no answer can come).
    static func wait<T>(
        timeout: Duration? = nil, abandon: (() -> Bool)? = nil, _ operation: @escaping @Sendable () async throws -> T
    ) -> Result<T, any Error>? {
        let box = ResultBox<T>()
        let semaphore = DispatchSemaphore(value: 0)
        Task(executorPreference: executor) {
            let result: Result<T, any Error>
            do { result = .success(try await operation()) } catch { result = .failure(error) }
            box.lock.withLock { box.result = result }
            semaphore.signal()
        }
        if let timeout {
            let deadline = ContinuousClock.now + timeout
            // Bounded by the deadline: one poll per interval.
            while semaphore.wait(timeout: .now() + .milliseconds(50)) == .timedOut {
                if ContinuousClock.now >= deadline || abandon?() == true {
                    // The task may still finish; if it did just now, take its result.
                    return box.lock.withLock { box.result }
                }
            }
        } else {
            semaphore.wait()
        }
        return box.lock.withLock { box.result }
    }
}

/// A task executor that runs every job on one dedicated thread, in order.
final class ThreadTaskExecutor: TaskExecutor, @unchecked Sendable {
    // @unchecked: `jobs` is guarded by `condition`.
    private let condition = NSCondition()
    private var jobs: [UnownedJob] = []

    init(name: String) {
        let thread = Thread { [unowned self] in run() }
        thread.name = name
        thread.start()
    }

    func enqueue(_ job: consuming ExecutorJob) {
        let job = UnownedJob(job)
        condition.lock()
        jobs.append(job)
        condition.signal()
        condition.unlock()
    }

    private func run() {
        while true {
            condition.lock()
            while jobs.isEmpty { condition.wait() }
            let job = jobs.removeFirst()
            condition.unlock()
            job.runSynchronously(on: asUnownedTaskExecutor())
        }
    }
}
