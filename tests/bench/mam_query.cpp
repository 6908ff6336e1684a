// parley-mam-bench: how fast the server's own archive queries (storage::queryArchive, exactly
// what the urn:xmpp:mam:2 service runs) answer on a big archive.
//
//   parley-mam-bench CONNINFO [--rows N] [--partners P] [--iterations I] [--keep]
//
// CONNINFO names a PostgreSQL where the benchmark may CREATE DATABASE (e.g. the worktree's own
// "host=/tmp/mampg port=55993 user=postgres dbname=postgres"). It creates parley_bench_mam,
// migrates it, fills one account's archive with N messages (default 1,000,000, generated in SQL,
// one second apart, spread over P partners) plus a tenth as many in the partners' archives,
// vacuums, and times three client queries I times each (default 1000) on one connection, as a
// pool thread runs them:
//   newest       the newest 50 (RSM <before/>), what a client opening the archive asks
//   middle       50 after an id in the middle (RSM <after/>), a client paging forwards
//   partner      the newest 50 with one partner ('with' + <before/>), one conversation
// and prints p50/p99 in ms, then EXPLAIN (ANALYZE, BUFFERS) of every statement each query ran.
// A full count (max 0) is timed too (the reason pages of big result sets go uncounted), and
// the metadata query (<metadata/>: the oldest and the newest message).
// The database is dropped at the end unless --keep.

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <pqxx/pqxx>
#include <string>
#include <vector>

#include "storage/mam_store.hpp"
#include "storage/migrations.hpp"

namespace st = parley::storage;

