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

    deinit {
        if let mapping { munmap(mapping, bytes.count) }
    }
}
