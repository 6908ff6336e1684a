#pragma once
// Policy clause §4 File sharing: files are not exchanged over IM. Refuses every XMPP way of
// sending one (SI, SOCKS5, IBB, Jingle, HTTP upload, OOB, SFS/SIMS links, BoB) from users
// outside the configured exception groups, hides the matching disco features so clients do
// not offer "send file", and records each refusal. See README.md for keys and events.

#include <memory>

#include "parley/module.hpp"
#include "policy.hpp"

namespace parley::modules::file_transfer {

class FileTransferModule final : public Module {
 public:
  void configure(const YAML::Node& config) override;
  void attach(Host& host) override;

 private:
  Settings settings_;
};

}  // namespace parley::modules::file_transfer
