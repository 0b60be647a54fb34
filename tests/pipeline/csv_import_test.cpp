// CSV files into Vigil's labelled JSON lines: quoting, column mapping,
// times in the forms CSV files carry them, and rows that cannot be records.

#include "pipeline/schema/csv_import.h"
#include "pipeline/schema/transaction_json.h"

#include <catch2/catch.hpp>

using namespace vigil::pipeline;

TEST_CASE("CSV lines split with RFC 4180 quoting", "[unit][schema][import]") {
  CHECK(*split_csv_line("a,b,,d") == std::vector<std::string>{"a", "b", "", "d"});
  CHECK(*split_csv_line(R"("x, y","say ""hi""",z)") == std::vector<std::string>{"x, y", R"(say "hi")", "z"});
  CHECK(*split_csv_line("a;b\r", ';') == std::vector<std::string>{"a", "b"});
  CHECK_FALSE(split_csv_line(R"("open,b)"));
  CHECK_FALSE(split_csv_line(R"("a"b,c)"));
}

TEST_CASE("CSV times: ISO-8601, naive UTC, Unix seconds and milliseconds", "[unit][schema][import]") {
  const auto expected = *parse_iso8601_ms("2018-04-01T00:00:31Z");
  CHECK(parse_csv_time("2018-04-01T00:00:31Z") == expected);
  CHECK(parse_csv_time("2018-04-01T02:00:31+02:00") == expected);
  CHECK(parse_csv_time("2018-04-01 00:00:31") == expected);
  CHECK(parse_csv_time(" 1522540831 ") == expected);
  CHECK(parse_csv_time("1522540831000") == expected);
  CHECK_FALSE(parse_csv_time("yesterday"));
  CHECK_FALSE(parse_csv_time("2018-02-30 00:00:00"));
  CHECK_FALSE(parse_csv_time("-5"));
}

TEST_CASE("a mapped CSV row becomes a record the stream accepts", "[unit][schema][import]") {
  std::vector<std::string> header{"TRANSACTION_ID", "TX_DATETIME", "CUSTOMER_ID", "TERMINAL_ID", "TX_AMOUNT", "TX_FRAUD"};
  auto m = map_columns(header,
                       "transaction_id=TRANSACTION_ID,timestamp=TX_DATETIME,user_id=CUSTOMER_ID,"
                       "merchant_id=TERMINAL_ID,amount=TX_AMOUNT,is_fraud=TX_FRAUD",
                       "EUR");
  auto row = import_row({"17", "2018-04-01 00:00:31", "596", "3156", "57.16", "0"}, m);
  REQUIRE(row.record);
  auto parsed = parse_transaction(row.record->dump());
  REQUIRE(parsed.ok());
  const auto& r = *parsed.value;
  CHECK(r.tx.transaction_id == "17");
  CHECK(r.tx.user_id == "596");
  CHECK(r.tx.merchant_id == "3156");
  CHECK(r.tx.amount == 57.16);
  CHECK(r.tx.currency == "EUR");
  CHECK(r.tx.country.empty());  // no country, no category: scored as missing
  REQUIRE(r.label);
  CHECK_FALSE(r.label->is_fraud);
  CHECK(r.label->label_time_ms == label_time_unknown);  // known only with --label-delay

  auto bad_amount = import_row({"18", "2018-04-01 00:00:31", "596", "3156", "12,5", "0"}, m);
  CHECK(bad_amount.problem == "amount: not a number: '12,5'");
  auto bad_flag = import_row({"19", "2018-04-01 00:00:31", "596", "3156", "1", "maybe"}, m);
  CHECK(bad_flag.problem.rfind("is_fraud:", 0) == 0);
  auto bad_time = import_row({"20", "01/04/2018", "596", "3156", "1", "1"}, m);
  CHECK(bad_time.problem == "timestamp: not a time: '01/04/2018'");

  CHECK_THROWS_WITH(map_columns(header, "transaction_id=TRANSACTION_ID", "EUR"), Catch::Contains("is required"));
  CHECK_THROWS_WITH(map_columns(header, "colour=TX_FRAUD", "EUR"), Catch::Contains("unknown field 'colour'"));
  CHECK_THROWS_WITH(map_columns(header, "user_id=NOPE", "EUR"), Catch::Contains("no column 'NOPE'"));
  CHECK_THROWS_WITH(map_columns(header,
                                "transaction_id=TRANSACTION_ID,timestamp=TX_DATETIME,user_id=CUSTOMER_ID,"
                                "merchant_id=TERMINAL_ID,amount=TX_AMOUNT",
                                ""),
                    Catch::Contains("--currency"));
}