namespace {

constexpr const char* kDb = "parley_bench_mam";
constexpr const char* kOwner = "bench@example.org";

std::string withDbname(const std::string& conninfo, const std::string& db) {
  return conninfo + " dbname=" + db;
}

void fill(pqxx::connection& c, long rows, int partners) {
  pqxx::nontransaction tx(c);
  tx.exec_params(
      "INSERT INTO accounts (jid) SELECT $1 UNION ALL"
      " SELECT 'partner' || p || '@example.org' FROM generate_series(0, $2 - 1) p",
      kOwner, partners);
  // A chat message of typical size; `at` one second apart, so the archive spans ~11.6 days
  // per million messages.
  const std::string stanza =
      "'<message xmlns=''jabber:client'' from=''partner' || (g % $3) || "
      "'@example.org/phone'' to=''bench@example.org/desk'' type=''chat'' id=''m' || g || "
      "'''><body>Message number ' || g || ', with about as much text as a chat line has.</body>"
      "<origin-id xmlns=''urn:xmpp:sid:0'' id=''' || md5(g::text) || '''/></message>'";
  tx.exec_params(
      "INSERT INTO mam_messages (owner, id, at, with_jid, with_resource, direction, origin_id,"
      " stanza) SELECT $1, gen_random_uuid(), timestamptz '2026-01-01 00:00:00+00' + g *"
      " interval '1 second', 'partner' || (g % $3) || '@example.org', 'phone',"
      " CASE WHEN g % 2 = 0 THEN 'in' ELSE 'out' END, md5(g::text), " +
          stanza + " FROM generate_series(1, $2) g",
      kOwner, rows, partners);
  // The partners' own archives, so the owner is not alone in the indexes.
  tx.exec_params(
      "INSERT INTO mam_messages (owner, id, at, with_jid, with_resource, direction, stanza)"
      " SELECT 'partner' || (g % $2) || '@example.org', gen_random_uuid(),"
      " timestamptz '2026-01-01 00:00:00+00' + g * interval '10 seconds', $3, 'desk', 'out',"
      " '<message xmlns=''jabber:client''><body>x</body></message>'"
      " FROM generate_series(1, $1 / 10) g",
      rows, partners, kOwner);
  tx.exec("VACUUM (ANALYZE) mam_messages");
}

struct Timing {
  double p50, p99, max;
};

// Runs `run` 20 times to warm the caches, then `iterations` times timed.
template <class Fn>
Timing measure(int iterations, Fn run) {
  std::vector<double> ms;
  ms.reserve(iterations);
  for (int i = 0; i < iterations + 20; ++i) {
    const auto t0 = std::chrono::steady_clock::now();
    run();
    const auto t1 = std::chrono::steady_clock::now();
    if (i >= 20) ms.push_back(std::chrono::duration<double, std::milli>(t1 - t0).count());
  }
  std::sort(ms.begin(), ms.end());
  auto at = [&](double p) {
    return ms[std::min(ms.size() - 1, static_cast<size_t>(p * ms.size()))];
  };
  return {at(0.50), at(0.99), ms.back()};
}

Timing measure(pqxx::connection& c, const st::ArchiveQuery& q, int iterations,
               size_t expect_messages) {
  return measure(iterations, [&] {
    auto page = st::queryArchive(c, q);
    if (page.unknown_id || page.messages.size() != expect_messages) {
      std::cerr << "unexpected page: " << page.messages.size() << " messages\n";
      std::exit(1);
    }
  });
}

void explain(pqxx::connection& c, const st::ArchiveQuery& q) {
  std::vector<st::SqlStatement> trace;
  st::queryArchive(c, q, st::kArchiveExactCountLimit, &trace);
  pqxx::nontransaction tx(c);
  for (const auto& s : trace) {
    std::cout << "\n```\n" << s.sql << "\n";
    for (size_t i = 0; i < s.params.size(); ++i)
      std::cout << "  $" << i + 1 << " = '" << s.params[i] << "'\n";
    std::cout << "\n";
    for (const auto& row : tx.exec_params("EXPLAIN (ANALYZE, BUFFERS) " + s.sql,
                                          pqxx::prepare::make_dynamic_params(s.params)))
      std::cout << row[0].as<std::string>() << "\n";
    std::cout << "```\n";
  }
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::cerr << "usage: parley-mam-bench CONNINFO [--rows N] [--partners P] [--iterations I] "
                 "[--keep]\n";
    return 2;
  }
  const std::string admin = argv[1];
  long rows = 1000000;
  int partners = 10, iterations = 1000;
  bool keep = false;
  for (int i = 2; i < argc; ++i) {
    const std::string a = argv[i];
    if (a == "--rows" && i + 1 < argc)
      rows = std::atol(argv[++i]);
    else if (a == "--partners" && i + 1 < argc)
      partners = std::atoi(argv[++i]);
    else if (a == "--iterations" && i + 1 < argc)
      iterations = std::atoi(argv[++i]);
    else if (a == "--keep")
      keep = true;
    else {
      std::cerr << "parley-mam-bench: unknown argument " << a << "\n";
      return 2;
    }
  }
  {
    pqxx::connection c(admin);
    pqxx::nontransaction tx(c);
    tx.exec(std::string("DROP DATABASE IF EXISTS ") + kDb + " WITH (FORCE)");
    tx.exec(std::string("CREATE DATABASE ") + kDb);
  }
  pqxx::connection c(withDbname(admin, kDb));
  st::migrate(c);
  const auto f0 = std::chrono::steady_clock::now();
  fill(c, rows, partners);
  const double fill_s =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - f0).count();
  std::string middle_id;
  {
    pqxx::nontransaction tx(c);
    middle_id = tx.exec_params1(
                      "SELECT id::text FROM mam_messages WHERE owner = $1"
                      " ORDER BY at, id OFFSET $2 LIMIT 1",
                      kOwner, rows / 2)[0]
                    .as<std::string>();
    std::cout << "# parley-mam-bench\n\n"
              << rows << " messages in " << kOwner << "'s archive over " << partners
              << " partners (+" << rows / 10 << " in theirs), filled and vacuumed in " << fill_s
              << " s; table " << tx.exec1("SELECT pg_size_pretty(pg_table_size('mam_messages'))")[0]
              << ", indexes "
              << tx.exec1("SELECT pg_size_pretty(pg_indexes_size('mam_messages'))")[0] << ".\n";
  }

  struct Scenario {
    const char* name;
    st::ArchiveQuery query;
  };
  std::vector<Scenario> scenarios(3);
  scenarios[0].name = "newest 50 (<before/>)";
  scenarios[1].name = "50 after an id in the middle (<after/>)";
  scenarios[2].name = "newest 50 with one partner ('with' + <before/>)";
  for (auto& s : scenarios) {
    s.query.owner = kOwner;
    s.query.max = 50;
  }
  scenarios[0].query.last_page = true;
  scenarios[1].query.page_after = middle_id;
  scenarios[2].query.with = "partner3@example.org";
  scenarios[2].query.last_page = true;

  std::cout << "\n| query | runs | p50 ms | p99 ms | max ms |\n|---|---|---|---|---|\n";
  for (const auto& s : scenarios) {
    Timing t = measure(c, s.query, iterations, 50);
    std::printf("| %s | %d | %.2f | %.2f | %.2f |\n", s.name, iterations, t.p50, t.p99, t.max);
    std::fflush(stdout);
  }
  st::ArchiveQuery count_only;
  count_only.owner = kOwner;
  count_only.max = 0;
  Timing t = measure(c, count_only, 20, 0);
  std::printf("| count only (max 0): the whole archive counted | 20 | %.2f | %.2f | %.2f |\n",
              t.p50, t.p99, t.max);
  t = measure(iterations, [&] {
    if (!st::archiveBounds(c, kOwner)) std::exit(1);
  });
  std::printf("| metadata (oldest and newest message) | %d | %.2f | %.2f | %.2f |\n", iterations,
              t.p50, t.p99, t.max);

  for (const auto& s : scenarios) {
    std::cout << "\n## " << s.name << "\n";
    explain(c, s.query);
  }
  if (!keep) {
    c.disconnect();
    pqxx::connection a(admin);
    pqxx::nontransaction tx(a);
    tx.exec(std::string("DROP DATABASE ") + kDb + " WITH (FORCE)");
  }
  return 0;
}
