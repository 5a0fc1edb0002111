import CThreadShims

/// Gives the code that ran only to start the process back to the kernel, as Linux frees its own
/// `__init` sections once booted (`free_initmem`): one `madvise(MADV_PAGEOUT)` over the private
/// read-only file mappings (the program's and its libraries' code and constants), after start-up.
///
/// Why it pays: start-up (argument parsing, the runtime's conformance scans, opening and migrating
/// the database, binding the HTTP server) runs code that a running gateway never calls again, and
/// the kernel maps file pages 16 or more at a time around each fault, so the start-up leaves some
/// 30 MiB of code mapped. Reclaimed, those pages leave the process's resident set, and the page
/// cache where nothing else holds them (the rest stays cached, clean and reclaimable); what the
/// gateway runs afterwards faults back in (from the page cache, or from the disk), once. Pages another process maps too (libc, say) are left alone by the kernel.
/// Nothing anonymous (the buffers, the heap) is touched. docs/performance.md, "Start-up code
/// given back".
public enum StartupPages {
    /// Advises the kernel to reclaim the read-only file mappings' pages; returns the bytes of
    /// the mappings advised (their whole size, resident or not). Throws the errno when nothing
    /// could be advised (no /proc, or a kernel before 5.4 that does not know the advice).
    public static func release() throws(StartupPagesError) -> Int {
        let advised = skygate_page_out_file_mappings()
        guard advised >= 0 else { throw StartupPagesError(errno: Int32(truncatingIfNeeded: -advised)) }
        return Int(advised)
    }
}

/// Why `StartupPages.release()` advised nothing.
public struct StartupPagesError: Error, CustomStringConvertible {
    public let errno: Int32
    public var description: String { "madvise(MADV_PAGEOUT) refused: errno \(errno)" }
}
