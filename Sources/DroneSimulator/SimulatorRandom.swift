/// The simulator's own pseudo-random generator: xoshiro256** (Blackman and Vigna, 2018), seeded
/// through SplitMix64 as its authors recommend.
///
/// The simulator never uses the system generator or the standard library's `random(in:)`
/// algorithms (which may change between Swift versions): the same seed must give byte-identical
/// datagrams on every machine and toolchain. Each drone and each drone's link draws from its own
/// stream, so changing one option (say `--loss`) leaves the flights untouched.
public struct SimulatorRandom: RandomNumberGenerator, Sendable {
    @usableFromInline var s0: UInt64
    @usableFromInline var s1: UInt64
    @usableFromInline var s2: UInt64
    @usableFromInline var s3: UInt64

    /// A generator for `seed`, on stream `stream` (drone index, link, ...).
    public init(seed: UInt64, stream: UInt64 = 0) {
        var mixer = SplitMix64(state: seed)
        // Mix the stream in through a second SplitMix64 step, so streams of one seed are unrelated.
        var streamMixer = SplitMix64(state: mixer.next() ^ stream &* 0xD1B5_4A32_D192_ED03)
        s0 = streamMixer.next()
        s1 = streamMixer.next()
        s2 = streamMixer.next()
        s3 = streamMixer.next()
        // xoshiro must not start from all zeros; SplitMix64 makes that practically impossible.
        if s0 | s1 | s2 | s3 == 0 { s0 = 1 }
    }

    @inlinable
    public mutating func next() -> UInt64 {
        let result = rotateLeft(s1 &* 5, 7) &* 9
        let t = s1 << 17
        s2 ^= s0
        s3 ^= s1
        s1 ^= s2
        s0 ^= s3
        s2 ^= t
        s3 = rotateLeft(s3, 45)
        return result
    }

    /// A uniform Double in [0, 1) from the top 53 bits.
    @inlinable
    public mutating func nextUnit() -> Double {
        Double(next() >> 11) * 0x1p-53
    }

    /// A uniform Double in `range` (the upper bound is reached only by rounding).
    @inlinable
    public mutating func nextDouble(in range: ClosedRange<Double>) -> Double {
        range.lowerBound + (range.upperBound - range.lowerBound) * nextUnit()
    }

    /// A uniform integer in `range`, by Lemire's multiply-shift (its bias, below 2^-32 for the
    /// small ranges used here, does not matter to a simulation).
    @inlinable
    public mutating func nextInt(in range: ClosedRange<Int>) -> Int {
        let span = UInt64(range.upperBound - range.lowerBound) &+ 1
        return range.lowerBound + Int(next().multipliedFullWidth(by: span).high)
    }

    /// An approximately normal value with mean 0 and standard deviation 1: the sum of four
    /// uniforms, rescaled. Cheaper than Box-Muller and bounded (|x| < 3.5), which is what GPS
    /// noise wants.
    @inlinable
    public mutating func nextGaussianApproximation() -> Double {
        let sum = nextUnit() + nextUnit() + nextUnit() + nextUnit()
        // Four uniforms sum to mean 2 and variance 1/3.
        return (sum - 2) * 1.732_050_807_568_877
    }

    @inlinable
    func rotateLeft(_ x: UInt64, _ k: UInt64) -> UInt64 { (x << k) | (x >> (64 - k)) }
}

/// SplitMix64 (Steele, Lea and Flood, 2014): used only to expand seeds into xoshiro state.
@usableFromInline
struct SplitMix64 {
    @usableFromInline var state: UInt64

    @inlinable init(state: UInt64) { self.state = state }

    @inlinable
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
