/// Click's `click_qsort` (`lib/glue.cc`), step for step, on an array of indexes. It is not a
/// stable sort: elements with equal keys come out in the order Click's driver puts them,
/// and that order is visible (the order elements are configured in, and so the order of
/// their messages), so the router sorts as Click does rather than stably.
enum ClickSort {
    /// Sorts `items` by `compare` (negative, zero, positive), as `click_qsort` sorts an
    /// array of 4-byte integers (its byte-wise swap variant, whose pivot stays in place).
    static func sort(_ items: inout [Int], by compare: (Int, Int) -> Int) {
        func cmp(_ i: Int, _ j: Int) -> Int { compare(items[i], items[j]) }
        func med3(_ a: Int, _ b: Int, _ c: Int) -> Int {
            let ab = cmp(a, b), bc = cmp(b, c)
            if ab < 0 { return bc < 0 ? b : (cmp(a, c) < 0 ? c : a) }
            return bc > 0 ? b : (cmp(a, c) > 0 ? c : a)
        }
        func swapRanges(_ a: Int, _ b: Int, _ count: Int) {
            for k in 0..<count { items.swapAt(a + k, b + k) }
        }
        var stack: [(start: Int, end: Int)] = [(0, items.count)]
        while let (start, end) = stack.popLast() {
            let a = start, n = end - start
            if n < 7 {
                // Insertion sort for tiny ranges.
                var i = a + 1
                while i < a + n {
                    var j = i
                    while j > a, cmp(j - 1, j) > 0 {
                        items.swapAt(j, j - 1)
                        j -= 1
                    }
                    i += 1
                }
                continue
            }
            var pm = a + n / 2
            if n > 7 {
                var p1 = a, p2 = a + n - 1
                if n > 40 {
                    let d = n / 8
                    p1 = med3(p1, p1 + d, p1 + 2 * d)
                    pm = med3(pm - d, pm, pm + d)
                    p2 = med3(p2 - 2 * d, p2 - d, p2)
                }
                pm = med3(p1, pm, p2)
            }
            // The pivot moves to the front and stays there while the rest is partitioned.
            items.swapAt(a, pm)
            var pa = a + 1, pb = a + 1, pc = a + n - 1, pd = a + n - 1
            while true {
                while pb <= pc {
                    let r = cmp(pb, a)
                    if r > 0 { break }
                    if r == 0 {
                        items.swapAt(pa, pb)
                        pa += 1
                    }
                    pb += 1
                }
                while pc >= pb {
                    let r = cmp(pc, a)
                    if r < 0 { break }
                    if r == 0 {
                        items.swapAt(pc, pd)
                        pd -= 1
                    }
                    pc -= 1
                }
                if pb > pc { break }
                items.swapAt(pb, pc)
                pb += 1
                pc -= 1
            }
            // The runs equal to the pivot, at both ends, go to the middle.
            let pn = a + n
            var s = Swift.min(pa - a, pb - pa)
            if s > 0 { swapRanges(a, pb - s, s) }
            s = Swift.min(pd - pc, pn - pd - 1)
            if s > 0 { swapRanges(pb, pn - s, s) }
            if pb == pa && pd == pc { continue }
            var first = (start: start, end: start + (pb - pa))
            var second = (start: end - (pd - pc), end: end)
            // The larger range is pushed first, so the smaller is sorted next.
            if second.end - second.start > first.end - first.start { swap(&first, &second) }
            stack.append(first)
            if second.start != second.end { stack.append(second) }
        }
    }
}
