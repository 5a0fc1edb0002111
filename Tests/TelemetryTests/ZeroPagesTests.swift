import Glibc
import Telemetry
import Testing

/// Start-up buffers read as zeros and are resident only where written (issue 23): measured where
/// the kernel keeps it, with `mincore` over the buffer's pages.
@Suite struct ZeroPagesTests {
    static let page = Int(sysconf(Int32(_SC_PAGESIZE)))

    /// Pages of `[base, base + bytes)` the kernel has resident.
    static func residentPages(_ base: UnsafeMutableRawPointer, bytes: Int) -> Int {
        let pages = (bytes + page - 1) / page
        var vector = [UInt8](repeating: 0, count: pages)
        let status = vector.withUnsafeMutableBufferPointer { mincore(base, bytes, $0.baseAddress) }
        precondition(status == 0, "mincore failed (errno \(errno))")
        return vector.reduce(0) { $0 + Int($1 & 1) }
    }

    @Test func aLargeBufferReadsAsZerosAndBecomesResidentOnlyWhereWritten() {
        let count = 1 << 20  // 8 MiB of UInt64
        let bytes = count * 8
        let buffer = ZeroPages.allocate(UInt64.self, count: count)
        defer { ZeroPages.deallocate(buffer, count: count) }
        let base = UnsafeMutableRawPointer(buffer)
        #expect(Int(bitPattern: base) % Self.page == 0, "a mapping starts on a page")
        #expect(Self.residentPages(base, bytes: bytes) == 0, "nothing resident before the first write")
        // Write one value in each of the first 100 pages' worth of rows.
        let perPage = Self.page / 8
        for row in stride(from: 0, to: 100 * perPage, by: perPage) { buffer[row] = UInt64(row) + 1 }
        #expect(Self.residentPages(base, bytes: bytes) == 100)
        // Every value not written reads as zero (reading the unwritten pages maps the shared zero
        // page, which is not this process's memory).
        var nonZero = 0
        for row in 0..<count where buffer[row] != 0 { nonZero += 1 }
        #expect(nonZero == 100)
        #expect(buffer[perPage] == UInt64(perPage) + 1)
    }

    @Test func aSmallBufferIsAZeroFilledHeapBlockOnACacheLine() {
        let count = 1_000
        let buffer = ZeroPages.allocate(UInt32.self, count: count)
        defer { ZeroPages.deallocate(buffer, count: count) }
        #expect(count * 4 < ZeroPages.mappingBytesMin)
        #expect(Int(bitPattern: buffer) % 64 == 0)
        #expect((0..<count).allSatisfy { buffer[$0] == 0 })
        buffer[count - 1] = 7
        #expect(buffer[count - 1] == 7)
    }

    @Test func aBufferWrittenOnlyAtItsEndHoldsOnePage() {
        let bytes = 4 << 20
        let block = ZeroPages.allocate(byteCount: bytes)
        defer { ZeroPages.deallocate(block, byteCount: bytes) }
        block.storeBytes(of: UInt64(42), toByteOffset: bytes - 8, as: UInt64.self)
        #expect(Self.residentPages(block, bytes: bytes) == 1)
        #expect(block.load(fromByteOffset: bytes - 8, as: UInt64.self) == 42)
    }
}
