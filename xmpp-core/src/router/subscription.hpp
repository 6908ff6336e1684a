#pragma once
// The RFC 6121 presence-subscription state machine (§3 and Appendix A) as a pure function, so
// every transition can be tested without a server. The router applies the result: it saves the
// new item, pushes it to the user's interested resources, and routes/delivers/answers as told.

#include <string>

namespace parley::router {

// One side's view of a subscription (the item in the owner's roster).
struct SubscriptionState {
  bool to = false;           // owner receives contact's presence
  bool from = false;         // contact receives owner's presence
  bool ask_out = false;      // owner asked to subscribe, awaiting the contact ("Pending Out")
  bool pending_in = false;   // contact asked to subscribe, awaiting the owner ("Pending In")
  bool preapproved = false;  // owner pre-approved the contact's future request

  std::string subscription() const;  // "none" | "to" | "from" | "both"
  bool operator==(const SubscriptionState&) const = default;
};

enum class SubscriptionEvent {
  // Sent by the owner (outbound processing at the owner's server).
  OutSubscribe,
  OutSubscribed,
  OutUnsubscribe,
  OutUnsubscribed,
  // Received for the owner from the contact (inbound processing at the owner's server).
  InSubscribe,
  InSubscribed,
  InUnsubscribe,
  InUnsubscribed,
};

struct SubscriptionOutcome {
  SubscriptionState state;
  bool changed = false;           // save and push the roster item
  bool route = false;             // outbound: send the stanza on to the contact
  bool deliver = false;           // inbound: deliver the stanza to the owner's resources
  bool auto_subscribed = false;   // inbound subscribe: answer 'subscribed' on the owner's behalf
  bool send_presence = false;     // send the owner's current presence to the contact
  bool send_unavailable = false;  // send 'unavailable' from the owner's resources to the contact
};

SubscriptionOutcome applySubscription(const SubscriptionState& state, SubscriptionEvent event);

}  // namespace parley::router
