#include "config/token_file.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <stdexcept>

namespace vigil::config {

std::optional<std::string> read_token_file(const std::string& path) {
  if (path.empty() || access(path.c_str(), F_OK) != 0)
    return std::nullopt;
  std::ifstream in(path);
  std::string token;
  if (!in || !std::getline(in, token))
    throw std::runtime_error("cannot read the token file " + path);
  runtime_config probe;
  probe.auth_token = token;
  for (const auto& e : validate(probe))
    if (e.field == "auth_token")
      throw std::runtime_error("the token file " + path + " holds no valid token: " + e.reason);
  return token;
}

void write_token_file(const std::string& path, const std::string& token) {
  auto fail = [&](const char* what) {
    throw std::runtime_error(std::string("cannot ") + what + " the token file " + path + ": " +
                             std::strerror(errno));
  };
  const std::string temporary = path + ".tmp";
  int fd = ::open(temporary.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0)
    fail("create");
  std::string line = token + "\n";
  bool written = ::write(fd, line.data(), line.size()) == static_cast<ssize_t>(line.size()) && ::fsync(fd) == 0;
  ::close(fd);
  if (!written) {
    ::unlink(temporary.c_str());
    fail("write");
  }
  if (std::rename(temporary.c_str(), path.c_str()) != 0)
    fail("replace");
}

runtime_config with_persisted_token(runtime_config c) {
  if (auto token = read_token_file(c.auth_token_path))
    c.auth_token = *token;
  return c;
}

bool same_secret(const std::string& given, const std::string& expected) {
  if (given.size() != expected.size())
    return false;
  unsigned char diff = 0;
  for (std::size_t i = 0; i < given.size(); ++i)
    diff |= static_cast<unsigned char>(given[i] ^ expected[i]);
  return diff == 0;
}

} // namespace vigil::config
