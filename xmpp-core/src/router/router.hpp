#pragma once
// Stanza routing for local accounts (RFC 6120 §10, RFC 6121 §8): messages, presence and
// subscriptions, iq to sessions or to the server's services, and offline storage. Every
// function runs on the calling session's strand; work on other sessions goes through their
// deliver(), database work through the pool, so nothing here blocks an io thread.

#include <boost/asio/awaitable.hpp>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>

#include "parley/stanza.hpp"
#include "router/archiving.hpp"
#include "router/carbons.hpp"
#include "router/client_session.hpp"
#include "router/server_context.hpp"
#include "router/subscription.hpp"
#include "storage/stores.hpp"

namespace parley::router {

template <class T>
using Task = boost::asio::awaitable<T>;

class Router;

// One iq addressed to the server or to an account's bare JID, for a service to answer.
struct IqRequest {
  Stanza& stanza;
  const xml::Element& payload;  // the single child of the iq
  SessionPtr session;           // the requesting session (null for internal requests)
  Router& router;
  ServerContext& ctx;
  bool to_server;  // addressed to a local domain rather than an account
  Jid target;      // the bare JID or domain the iq is addressed to
  bool fromOwner() const { return !to_server && stanza.from.bare() == target; }
};

// A service answers with the full reply (result or error) built with makeResult/makeStanzaError.
using IqHandler = std::function<Task<xml::Element>(IqRequest&)>;

struct IqService {
  IqHandler handler;
  bool for_server = true;    // answers iqs addressed to a local domain
  bool for_accounts = true;  // answers iqs addressed to an account's bare JID (or no 'to')
};

// A node of the server's disco tree (XEP-0030 §3.2), e.g. the ad-hoc command list: what
// disco#info and disco#items with node='...' addressed to the server answer.
struct DiscoIdentity {
  std::string category, type, name;
};
struct DiscoItem {
  std::string jid, node, name;
};
struct DiscoNode {
  std::vector<DiscoIdentity> identities;
  std::vector<std::string> features;
  // Items for this requester (e.g. only the commands it may run); none when unset.
  std::function<std::vector<DiscoItem>(const IqRequest&)> items;
  // Whether the requester may see the node at all; item-not-found otherwise. Always when unset.
  std::function<bool(const IqRequest&)> visible;
};

// Told of every available presence a session broadcasts (after the broadcast), e.g. for PEP to
// learn the client's capabilities and send it the last published items. `initial`: the
// session's first available presence.
using PresenceListener = std::function<Task<void>(const SessionPtr& session,
                                                  const xml::Element& presence, bool initial)>;

// Edits an available presence a client sends (broadcast or directed, MUC joins included)
// before it goes anywhere, e.g. to add the XEP-0153 avatar hash on the client's behalf.
using PresenceDecorator =
    std::function<Task<void>(const SessionPtr& session, xml::Element& presence)>;

// Told when `subscriber` starts seeing `owner`'s presence (the owner approved a subscription).
using SubscriptionListener =
    std::function<Task<void>(const std::string& owner, const std::string& subscriber)>;

// What an account's bare JID answers to disco#items, and to disco#info on one of its nodes,
// beyond the core's fixed parts: PEP lists the nodes the requester may read (XEP-0060 §5.2).
// The node provider answers nullopt when there is no such node for this requester.
using AccountItemsProvider = std::function<Task<std::vector<DiscoItem>>(IqRequest& req)>;
using AccountNodeInfoProvider =
    std::function<Task<std::optional<DiscoNode>>(IqRequest& req, std::string node)>;

// A service on a subdomain of every local domain (MUC on conference.<domain>): it takes every
// stanza addressed to that subdomain, after the policy chain, instead of the router.
using DomainService = std::function<Task<void>(Stanza& stanza, const SessionPtr& session)>;

// Called with the answer (result or error) to an iq the server sent a client.
using ClientAnswerHandler = std::function<void(const xml::Element& answer)>;

class Router {
 public:
  explicit Router(ServerContext& ctx);

