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
        var result: Result<T, any Error>?
    }

    static func wait<T>(_ operation: @escaping @Sendable () async throws -> T) -> Result<T, any Error> {
        let box = ResultBox<T>()
        let semaphore = DispatchSemaphore(value: 0)
        Task(executorPreference: executor) {
            do { box.result = .success(try await operation()) } catch { box.result = .failure(error) }
            semaphore.signal()
        }
        semaphore.wait()
        return box.result!
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
