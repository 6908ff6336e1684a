// XEP-0313 archiving in the router: which archives take a message (each party's preferences,
// cached; the database only on a miss) and the write after delivery, group-committed. The rules
// themselves are in router/archiving.cpp.

#include <algorithm>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <chrono>

#include "events/uuid.hpp"
#include "parley/xml/serializer.hpp"
#include "router/router.hpp"
#include "util/log.hpp"

namespace parley::router {
namespace {

// One party's archive and the other party as seen from it.
struct Side {
  std::string owner;
  Jid other;
  bool outgoing = false;
  ArchivePrefsCache::Prefs prefs;
  std::optional<bool> allowed;
};

// What the database answers for the sides the cache could not decide.
struct Looked {
  std::string owner;
  storage::ArchivePrefs prefs;
  bool allowed = false;
};

}  // namespace

std::optional<bool> Router::cachedRosterHas(const std::string& owner, const std::string& contact) {
  for (const auto& s : ctx_.registry().sessionsOf(owner)) {
    auto roster = s->cachedRoster();
    if (!roster) continue;
    return std::any_of(roster->items.begin(), roster->items.end(),
                       [&](const auto& item) { return item.listed && item.contact == contact; });
  }
  return std::nullopt;
}

Task<archiving::Plan> Router::planArchive(const Stanza& stanza) {
  archiving::Plan plan;
  if (!archiving::archivable(stanza.element)) co_return plan;
  const std::string sender = stanza.from.bareString();
  const std::string recipient = stanza.to.bareString();
  // XEP-0441 §2.3: an outgoing message is judged by its 'to', an incoming one by its 'from'.
  // Only local accounts have archives: an external component's addresses have none.
  std::vector<Side> sides;
  if (ctx_.isLocalDomain(stanza.from.domain()))
    sides.push_back({sender, stanza.to, true, nullptr, std::nullopt});
  if (recipient != sender && ctx_.isLocalDomain(stanza.to.domain()))
    sides.push_back({recipient, stanza.from, false, nullptr, std::nullopt});
  if (sides.empty()) co_return plan;

  auto& cache = ctx_.archivePrefs();
  const uint64_t generation = cache.generation();
  std::vector<std::pair<std::string, Jid>> undecided;  // owner, other
  for (auto& side : sides) {
    side.prefs = cache.find(side.owner);
    if (side.prefs) {
      side.allowed = archiving::prefsAllow(*side.prefs, side.owner, side.other, std::nullopt);
      if (!side.allowed) {
        auto in_roster = cachedRosterHas(side.owner, side.other.bareString());
        side.allowed = archiving::prefsAllow(*side.prefs, side.owner, side.other, in_roster);
      }
    }
    if (!side.allowed) undecided.emplace_back(side.owner, side.other);
  }

  if (!undecided.empty()) {
    // One job for both parties: their preferences, and their rosters if those decide.
    auto job = [undecided](pqxx::connection& c) {
      std::vector<std::string> owners;
      for (const auto& [owner, other] : undecided) owners.push_back(owner);
      auto prefs = storage::loadArchivePrefs(c, owners);
      std::vector<Looked> out;
      for (const auto& [owner, other] : undecided) {
        const storage::ArchivePrefs& p = prefs[owner];
        auto allowed = archiving::prefsAllow(p, owner, other, std::nullopt);
        if (!allowed) {
          auto item = storage::loadRosterItem(c, owner, other.bareString());
          allowed = archiving::prefsAllow(p, owner, other, item && item->listed);
        }
        out.push_back({owner, p, allowed.value_or(false)});
      }
      return out;
    };
    std::vector<Looked> looked;
    std::string failure;
    try {
      looked = co_await ctx_.db().run(std::move(job));
    } catch (const std::exception& e) {
      failure = e.what();
    }
    if (!failure.empty()) {
      // The message still goes out; it is only left out of the archives that could not say.
      log::warn("archiving preferences of ", sender, "/", recipient,
                " could not be read; not archived there: ", failure);
    }
    for (auto& l : looked) {
      cache.insertLoaded(l.owner, std::make_shared<const storage::ArchivePrefs>(l.prefs),
                         generation);
      for (auto& side : sides)
        if (side.owner == l.owner && !side.allowed) side.allowed = l.allowed;
    }
  }

  storage::ArchiveRecord& record = plan.record;
  for (const auto& side : sides) {
    if (!side.allowed.value_or(false)) continue;
    storage::ArchiveEntry entry{side.owner, events::randomUuid(), side.other.bareString(),
                                side.other.resource(), side.outgoing};
    if (side.owner == sender) plan.sender_id = entry.id;
    if (side.owner == recipient) plan.recipient_id = entry.id;
    record.entries.push_back(std::move(entry));
  }
  if (record.entries.empty()) co_return plan;
  std::vector<std::string> owners;
  for (const auto& e : record.entries) owners.push_back(e.owner);
  plan.in_flight = ctx_.archiveWrites().begin(owners);
  plan.sender = sender;
  record.at_us = archiving::archiveTimestamp();
  record.origin_id = archiving::originId(stanza.element);
  record.stanza = xml::toString(stanza.element, ns::kClient);
  co_return plan;
}

Task<void> Router::archiveDelivered(archiving::Plan plan) {
  if (!plan.any()) co_return;
  // Written a few milliseconds later with others (router/archive_writer.hpp), so normally the
  // sender does not wait. When the database falls behind, a sender with more than its share of
  // messages still unwritten waits for it to catch up: that paces a flood by what the archive
  // can take without slowing anyone else. A full backlog makes every sender wait. After
  // kMaxPacing the message is written anyway (its share is ignored) or, with the backlog still
  // full, left out of the archives (logged) rather than holding up the conversation.
  constexpr int kSenderShare = 1000;
  constexpr auto kPacingStep = std::chrono::milliseconds(5);
  constexpr auto kMaxPacing = std::chrono::seconds(2);
  auto& writer = ctx_.archiveWriter();
  const auto& writes = ctx_.archiveWrites();
  for (auto waited = kPacingStep * 0;; waited += kPacingStep) {
    const bool gave_up = waited >= kMaxPacing;
    if (gave_up || writes.inFlight(plan.sender) <= kSenderShare) {
      if (writer.write(std::move(plan.record), std::move(plan.in_flight))) co_return;
      if (gave_up) {
        log::warn("the archive write backlog stayed full for ", kMaxPacing.count(),
                  " s: a delivered message from ", plan.sender, " was not archived");
        co_return;
      }
    }
    boost::asio::steady_timer timer(co_await boost::asio::this_coro::executor, kPacingStep);
    co_await timer.async_wait(boost::asio::use_awaitable);
  }
}

}  // namespace parley::router
