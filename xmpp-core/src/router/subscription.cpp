#include "router/subscription.hpp"

namespace parley::router {

std::string SubscriptionState::subscription() const {
  if (to && from) return "both";
  if (to) return "to";
  if (from) return "from";
  return "none";
}

SubscriptionOutcome applySubscription(const SubscriptionState& state, SubscriptionEvent event) {
  SubscriptionOutcome out;
  SubscriptionState& s = out.state;
  s = state;
  switch (event) {
    case SubscriptionEvent::OutSubscribe:
      // §3.1.2: route unless already subscribed; remember the request as Pending Out.
      if (!s.to) {
        s.ask_out = true;
        out.route = true;
      }
      break;
    case SubscriptionEvent::OutSubscribed:
      if (s.pending_in) {
        // §3.1.5: approving a pending request.
        s.from = true;
        s.pending_in = false;
        out.route = true;
        out.send_presence = true;
      } else if (!s.from) {
        // §3.4: approving before the request arrives is a pre-approval, not routed.
        s.preapproved = true;
      }
      break;
    case SubscriptionEvent::OutUnsubscribe:
      // §3.3.2: cancel our subscription to the contact (or our pending request).
      if (s.to || s.ask_out) out.route = true;
      s.to = false;
      s.ask_out = false;
      break;
    case SubscriptionEvent::OutUnsubscribed:
      // §3.2.2: cancel (or deny) the contact's subscription to us.
      if (s.from || s.pending_in) out.route = true;
      if (s.from) out.send_unavailable = true;
      s.from = false;
      s.pending_in = false;
      s.preapproved = false;
      break;
    case SubscriptionEvent::InSubscribe:
      if (s.from) {
        // §3.1.3: already subscribed; answer on the owner's behalf, nothing changes.
        out.auto_subscribed = true;
      } else if (s.preapproved) {
        s.from = true;
        s.preapproved = false;
        out.auto_subscribed = true;
        out.send_presence = true;
      } else if (!s.pending_in) {
        s.pending_in = true;
        out.deliver = true;
      } else {
        // A repeated request while one is pending is delivered again (the owner may have missed
        // it) but changes nothing.
        out.deliver = true;
      }
      break;
    case SubscriptionEvent::InSubscribed:
      // §3.1.6: only meaningful while we asked.
      if (s.ask_out) {
        s.to = true;
        s.ask_out = false;
        out.deliver = true;
      }
      break;
    case SubscriptionEvent::InUnsubscribe:
      // §3.3.3: the contact no longer wants our presence.
      if (s.from || s.pending_in) out.deliver = true;
      s.from = false;
      s.pending_in = false;
      break;
    case SubscriptionEvent::InUnsubscribed:
      // §3.2.3: our subscription to the contact was cancelled or denied.
      if (s.to || s.ask_out) out.deliver = true;
      s.to = false;
      s.ask_out = false;
      break;
  }
  out.changed = !(s == state);
  return out;
}

}  // namespace parley::router
