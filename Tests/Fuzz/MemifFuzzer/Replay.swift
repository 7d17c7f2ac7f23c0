// Without -DFUZZING this replays the files named on the command line through the harness:
// the corpus and any crash reproducer stay runnable as plain regression inputs.
#if !FUZZING
#if canImport(Glibc)
import Glibc
#endif

@main
struct Replay {
    static func main() {
        var replayed = 0
        for path in CommandLine.arguments.dropFirst() {
            guard let f = fopen(path, "rb") else {
                print("cannot read \(path)")
                exit(1)
            }
            var bytes: [UInt8] = []
            var chunk = [UInt8](repeating: 0, count: 65_536)
            while true {
                let n = fread(&chunk, 1, chunk.count, f)
                if n <= 0 { break }
                bytes += chunk[0..<n]
            }
            fclose(f)
            bytes.withUnsafeBytes { MemifHarness.run($0) }
            replayed += 1
        }
        print("replayed \(replayed) inputs without a crash")
    }
}
#endif
