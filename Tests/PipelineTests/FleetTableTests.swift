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

    @Test func aNewDronesWindowHoldsNothingEvenAFrameOfZeros() {
        let table = FleetTable(capacity: 1, duplicateWindow: 4)
        let row = table.findOrInsert(protocol: .skygate, number: 9, now: 0)!
        // The window's slots read as zeros before any frame; its count, not a sentinel, says so.
        #expect(FleetTable.duplicateFingerprint(key: 0, content: 0) == 0)
        #expect(!table.isDuplicate(row: row, sequence: 0, timestamp: 0))
        #expect(table.isDuplicate(row: row, sequence: 0, timestamp: 0))
        #expect(!table.isDuplicate(row: row, sequence: .max, timestamp: .max))
    }

    @Test func fingerprintsKeepTheKeyWholeAndTellApartContentsWithinTwoToThe32() {
        var generator = SystemRandomNumberGenerator()
        for _ in 0..<10_000 {
            let key = UInt32.random(in: 0...UInt32.max, using: &generator)
            // Contents sharing their upper half (timestamps within 71 minutes of µs): the fold is
            // one-to-one on the lower half, so distinct contents never match.
            let content = UInt64.random(in: 0...UInt64.max, using: &generator)
            let other = content & 0xFFFF_FFFF_0000_0000 | UInt64(UInt32.random(in: 0...UInt32.max, using: &generator))
            let fingerprint = FleetTable.duplicateFingerprint(key: key, content: content)
            #expect(UInt32(fingerprint >> 32) == key)
            #expect((fingerprint == FleetTable.duplicateFingerprint(key: key, content: other)) == (content == other))
            #expect(fingerprint != FleetTable.duplicateFingerprint(key: key ^ 1, content: content))
        }
        // What the fold gives up: contents 2^32 + 1 apart across an even upper half match.
        let timestamp: UInt64 = 0x0006_4000_1234_5678
        #expect(FleetTable.duplicateFingerprint(key: 5, content: timestamp)
            == FleetTable.duplicateFingerprint(key: 5, content: timestamp + (1 << 32) + 1))
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

/// A full fleet table gives the row of the drone silent longest to a new drone once that one is
/// offline, resets every column of the row, and keeps every probe chain whole after removals
/// (backward-shift deletion): checked directly and against a dictionary model over thousands of
/// seeded evictions in a small, crowded index.
@Suite struct FleetTableEvictionTests {
    @Test func aFullTableEvictsTheLongestSilentDroneOnceOffline() throws {
        let table = FleetTable(capacity: 3, duplicateWindow: 2, offlineAfterNanoseconds: 100)
        for (index, number) in [UInt32(10), 20, 30].enumerated() {
            let row = try #require(table.findOrInsert(protocol: .skygate, number: number, now: UInt64(index) * 10))
            table.countFrame(row: row, sequence: 5, modulus: 1 << 32, now: UInt64(index) * 10)
        }
        // Drone 10 was last seen at 0: not offline at 99, so the new drone is refused.
        #expect(table.findOrInsert(protocol: .mavlink, number: 40, now: 99) == nil)
        #expect(table.dronesEvicted == 0)
        // Give drone 10's row some state, then let it go offline.
        let old = try #require(table.row(of: DroneIdentity(protocol: .skygate, number: 10)))
        _ = table.isDuplicate(row: old, sequence: 7, timestamp: 70)
        table.framesLost[old] = 3
        table.framesDuplicate[old] = 2
        table.samplesReceived[old] = 9
        table.lastTimestamps[old] = 123
        table.lastLatitudes[old] = 1
        table.lastLongitudes[old] = 2
        table.lastAltitudes[old] = 3
        table.lastHeadings[old] = 4
        table.lastBatteryMillivolts[old] = 5
        table.lastBatteryPercents[old] = 6
        table.lastSatellites[old] = 7
        table.lastStatuses[old] = 8
        table.lastGroundSpeeds[old] = 9
        table.lastClimbRates[old] = 10
        table.distancesFlown[old] = 11
        table.hasFix[old] = true
        let row = try #require(table.findOrInsert(protocol: .mavlink, number: 40, now: 100))
        #expect(row == old && table.dronesEvicted == 1 && table.count == 3)
        #expect(table.row(of: DroneIdentity(protocol: .skygate, number: 10)) == nil)
        #expect(table.row(of: DroneIdentity(protocol: .mavlink, number: 40)) == row)
        #expect(table.row(of: DroneIdentity(protocol: .skygate, number: 20)) != nil)
        #expect(table.row(of: DroneIdentity(protocol: .skygate, number: 30)) != nil)
        // Every column is a new drone's.
        #expect(table.framesReceived[row] == 0 && table.framesLost[row] == 0 && table.framesDuplicate[row] == 0)
        #expect(table.samplesReceived[row] == 0 && table.lastSequences[row] == 0)
        #expect(table.firstSeenNanoseconds[row] == 100 && table.lastSeenNanoseconds[row] == 100)
        #expect(table.lastTimestamps[row] == 0 && table.lastLatitudes[row] == 0 && table.lastLongitudes[row] == 0)
        #expect(table.lastAltitudes[row] == 0 && table.lastHeadings[row] == 0 && table.lastBatteryMillivolts[row] == 0)
        #expect(table.lastBatteryPercents[row] == 0 && table.lastSatellites[row] == 0 && table.lastStatuses[row] == 0)
        #expect(table.lastGroundSpeeds[row] == 0 && table.lastClimbRates[row] == 0 && table.distancesFlown[row] == 0)
        #expect(!table.hasFix[row] && table.recentNext[row] == 0)
        #expect(!table.isDuplicate(row: row, sequence: 7, timestamp: 70), "the old drone's duplicate window is gone")
        // The next one silent longest (drone 20, seen at 10) is not offline at 105; at 110 it is.
        #expect(table.findOrInsert(protocol: .skygate, number: 50, now: 105) == nil)
        #expect(table.findOrInsert(protocol: .skygate, number: 50, now: 110) != nil)
        #expect(table.row(of: DroneIdentity(protocol: .skygate, number: 20)) == nil && table.dronesEvicted == 2)
    }

