// AckBook: where receipts of QoS 1 messages come back, from any thread, to
// the connection that owes their PUBACKs; and the connection's wake-up
// (an eventfd it polls beside its socket).
//
// AckWindow: on the connection's thread, the QoS 1 messages handed over
// and not yet acknowledged, in arrival order. PUBACKs leave in that order
// (MQTT-4.6.0-2): a released message behind one still held waits for it.
//
// A receipt names the connection generation it came from; one released
// after its connection ended acknowledges nothing (the broker redelivers
// the message on the next connection), and is counted as abandoned.
#pragma once

#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <vector>

#include "foggate/base/counter.h"
#include "foggate/message/receipt.h"

namespace foggate::protocols {

class AckBook {
 public:
  AckBook();
  ~AckBook();
  AckBook(const AckBook&) = delete;
  AckBook& operator=(const AckBook&) = delete;

  int wake_fd() const { return event_fd_; }
  // Any thread: makes the connection's poll return.
  void wake();
  // Connection thread: clears the wake-up and takes the released
  // sequence numbers of the current generation.
  void take(std::vector<uint64_t>& released);
  // Connection thread, when a connection ends (and at each new one):
  // earlier receipts go stale. Released ones not yet taken count as
  // abandoned, as does every later release of an earlier generation.
  void next_generation();
  uint32_t generation() const;

  // From a receipt's destructor.
  void release(uint32_t generation, uint64_t seq);
  const Counter& abandoned() const { return abandoned_; }

 private:
  int event_fd_ = -1;
  mutable std::mutex mu_;
  uint32_t generation_ = 0;        // guarded by mu_
  std::vector<uint64_t> released_;  // guarded by mu_
  Counter abandoned_;
};

// Owes one PUBACK while a copy exists. `armed` is false for a message the
// handler did not take: dropping it then acknowledges nothing.
class PubackReceipt final : public Receipt {
 public:
  PubackReceipt(std::shared_ptr<AckBook> book, uint32_t generation, uint64_t seq)
      : book_(std::move(book)), generation_(generation), seq_(seq) {}
  ~PubackReceipt() override {
    if (armed_) book_->release(generation_, seq_);
  }
  void disarm() { armed_ = false; }

 private:
  std::shared_ptr<AckBook> book_;
  uint32_t generation_;
  uint64_t seq_;
  bool armed_ = true;
};

class AckWindow {
 public:
  // A message handed over; its sequence number for the receipt.
  uint64_t add(uint16_t packet_id) {
    entries_.push_back({packet_id, false});
    return base_ + entries_.size() - 1;
  }
  // The last add() taken back (the handler refused the message).
  void undo_add() { entries_.pop_back(); }
  // Marks `seq` released; appends to `ready` the packet ids now due, in order.
  void release(uint64_t seq, std::vector<uint16_t>& ready);
  void clear() {
    base_ += entries_.size();
    entries_.clear();
  }
  std::size_t size() const { return entries_.size(); }

 private:
  struct Entry {
    uint16_t packet_id;
    bool released;
  };
  std::deque<Entry> entries_;
  uint64_t base_ = 0;  // sequence number of entries_.front()
};

}  // namespace foggate::protocols
