// Labels in files: a label needs the time it became known, and reaches
// merchant features only from that time on, in training and batch scoring.

#include "pipeline/features/labelled_replay.h"
#include "pipeline/schema/transaction_file.h"
#include "pipeline/schema/transaction_json.h"

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include <cstring>
#include <sstream>

using namespace vigil::pipeline;

namespace {

std::int64_t at(const char* iso) { return *parse_iso8601_ms(iso); }

labelled_transaction make_record(const std::string& id, const std::string& merchant, const char* when,
                                 std::optional<bool> fraud = std::nullopt, const char* known = nullptr) {
  labelled_transaction r;
  auto& tx = r.tx;
  tx.transaction_id = id;
  tx.user_id = "u-" + id;
  tx.merchant_id = merchant;
  tx.merchant_category = "grocery";
  tx.amount = 25;
  tx.currency = "EUR";
  tx.event_time_ms = at(when);
  tx.country = "DE";
  if (fraud)
    r.label = transaction_label{*fraud, "", known ? at(known) : label_time_unknown};
  return r;
}

float labelled_30d(const feature_vector& v) { return v[static_cast<int>(feature::merchant_labelled_30d)]; }
float fraud_rate_30d(const feature_vector& v) { return v[static_cast<int>(feature::merchant_fraud_rate_30d)]; }

std::string file_of(const std::vector<labelled_transaction>& records) {
  std::string text;
  for (const auto& r : records)
    text += to_json(r).dump() + "\n";
  return text;
}

} // namespace

TEST_CASE("a label reaches merchant features at its label time, not before", "[unit][features][labels]") {
  feature_store store;
  delayed_label_replay replay{store};
  replay.next(make_record("a", "m-1", "2024-03-01T10:00:00Z", true, "2024-03-03T10:00:00Z"));
  auto before = replay.next(make_record("b", "m-1", "2024-03-03T09:59:59.999Z"));
  CHECK(labelled_30d(before) == 0);
  CHECK(store.merchants().at("m-1").pending_labels.size() == 1);
  auto prior_rate = fraud_rate_30d(before);
  auto at_time = replay.next(make_record("c", "m-1", "2024-03-03T10:00:00Z"));
  CHECK(labelled_30d(at_time) == 1);
  CHECK(fraud_rate_30d(at_time) > prior_rate);
  CHECK(store.merchants().at("m-1").pending_labels.empty());
  CHECK(replay.labels_held() == 1);
  // Another merchant's features never see it.
  auto other = replay.next(make_record("d", "m-2", "2024-03-04T00:00:00Z"));
  CHECK(labelled_30d(other) == 0);
}

TEST_CASE("training and batch scoring walk a labelled stream the same way", "[unit][features][labels]") {
  feature_store one, two;
  delayed_label_replay first{one}, second{two};
  std::vector<labelled_transaction> stream{
    make_record("a", "m-1", "2024-03-01T10:00:00Z", true, "2024-03-02T00:00:00Z"),
    make_record("b", "m-1", "2024-03-01T11:00:00Z", false, "2024-03-02T00:00:00Z"),
    make_record("c", "m-1", "2024-03-01T12:00:00Z", true, "2024-03-01T20:00:00Z"),
    make_record("d", "m-1", "2024-03-01T23:59:59Z")};
  feature_vector last{};
  for (const auto& r : stream)
    last = first.next(r);
  CHECK(labelled_30d(last) == 1);  // only c's label was known by then
  // The training replay is the same walk.
  auto table = replay_for_training(stream, two);
  REQUIRE(table.rows() == 3);
  CHECK(table.label_times_ms[2] == at("2024-03-01T20:00:00Z"));
  auto probe = make_record("e", "m-1", "2024-03-02T01:00:00Z").tx;
  auto a = one.features(probe, false), b = two.features(probe, false);
  CHECK(std::memcmp(a.data(), b.data(), sizeof a) == 0);  // bit for bit, NaN (missing) included
  CHECK(labelled_30d(a) == 3);  // a read sees the labels known by its time, a's and b's too
  CHECK(one.merchants().at("m-1").pending_labels.size() == 2);  // and takes none in
  auto before_b = make_record("f", "m-1", "2024-03-01T23:00:00Z").tx;
  CHECK(labelled_30d(one.features(before_b, false)) == 1);
}

TEST_CASE("a labelled file needs each label's time, or a stated delay", "[unit][schema][labels]") {
  auto text = file_of({make_record("a", "m-1", "2024-03-01T10:00:00Z", true),
                       make_record("b", "m-1", "2024-03-01T11:00:00Z", false, "2024-03-05T00:00:00Z"),
                       make_record("c", "m-1", "2024-03-01T12:00:00Z", true, "2024-03-01T11:00:00Z"),
                       make_record("d", "m-1", "2024-03-01T13:00:00Z")});
  std::istringstream strict(text);
  auto refused = read_transactions(strict);
  REQUIRE(refused.rejected.size() == 2);
  CHECK(refused.rejected[0].line_number == 1);
  CHECK(refused.rejected[0].reason.find("label.label_time: missing") == 0);
  CHECK(refused.rejected[1].line_number == 3);
  CHECK(refused.rejected[1].reason == "label.label_time: before the transaction's timestamp");
  CHECK(refused.records.size() == 2);
  CHECK(refused.rejected_share() == 0.5);

  std::istringstream delayed(text);
  auto read = read_transactions(delayed, {7 * day_ms});
  REQUIRE(read.records.size() == 3);
  CHECK(read.records[0].label->label_time_ms == at("2024-03-08T10:00:00Z"));
  CHECK(read.records[1].label->label_time_ms == at("2024-03-05T00:00:00Z"));  // its own time wins
  // A label written back without a time stays without one.
  CHECK_FALSE(to_json(make_record("a", "m-1", "2024-03-01T10:00:00Z", true))["label"].contains("label_time"));
}

TEST_CASE("a feature table's selected rows keep every column, in the order listed", "[unit][features]") {
  feature_table t;
  for (int i = 0; i < 4; ++i) {
    t.values.insert(t.values.end(), feature_count, float(i));
    t.labels.push_back(i % 2 ? 1.0f : 0.0f);
    t.patterns.push_back(i % 2 ? "card_testing" : "");
    t.event_times_ms.push_back(1000 + i);
    t.label_times_ms.push_back(2000 + i);
    t.transaction_ids.push_back("tx-" + std::to_string(i));
    t.user_ids.push_back("u-" + std::to_string(i));
  }
  auto s = t.select({3, 1});
  REQUIRE(s.rows() == 2);
  CHECK(s.row(0)[0] == 3.0f);
  CHECK(s.row(1)[feature_count - 1] == 1.0f);
  CHECK(s.values.size() == 2 * feature_count);
  CHECK(s.patterns == std::vector<std::string>{"card_testing", "card_testing"});
  CHECK(s.event_times_ms == std::vector<std::int64_t>{1003, 1001});
  CHECK(s.label_times_ms == std::vector<std::int64_t>{2003, 2001});
  CHECK(s.transaction_ids == std::vector<std::string>{"tx-3", "tx-1"});
  CHECK(s.user_ids == std::vector<std::string>{"u-3", "u-1"});
  // A column the table does not have stays absent; first(n) stops at the end.
  t.user_ids.clear();
  auto head = t.first(10);
  CHECK(head.rows() == 4);
  CHECK(head.user_ids.empty());
  CHECK(head.transaction_ids.back() == "tx-3");
  CHECK(t.first(1).labels == std::vector<float>{0.0f});
}