  // Registers the service answering iqs whose payload is in `ns`.
  void addIqService(std::string ns, IqService service);
  // The namespaces the core answers itself (no module may take them over).
  std::set<std::string> serviceNamespaces() const {
    std::set<std::string> out;
    for (const auto& [ns, service] : iq_services_) out.insert(ns);
    return out;
  }
  // Features the server advertises in disco#info (kept with the services that provide them).
  void addServerFeature(std::string feature) { server_features_.push_back(std::move(feature)); }
  const std::vector<std::string>& serverFeatures() const { return server_features_; }
  // What disco#info on an account's bare JID answers, beyond the account identity.
  void addAccountFeature(std::string feature) { account_features_.push_back(std::move(feature)); }
  const std::vector<std::string>& accountFeatures() const { return account_features_; }
  void addAccountIdentity(DiscoIdentity identity) {
    account_identities_.push_back(std::move(identity));
  }
  const std::vector<DiscoIdentity>& accountIdentities() const { return account_identities_; }
  void setAccountItems(AccountItemsProvider items, AccountNodeInfoProvider node_info) {
    account_items_ = std::move(items);
    account_node_info_ = std::move(node_info);
  }
  const AccountItemsProvider& accountItems() const { return account_items_; }
  const AccountNodeInfoProvider& accountNodeInfo() const { return account_node_info_; }
  void addPresenceListener(PresenceListener listener) {
    presence_listeners_.push_back(std::move(listener));
  }
  void addPresenceDecorator(PresenceDecorator decorator) {
    presence_decorators_.push_back(std::move(decorator));
  }
  void addSubscriptionListener(SubscriptionListener listener) {
    subscription_listeners_.push_back(std::move(listener));
  }
  // Sends `iq` (type get or set, 'to' a full JID of `session`, 'from' the domain; an id is
  // assigned) and calls `on_answer` on the session's strand when that session answers. An
  // answer that never comes costs a map entry until the session closes or newer queries push
  // it out (bounded).
  void queryClient(const SessionPtr& session, xml::Element iq, ClientAnswerHandler on_answer);
  // `label` is the subdomain's first label ("conference"); `name` what disco#items calls it.
  void addSubdomainService(std::string label, std::string name, DomainService service) {
    subdomain_services_.push_back({std::move(label), std::move(name), std::move(service)});
  }
  // The service for `domain` when it is <label>.<a local domain>, or null.
  const DomainService* subdomainService(std::string_view domain) const;
  // The subdomains of local `domain`, for its disco#items: its subdomain services, and the
  // external components connected now at a subdomain of it (or at a domain under no local host).
  std::vector<DiscoItem> subdomainItems(std::string_view domain) const;
  void addDiscoNode(std::string node, DiscoNode info) {
    disco_nodes_[std::move(node)] = std::move(info);
  }
  const DiscoNode* discoNode(std::string_view node) const {
    auto it = disco_nodes_.find(node);
    return it == disco_nodes_.end() ? nullptr : &it->second;
  }

  // A stanza from a bound client session, 'from' already stamped by the session.
  Task<void> fromClient(Stanza stanza, SessionPtr session);
  // A stanza from an authenticated XEP-0114 component (`component`, whose jid() is its domain),
  // 'from' already checked to be at that domain and 'to' present. It passes the same policy
  // chains as a client's stanza.
  Task<void> fromComponent(Stanza stanza, SessionPtr component);
  // Whether `domain` belongs to a configured external component (connected or not).
  bool isComponentDomain(std::string_view domain) const;
  // An error reply for `stanza` to whoever sent it, found by its 'from': a local session or a
  // connected component. For stanzas that can no longer reach their recipient.
  void bounceToSender(const xml::Element& stanza, std::string_view condition,
                      std::string_view text);
  // The session ended (socket closed, kicked or stream closed): unavailable broadcast and
  // last-activity bookkeeping.
  // `unsent` are stanzas queued for the session that never reached its socket; messages among
  // them are delivered to another resource or stored offline.
  Task<void> sessionClosed(SessionPtr session,
                           std::vector<std::shared_ptr<const xml::Element>> unsent = {});