    @Test func withoutAnOfflineTimeNoRowIsGivenAway() {
        let table = FleetTable(capacity: 1, duplicateWindow: 1)
        #expect(table.findOrInsert(protocol: .skygate, number: 1, now: 0) == 0)
        #expect(table.findOrInsert(protocol: .skygate, number: 2, now: .max) == nil)
    }

    /// Seeded model check: a crowded index (48 drones in 128 slots, ids drawn from a small range so
    /// chains collide and wrap), thousands of evictions of a chosen row; after each, every drone
    /// of the model is found at its row and every evicted one is gone.
    @Test(arguments: [1 as UInt64, 2, 3, 4]) func probeChainsStayWholeAfterRemovals(seed: UInt64) throws {
        var state = seed &* 0x9E37_79B9_7F4A_7C15 | 1
        func next() -> UInt64 {
            state ^= state << 13
            state ^= state >> 7
            state ^= state << 17
            return state
        }
        let capacity = 48
        let table = FleetTable(capacity: capacity, duplicateWindow: 1, offlineAfterNanoseconds: 10)
        var model: [DroneIdentity: Int] = [:]
        var rowDrones: [DroneIdentity?] = Array(repeating: nil, count: capacity)
        func randomDrone() -> DroneIdentity {
            DroneIdentity(protocol: next() % 2 == 0 ? .skygate : .mavlink, number: UInt32(next() % 400))
        }
        while model.count < capacity {
            let drone = randomDrone()
            guard model[drone] == nil else { continue }
            let row = try #require(table.findOrInsert(protocol: drone.protocol, number: drone.number, now: 0))
            model[drone] = row
            rowDrones[row] = drone
        }
        var now: UInt64 = 1_000
        var removed: Set<DroneIdentity> = []
        for _ in 0..<3_000 {
            now += 100
            var drone = randomDrone()
            while model[drone] != nil { drone = randomDrone() }
            // Every row seen just now except the chosen one, which is offline.
            let victim = Int(next() % UInt64(capacity))
            for row in 0..<capacity { table.lastSeenNanoseconds[row] = row == victim ? 0 : now }
            let row = try #require(table.findOrInsert(protocol: drone.protocol, number: drone.number, now: now))
            #expect(row == victim)
            let gone = try #require(rowDrones[victim])
            model[gone] = nil
            removed.insert(gone)
            removed.remove(drone)
            model[drone] = row
            rowDrones[row] = drone
            for (known, knownRow) in model where table.row(of: known) != knownRow {
                Issue.record("drone \(known) not at row \(knownRow) after evicting \(gone)")
            }
            for drone in removed where table.row(of: drone) != nil { Issue.record("evicted drone \(drone) still found") }
        }
        #expect(table.dronesEvicted == 3_000 && table.count == capacity)
    }
}
