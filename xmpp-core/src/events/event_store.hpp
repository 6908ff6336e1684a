#pragma once
// The events table (schemas/003_events.sql): the pipeline's batched insert, and the search a
// compliance officer runs through parleyctl. Kept here rather than in storage/stores.cpp so the
// event pipeline is one area that can be built and tested on its own.
#include <pqxx/pqxx>

#include <cstddef>
#include <exception>
#include <optional>
#include <string>
#include <vector>

#include "events/event_time.hpp"
#include "parley/event.hpp"

namespace parley::events {

// Inserts `events` (normalize()d, with id and at set) in one transaction: the partitions of
// their months first, then one multi-row INSERT ... ON CONFLICT (id, at) DO NOTHING, so
// writing an event again (a replay, a retried batch) changes nothing. Returns the number of
// rows actually inserted.
size_t insertEvents(pqxx::connection& c, const std::vector<ComplianceEvent>& events);

// True when an insert failed because of the rows themselves (a value PostgreSQL refuses:
// SQLSTATE class 22 or 23), which no retry can fix. Anything else (connection lost, server
// shutting down, schema not migrated yet, ...) may succeed later.
bool isBadData(const std::exception& error);

struct EventQuery {
  std::string module;                      // empty: any
  std::string actor;                       // empty: any; a bare JID also matches its full JIDs
  std::optional<EventAction> action;       // empty: any
  std::optional<Clock::time_point> since;  // inclusive
  std::optional<Clock::time_point> until;  // exclusive
  size_t limit = 50;
};

// The newest `limit` events that match, returned oldest first (the order a log reads in).
std::vector<ComplianceEvent> findEvents(pqxx::connection& c, const EventQuery& query);

}  // namespace parley::events