  // Messages that were meant for `session` but never reached its socket (it closed): delivered
  // to the account's other resources or stored offline, never dropped.
  Task<void> redeliverUnsent(SessionPtr session,
                             std::vector<std::shared_ptr<const xml::Element>> unsent);

  // Delivery helpers shared with services.
  void deliver(const SessionPtr& session, std::shared_ptr<const xml::Element> stanza);
  void deliver(const SessionPtr& session, xml::Element stanza);
  // Offline messages and redeliveries, in one go (ClientSession::deliverBacklog).
  void deliverBacklog(const SessionPtr& session,
                      std::vector<std::shared_ptr<const xml::Element>> stanzas);
  // A stanza the server itself sends to a local user (a module's notice): to a full JID's
  // session, or to every available resource of a bare JID. 'from' defaults to the domain.
  void sendFromServer(xml::Element stanza);
  // Sends an error reply for `stanza` to its sender session (never for errors and iq results).
  void bounce(const SessionPtr& session, const xml::Element& stanza, std::string_view condition,
              std::string_view text, std::string_view type = {});
  // Announces every change of the owner's roster to its sessions (their cached copies) and
  // pushes listed items to the resources that requested the roster.
  void pushRosterItem(const std::string& owner, const storage::RosterItem& item, int64_t version,
                      bool removed = false);
  static xml::Element rosterItemElement(const storage::RosterItem& item, bool removed = false);
  // After a roster removal: tells the contact's side, as an unsubscribe/unsubscribed would.
  void notifyRemovedContact(const std::string& owner, const std::string& contact,
                            std::string_view type);

  ServerContext& ctx() { return ctx_; }

 private:
  // The policy chains for a stanza a client or a component sent (stanza.in, stanza.route, then
  // stanza.decided): false when it stops there (the sender was told if it should be).
  bool admitted(Stanza& stanza, const SessionPtr& session);
  // Routes an admitted stanza by its 'to': to a component, a subdomain service, or the
  // message, presence and iq routing below.
  Task<void> dispatch(Stanza& stanza, const SessionPtr& session);
  // XEP-0114: hands `stanza` to the component serving `domain`. While none is connected, a
  // message or iq request goes back to `sender` as <service-unavailable/> and presence is
  // dropped.
  void toComponent(std::shared_ptr<const xml::Element> stanza, std::string_view domain,
                   const SessionPtr& sender);
  // Presence a component sends to a local account: subscriptions (inbound processing for the
  // account) and directed presence.
  Task<void> routePresenceFromComponent(Stanza& stanza, const SessionPtr& component);
  // Sends a copy of `presence` to `contact` when it is an address at a component (true), for
  // the roster-driven broadcasts; false, and nothing sent, for any other address.
  bool presenceToComponent(const xml::Element& presence, const std::string& contact,
                           const SessionPtr& session);
  Task<void> routeMessage(Stanza& stanza, const SessionPtr& session);
  Task<void> routePresence(Stanza& stanza, const SessionPtr& session);
  Task<void> routeIq(Stanza& stanza, const SessionPtr& session);

  // Presence (router/presence.cpp)
  Task<void> broadcastPresence(Stanza& stanza, const SessionPtr& session);
  Task<void> broadcastUnavailable(const SessionPtr& session, const xml::Element* status_source);
  void deliverOffline(const SessionPtr& session,
                      const std::vector<storage::OfflineMessage>& messages);
  void directedPresence(Stanza& stanza, const SessionPtr& session);
  Task<void> outboundSubscription(Stanza& stanza, const SessionPtr& session);
  Task<void> inboundSubscription(const Jid& owner, const Jid& contact, SubscriptionEvent event,
                                 const xml::Element& stanza);
  void sendPresenceOfAll(const std::string& from_bare, const std::string& to_bare);
  void sendUnavailableOfAll(const std::string& from_bare, const std::string& to_bare);

