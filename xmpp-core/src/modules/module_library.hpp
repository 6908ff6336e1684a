#pragma once
// One module shared library, opened with dlopen and checked before anything in it runs: its
// descriptor must carry this core's API version and build signature (the C++ boundary is only
// safe between identical toolchains and flags).
#include <memory>
#include <stdexcept>
#include <string>

#include "parley/module.hpp"

namespace parley::modules {

struct ModuleLoadError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

class ModuleLibrary {
 public:
  // Opens `path` and validates its descriptor; throws ModuleLoadError saying what is wrong
  // (missing file, not a Parley module, version or signature mismatch with both values).
  static std::shared_ptr<ModuleLibrary> open(const std::string& path, const std::string& name);
  ~ModuleLibrary();
  ModuleLibrary(const ModuleLibrary&) = delete;
  ModuleLibrary& operator=(const ModuleLibrary&) = delete;

  const ModuleDescriptor& descriptor() const { return *descriptor_; }
  const std::string& path() const { return path_; }

 private:
  ModuleLibrary(void* handle, const ModuleDescriptor* descriptor, std::string path)
      : handle_(handle), descriptor_(descriptor), path_(std::move(path)) {}
  void* handle_;
  const ModuleDescriptor* descriptor_;
  std::string path_;
};

}  // namespace parley::modules
