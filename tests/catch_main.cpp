// Every test binary's main. ctest runs each TEST_CASE by its name (see
// tests/CMakeLists.txt), and a name with ';' in it is split into two names
// that match no test: such a test would never run, yet pass. A binary
// holding one refuses to run anything.

#define CATCH_CONFIG_RUNNER
#include <catch2/catch.hpp>

#include <iostream>

int main(int argc, char* argv[]) {
  bool named_well = true;
  for (const auto& test : Catch::getRegistryHub().getTestCaseRegistry().getAllTests())
    if (test.name.find(';') != std::string::npos) {
      std::cerr << test.getTestCaseInfo().lineInfo << ": test name with ';' (ctest cannot run it): " << test.name
                << "\n";
      named_well = false;
    }
  if (!named_well)
    return 2;
  return Catch::Session().run(argc, argv);
}
