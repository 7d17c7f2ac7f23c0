import Testing
@testable import ClickLanguage
