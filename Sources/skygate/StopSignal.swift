import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// SIGINT and SIGTERM raise a flag that long-running commands (`record`, `replay`, `bench`) poll,
/// so they close their files, or drain the gateway, instead of dying mid-write.
enum StopSignal {
    static let raised = Atomic<Bool>(false)

    static var isRaised: Bool { raised.load(ordering: .relaxed) }

    static func install() {
        signal(SIGINT) { _ in StopSignal.raised.store(true, ordering: .relaxed) }
        signal(SIGTERM) { _ in StopSignal.raised.store(true, ordering: .relaxed) }
    }
}
