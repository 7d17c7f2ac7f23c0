#if canImport(Glibc)
import Glibc
#endif

exit(Driver.run(Array(CommandLine.arguments.dropFirst())))
