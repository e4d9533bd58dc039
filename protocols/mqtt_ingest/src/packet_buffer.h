// PacketBuffer: the ingest connection's receive buffer. Reads land in its
// free tail (a chunk of tens of KiB per read); packets are parsed where
// they lie and consumed from the front; the unread rest moves to the front
// only when the tail runs short.
#pragma once

#include <cstring>
#include <string_view>
#include <vector>

namespace foggate::protocols {

class PacketBuffer {
 public:
  std::string_view data() const { return {buf_.data() + begin_, end_ - begin_}; }
  std::size_t size() const { return end_ - begin_; }
  void consume(std::size_t n) {
    begin_ += n;
    if (begin_ == end_) begin_ = end_ = 0;
  }
  // At least `n` free bytes at the tail; returns where to read into.
  char* tail(std::size_t n) {
    if (buf_.size() - end_ < n) {
      if (begin_ > 0) {
        std::memmove(buf_.data(), buf_.data() + begin_, end_ - begin_);
        end_ -= begin_;
        begin_ = 0;
      }
      if (buf_.size() - end_ < n) buf_.resize(end_ + n);
    }
    return buf_.data() + end_;
  }
  std::size_t tail_size() const { return buf_.size() - end_; }
  void commit(std::size_t n) { end_ += n; }
  void clear() { begin_ = end_ = 0; }

 private:
  std::vector<char> buf_;
  std::size_t begin_ = 0;
  std::size_t end_ = 0;
};

}  // namespace foggate::protocols
