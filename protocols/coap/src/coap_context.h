// CoapContext: the one RAII owner of a libcoap coap_context_t. Freeing the
// context also frees everything libcoap hangs off it (resources, endpoints,
// sessions, half-received Block1 state), so no other libcoap handle needs a
// wrapper of its own. Private to the coap module: libcoap types never appear
// in a public header.
//
// Threads: a context belongs to the thread that polls it; create, use and
// destroy it there. coap_library_init() may be called from any thread.
#pragma once

#include <coap3/coap.h>

#include <memory>
#include <mutex>
#include <string>

#include "foggate/base/log.h"

namespace foggate::protocols {

struct CoapContextDeleter {
  void operator()(coap_context_t* ctx) const noexcept { coap_free_context(ctx); }
};
using CoapContext = std::unique_ptr<coap_context_t, CoapContextDeleter>;

// libcoap's own log lines go through our structured logger. The level is
// LOG_ERR, not libcoap's default LOG_WARNING: 4.3.1 warns once per malformed
// datagram ("discard malformed PDU"), so a hostile peer could otherwise turn
// packets into stderr lines. Errors (allocation failures, socket errors) are
// rare enough to log each time. Called by libcoap, so it must not throw.
inline void forward_coap_log(coap_log_t level, const char* message) noexcept {
  try {
    std::string text = message ? message : "";
    while (!text.empty() && (text.back() == '\n' || text.back() == '\r')) text.pop_back();
    log::write(level <= LOG_ERR ? log::Level::kError : log::Level::kWarn, "coap", "libcoap",
               {{"text", text}});
  } catch (...) {
    // Nothing sensible left to do with a log line we could not build.
  }
}

// coap_startup() once per process. coap_cleanup() is deliberately never
// called: other contexts may live on other threads until exit, and 4.3.1's
// cleanup only releases process-wide state the OS reclaims anyway.
inline void coap_library_init() {
  static std::once_flag once;
  std::call_once(once, [] {
    coap_startup();
    coap_set_log_handler(forward_coap_log);
    coap_set_log_level(LOG_ERR);
  });
}

}  // namespace foggate::protocols
