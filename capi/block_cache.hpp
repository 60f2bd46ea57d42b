// SPDX-License-Identifier: Apache-2.0
// Reuse of the memory of one type of small, short-lived handle (task
// handles: one per node of a task graph, often made by one thread and
// destroyed by another).
//
// Why not operator new + the quarantine (handle.hpp): a task handle is
// allocated by the scattering thread and, when its task ends, freed by a
// worker. glibc then keeps the block in the worker's cache, the scatterer
// keeps taking fresh memory (page faults) and the arena lock bounces
// between threads; the quarantine adds a global mutex per destroy. Here
// each thread keeps two batches of kBatch blocks (one it takes from, one it
// parks into) and meets the others under one mutex once per kBatch blocks.
//
// The quarantine's guarantee is kept: a destroyed block is reused only
// after at least kMinDepth * kBatch (>= kQuarantineSize) later destroys:
// full batches wait in a FIFO and the head is taken only while more than
// kMinDepth batches are queued behind it, so a stale handle still finds a
// "dead" magic for that long. The FIFO is bounded (kMaxDepth batches);
// beyond that its oldest batch is freed. A thread's own two batches go to
// the FIFO when it exits; the FIFO is freed at unload/exit (drain()), and
// blocks parked after that are freed at once.
#pragma once

#include <cstddef>
#include <mutex>
#include <new>
#include <utility>

namespace lox::capi {

template <typename Tag>
class BlockCache {
 public:
  static constexpr size_t kBatch = 64;
  static constexpr size_t kMinDepth = 16;    // 1024 blocks between a destroy and a reuse
  static constexpr size_t kMaxDepth = 1024;  // 65,536 blocks kept at most

  constexpr BlockCache(size_t block_size, std::align_val_t alignment) noexcept
      : size_(block_size), alignment_(alignment) {}
  BlockCache(const BlockCache&) = delete;
  BlockCache& operator=(const BlockCache&) = delete;

  // A block of block_size bytes (reused or new); throws std::bad_alloc.
  void* allocate() {
    Local& l = local();
    if (!l.take || l.take->n == 0) {
      Batch* fresh = pop();
      if (!fresh) return ::operator new(size_, alignment_);
      if (l.take) delete l.take;  // empty
      l.take = fresh;
    }
    return l.take->blocks[--l.take->n];
  }

  // Parks the memory of a destroyed handle (its magic already says dead).
  void park(void* block) noexcept {
    Local& l = local();
    if (!l.give) {
      l.give = new (std::nothrow) Batch;
      if (!l.give) return free_block(block);
    }
    l.give->blocks[l.give->n++] = block;
    if (l.give->n == kBatch) push(std::exchange(l.give, nullptr));
  }

  // Frees every queued batch; from then on parked blocks are freed.
  void drain() noexcept {
    Batch* b;
    {
      std::lock_guard lk(mu_);
      drained_ = true;
      b = std::exchange(head_, nullptr);
      tail_ = nullptr;
      depth_ = 0;
    }
    while (b) free_batch(std::exchange(b, b->next));
  }

 private:
  struct Batch {
    Batch* next = nullptr;
    size_t n = 0;
    void* blocks[kBatch];
  };
  // The calling thread's batches; handed to the FIFO when the thread exits.
  struct Local {
    BlockCache* owner = nullptr;
    Batch* take = nullptr;
    Batch* give = nullptr;
    ~Local() {
      if (!owner) return;
      if (take && take->n) owner->push(take);
      else delete take;
      if (give && give->n) owner->push(give);
      else delete give;
    }
  };
  Local& local() noexcept {
    thread_local Local l;
    l.owner = this;
    return l;
  }

  void free_block(void* block) const noexcept { ::operator delete(block, alignment_); }
  void free_batch(Batch* b) const noexcept {
    for (size_t i = 0; i < b->n; ++i) free_block(b->blocks[i]);
    delete b;
  }
  void push(Batch* b) noexcept {
    Batch* evicted = nullptr;
    {
      std::lock_guard lk(mu_);
      if (drained_) {
        evicted = b;
      } else {
        b->next = nullptr;
        if (tail_) tail_->next = b;
        else head_ = b;
        tail_ = b;
        if (++depth_ > kMaxDepth) {
          evicted = head_;
          head_ = head_->next;
          --depth_;
        }
      }
    }
    if (evicted) free_batch(evicted);
  }
  Batch* pop() noexcept {
    std::lock_guard lk(mu_);
    if (depth_ <= kMinDepth) return nullptr;
    Batch* b = head_;
    head_ = b->next;
    --depth_;
    return b;
  }

  const size_t size_;
  const std::align_val_t alignment_;
  std::mutex mu_;
  Batch* head_ = nullptr;
  Batch* tail_ = nullptr;
  size_t depth_ = 0;
  bool drained_ = false;
};

}  // namespace lox::capi
