#include "models/registry/model_registry.h"

#include "pipeline/schema/transaction_json.h"

#include <chrono>
#include <cstdio>
#include <fstream>
#include <sstream>

#include <fcntl.h>
#include <cerrno>
#include <cstring>
#include <unistd.h>

namespace vigil::models {
namespace fs = std::filesystem;
using json = nlohmann::json;

const char* to_string(model_stage s) {
  switch (s) {
    case model_stage::candidate: return "candidate";
    case model_stage::shadow: return "shadow";
    case model_stage::production: return "production";
    case model_stage::archived: return "archived";
  }
  return "candidate";
}

std::optional<model_stage> stage_from_string(const std::string& s) {
  for (auto st : {model_stage::candidate, model_stage::shadow,
                  model_stage::production, model_stage::archived})
    if (s == to_string(st))
      return st;
  return std::nullopt;
}

void write_file_atomically(const fs::path& path, const std::string& text) {
  fs::create_directories(path.parent_path());
  fs::path tmp = path;
  tmp += ".tmp";
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  if (fd < 0)
    throw registry_error("cannot write " + tmp.string() + ": " + std::strerror(errno));
  // A failed write (a full disk) removes the partial copy, which would
  // otherwise hold on to the space; the file at `path` is never touched.
  auto fail = [&](const char* what) {
    std::string reason = std::strerror(errno);
    ::close(fd);
    ::unlink(tmp.c_str());
    throw registry_error(std::string(what) + " " + tmp.string() + ": " + reason);
  };
  std::size_t done = 0;
  while (done < text.size()) {
    auto n = ::write(fd, text.data() + done, text.size() - done);
    if (n < 0 && errno == EINTR)
      continue;
    if (n <= 0)
      fail("short write to");
    done += static_cast<std::size_t>(n);
  }
  if (::fsync(fd) != 0)
    fail("cannot sync");
  ::close(fd);
  fs::rename(tmp, path);
}

std::string read_whole_file(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in)
    throw registry_error("cannot read " + path.string());
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

model_registry::model_registry(fs::path root) : root_(std::move(root)) {
  fs::create_directories(root_);
  if (!fs::exists(root_ / "index.json"))
    write_index(json{{"models", json::array()}});
}

json model_registry::read_index() const {
  json index = json::parse(read_whole_file(root_ / "index.json"), nullptr, false);
  if (index.is_discarded() || !index.contains("models") || !index["models"].is_array())
    throw registry_error("corrupt registry index in " + root_.string());
  return index;
}

void model_registry::write_index(const json& index) const {
  write_file_atomically(root_ / "index.json", index.dump(2));
}

int model_registry::add(const std::string& model_json, json metadata) {
  json index = read_index();
  int version = 1;
  for (const auto& m : index["models"])
    version = std::max(version, m["version"].get<int>() + 1);
  auto now_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                  std::chrono::system_clock::now().time_since_epoch()).count();
  metadata["version"] = version;
  metadata["registered_at"] = pipeline::format_iso8601_ms(now_ms);
  fs::path dir = version_dir(version);
  write_file_atomically(dir / "model.json", model_json);
  write_file_atomically(dir / "metadata.json", metadata.dump(2));
  // The index is written last: a version exists once it is listed.
  index["models"].push_back(json::object({{"version", version}, {"stage", "candidate"}}));
  write_index(index);
  return version;
}

std::vector<model_entry> model_registry::list() const {
  std::vector<model_entry> out;
  const json index = read_index();  // keep alive: the loop borrows from it
  for (const auto& m : index["models"]) {
    model_entry e;
    e.version = m["version"].get<int>();
    e.stage = stage_from_string(m["stage"].get<std::string>()).value_or(model_stage::candidate);
    fs::path meta = version_dir(e.version) / "metadata.json";
    e.metadata = json::parse(read_whole_file(meta), nullptr, false);
    if (e.metadata.is_discarded())
      throw registry_error("corrupt metadata for version " + std::to_string(e.version));
    e.metadata["stage"] = to_string(e.stage);
    out.push_back(std::move(e));
  }
  return out;
}

std::optional<model_entry> model_registry::find(int version) const {
  for (auto& e : list())
    if (e.version == version)
      return e;
  return std::nullopt;
}

std::optional<model_entry> model_registry::production() const {
  for (auto& e : list())
    if (e.stage == model_stage::production)
      return e;
  return std::nullopt;
}

void model_registry::set_stage(int version, model_stage stage) {
  json index = read_index();
  bool found = false;
  for (auto& m : index["models"]) {
    if (m["version"].get<int>() == version) {
      m["stage"] = to_string(stage);
      found = true;
    } else if (stage == model_stage::production && m["stage"] == "production") {
      m["stage"] = to_string(model_stage::archived);
    }
  }
  if (!found)
    throw registry_error("no model version " + std::to_string(version));
  write_index(index);
}

std::string model_registry::model_json(int version) const {
  return read_whole_file(version_dir(version) / "model.json");
}

} // namespace vigil::models
