/// The sequence-number shifts of one TCP flow whose payload an element upstream of the
/// rewriter lengthened or shortened (FTPPortMapper's rewritten PORT commands), as Click's
/// TCPRewriter keeps them: a list of transitions, newest first, each with a shift per
/// direction that applies from its trigger sequence number on. Sequence numbers are
/// shifted in the direction that changed; acknowledgements (and SACK blocks) coming back
/// are shifted back. Transitions 1 GB behind the newest are forgotten.
struct SequenceDeltas {
    struct Transition {
        var delta: (Int32, Int32) = (0, 0)
        var trigger: (UInt32, UInt32) = (0, 0)
        var hasTrigger: (Bool, Bool) = (false, false)

        func delta(_ d: Int) -> Int32 { d == 0 ? delta.0 : delta.1 }
        func trigger(_ d: Int) -> UInt32 { d == 0 ? trigger.0 : trigger.1 }
        func hasTrigger(_ d: Int) -> Bool { d == 0 ? hasTrigger.0 : hasTrigger.1 }
        mutating func set(_ d: Int, delta v: Int32) { if d == 0 { delta.0 = v } else { delta.1 = v } }
        mutating func set(_ d: Int, trigger v: UInt32) { if d == 0 { trigger.0 = v } else { trigger.1 = v } }
        mutating func set(_ d: Int, hasTrigger v: Bool) { if d == 0 { hasTrigger.0 = v } else { hasTrigger.1 = v } }
        var hasAnyTrigger: Bool { hasTrigger.0 || hasTrigger.1 }
    }

    /// Newest first.
    var transitions: [Transition] = []
    /// The forward mapping's slot generation when the deltas were made (a freed and
    /// reused slot is another flow).
    var generation: UInt32

    static func seqGEQ(_ a: UInt32, _ b: UInt32) -> Bool { Int32(bitPattern: a &- b) >= 0 }

    /// From `trigger` on, sequence numbers in `direction` (0 forward, 1 reply) move by `d`
    /// more. False if the trigger is older than the newest one in that direction.
    @discardableResult
    mutating func add(direction dir: Int, trigger: UInt32, delta d: Int32) -> Bool {
        let other = 1 - dir
        if let head = transitions.first, head.hasTrigger(dir), !Self.seqGEQ(trigger, head.trigger(dir)) { return false }
        if let head = transitions.first, head.hasTrigger(dir) ? trigger == head.trigger(dir) : head.delta(dir) == 0 {
            // reuse the newest transition
        } else {
            // A new transition in front; the other direction's chain moves up one.
            transitions.insert(Transition(), at: 0)
            var k = 0
            while k + 1 < transitions.count {
                let x = transitions[k + 1]
                transitions[k].set(other, delta: x.delta(other))
                transitions[k].set(other, trigger: x.trigger(other))
                if x.hasTrigger(other) {
                    transitions[k].set(other, hasTrigger: true)
                    k += 1
                } else {
                    transitions[k].set(other, hasTrigger: false)
                    break
                }
            }
        }
        transitions[0].set(dir, trigger: trigger)
        transitions[0].set(dir, delta: (transitions.count > 1 ? transitions[1].delta(dir) : 0) &+ d)
        transitions[0].set(dir, hasTrigger: true)
        var j = 1
        while j < transitions.count, transitions[j].hasTrigger(dir), !Self.seqGEQ(trigger, transitions[j].trigger(dir) &+ (1 << 30)) { j += 1 }
        if j < transitions.count, transitions[j].hasTrigger(dir) {
            transitions[j].set(dir, hasTrigger: false)
            if !transitions[j].hasAnyTrigger { transitions.removeSubrange((j + 1)...) }
        }
        return true
    }

