#pragma once
// Maps HTTP requests to node operations. Never throws: every failure becomes
// a JSON error response (see http_errors.h).

#include "http/http_types.h"
#include "http/node_api.h"

namespace vigil::http {

/// Largest array accepted by POST /predict and POST /feedback.
constexpr std::size_t max_batch_items = 1000;

http_response route(const http_request& request, node_api& node);

/// The OpenAPI 3 document served at /openapi.json.
const std::string& openapi_document();
/// The dashboard page served at /.
const std::string& dashboard_page();

} // namespace vigil::http
