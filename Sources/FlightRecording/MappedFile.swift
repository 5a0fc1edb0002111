#if canImport(Glibc)
import Glibc
#endif
import Telemetry

/// A file mapped read-only into memory: players walk recordings of any size without reading
/// them whole, and the kernel pages in only what a seek touches. The file's length is taken once,
/// at open; a recording still being written is read up to that length.
final class MappedFile {
    let path: String
    let bytes: UnsafeRawBufferPointer
    private let mapping: UnsafeMutableRawPointer?
    /// Whether `mapping` is an mmap (else a heap copy).
    private var isMapped = true

    init(path: String) throws(RecordingError) {
        self.path = path
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw RecordingError.from(errno: errno, operation: "open", path: path) }
        defer { close(fd) }
        var status = stat()
        guard fstat(fd, &status) == 0 else { throw RecordingError.from(errno: errno, operation: "stat", path: path) }
        guard status.st_mode & S_IFMT == S_IFREG else {
            throw .notARecording(path: path, reason: "not a regular file")
        }
        let length = Int(status.st_size)
        if length == 0 {
            mapping = nil
            bytes = UnsafeRawBufferPointer(start: nil, count: 0)
            return
        }
        let address = mmap(nil, length, PROT_READ, MAP_PRIVATE, fd, 0)
        guard let address, address != MAP_FAILED else { throw RecordingError.from(errno: errno, operation: "mmap", path: path) }
        // Players read front to back; tell the kernel so it reads ahead.
        _ = madvise(address, length, MADV_SEQUENTIAL)
        mapping = address
        bytes = UnsafeRawBufferPointer(start: address, count: length)
    }

    /// A copy of `contents` in memory, named `path` in messages: the players' in-memory entry
    /// point (the fuzz targets feed them this way, thousands of inputs a second, with no file).
    init(copying contents: UnsafeRawBufferPointer, path: String) {
        self.path = path
        isMapped = false
        guard !contents.isEmpty else {
            mapping = nil
            bytes = UnsafeRawBufferPointer(start: nil, count: 0)
            return
        }
        let copy = UnsafeMutableRawPointer.allocate(byteCount: contents.count, alignment: 16)
        copy.copyMemory(from: contents.baseAddress!, byteCount: contents.count)
        mapping = copy
        bytes = UnsafeRawBufferPointer(start: copy, count: contents.count)
    }

    /// What a walk of `bytes` uses to give back the pages it has passed (nothing for a heap copy,
    /// whose memory must stay).
    var pageRelease: PageRelease {
        guard isMapped, let mapping else { return .none }
        return PageRelease(base: mapping, count: bytes.count)
    }

    deinit {
        guard let mapping else { return }
        if isMapped { munmap(mapping, bytes.count) } else { mapping.deallocate() }
    }
}

/// Gives back the pages of a mapped file that a front-to-back walk has left behind, so RSS stays
/// flat whatever the file's size: the file's pages would otherwise stay mapped into the process
/// (and count in its RSS) until it ends. The mapping is private and read-only, so a page given
/// back (`MADV_DONTNEED`) reads the same bytes again from the page cache if anything touches it
/// later: releasing is never a correctness question, only a cost one. A walk calls `passed(_:)`
/// with its offset; the check is one comparison until another `mappedResidentBehindBytes` have
/// been read.
struct PageRelease {
    private let base: UnsafeMutableRawPointer?
    private let count: Int
    private var releasedUpTo = 0
    private var nextRelease: Int

    private static let behind = Limits.Recording.mappedResidentBehindBytes
    private static let pageMask = Int(sysconf(Int32(_SC_PAGESIZE))) - 1

    /// For bytes that are not a mapping (a heap copy, nothing): `passed` does nothing.
    static var none: PageRelease { PageRelease(base: nil, count: 0) }

    init(base: UnsafeMutableRawPointer?, count: Int) {
        self.base = base
        self.count = count
        nextRelease = base == nil ? .max : 2 * Self.behind
    }

    /// The walk has read everything before `offset`.
    @inline(__always)
    mutating func passed(_ offset: Int) {
        if offset >= nextRelease { release(before: offset) }
    }

    private mutating func release(before offset: Int) {
        nextRelease = offset + Self.behind
        guard let base else { return }
        // Page-aligned: the mapping starts on a page, and only whole pages are given back.
        let end = min(offset - Self.behind, count) & ~Self.pageMask
        guard end > releasedUpTo else { return }
        _ = madvise(base + releasedUpTo, end - releasedUpTo, MADV_DONTNEED)
        releasedUpTo = end
    }
}
