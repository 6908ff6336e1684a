#include "events/spool.hpp"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <iterator>
#include <optional>
#include <string_view>

#include "events/crc32.hpp"
#include "events/event_codec.hpp"
#include "util/log.hpp"

namespace parley::events {
namespace fs = std::filesystem;

namespace {

constexpr std::string_view kMagic = "PEV1";
constexpr size_t kHeaderBytes = 12;
// Far above any real event (details are small, masked summaries); a larger length field is
// damage, not data.
constexpr uint32_t kMaxPayload = 16u << 20;
constexpr std::string_view kSegmentPrefix = "events-";
constexpr std::string_view kSegmentSuffix = ".spool";

[[noreturn]] void fail(const std::string& what, const fs::path& path, int err) {
  throw SpoolError(what + " " + path.string() + ": " + std::strerror(err));
}

void putU32(std::string& out, uint32_t v) {
  for (int i = 0; i < 4; ++i) out += static_cast<char>((v >> (8 * i)) & 0xFFu);
}

uint32_t getU32(std::string_view in) {
  uint32_t v = 0;
  for (int i = 3; i >= 0; --i) v = (v << 8) | static_cast<unsigned char>(in[i]);
  return v;
}

void frame(std::string& out, const ComplianceEvent& event) {
  std::string payload = encodeSpoolRecord(event);
  std::string length;
  putU32(length, static_cast<uint32_t>(payload.size()));
  out += kMagic;
  out += length;
  putU32(out, crc32(payload, crc32(length)));
  out += payload;
}

// The payload of the intact record starting at `pos`, or nullopt (torn, damaged, or not a
// record boundary at all).
std::optional<std::string_view> recordAt(std::string_view data, size_t pos, size_t& end) {
  if (data.size() - pos < kHeaderBytes || data.substr(pos, 4) != kMagic) return std::nullopt;
  std::string_view length = data.substr(pos + 4, 4);
  uint32_t n = getU32(length);
  if (n > kMaxPayload || data.size() - pos - kHeaderBytes < n) return std::nullopt;
  std::string_view payload = data.substr(pos + kHeaderBytes, n);
  if (crc32(payload, crc32(length)) != getU32(data.substr(pos + 8, 4))) return std::nullopt;
  end = pos + kHeaderBytes + n;
  return payload;
}

void fsyncDir(const fs::path& dir) {
  int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) fail("cannot open spool directory", dir, errno);
  int rc = ::fsync(fd);
  int err = errno;
  ::close(fd);
  if (rc != 0) fail("fsync failed on spool directory", dir, err);
}

std::optional<uint64_t> segmentNumber(const fs::path& path) {
  std::string name = path.filename().string();
  if (name.size() <= kSegmentPrefix.size() + kSegmentSuffix.size() ||
      name.rfind(kSegmentPrefix, 0) != 0 ||
      name.compare(name.size() - kSegmentSuffix.size(), kSegmentSuffix.size(), kSegmentSuffix) !=
          0) {
    return std::nullopt;
  }
  std::string digits = name.substr(kSegmentPrefix.size(),
                                   name.size() - kSegmentPrefix.size() - kSegmentSuffix.size());
  if (!std::all_of(digits.begin(), digits.end(), [](char c) { return c >= '0' && c <= '9'; })) {
    return std::nullopt;
  }
  return std::stoull(digits);
}

fs::path segmentPath(const fs::path& dir, uint64_t seq) {
  char name[64];
  std::snprintf(name, sizeof name, "events-%010llu.spool", static_cast<unsigned long long>(seq));
  return dir / name;
}

}  // namespace

