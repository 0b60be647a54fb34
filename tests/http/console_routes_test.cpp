// The console's routes: who may read the queue and run a backtest, and
// every bad parameter or field refused with its name.

#include "tests/http/fake_node.h"

#include <catch2/catch.hpp>

using namespace vigil::http;
using namespace vigil::http::testing;

namespace {
const std::string token = "Bearer secret-token";
}

TEST_CASE("the review queue and backtests need the token, the figures and model charts do not",
          "[unit][http][console]") {
  fake_node node;
  CHECK(route(req("GET", "/review"), node).status == 401);
  CHECK(route(req("GET", "/review", "", "Bearer wrong"), node).status == 403);
  CHECK(route(req("GET", "/review/t1"), node).status == 401);
  CHECK(route(req("POST", "/backtest", R"({"model": 1})"), node).status == 401);
  CHECK(route(req("GET", "/review", "", token), node).status == 200);
  CHECK(route(req("GET", "/metrics/history"), node).status == 200);
  auto svg = route(req("GET", "/models/3/pr_curve.svg"), node);
  CHECK(svg.status == 200);
  CHECK(svg.content_type == "image/svg+xml");
  CHECK(svg.body == "<svg>3pr_curve.svg</svg>");
  CHECK(route(req("DELETE", "/review", "", token), node).status == 405);
  CHECK(route(req("GET", "/models/x/pr_curve.svg"), node).status == 400);
}

TEST_CASE("GET /review passes its filter on and refuses a bad parameter by name", "[unit][http][console]") {
  fake_node node;
  auto ok = route(req("GET", "/review?decision=decline&min_score=0.25&max_score=0.9&user_id=u%201&merchant_id=m1"
                             "&rule=deny&status=fraud&before=40&limit=20", "", token), node);
  REQUIRE(ok.status == 200);
  const auto& q = node.last_review;
  CHECK(q.decision == "decline");
  CHECK(q.min_score == 0.25);
  CHECK(q.max_score == 0.9);
  CHECK(q.user_id == "u 1");
  CHECK(q.merchant_id == "m1");
  CHECK(q.rule == "deny");
  CHECK(q.status == "fraud");
  CHECK(q.before == 40);
  CHECK(q.limit == 20);
  for (const char* bad : {"decision=approve", "status=closed", "min_score=abc", "max_score=1.5", "limit=0",
                          "limit=501", "before=-1", "colour=red"}) {
    auto r = route(req("GET", std::string("/review?") + bad, "", token), node);
    CAPTURE(bad);
    CHECK(r.status == 400);
    auto name = std::string(bad).substr(0, std::string(bad).find('='));
    CHECK(body_of(r)["details"][0]["field"] == name);
  }
  CHECK(route(req("GET", "/review?user_id=" + std::string(300, 'u'), "", token), node).status == 400);
}

TEST_CASE("GET /review/{id} answers the item or 404", "[unit][http][console]") {
  fake_node node;
  CHECK(body_of(route(req("GET", "/review/t1", "", token), node))["item"]["transaction_id"] == "t1");
  auto missing = route(req("GET", "/review/t2", "", token), node);
  CHECK(missing.status == 404);
  CHECK(body_of(missing)["code"] == "not_found");
}

TEST_CASE("POST /backtest takes a model, rules and rows, and names any other field", "[unit][http][console]") {
  fake_node node;
  auto ok = route(req("POST", "/backtest", R"({"model": 2, "production_model": 1, "rows": 500,
                                              "rules": [{"id": "a", "when": "score > 0.5", "action": "review"}]})", token),
                  node);
  REQUIRE(ok.status == 200);
  CHECK(node.last_backtest.model == 2);
  CHECK(node.last_backtest.production_model == 1);
  CHECK(node.last_backtest.rows == 500);
  CHECK(node.last_backtest.rules.size() == 1);
  struct refusal { const char* body; const char* field; };
  for (auto [body, field] : {refusal{R"({})", "model"}, refusal{R"({"model": "2"})", "model"},
                             refusal{R"({"model": 0})", "model"}, refusal{R"({"model": 2, "rows": 0})", "rows"},
                             refusal{R"({"model": 2, "rows": 2000000})", "rows"},
                             refusal{R"({"model": 2, "production_model": -1})", "production_model"},
                             refusal{R"({"model": 2, "colour": 1})", "colour"}, refusal{R"([1])", "$"}}) {
    CAPTURE(body);
    auto r = route(req("POST", "/backtest", body, token), node);
    CHECK(r.status == 422);
    CHECK(body_of(r)["details"][0]["field"] == field);
  }
}
