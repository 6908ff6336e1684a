#pragma once
// PEP node configuration as XEP-0060 data forms: reading what a client asks for (publish-options
// and configure forms) and showing a node's configuration. Pure functions, unit-tested.
#include <string>
#include <variant>

#include "parley/xml/element.hpp"
#include "storage/pep_store.hpp"

namespace parley::xep::pep {

inline constexpr std::string_view kNodeConfigForm = "http://jabber.org/protocol/pubsub#node_config";
inline constexpr std::string_view kPublishOptionsForm =
    "http://jabber.org/protocol/pubsub#publish-options";

// The options named in a submitted form (publish-options or node_config), or why they cannot
// be honoured. Fields this server does not know are ignored; a known field with a value it
// cannot honour ('roster' access, max_items 0) is an error.
using ParsedOptions = std::variant<storage::PepNodeOptions, std::string>;
ParsedOptions parseOptionsForm(const xml::Element& form);

// The node_config form (type 'form') showing `config`.
xml::Element configForm(const storage::PepNodeConfig& config);

}  // namespace parley::xep::pep
