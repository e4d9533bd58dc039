// X.509 certificate facts the gateway watches: who a certificate names and
// when it stops being valid. Parsed with mbedTLS 2.28; no mbedTLS type
// crosses this header.
//
// Thread-safety: free function with no shared state; any thread may call it.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "foggate/base/result.h"

namespace foggate::protocols {

struct CertificateInfo {
  std::string subject;       // distinguished name as mbedTLS prints it: "CN=foggate-gateway"
  int64_t not_after_ms = 0;  // Unix ms, UTC; the last valid instant (whole seconds)
  int64_t not_before_ms = 0; // Unix ms, UTC
};

// Reads a PEM file with one or more certificates (a CA bundle) or a DER file
// with one, and returns every certificate in file order. Error reasons:
//  - "cert_read": the file cannot be read (missing, unreadable, larger than
//    16 MiB); the detail names the file and why.
//  - "cert_parse": not a certificate, or a bundle with a certificate that
//    does not parse; the detail names the file and has mbedTLS's error text.
// Only the dates and subject are read: nothing is verified (chain,
// signature), so an expired or untrusted certificate parses fine.
Result<std::vector<CertificateInfo>> read_certificates(const std::string& path);

}  // namespace foggate::protocols
