#pragma once
// The durable side of the pipeline: while PostgreSQL is unreachable (or the in-memory queue is
// full), events are appended to files under the spool directory and fsync'd before they count
// as written; when PostgreSQL is back they are replayed in order and the files removed.
//
// Layout: events-NNNNNNNNNN.spool segments, appended to and replayed oldest first. A segment is
// closed ("sealed") before it is replayed, so appends never race a replay and nothing appended
// meanwhile can be removed with it. Each record is
//   "PEV1" | payload length (u32 LE) | CRC-32 of length and payload (u32 LE) | payload (JSON)
// so a torn write (crash, full disk) or a damaged block is detected, reported and skipped, and
// the magic lets the reader find the next intact record after a damaged one.
// events.rejected holds, in the same format, events PostgreSQL refused as data (they are
// never retried, and never silently lost). events.lock keeps a second pipeline out.
#include <cstdint>
#include <deque>
#include <filesystem>
#include <mutex>
#include <stdexcept>
#include <string>
#include <vector>

#include "parley/event.hpp"

namespace parley::events {

// An append, a read or the directory failed; what() names the file, the step and the errno.
class SpoolError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

class Spool {
 public:
  static constexpr uint64_t kDefaultSegmentBytes = 64ull << 20;

  // Creates `dir` if needed, takes its lock and finds the segments a previous run left behind.
  // Throws SpoolError when the directory is unusable or another pipeline holds it.
  explicit Spool(std::filesystem::path dir, uint64_t segment_bytes = kDefaultSegmentBytes);
  ~Spool();
  Spool(const Spool&) = delete;
  Spool& operator=(const Spool&) = delete;

  // Appends the events with one write and one fsync; they are durable when it returns. Throws
  // SpoolError otherwise, after cutting the segment back so a retry leaves no torn record.
  // Thread-safe (emit() appends directly when the queue is full).
  void append(const std::vector<ComplianceEvent>& events);

  // Closes the segment being appended to; returns all segments not yet removed, oldest first.
  std::vector<std::filesystem::path> seal();
  // After a successful replay of `segment` (one seal() returned).
  void remove(const std::filesystem::path& segment);

  // Appends to events.rejected (fsync'd); throws SpoolError.
  void reject(const ComplianceEvent& event);

  bool empty() const;
  uint64_t bytes() const;  // in segments, not counting events.rejected
  const std::filesystem::path& dir() const { return dir_; }

  struct Contents {
    std::vector<ComplianceEvent> events;  // intact records, in file order
    size_t discarded = 0;                 // torn or damaged records (each reported on stderr)
  };
  // Reads a segment (or events.rejected). Throws SpoolError when the file cannot be read.
  static Contents read(const std::filesystem::path& file);

 private:
  struct Segment {
    std::filesystem::path path;
    uint64_t bytes;
  };
  void closeActive();  // with mutex_ held
  void appendTo(int fd, const std::filesystem::path& path, uint64_t& size,
                const std::vector<ComplianceEvent>& events);

  std::filesystem::path dir_;
  uint64_t segment_bytes_;
  int lock_fd_ = -1;
  mutable std::mutex mutex_;
  std::deque<Segment> sealed_;  // oldest first
  int active_fd_ = -1;
  Segment active_{};
  uint64_t next_seq_ = 1;
  uint64_t bytes_ = 0;
};

}  // namespace parley::events
