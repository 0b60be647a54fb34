#include "actors/cli/command_line.h"
#include "actors/cli/commands.h"
#include "models/registry/model_registry.h"

#include <cstdio>
#include <iostream>

namespace vigil::cli {
namespace {

constexpr const char* help = R"(usage: vigil models list [--registry DIR]
       vigil models promote VERSION [--stage production|shadow|candidate|archived] [--registry DIR]
Lists registered models, or moves one to a stage (default production;
promoting to production archives the previous production model).
)";

} // namespace

int models_command(const arguments& args) {
  command_line cl(args, {"registry", "stage"}, {"help"});
  const auto& words = cl.positional();
  if (cl.has("help") || words.empty()) {
    std::cout << help;
    return words.empty() && !cl.has("help") ? 2 : 0;
  }
  models::model_registry registry{cl.text("registry", "registry")};
  if (words[0] == "list") {
    std::printf("%-8s %-11s %-9s %-9s %-9s %s\n", "version", "stage", "pr_auc", "recall",
                "threshold", "registered_at");
    for (const auto& e : registry.list()) {
      const auto& m = e.metadata;
      std::printf("%-8d %-11s %-9.4f %-9.4f %-9.4f %s\n", e.version, models::to_string(e.stage),
                  m["metrics"].value("pr_auc", 0.0), m["metrics"].value("recall", 0.0),
                  m.value("threshold", 0.0), m.value("registered_at", "").c_str());
    }
    return 0;
  }
  if (words[0] == "promote" && words.size() == 2) {
    auto stage = models::stage_from_string(cl.text("stage", "production"));
    if (!stage)
      throw usage_error("unknown stage '" + cl.text("stage", "") + "'");
    int version = std::stoi(words[1]);
    registry.set_stage(version, *stage);
    std::printf("model v%d is now %s\n", version, models::to_string(*stage));
    return 0;
  }
  throw usage_error("expected 'list' or 'promote VERSION'");
}

} // namespace vigil::cli
