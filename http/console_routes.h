#pragma once
// The routes behind the analyst console: the review queue, the overview's
// history, models' training charts and a backtest over the decisions log.

#include "http/http_types.h"
#include "http/node_api.h"

namespace vigil::http {

/// Answers `r` when it is one of the console's routes (true); false leaves
/// `respond` untouched. Throws vigil_error before answering.
bool dispatch_console(http_request& r, node_api& node, responder& respond);
/// The console routes' paths, for 405 answers.
bool is_console_path(const std::string& path);

} // namespace vigil::http
