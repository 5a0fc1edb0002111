#if canImport(Glibc)
import Glibc
#endif

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

    deinit {
        guard let mapping else { return }
        if isMapped { munmap(mapping, bytes.count) } else { mapping.deallocate() }
    }
}
