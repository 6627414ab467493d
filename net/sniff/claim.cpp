// Names of the claim protocols (see claim.hpp).
#include "net/sniff/claim.hpp"

namespace netpen::sniff {

std::string_view to_string(claim_protocol p) {
  switch (p) {
    case claim_protocol::tls: return "tls";
    case claim_protocol::http: return "http";
    case claim_protocol::quic: return "quic";
    case claim_protocol::none: break;
  }
  return "";
}

}  // namespace netpen::sniff
