#if canImport(Glibc)
import Glibc
#endif
import Telemetry

extension UDPReceiver {
    /// Datagrams the kernel dropped for this socket (its receive buffer was full), from the
    /// `drops` column of /proc/net/udp or /proc/net/udp6; nil when it cannot be read.
    public func kernelDrops() -> UInt64? {
        for path in ["/proc/net/udp", "/proc/net/udp6"] {
            guard let text = readProcFile(path) else { continue }
            for line in text.split(separator: "\n").dropFirst() {
                let fields = line.split(separator: " ", omittingEmptySubsequences: true)
                // sl local rem st tx:rx tr:when retrnsmt uid timeout inode ref pointer drops
                guard fields.count >= 13, UInt64(fields[9]) == inode else { continue }
                return UInt64(fields[12])
            }
        }
        return nil
    }
}

/// Reads a /proc file of at most `Limits.Transport.procFileBytesMax` bytes (bounded:
/// /proc/net/udp grows with the sockets open).
public func readProcFile(_ path: String) -> String? {
    let fd = open(path, O_RDONLY)
    guard fd >= 0 else { return nil }
    defer { close(fd) }
    var bytes: [UInt8] = []
    var chunk = [UInt8](repeating: 0, count: 65_536)
    while bytes.count < Limits.Transport.procFileBytesMax {
        let n = chunk.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
        if n <= 0 { break }
        bytes.append(contentsOf: chunk[0..<n])
    }
    return String(decoding: bytes, as: UTF8.self)
}

