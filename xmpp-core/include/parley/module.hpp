#pragma once
// A policy module: a shared library exporting one extern "C" function that returns its
// descriptor. Write one with PARLEY_MODULE (below) and build it with parley_add_module().
//
// Lifecycle: configure(node) validates and takes the module's own keys (the core keeps
// enabled, monitor_only, priority and on_error for itself) and throws ConfigError naming the
// key → attach(host) registers hooks → detach() (optional: the core drops the hooks anyway).
// A new configuration goes to a new instance, built aside; the running one stays until the
// new one is ready.

#include <yaml-cpp/yaml.h>
#include <cstdint>
#include <stdexcept>
#include <string>

#include "parley/host.hpp"

namespace parley {

// 2: Host::onDecided, BeforeLocalDelivery dispatched. 3: Host::every, Host::query.
// 4: Host::onLogin (sasl.authenticated), Host::onIq (iq.<namespace>),
// Host::onStreamFeatures. 5: Host::onServerMessage (message.server).
inline constexpr uint32_t kApiVersion = 5;

struct ConfigError : std::runtime_error {
  ConfigError(std::string key_, const std::string& message)
      : std::runtime_error(message), key(std::move(key_)) {}
  std::string key;  // relative to the module's section, e.g. "mode" or "exceptions[2]"
};

class Module {
 public:
  virtual ~Module() = default;
  virtual void configure(const YAML::Node& config) = 0;
  virtual void attach(Host& host) = 0;
  virtual void detach() {}
};

struct ModuleDescriptor {
  uint32_t api_version;
  const char* build_signature;
  const char* name;      // as in the configuration's modules: section
  const char* clause;    // the policy clause, e.g. "§4 File sharing"
  int default_priority;  // lower runs first
  Module* (*create)();
};

}  // namespace parley

// What must match between parleyd and a module for the C++ boundary to be safe.
#define PARLEY_STR_(x) #x
#define PARLEY_STR(x) PARLEY_STR_(x)
#if defined(__SANITIZE_ADDRESS__)
#define PARLEY_SIG_SANITIZE "asan"
#else
#define PARLEY_SIG_SANITIZE "no-asan"
#endif
#define PARLEY_BUILD_SIGNATURE                                                              \
  "compiler " __VERSION__ "; libstdc++ " PARLEY_STR(__GLIBCXX__) "; cxx11-abi " PARLEY_STR( \
      _GLIBCXX_USE_CXX11_ABI) "; c++ " PARLEY_STR(__cplusplus) "; " PARLEY_SIG_SANITIZE

#define PARLEY_DESCRIPTOR_SYMBOL "parley_module_descriptor"

#define PARLEY_MODULE(NAME, CLAUSE, PRIORITY, CLASS)                                \
  extern "C" __attribute__((visibility("default"))) const parley::ModuleDescriptor* \
  parley_module_descriptor() {                                                      \
    static const parley::ModuleDescriptor descriptor{                               \
        parley::kApiVersion,                                                        \
        PARLEY_BUILD_SIGNATURE,                                                     \
        NAME,                                                                       \
        CLAUSE,                                                                     \
        PRIORITY,                                                                   \
        []() -> parley::Module* { return new CLASS(); }};                           \
    return &descriptor;                                                             \
  }
