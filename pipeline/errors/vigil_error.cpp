#include "pipeline/errors/vigil_error.h"

namespace vigil {

const char* to_string(vigil_errc code) {
  switch (code) {
    case vigil_errc::malformed_request: return "malformed_request";
    case vigil_errc::unauthenticated: return "unauthenticated";
    case vigil_errc::forbidden: return "forbidden";
    case vigil_errc::not_found: return "not_found";
    case vigil_errc::method_not_allowed: return "method_not_allowed";
    case vigil_errc::payload_too_large: return "payload_too_large";
    case vigil_errc::unsupported_media_type: return "unsupported_media_type";
    case vigil_errc::invalid_field: return "invalid_field";
    case vigil_errc::overloaded: return "overloaded";
    case vigil_errc::pipeline_unavailable: return "pipeline_unavailable";
    case vigil_errc::store_unavailable: return "store_unavailable";
    case vigil_errc::internal: return "internal";
  }
  return "unknown";
}

} // namespace vigil
