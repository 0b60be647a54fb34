#pragma once
// Versioned models on disk:
//   <root>/index.json              every version with its stage
//   <root>/v<N>/model.json         XGBoost JSON
//   <root>/v<N>/metadata.json      metrics, params, schema hash, windows
// Writes go to a temporary file renamed into place, so a crash never leaves
// a half-written index or model.

#include <nlohmann/json.hpp>

#include <filesystem>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

namespace vigil::models {

enum class model_stage { candidate, shadow, production, archived };
const char* to_string(model_stage s);
/// nullopt for an unknown name.
std::optional<model_stage> stage_from_string(const std::string& s);

struct model_entry {
  int version = 0;
  model_stage stage = model_stage::candidate;
  nlohmann::json metadata;  ///< as registered, plus "version", "stage", "registered_at"
};

/// Thrown for an unknown version or an unreadable/corrupt registry.
struct registry_error : std::runtime_error {
  using std::runtime_error::runtime_error;
};

class model_registry {
 public:
  /// Opens (creating if needed) a registry rooted at `root`.
  explicit model_registry(std::filesystem::path root);

  /// Stores a model as the next version, stage candidate. Returns the version.
  int add(const std::string& model_json, nlohmann::json metadata);

  std::vector<model_entry> list() const;
  std::optional<model_entry> find(int version) const;
  /// The model in production, if any.
  std::optional<model_entry> production() const;

  /// Moves `version` to `stage`. Promoting to production archives the
  /// previous production model. Throws registry_error for unknown versions.
  void set_stage(int version, model_stage stage);

  /// The XGBoost JSON of `version`. Throws registry_error when missing.
  std::string model_json(int version) const;

  const std::filesystem::path& root() const { return root_; }
  /// The folder of `version`'s files (model, metadata, report, profile...).
  std::filesystem::path version_dir(int version) const { return root_ / ("v" + std::to_string(version)); }

 private:
  nlohmann::json read_index() const;
  void write_index(const nlohmann::json& index) const;

  std::filesystem::path root_;
};

/// Writes `text` to `path` atomically (temporary file, fsync, rename).
void write_file_atomically(const std::filesystem::path& path, const std::string& text);
/// Reads a whole file; throws registry_error when it cannot.
std::string read_whole_file(const std::filesystem::path& path);

} // namespace vigil::models
