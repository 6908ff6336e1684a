#pragma once
// An EventSink for unit tests: keeps every event emitted, for the test to inspect.
#include <mutex>
#include <utility>
#include <vector>

#include "parley/event.hpp"

namespace parley::testing {

class RecordingSink final : public EventSink {
 public:
  void emit(ComplianceEvent e) override {
    std::lock_guard lock(mutex);
    events.push_back(std::move(e));
  }
  // The events so far, leaving none behind.
  std::vector<ComplianceEvent> taken() {
    std::lock_guard lock(mutex);
    return std::exchange(events, {});
  }
  std::mutex mutex;
  std::vector<ComplianceEvent> events;
};

}  // namespace parley::testing
