@testable import Pipeline
import Telemetry
import TelemetryWire
import Testing

/// The fleet table directly: rows handed out in order up to capacity and never beyond, lookups by
/// (protocol, number) through collisions, the duplicate window as a ring of its size, and link
/// loss with wrapping sequence numbers (8-bit MAVLink, 32-bit Skygate).
@Suite struct FleetTableTests {
    @Test(arguments: [1, 2, 7, 1_000]) func rowsUpToCapacityThenNone(capacity: Int) {
        let table = FleetTable(capacity: capacity, duplicateWindow: 4)
        // Numbers that differ only in high bits, and both protocols, to force probing.
        let drones = (0..<capacity).map { index in
            DroneIdentity(protocol: index % 2 == 0 ? .skygate : .mavlink, number: UInt32(index) << 20 | 7)
        }
        for (index, drone) in drones.enumerated() {
            #expect(table.findOrInsert(protocol: drone.protocol, number: drone.number, now: 1) == index)
        }
        #expect(table.count == capacity)
        #expect(table.findOrInsert(protocol: .skygate, number: 0xFFFF_FFFF, now: 1) == nil, "a row beyond capacity")
        for (index, drone) in drones.enumerated() {
            #expect(table.row(of: drone) == index)
            #expect(table.findOrInsert(protocol: drone.protocol, number: drone.number, now: 2) == index, "found again, not added")
        }
        #expect(table.row(of: DroneIdentity(protocol: .mavlink, number: 0xFFFF_FFFF)) == nil)
        #expect(table.count == capacity)
    }

    @Test func theDuplicateWindowIsARingOfItsSize() {
        let table = FleetTable(capacity: 2, duplicateWindow: 3)
        let row = table.findOrInsert(protocol: .skygate, number: 1, now: 0)!
        for sequence in UInt32(0)..<3 { #expect(!table.isDuplicate(row: row, sequence: sequence, timestamp: UInt64(sequence))) }
        // All three remembered; the same sequence with another timestamp is not a repeat.
        for sequence in UInt32(0)..<3 { #expect(table.isDuplicate(row: row, sequence: sequence, timestamp: UInt64(sequence))) }
        #expect(!table.isDuplicate(row: row, sequence: 1, timestamp: 99))
        // That insertion pushed out the oldest (0); 2 and (1, 99) remain.
        #expect(!table.isDuplicate(row: row, sequence: 0, timestamp: 0))
        #expect(table.isDuplicate(row: row, sequence: 2, timestamp: 2))
        // Another drone's window is its own.
        let other = table.findOrInsert(protocol: .mavlink, number: 1, now: 0)!
        #expect(!table.isDuplicate(row: other, sequence: 2, timestamp: 2))
    }

    @Test func lossCountsForwardGapsAcrossTheWrap() {
        let table = FleetTable(capacity: 2, duplicateWindow: 1)
        let mavlink = table.findOrInsert(protocol: .mavlink, number: 1, now: 0)!
        for sequence: UInt32 in [250, 251, 254, 2, 3] { table.countFrame(row: mavlink, sequence: sequence, modulus: 256, now: 5) }
        // 252, 253 lost; 255, 0, 1 lost across the wrap.
        #expect(table.framesReceived[mavlink] == 5 && table.framesLost[mavlink] == 5)
        // A late frame from before (more than half the space back) is no loss and no new reference.
        table.countFrame(row: mavlink, sequence: 200, modulus: 256, now: 6)
        table.countFrame(row: mavlink, sequence: 4, modulus: 256, now: 7)
        #expect(table.framesLost[mavlink] == 5 && table.lastSeenNanoseconds[mavlink] == 7)
        let skygate = table.findOrInsert(protocol: .skygate, number: 1, now: 0)!
        for sequence: UInt32 in [0xFFFF_FFFE, 0xFFFF_FFFF, 1] { table.countFrame(row: skygate, sequence: sequence, modulus: 1 << 32, now: 1) }
        #expect(table.framesLost[skygate] == 1)
    }
}

/// The status page's "unknown" values are the wire's.
@Suite struct DroneStatusVocabularyTests {
    @Test func unknownValuesMatchTheWire() {
        #expect(DroneStatus.headingUnknown == WireSample.headingUnknown)
        #expect(DroneStatus.batteryPercentUnknown == WireSample.batteryPercentUnknown)
    }
}
