#include "file_transfer_module.hpp"

#include <stdexcept>
#include <string>

namespace parley::modules::file_transfer {

void FileTransferModule::configure(const YAML::Node& config) { settings_ = parseSettings(config); }

void FileTransferModule::attach(Host& host) {
  if (!settings_.deny) {
    host.log(LogLevel::Info, "mode: allow; file transfers are not restricted");
    return;
  }
  // Hooks hold the policy, not the module: they stay valid however the core orders teardown.
  auto policy = std::make_shared<const Policy>(settings_, host);
  const StanzaHook hook = [policy](Stanza& stanza) { return policy->decide(stanza); };
  host.onStanza(HookPoint::StanzaFromClient, hook);
  // Files offered from other servers are refused at the door once s2s exists; until then the
  // core refuses the registration, and what arrives from outside is not checked here.
  try {
    host.onStanza(HookPoint::StanzaFromServer, hook);
  } catch (const std::logic_error& e) {
    host.log(LogLevel::Debug, std::string("inbound s2s not checked: ") + e.what());
  }
  host.onDiscoInfo(
      [policy](const Jid&, std::vector<std::string>& features) { policy->hideFeatures(features); });
}

}  // namespace parley::modules::file_transfer

PARLEY_MODULE("file_transfer", "§4 File sharing", 100,
              parley::modules::file_transfer::FileTransferModule)
