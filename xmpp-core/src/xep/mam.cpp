// XEP-0313 Message Archive Management for user accounts: the owner searches their archive
// (form filters 'with', 'start', 'end', 'before-id', 'after-id', 'ids'; XEP-0059 RSM pages,
// flipped pages), reads its metadata and sets what is archived (XEP-0441 preferences). The
// archive belongs to the account's bare JID and only its owner may read or configure it
// (XEP-0313 §8.1). What gets archived, and the XEP-0359 stanza-ids delivered messages carry,
// is the router's (router/archiving.hpp).

#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <chrono>

#include "router/stanza_errors.hpp"
#include "util/log.hpp"
#include "xep/mam_query.hpp"
#include "xep/services.hpp"

namespace parley::xep {
namespace {

using router::IqRequest;
using router::Task;

// Read your own archive: a message just delivered to the owner may still be on its way into
// the archive (router/archive_writes.hpp, group-committed a few milliseconds after delivery).
// Waits for the writes begun before the query arrived; on a database that has fallen far behind,
// no longer than kMaxWait (the answer then lacks the newest messages rather than never coming).
Task<void> awaitPendingWrites(IqRequest& req, const std::string& owner) {
  constexpr auto kStep = std::chrono::milliseconds(2);
  constexpr auto kMaxWait = std::chrono::seconds(5);
  const auto& writes = req.ctx.archiveWrites();
  const uint64_t mark = writes.mark();
  for (auto waited = kStep * 0; waited < kMaxWait && writes.pendingBefore(owner, mark);
       waited += kStep) {
    boost::asio::steady_timer timer(co_await boost::asio::this_coro::executor, kStep);
    co_await timer.async_wait(boost::asio::use_awaitable);
  }
}

xml::Element refuse(const IqRequest& req, const mam::Refusal& refusal) {
  return router::makeStanzaError(req.stanza.element, refusal.condition, refusal.text);
}

Task<xml::Element> runQuery(IqRequest& req) {
  const std::string owner = req.target.bareString();
  auto parsed = mam::parseQuery(req.payload, owner);
  if (const auto* refusal = std::get_if<mam::Refusal>(&parsed)) co_return refuse(req, *refusal);
  const mam::Query query = std::get<mam::Query>(std::move(parsed));
  co_await awaitPendingWrites(req, owner);
  const storage::ArchiveQuery archive_query = query.archive;
  auto job = [archive_query](pqxx::connection& c) {
    return storage::queryArchive(c, archive_query);
  };
  const storage::ArchivePage page = co_await req.ctx.db().run(std::move(job));
  if (page.unknown_id) {
    co_return router::makeStanzaError(req.stanza.element, "item-not-found",
                                      "A message id in this query is not in your archive.");
  }
  if (req.session && !page.messages.empty()) {
    // Requested history, like offline messages: a backlog, not counted against the queue
    // bound that tells a client that stopped reading. Queued before the iq result, which
    // therefore arrives after the last of them (XEP-0313 §4).
    std::vector<std::shared_ptr<const xml::Element>> results;
    results.reserve(page.messages.size());
    auto add = [&](const storage::ArchivedMessage& m) {
      auto message = router::parseStoredStanza(m.stanza);
      if (!message) log::error("archived message ", m.id, " of ", owner, " does not parse");
      results.push_back(std::make_shared<const xml::Element>(mam::resultMessage(
          req.session->jid(), owner, query.queryid, m, message ? &*message : nullptr)));
    };
    if (query.flip) {
      std::for_each(page.messages.rbegin(), page.messages.rend(), add);
    } else {
      std::for_each(page.messages.begin(), page.messages.end(), add);
    }
    req.router.deliverBacklog(req.session, std::move(results));
  }
  xml::Element reply = router::makeResult(req.stanza);
  reply.addChild(mam::fin(page));
  co_return reply;
}

Task<xml::Element> handlePrefs(IqRequest& req) {
  const std::string owner = req.target.bareString();
  auto& cache = req.ctx.archivePrefs();
  if (req.stanza.type() == "set") {
    auto parsed = mam::parsePrefs(req.payload);
    if (const auto* refusal = std::get_if<mam::Refusal>(&parsed)) co_return refuse(req, *refusal);
    const storage::ArchivePrefs prefs = std::get<storage::ArchivePrefs>(std::move(parsed));
    auto job = [owner, prefs](pqxx::connection& c) { storage::saveArchivePrefs(c, owner, prefs); };
    co_await req.ctx.db().run(std::move(job));
    cache.put(owner, std::make_shared<const storage::ArchivePrefs>(prefs));
    xml::Element reply = router::makeResult(req.stanza);
    reply.addChild(mam::prefsElement(prefs));
    co_return reply;
  }
  auto prefs = cache.find(owner);
  if (!prefs) {
    const uint64_t generation = cache.generation();
    auto job = [owner](pqxx::connection& c) {
      return storage::loadArchivePrefs(c, {owner})[owner];
    };
    prefs =
        std::make_shared<const storage::ArchivePrefs>(co_await req.ctx.db().run(std::move(job)));
    cache.insertLoaded(owner, prefs, generation);
  }
  xml::Element reply = router::makeResult(req.stanza);
  reply.addChild(mam::prefsElement(*prefs));
  co_return reply;
}

Task<xml::Element> metadataReply(IqRequest& req) {
  const std::string owner = req.target.bareString();
  co_await awaitPendingWrites(req, owner);
  auto job = [owner](pqxx::connection& c) { return storage::archiveBounds(c, owner); };
  const auto bounds = co_await req.ctx.db().run(std::move(job));
  xml::Element reply = router::makeResult(req.stanza);
  reply.addChild(mam::metadata(bounds));
  co_return reply;
}

Task<xml::Element> handleMam(IqRequest& req) {
  if (!req.fromOwner()) {
    co_return router::makeStanzaError(
        req.stanza.element, "forbidden",
        "Only the account's owner may search or configure its message archive.");
  }
  const bool set = req.stanza.type() == "set";
  const std::string& name = req.payload.name();
  if (name == "query" && set) co_return co_await runQuery(req);
  if (name == "query") {
    xml::Element reply = router::makeResult(req.stanza);
    reply.addChild(std::string(mam::kNs), "query").addChild(mam::queryForm());
    co_return reply;
  }
  if (name == "prefs") co_return co_await handlePrefs(req);
  if (name == "metadata" && !set) co_return co_await metadataReply(req);
  co_return router::makeStanzaError(req.stanza.element, "bad-request",
                                    "Expected <query/>, <prefs/> or <metadata/>.");
}

}  // namespace

void registerMam(router::Router& router) {
  router.addIqService(std::string(mam::kNs), {handleMam, false, true});
  router.addAccountFeature(std::string(mam::kNs));
  router.addAccountFeature(std::string(mam::kExtendedFeature));
  router.addAccountFeature(std::string(router::archiving::kSidNs));  // XEP-0359
}

}  // namespace parley::xep