    /// Sequence number `seq` sent in `dir`, shifted.
    func newSeq(_ dir: Int, _ seq: UInt32) -> UInt32 {
        var k = 0
        while k < transitions.count, transitions[k].hasTrigger(dir), !Self.seqGEQ(seq, transitions[k].trigger(dir)) { k += 1 }
        return k < transitions.count ? seq &+ UInt32(bitPattern: transitions[k].delta(dir)) : seq
    }

    /// Acknowledgement `ack` sent in `dir` (of the other direction's data), shifted back.
    func newAck(_ dir: Int, _ ack: UInt32) -> UInt32 {
        let other = 1 - dir
        var k = 0
        while k < transitions.count, transitions[k].hasTrigger(other),
            !Self.seqGEQ(ack &- UInt32(bitPattern: transitions[k].delta(other)), transitions[k].trigger(other)) { k += 1 }
        return k < transitions.count ? ack &- UInt32(bitPattern: transitions[k].delta(other)) : ack
    }

    /// Shifts the sequence and acknowledgement numbers (and SACK blocks) of TCP header
    /// `t` sent in `dir`, its checksum updated; `transportLength` bytes are present and
    /// hold the whole header.
    mutating func apply(_ t: UnsafeMutableRawPointer, direction dir: Int, transportLength: Int) {
        guard let head = transitions.first else { return }
        let seq = t.be32(4)
        if head.hasTrigger(dir), Self.seqGEQ(seq, head.trigger(dir) &+ (1 << 30)) {
            transitions[0].set(dir, hasTrigger: false)
            if !transitions[0].hasAnyTrigger { transitions.removeSubrange(1...) }
        }
        let now = transitions[0]
        if now.delta(dir) != 0 || now.hasTrigger(dir) { Self.replace32(t, at: 4, with: newSeq(dir, seq)) }
        let other = 1 - dir
        guard now.delta(other) != 0 || now.hasTrigger(other) else { return }
        Self.replace32(t, at: 8, with: newAck(dir, t.be32(8)))
        let offset = Int(t.byte(12) >> 4) << 2
        if offset > 32 || (offset == 32 && t.be32(20) != 0x0101_080A) {
            shiftSACK(t, direction: dir, end: min(offset, transportLength))
        }
    }

    /// Writes `value` at `at` in TCP header `t`, updating its checksum incrementally.
    static func replace32(_ t: UnsafeMutableRawPointer, at: Int, with value: UInt32) {
        let old = t.be32(at)
        let sum = UInt32(~t.be16(16)) &+ UInt32(~UInt16(old >> 16)) &+ UInt32(value >> 16) &+ UInt32(~UInt16(old & 0xFFFF)) &+ (value & 0xFFFF)
        t.setBE32(at, value)
        t.setBE16(16, ~foldChecksum(sum))
    }

    /// The SACK blocks among the options before `end`, shifted back as acknowledgements.
    func shiftSACK(_ t: UnsafeMutableRawPointer, direction dir: Int, end: Int) {
        var o = 20
        var sum: UInt32 = 0
        scan: while o < end {
            switch t.byte(o) {
            case 0: break scan
            case 1: o += 1
            case 5:
                let length = Int(t.byte(o + 1))
                guard o + length <= end, length % 8 == 2 else { break scan }
                // The 16-bit words covering the blocks, before and after, for the checksum.
                let first = o + 2 - ((o + 2 - 20) & 1)
                for w in stride(from: first, to: o + length, by: 2) { sum &+= UInt32(~t.be16(w)) }
                for b in stride(from: o + 2, to: o + length, by: 4) { t.setBE32(b, newAck(dir, t.be32(b))) }
                for w in stride(from: first, to: o + length, by: 2) { sum &+= UInt32(t.be16(w)) }
                o += length
            default:
                guard o + 1 < end, t.byte(o + 1) >= 2 else { break scan }
                o += Int(t.byte(o + 1))
            }
        }
        if sum != 0 { t.setBE16(16, ~foldChecksum(UInt32(~t.be16(16)) &+ sum)) }
    }
}
