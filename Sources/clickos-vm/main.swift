#if canImport(Glibc)
import Glibc
#endif

if GuestInit.isInit { GuestInit.run() }
exit(Driver.run(Array(CommandLine.arguments.dropFirst())))