Spool::Spool(fs::path dir, uint64_t segment_bytes)
    : dir_(std::move(dir)), segment_bytes_(segment_bytes) {
  std::error_code ec;
  fs::create_directories(dir_, ec);
  if (ec) throw SpoolError("cannot create spool directory " + dir_.string() + ": " + ec.message());
  fs::path lock = dir_ / "events.lock";
  lock_fd_ = ::open(lock.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  if (lock_fd_ < 0) fail("cannot open", lock, errno);
  // Two writers appending to and replaying the same segments would replay (and remove) each
  // other's files mid-write.
  if (::flock(lock_fd_, LOCK_EX | LOCK_NB) != 0) {
    int err = errno;
    ::close(lock_fd_);
    if (err == EWOULDBLOCK) {
      throw SpoolError("spool directory " + dir_.string() +
                       " is in use by another event pipeline (another parleyd?); give each "
                       "parleyd its own spool directory");
    }
    fail("cannot lock", lock, err);
  }
  std::vector<std::pair<uint64_t, fs::path>> found;
  for (const auto& entry : fs::directory_iterator(dir_, ec)) {
    if (auto seq = segmentNumber(entry.path())) found.emplace_back(*seq, entry.path());
  }
  if (ec) fail("cannot list spool directory", dir_, ec.value());
  std::sort(found.begin(), found.end());
  for (auto& [seq, path] : found) {
    next_seq_ = std::max(next_seq_, seq + 1);
    uint64_t size = fs::file_size(path, ec);
    if (ec) fail("cannot stat", path, ec.value());
    if (size == 0) {
      fs::remove(path, ec);  // created, then nothing written: nothing to replay
      continue;
    }
    sealed_.push_back({path, size});
    bytes_ += size;
  }
}

Spool::~Spool() {
  std::lock_guard lock(mutex_);
  closeActive();
  if (lock_fd_ >= 0) ::close(lock_fd_);  // releases the flock
}

void Spool::appendTo(int fd, const fs::path& path, uint64_t& size,
                     const std::vector<ComplianceEvent>& events) {
  std::string buffer;
  for (const auto& e : events) frame(buffer, e);
  size_t done = 0;
  while (done < buffer.size()) {
    ssize_t n = ::write(fd, buffer.data() + done, buffer.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      int err = n < 0 ? errno : ENOSPC;
      // Best effort: without the partial record the next append starts on a clean boundary
      // (the reader would skip it anyway, with a complaint).
      if (::ftruncate(fd, static_cast<off_t>(size)) != 0) {
        log::warn("events: could not cut ", path.string(), " back after a failed write");
      }
      fail("cannot write to spool file", path, err);
    }
    done += static_cast<size_t>(n);
  }
  // An event counts as written only once it is on disk. After a failed fsync the kernel may
  // already have dropped the dirty pages, so it is never retried on the same data: the caller
  // treats it as fatal.
  if (::fsync(fd) != 0) fail("fsync failed on spool file", path, errno);
  size += buffer.size();
}

void Spool::append(const std::vector<ComplianceEvent>& events) {
  if (events.empty()) return;
  std::lock_guard lock(mutex_);
  if (active_fd_ < 0) {
    fs::path path = segmentPath(dir_, next_seq_++);
    active_fd_ = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_APPEND | O_CLOEXEC, 0600);
    if (active_fd_ < 0) fail("cannot create spool file", path, errno);
    active_ = {path, 0};
    fsyncDir(dir_);  // the file's directory entry must survive a crash as well as its data
  }
  uint64_t before = active_.bytes;
  try {
    appendTo(active_fd_, active_.path, active_.bytes, events);
  } catch (const SpoolError&) {
    // Whatever reached the file stays readable for replay; new appends start a fresh segment.
    bytes_ += active_.bytes - before;
    closeActive();
    throw;
  }
  bytes_ += active_.bytes - before;
  if (active_.bytes >= segment_bytes_) closeActive();
}

void Spool::closeActive() {
  if (active_fd_ < 0) return;
  ::close(active_fd_);
  active_fd_ = -1;
  if (active_.bytes > 0) {
    sealed_.push_back(active_);
  } else {
    std::error_code ec;
    fs::remove(active_.path, ec);
  }
  active_ = {};
}

std::vector<fs::path> Spool::seal() {
  std::lock_guard lock(mutex_);
  closeActive();
  std::vector<fs::path> out;
  for (const auto& s : sealed_) out.push_back(s.path);
  return out;
}

void Spool::remove(const fs::path& segment) {
  std::lock_guard lock(mutex_);
  auto it = std::find_if(sealed_.begin(), sealed_.end(),
                         [&](const Segment& s) { return s.path == segment; });
  if (it == sealed_.end()) return;
  std::error_code ec;
  if (!fs::remove(segment, ec) && ec)
    fail("cannot remove replayed spool file", segment, ec.value());
  bytes_ -= it->bytes;
  sealed_.erase(it);
}

void Spool::reject(const ComplianceEvent& event) {
  fs::path path = dir_ / "events.rejected";
  std::lock_guard lock(mutex_);
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
  if (fd < 0) fail("cannot open", path, errno);
  struct stat st {};
  uint64_t size = ::fstat(fd, &st) == 0 ? static_cast<uint64_t>(st.st_size) : 0;
  try {
    appendTo(fd, path, size, {event});
  } catch (...) {
    ::close(fd);
    throw;
  }
  ::close(fd);
}

bool Spool::empty() const {
  std::lock_guard lock(mutex_);
  return bytes_ == 0;
}

uint64_t Spool::bytes() const {
  std::lock_guard lock(mutex_);
  return bytes_;
}

Spool::Contents Spool::read(const fs::path& file) {
  std::ifstream in(file, std::ios::binary);
  if (!in) fail("cannot open", file, errno);
  std::string data((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (in.bad()) fail("cannot read", file, errno);
  std::string_view view(data);
  Contents out;
  size_t pos = 0;
  while (pos < view.size()) {
    size_t end = 0;
    if (auto payload = recordAt(view, pos, end)) {
      if (auto event = decodeSpoolRecord(*payload)) {
        out.events.push_back(std::move(*event));
      } else {
        ++out.discarded;
        log::error("events: ", file.string(), ": record at offset ", pos,
                   " is intact but not an event this parleyd can read; skipped");
      }
      pos = end;
      continue;
    }
    // Damage: look for the next intact record. If there is one, the damage is in the middle
    // (a bad block); if not, it is the tail a crash or a full disk cut short.
    size_t next = pos + 1;
    size_t ignored = 0;
    while ((next = view.find(kMagic, next)) != std::string_view::npos &&
           !recordAt(view, next, ignored)) {
      ++next;
    }
    ++out.discarded;
    if (next == std::string_view::npos) {
      log::warn(
          "events: ", file.string(), ": torn or damaged last record at offset ", pos, " (",
          view.size() - pos,
          " bytes) discarded (typically a write a crash cut short, which was never acknowledged)");
      break;
    }
    log::error("events: ", file.string(), ": damaged record at offset ", pos, " (", next - pos,
               " bytes) skipped; the records after it are replayed");
    pos = next;
  }
  return out;
}

}  // namespace parley::events
