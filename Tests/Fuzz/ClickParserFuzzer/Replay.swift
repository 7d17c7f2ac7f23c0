// Without -DFUZZING this replays the files named on the command line through the harness:
// the corpus and any crash reproducer stay runnable as plain regression inputs.
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
            guard let text = FileLibraryResolver.readFile(path) else {
                print("cannot read \(path)")
                exit(1)
            }
            Array(text.utf8).withUnsafeBytes { ParserHarness.run($0) }
            replayed += 1
        }
        print("replayed \(replayed) inputs without a crash")
    }
}
#endif