  // Messages
  // Stores the message for its offline recipient; with `archive` (which must outlive the
  // call), archives it in the same database job once it is stored.
  Task<void> storeOfflineOrBounce(const Stanza& stanza, const SessionPtr& sender,
                                  const storage::ArchiveRecord* archive = nullptr);
  // XEP-0280: a copy of `message` for each of `owner`'s carbons-enabled sessions except those
  // that got the original (`except`).
  void sendCarbons(carbons::Copy copy, const std::string& owner, const xml::Element& message,
                   const std::vector<SessionPtr>& except);
  // A message stored while the owner was logging in: the login may have looked before it was
  // stored, so deliver it now if a resource is available (see OfflineIndex).
  Task<void> deliverOfflineIfOnline(const std::string& owner);

  // XEP-0191: whether local account `owner` blocked `other` (Blocklist::blocks). From memory,
  // or for an offline account that has a list, from the database.
  Task<bool> isBlocked(const std::string& owner, const Jid& other);
  // From memory only, either way round: presence between two bound sessions.
  bool blockedEitherWay(const Jid& a, const Jid& b) const;
  // The <not-acceptable/><blocked/> error for a stanza to an address the sender blocked.
  void refuseBlocked(const SessionPtr& session, const xml::Element& stanza);
  // XEP-0191 §3.3 for a message or iq between two accounts: the sender's blocklist refuses it,
  // the recipient's makes the recipient look unavailable (no word of blocking). True when the
  // stanza was stopped (and the sender told).
  Task<bool> stoppedByBlocking(const Stanza& stanza, const SessionPtr& session);
  // Message archives (router/message_archive.cpp). Which archives take this message and under
  // which ids; reads preferences from the database only when they are not cached.
  Task<archiving::Plan> planArchive(const Stanza& stanza);
  // Archives a delivered message (after delivery: see routeMessage).
  Task<void> archiveDelivered(archiving::Plan plan);
  // Whether `contact` is listed in `owner`'s roster, as a session of the owner has it cached;
  // nullopt when no session has.
  std::optional<bool> cachedRosterHas(const std::string& owner, const std::string& contact);

  // stanza.deliver for one recipient session: the element to deliver (the same, or the
  // module's rewrite), or null when a module dropped or refused it.
  std::shared_ptr<const xml::Element> beforeLocalDelivery(
      const SessionPtr& session, std::shared_ptr<const xml::Element> element);

  // An answer to queryClient(): true when it was one (and was handled).
  bool takeClientAnswer(const Stanza& answer);

  ServerContext& ctx_;
  std::map<std::string, IqService, std::less<>> iq_services_;
  std::vector<std::string> account_features_;
  std::vector<DiscoIdentity> account_identities_;
  AccountItemsProvider account_items_;
  AccountNodeInfoProvider account_node_info_;
  std::vector<PresenceListener> presence_listeners_;
  std::vector<PresenceDecorator> presence_decorators_;
  std::vector<SubscriptionListener> subscription_listeners_;
  struct PendingQuery {
    std::string asked;  // the full JID asked
    ClientAnswerHandler on_answer;
  };
  std::mutex queries_mutex_;
  std::map<std::string, PendingQuery> pending_queries_;  // by iq id
  uint64_t next_query_ = 0;
  std::vector<std::string> server_features_;
  std::map<std::string, DiscoNode, std::less<>> disco_nodes_;
  struct SubdomainService {
    std::string label, name;
    DomainService service;
  };
  std::vector<SubdomainService> subdomain_services_;
};

// A result iq answering `request` (same id, from/to swapped), optionally with a payload.
xml::Element makeResult(const Stanza& request);

// Parses one serialized stanza (e.g. from offline storage) back into an element.
std::optional<xml::Element> parseStoredStanza(const std::string& text);

// "2026-11-28T18:50:44Z" for now, for XEP-0203/XEP-0082 stamps.
std::string utcTimestamp();

}  // namespace parley::router
