// Without -DFUZZING this replays the files named on the command line (raw frames).
#if !FUZZING
#if canImport(Glibc)
import Glibc
#endif
import ClickLanguage

@main
struct Replay {
    static func main() {
        var replayed = 0
        for path in CommandLine.arguments.dropFirst() {
            guard let handle = fopen(path, "rb") else {
                print("cannot read \(path)")
                exit(1)
            }
            var bytes = [UInt8](repeating: 0, count: 65_536)
            let n = fread(&bytes, 1, bytes.count, handle)
            fclose(handle)
            Array(bytes.prefix(n)).withUnsafeBytes { ElementHarness.run($0) }
            replayed += 1
        }
        print("replayed \(replayed) frames without a crash or leak")
    }
}
#endif
