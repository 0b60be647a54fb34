#include "pipeline/schema/transaction_json.h"

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

using namespace vigil::pipeline;
using json = nlohmann::json;

namespace {

json valid_record() {
  return json::parse(R"({
    "transaction_id": "tx-1", "user_id": "u-1", "amount": 42.5, "currency": "EUR",
    "merchant": {"id": "m-1", "name": "Corner shop", "category": "grocery"},
    "timestamp": "2024-03-01T10:15:30.250Z",
    "location": {"country": "DE", "lat": 52.52, "lon": 13.40},
    "device_id": "d-1", "channel": "pos"})");
}

// The single error a record with one change produces.
field_error only_error(const json& j) {
  auto r = transaction_from_json(j, unknown_fields::allow);
  REQUIRE_FALSE(r.ok());
  REQUIRE(r.errors.size() == 1);
  return r.errors.front();
}

} // namespace

TEST_CASE("a complete record parses into every field", "[unit][schema]") {
  auto r = transaction_from_json(valid_record(), unknown_fields::allow);
  REQUIRE(r.ok());
  const auto& tx = r.value->tx;
  CHECK(tx.transaction_id == "tx-1");
  CHECK(tx.amount == 42.5);
  CHECK(tx.merchant_name == "Corner shop");
  CHECK(tx.merchant_category == "grocery");
  CHECK(tx.event_time_ms == 1709288130250);
  CHECK(tx.country == "DE");
  CHECK(*tx.latitude == 52.52);
  CHECK(tx.device_id == "d-1");
  CHECK_FALSE(r.value->label.has_value());
}

TEST_CASE("optional fields may be absent", "[unit][schema]") {
  auto j = valid_record();
  j.erase("device_id");
  j.erase("channel");
  j["merchant"].erase("name");
  j["location"].erase("lat");
  j["location"].erase("lon");
  auto r = transaction_from_json(j, unknown_fields::allow);
  REQUIRE(r.ok());
  CHECK(r.value->tx.device_id.empty());
  CHECK_FALSE(r.value->tx.latitude.has_value());
}

TEST_CASE("flat merchant and country fields are accepted", "[unit][schema]") {
  auto j = valid_record();
  j.erase("merchant");
  j.erase("location");
  j["merchant_id"] = "m-9";
  j["merchant_category"] = "fuel";
  j["country"] = "FR";
  auto r = transaction_from_json(j, unknown_fields::allow);
  REQUIRE(r.ok());
  CHECK(r.value->tx.merchant_id == "m-9");
  CHECK(r.value->tx.country == "FR");
}

TEST_CASE("country, location and category are optional, and stay absent in a round trip", "[unit][schema]") {
  auto j = valid_record();
  j.erase("location");
  j["merchant"].erase("category");
  auto r = transaction_from_json(j, unknown_fields::refuse);
  REQUIRE(r.ok());
  CHECK(r.value->tx.country.empty());
  CHECK(r.value->tx.merchant_category.empty());
  auto back = to_json(*r.value);
  CHECK_FALSE(back.contains("location"));
  CHECK_FALSE(back["merchant"].contains("category"));
  CHECK(transaction_from_json(back, unknown_fields::refuse).ok());
  j["location"] = {{"lat", 52.5}, {"lon", 13.4}};  // coordinates without a country
  CHECK(transaction_from_json(j, unknown_fields::refuse).ok());
  j["location"]["country"] = "de";  // present: still checked
  CHECK_FALSE(transaction_from_json(j, unknown_fields::refuse).ok());
}

TEST_CASE("each bad field is named with its reason", "[unit][schema]") {
  SECTION("missing required field") {
    auto j = valid_record();
    j.erase("user_id");
    auto e = only_error(j);
    CHECK(e.field == "user_id");
    CHECK(e.reason == "missing");
  }
  SECTION("wrong type") {
    auto j = valid_record();
    j["amount"] = "12";
    auto e = only_error(j);
    CHECK(e.field == "amount");
    CHECK(e.reason == "must be a number");
  }
  SECTION("negative amount") {
    auto j = valid_record();
    j["amount"] = -1;
    CHECK(only_error(j).reason == "must not be negative");
  }
  SECTION("amount out of range") {
    auto j = valid_record();
    j["amount"] = 5e9;
    CHECK(only_error(j).field == "amount");
  }
  SECTION("unparsable timestamp") {
    auto j = valid_record();
    j["timestamp"] = "2024-13-01T00:00:00Z";
    CHECK(only_error(j).field == "timestamp");
    j["timestamp"] = "2024-03-01T10:15:30";  // no zone
    CHECK(only_error(j).field == "timestamp");
  }
  SECTION("oversize string") {
    auto j = valid_record();
    j["transaction_id"] = std::string(max_id_bytes + 1, 'x');
    CHECK(only_error(j).reason == "longer than 128 bytes");
  }
  SECTION("latitude out of range") {
    auto j = valid_record();
    j["location"]["lat"] = 91.0;
    CHECK(only_error(j).field == "location.lat");
  }
  SECTION("currency not an ISO code") {
    auto j = valid_record();
    j["currency"] = "euro";
    CHECK(only_error(j).field == "currency");
  }
  SECTION("unknown channel") {
    auto j = valid_record();
    j["channel"] = "fax";
    CHECK(only_error(j).field == "channel");
  }
  SECTION("merchant of the wrong type") {
    auto j = valid_record();
    j["merchant"] = 7;
    CHECK(only_error(j).field == "merchant");
  }
}

TEST_CASE("all errors of a record are reported together", "[unit][schema]") {
  auto r = transaction_from_json(json::parse(R"({"amount": -3, "currency": 5})"), unknown_fields::allow);
  REQUIRE_FALSE(r.ok());
  CHECK(r.errors.size() >= 6);
  CHECK(r.message().find("amount: must not be negative") != std::string::npos);
  CHECK(r.message().find("currency: must be a string") != std::string::npos);
}

TEST_CASE("malformed JSON is an error on the whole record", "[unit][schema]") {
  auto r = parse_transaction("{\"transaction_id\": ");
  REQUIRE_FALSE(r.ok());
  CHECK(r.errors.front().field == "$");
  CHECK(parse_transaction("[1,2]").errors.front().reason == "must be a JSON object");
}

TEST_CASE("timestamps with offsets and fractions convert to UTC milliseconds", "[unit][schema]") {
  CHECK(parse_iso8601_ms("1970-01-01T00:00:00Z") == 0);
  CHECK(parse_iso8601_ms("1970-01-01T01:00:00+01:00") == 0);
  CHECK(parse_iso8601_ms("2024-02-29T00:00:00.5Z") == 1709164800500);
  CHECK_FALSE(parse_iso8601_ms("2023-02-30T00:00:00Z"));
  CHECK(format_iso8601_ms(1709288130250) == "2024-03-01T10:15:30.250Z");
}

TEST_CASE("a record survives a JSON round trip, label included", "[unit][schema]") {
  auto j = valid_record();
  j["label"] = {{"is_fraud", true}, {"pattern", "geo_anomaly"},
                {"label_time", "2024-03-02T10:15:30.250Z"}};
  auto first = transaction_from_json(j, unknown_fields::allow);
  REQUIRE(first.ok());
  auto second = transaction_from_json(to_json(*first.value), unknown_fields::allow);
  REQUIRE(second.ok());
  CHECK(to_json(*second.value) == to_json(*first.value));
  CHECK(second.value->label->pattern == "geo_anomaly");
  CHECK(second.value->label->label_time_ms - second.value->tx.event_time_ms == 86'400'000);
}
