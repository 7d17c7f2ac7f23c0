import ClickElements
import ClickLanguage
import ClickRuntime
import Testing

/// Every registered class against its documentation: it constructs, its name is the name
/// it is registered under, the handlers its documentation names are the handlers it adds,
/// and the argument names its synopsis gives are the ones its `configure` asks for.
@Suite struct ElementCatalogTests {
    /// A router for elements to be configured in: what `configure` may consult.
    static func host() throws -> Router {
        let log = DiagnosticLog()
        let flat = ClickConfiguration.flatten("", knownClasses: StandardElements.registry.classNames, log: log)
        return try #require(Router.build(flat, registry: StandardElements.registry, simulatedTime: true, log: log))
    }

    @Test func everyClassIsNamedOnceAndDocumented() {
        for (name, type) in StandardElements.registry.classes {
            let element = type.init()
            let isAlias = StandardElements.aliases.contains { $0.0 == name }
            #expect(isAlias || element.className == name, "\(name) is registered as \(element.className)")
            #expect(ElementDocumentation.of(name) != nil, "\(name) has no documentation")
        }
    }

    @Test func documentedHandlersAreTheHandlers() throws {
        let router = try Self.host()
        var mismatches: [String] = []
        for type in StandardElements.classes {
            let e = type.init()
            e.router = router
            var args = Arguments(configuration: "", context: ValueContext(elementName: "e", addressNames: router.addressNames))
            e.configure(&args)
            var set = HandlerSet()
            e.addHandlers(&set)
            let has = Set(set.handlers.map(\.name))
            let doc = ElementDocumentation.of(e.className)
            let documented = Set(doc?.handlers ?? [])
            let always = documented.subtracting(doc?.conditionalHandlers ?? [])
            if !has.isSubset(of: documented) || !always.isSubset(of: has) {
                mismatches.append("\(e.className): undocumented \(has.subtracting(documented).sorted()), not there \(documented.subtracting(has).sorted())")
            }
        }
        #expect(mismatches.isEmpty, Comment(rawValue: "\(mismatches.count) classes:\n" + mismatches.joined(separator: "\n")))
    }

    @Test func documentedArgumentsAreTheOnesRead() throws {
        let router = try Self.host()
        var mismatches: [String] = []
        for type in StandardElements.classes {
            let e = type.init()
            e.router = router
            var args = Arguments(configuration: "", context: ValueContext(elementName: "e", addressNames: router.addressNames))
            e.configure(&args)
            let read = Set(args.requested)
            let doc = ElementDocumentation.of(e.className)
            let documented = Set(doc?.keywords ?? [])
            // Every name it asks for is documented, and every keyword the synopsis gives by
            // name is read. (Positional placeholders, PATTERN_1 or ADDR/MASK, may describe
            // text the element parses itself.)
            let keywords = Set(doc?.keywordArguments ?? [])
            if !read.isSubset(of: documented) || !keywords.isSubset(of: read) {
                mismatches.append("\(e.className): undocumented \(read.subtracting(documented).sorted()), not read \(documented.subtracting(read).sorted())")
            }
        }
        #expect(mismatches.isEmpty, Comment(rawValue: "\(mismatches.count) classes:\n" + mismatches.joined(separator: "\n")))
    }
}
