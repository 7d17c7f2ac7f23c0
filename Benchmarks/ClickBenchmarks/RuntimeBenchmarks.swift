import ClickElements
import ClickLanguage
import ClickRuntime

/// Packets per second through a configuration that stops itself after `packets` packets:
/// the router is built once per repetition (not timed) and run to its stop event (timed).
func packetRate(_ name: String, config: String, packets: Int, repetitions: Int = 7) -> String {
    let registry = StandardElements.registry
    var rates: [Double] = []
    let clock = ContinuousClock()
    for rep in 0..<(repetitions + 1) {
        let log = DiagnosticLog()
        let flat = ClickConfiguration.flatten(config, knownClasses: registry.classNames, log: log)
        guard let router = Router.build(flat, registry: registry, log: log) else {
            return "\(name): FAILED\n\(log.text)"
        }
        let elapsed = clock.measure { router.run() }
        router.cleanup()
        if rep == 0 { continue }  // warm-up
        rates.append(Double(packets) / Measurement.seconds(elapsed))
    }
    rates.sort()
    let median = rates[rates.count / 2]
    return "\(name): median \(format3(median / 1e6)) Mpps (min \(format3(rates[0] / 1e6)), max \(format3(rates[rates.count - 1] / 1e6)), \(rates.count) runs of \(packets) packets)"
}

extension Measurement {
    static func seconds(_ d: Duration) -> Double {
        Double(d.components.seconds) + Double(d.components.attoseconds) * 1e-18
    }
}
