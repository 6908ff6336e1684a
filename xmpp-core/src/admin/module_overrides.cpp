#include "admin/module_overrides.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <boost/json.hpp>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>

namespace parley::admin {

namespace {

[[noreturn]] void fail(const std::string& path, const std::string& what) {
  throw std::runtime_error(path + ": " + what);
}

void writeAll(int fd, const std::string& data, const std::string& path) {
  size_t done = 0;
  while (done < data.size()) {
    ssize_t n = ::write(fd, data.data() + done, data.size() - done);
    if (n < 0) {
      if (errno == EINTR) continue;
      fail(path, std::string("write failed: ") + std::strerror(errno));
    }
    done += static_cast<size_t>(n);
  }
}

void syncDirectory(const std::filesystem::path& dir) {
  int fd = ::open(dir.empty() ? "." : dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return;  // the rename happened; only its durability is less certain
  ::fsync(fd);
  ::close(fd);
}

}  // namespace

bool isValidModuleName(const std::string& name) {
  if (name.empty() || name.size() > 64) return false;
  for (char c : name) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '_' || c == '-';
    if (!ok) return false;
  }
  return true;
}

ModuleOverrides loadOverrides(const std::string& path) {
  std::ifstream in(path);
  if (!in) {
    if (!std::filesystem::exists(path)) return {};
    fail(path, "cannot be read");
  }
  std::stringstream text;
  text << in.rdbuf();
  boost::system::error_code ec;
  boost::json::value root = boost::json::parse(text.str(), ec);
  if (ec || !root.is_object()) fail(path, "is not a JSON object (" + ec.message() + ")");
  const auto* modules = root.as_object().if_contains("modules");
  if (!modules || !modules->is_object()) fail(path, "has no \"modules\" object");
  ModuleOverrides out;
  for (const auto& [key, value] : modules->as_object()) {
    std::string name(key);
    const auto* entry = value.if_object();
    const auto* enabled = entry ? entry->if_contains("enabled") : nullptr;
    if (!isValidModuleName(name) || !enabled || !enabled->is_bool()) {
      fail(path, "entry \"" + name + "\" needs a module name and a boolean \"enabled\"");
    }
    ModuleOverride o;
    o.enabled = enabled->as_bool();
    if (const auto* by = entry->if_contains("by"); by && by->is_string()) {
      o.by = std::string(by->as_string());
    }
    if (const auto* at = entry->if_contains("at"); at && at->is_string()) {
      o.at = std::string(at->as_string());
    }
    out.emplace(std::move(name), std::move(o));
  }
  return out;
}

void saveOverrides(const std::string& path, const ModuleOverrides& overrides) {
  boost::json::object modules;
  for (const auto& [name, o] : overrides) {
    modules[name] = boost::json::object{{"enabled", o.enabled}, {"by", o.by}, {"at", o.at}};
  }
  const std::string text =
      boost::json::serialize(boost::json::object{{"version", 1}, {"modules", modules}}) + "\n";
  const std::string tmp = path + ".tmp";
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0640);
  if (fd < 0) fail(tmp, std::string("cannot be created: ") + std::strerror(errno));
  try {
    writeAll(fd, text, tmp);
    if (::fsync(fd) != 0) fail(tmp, std::string("fsync failed: ") + std::strerror(errno));
  } catch (...) {
    ::close(fd);
    ::unlink(tmp.c_str());
    throw;
  }
  ::close(fd);
  if (::rename(tmp.c_str(), path.c_str()) != 0) {
    int err = errno;
    ::unlink(tmp.c_str());
    fail(path, std::string("cannot be replaced: ") + std::strerror(err));
  }
  syncDirectory(std::filesystem::path(path).parent_path());
}

config::Config withOverrides(const config::Config& base, const ModuleOverrides& overrides) {
  config::Config out = base;
  for (const auto& [name, o] : overrides) {
    auto it = std::find_if(out.modules.list.begin(), out.modules.list.end(),
                           [&](const config::ModuleSettings& s) { return s.name == name; });
    if (it != out.modules.list.end()) {
      it->enabled = o.enabled;
    } else if (o.enabled) {
      config::ModuleSettings settings;
      settings.name = name;
      out.modules.list.push_back(std::move(settings));
    }
  }
  return out;
}

}  // namespace parley::admin
