// Receipt: the source's claim on a message it has not yet acknowledged.
//
// A QoS 1 reading may be acknowledged to the site broker only when nothing
// of it can be lost any more: its detect tasks evaluated, its forward
// tasks committed to the spool, its dropped tasks counted. Every stage that
// still needs the reading holds the Message (and so its receipt); a stage
// that keeps the reading past the Message itself (the uplink, until its
// group commit) keeps a copy of the receipt. When the last copy goes, the
// source's destructor acknowledges (MqttIngestConnection: a PUBACK).
//
// Threads: released on whichever thread drops the last copy; an
// implementation's destructor must be cheap and must not block.
#pragma once

#include <memory>

namespace foggate {

class Receipt {
 public:
  virtual ~Receipt() = default;
};

using ReceiptPtr = std::shared_ptr<const Receipt>;

}  // namespace foggate
