#include "modules/module_library.hpp"

#include <dlfcn.h>

#include <cstring>
#include <filesystem>

namespace parley::modules {

std::shared_ptr<ModuleLibrary> ModuleLibrary::open(const std::string& path,
                                                   const std::string& name) {
  std::error_code ec;
  if (!std::filesystem::exists(path, ec)) {
    throw ModuleLoadError("module '" + name + "': " + path +
                          " does not exist (is the name right, and was it built?)");
  }
  // RTLD_LOCAL: modules never see each other's symbols (they must not include each other).
  void* handle = dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL);
  if (!handle)
    throw ModuleLoadError("module '" + name + "': cannot load " + path + ": " + dlerror());
  using Entry = const ModuleDescriptor* (*)();
  auto entry = reinterpret_cast<Entry>(dlsym(handle, PARLEY_DESCRIPTOR_SYMBOL));
  if (!entry) {
    dlclose(handle);
    throw ModuleLoadError("module '" + name + "': " + path + " is not a Parley module (no " +
                          PARLEY_DESCRIPTOR_SYMBOL + " symbol)");
  }
  const ModuleDescriptor* d = entry();
  std::string problem;
  if (!d) {
    problem = "its descriptor is null";
  } else if (d->api_version != kApiVersion) {
    problem = "it was built for module API version " + std::to_string(d->api_version) +
              ", this parleyd has version " + std::to_string(kApiVersion);
  } else if (std::strcmp(d->build_signature, PARLEY_BUILD_SIGNATURE) != 0) {
    problem = std::string("its build signature is \"") + d->build_signature +
              "\", this parleyd's is \"" + PARLEY_BUILD_SIGNATURE +
              "\" (rebuild the module with the same compiler and flags)";
  } else if (name != d->name) {
    problem = std::string("it calls itself '") + d->name + "'";
  } else if (!d->create) {
    problem = "it has no factory";
  }
  if (!problem.empty()) {
    dlclose(handle);
    throw ModuleLoadError("module '" + name + "': refusing " + path + ": " + problem);
  }
  return std::shared_ptr<ModuleLibrary>(new ModuleLibrary(handle, d, path));
}

ModuleLibrary::~ModuleLibrary() { dlclose(handle_); }

}  // namespace parley::modules
