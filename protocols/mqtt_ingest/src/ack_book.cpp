#include "ack_book.h"

#include <sys/eventfd.h>
#include <unistd.h>

namespace foggate::protocols {

AckBook::AckBook() : event_fd_(::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC)) {}

AckBook::~AckBook() {
  if (event_fd_ >= 0) ::close(event_fd_);
}

void AckBook::wake() {
  const uint64_t one = 1;
  (void)!::write(event_fd_, &one, sizeof one);
}

void AckBook::take(std::vector<uint64_t>& released) {
  uint64_t count = 0;
  (void)!::read(event_fd_, &count, sizeof count);
  std::lock_guard lock(mu_);
  released.swap(released_);
}

void AckBook::next_generation() {
  std::lock_guard lock(mu_);
  ++generation_;
  abandoned_.add(released_.size());
  released_.clear();
}

uint32_t AckBook::generation() const {
  std::lock_guard lock(mu_);
  return generation_;
}

void AckBook::release(uint32_t generation, uint64_t seq) {
  bool first = false;
  {
    std::lock_guard lock(mu_);
    if (generation != generation_) {
      abandoned_.add();
      return;
    }
    first = released_.empty();
    released_.push_back(seq);
  }
  // One wake-up per batch of releases: the connection takes them all.
  if (first) wake();
}

void AckWindow::release(uint64_t seq, std::vector<uint16_t>& ready) {
  if (seq < base_ || seq - base_ >= entries_.size()) return;  // not of this window
  entries_[seq - base_].released = true;
  while (!entries_.empty() && entries_.front().released) {
    ready.push_back(entries_.front().packet_id);
    entries_.pop_front();
    ++base_;
  }
}

}  // namespace foggate::protocols
