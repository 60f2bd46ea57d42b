// SPDX-License-Identifier: Apache-2.0
// Case u: uncontended acquire+release pairs, one thread, every peer's
// objects in turn (the peers' files give the rows), and their table.
#include "sync.hpp"

#include "../common/output.hpp"

#include <cstdio>

namespace lox_bench::sync {
namespace {

// Each row's reference peer for the ratio column.
std::string reference(const std::string& p) {
  if (p.find("rwlock read") != std::string::npos || p.find("shared_mutex read") != std::string::npos)
    return "pthread_rwlock read";
  if (p.find("write") != std::string::npos) return "pthread_rwlock write";
  if (p.find("sem") != std::string::npos) return "sem_wait/sem_post";
  return "pthread_mutex";
}

std::optional<double> ratio(const std::vector<Row>& rows, const char* a, const char* b) {
  return lox_bench::ratio(find_row(rows, a), find_row(rows, b));
}

}  // namespace

void case_u(const Options& o, Summary& sum) {
  std::fprintf(stderr, "case u: %zu pairs x %d reps\n", o.pairs, o.reps);
  Pairs p{o, {}};
  pthread_mutex_pairs(p);
  std_mutex_pairs(p);
  lox_lock_pairs(p);
  {
    std::unique_ptr<RwPairs> rw[] = {pthread_rwlock_pairs(), std_shared_mutex_pairs(), lox_rwlock_pairs()};
    for (auto& r : rw) r->read(p);
    for (auto& r : rw) r->write(p);
  }
  sem_pairs(p);
  lox_index_semaphore_pairs(p);
  const std::vector<Row>& rows = p.rows;

  sum.lock = ratio(rows, "lox_lock", "pthread_mutex");
  sum.qlock = ratio(rows, "lox_qlock", "pthread_mutex");
  sum.rw_read = ratio(rows, "lox_rwlock read", "pthread_rwlock read");
  sum.sem = ratio(rows, "lox_index_semaphore", "sem_wait/sem_post");

  std::printf("\n## Case u: uncontended acquire+release pair, 1 thread, %zu pairs per rep (%d reps)\n\n", o.pairs,
              o.reps);
  Table t({{"peer", 24, true}, {"median ns", 12, false}, {"min ns", 9, false}, {"ratio (median)", 32, true}});
  t.head();
  t.rows(
      rows, false,
      [&](const Row& r) {
        const Row* b = find_row(rows, reference(r.peer));
        std::string x = b ? fmt_x(r.median() / b->median()) + " " + reference(r.peer) : "-";
        return std::vector<std::string>{r.peer, fmt(r.median()), fmt(r.min()), x};
      },
      [](const Row& r) { return load_note(r, nullptr, false); });
  emit("u", rows, CsvLayout{});
}

}  // namespace lox_bench::sync
