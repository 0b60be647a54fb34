#include "actors/cluster/drift_sharing.h"

#include <catch2/catch.hpp>

using namespace std::chrono_literals;
using vigil::actors::drift_round_spacing;

TEST_CASE("drift sharing rounds space out with their own length, between 5 s and a minute", "[unit][drift]") {
  CHECK(drift_round_spacing(0ms) == 5s);      // live traffic: the base interval
  CHECK(drift_round_spacing(20ms) == 5s);
  CHECK(drift_round_spacing(250ms) == 5s);    // 20 x 250 ms is the base interval itself
  CHECK(drift_round_spacing(400ms) == 8s);    // a replay's long round: a twentieth of the time
  CHECK(drift_round_spacing(2500ms) == 50s);
  CHECK(drift_round_spacing(10s) == 60s);     // never more than a minute apart
}
