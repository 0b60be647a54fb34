#pragma once
// Maps HTTP requests to node operations. Never throws: every failure becomes
// a JSON error response (see http_errors.h). Cheap endpoints are answered on
// the calling (I/O) thread; /predict is answered from the node's
// continuation, and large or explained ones are parsed and finished on the
// node's expensive lane.

#include "http/http_types.h"
#include "http/node_api.h"

namespace vigil::http {

/// Largest array accepted by POST /predict and POST /feedback.
constexpr std::size_t max_batch_items = 1000;
/// A /predict body larger than this is parsed on the expensive lane.
constexpr std::size_t expensive_body_bytes = 64 * 1024;

/// Answers `request` through `respond`, exactly once.
void route(http_request request, node_api& node, responder respond);
/// The same, waiting for the answer (tests and the fuzz target).
http_response route(const http_request& request, node_api& node);

/// The OpenAPI 3 document served at /openapi.json.
const std::string& openapi_document();
/// The analyst console served at / (http/console/, embedded at build time).
const std::string& console_page();

} // namespace vigil::http
