#if canImport(Glibc)
import Glibc
#endif

/// Prints one figure and flushes it, so lines appear as they are measured even in a pipe.
func report(_ line: String) {
    let bytes = Array((line + "\n").utf8)
    _ = bytes.withUnsafeBytes { write(1, $0.baseAddress, $0.count) }
}

/// A small measurement harness: warm-up runs, timed repetitions, and the median, printed as
/// one line per figure.
struct Measurement {
    var name: String
    var samples: [Duration]

    var median: Duration {
        let sorted = samples.sorted()
        return sorted[sorted.count / 2]
    }

    static func milliseconds(_ d: Duration) -> Double {
        Double(d.components.seconds) * 1e3 + Double(d.components.attoseconds) * 1e-15
    }

    var line: String {
        let sorted = samples.sorted()
        func f(_ d: Duration) -> String { String(format3(Self.milliseconds(d))) }
        return "\(name): median \(f(median)) ms (min \(f(sorted[0])), max \(f(sorted[sorted.count - 1])), \(samples.count) runs)"
    }
}

func format3(_ x: Double) -> String {
    let scaled = (x * 1000).rounded() / 1000
    return "\(scaled)"
}

/// Runs `body` `warmup` times untimed, then `repetitions` times timed.
func measure(_ name: String, warmup: Int = 3, repetitions: Int = 15, _ body: () -> Void) -> Measurement {
    for _ in 0..<warmup { body() }
    let clock = ContinuousClock()
    var samples: [Duration] = []
    for _ in 0..<repetitions {
        samples.append(clock.measure(body))
    }
    return Measurement(name: name, samples: samples)
}
