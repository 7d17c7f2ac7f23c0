import ClickLanguage

extension Router {
    /// The elements within `diameter` hops downstream (`forward`) or upstream of `element`'s
    /// port `port` (all its ports when nil), as Click's `Router::visit` with an
    /// ElementNeighborhoodTracker finds them: breadth first, each port visited once, paths
    /// continued through the ports each element's flow code connects, in Click's order.
    public func neighborhood(of element: Element, forward: Bool, port: Int?, diameter: Int) -> [Element] {
        guard element.index >= 0, element.index < elements.count, elements[element.index] === element else { return [] }
        // The connections leaving (forward) or entering each port, ordered by the far end.
        var adjacent: [Int: [(element: Int, port: Int)]] = [:]
        func key(_ e: Int, _ p: Int) -> Int { e &* 65_536 &+ p }
        for c in flat.connections {
            if forward {
                adjacent[key(c.from, c.fromPort), default: []].append((c.to, c.toPort))
            } else {
                adjacent[key(c.to, c.toPort), default: []].append((c.from, c.fromPort))
            }
        }
        let ports = forward ? element.noutputs : element.ninputs
        var sources: [(element: Int, port: Int)] = port.map { $0 >= 0 && $0 < ports ? [(element.index, $0)] : [] }
            ?? (0..<ports).map { (element.index, $0) }
        var visitedPorts = Set<Int>()
        var found: [Element] = []
        var distance = 1
        while !sources.isEmpty, distance <= diameter {
            var next: [(element: Int, port: Int)] = []
            for source in sources {
                let far = (adjacent[key(source.element, source.port)] ?? []).sorted { ($0.element, $0.port) < ($1.element, $1.port) }
                for (e, p) in far where visitedPorts.insert(key(e, p)).inserted {
                    let reached = elements[e]
                    if !found.contains(where: { $0 === reached }) { found.append(reached) }
                    guard distance < diameter else { continue }
                    // Through the element: from the input it was reached on to the outputs
                    // its flow code connects (or back from an output to the inputs).
                    let onward = forward ? reached.noutputs : reached.ninputs
                    for q in 0..<onward
                    where forward ? flowReaches(reached.flowCode, input: p, output: q) : flowReaches(reached.flowCode, input: q, output: p) {
                        next.append((e, q))
                    }
                }
            }
            sources = next
            distance += 1
        }
        return found
    }
}
