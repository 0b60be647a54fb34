#include "http/http_server.h"

#include "http/http_errors.h"
#include "pipeline/metrics/metrics_registry.h"

#include <boost/asio/dispatch.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/strand.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include <atomic>
#include <chrono>
#include <optional>
#include <thread>
#include <vector>

namespace vigil::http {
namespace {

namespace beast = boost::beast;
namespace bhttp = beast::http;
namespace net = boost::asio;
using tcp = net::ip::tcp;

struct shared_state {
  server_settings settings;
  request_handler handler;
  std::atomic<int> connections{0};
  pipeline::histogram* latency = nullptr;
  pipeline::counter* requests = nullptr;
};

class session : public std::enable_shared_from_this<session> {
 public:
  session(tcp::socket&& socket, std::shared_ptr<shared_state> state, bool reject)
    : stream_(std::move(socket)), state_(std::move(state)), reject_(reject) {
    ++state_->connections;
  }
  ~session() { --state_->connections; }

  void run() {
    net::dispatch(stream_.get_executor(),
                  beast::bind_front_handler(&session::do_read, shared_from_this()));
  }

 private:
  void do_read() {
    parser_.emplace();
    parser_->body_limit(state_->settings.body_limit_bytes);
    parser_->header_limit(16 * 1024);
    stream_.expires_after(std::chrono::milliseconds(state_->settings.read_timeout_ms));
    bhttp::async_read(stream_, buffer_, *parser_,
                      beast::bind_front_handler(&session::on_read, shared_from_this()));
  }

  void on_read(beast::error_code ec, std::size_t) {
    if (ec == bhttp::error::end_of_stream || ec == beast::error::timeout ||
        ec == net::error::connection_reset || ec == net::error::operation_aborted)
      return do_close();
    if (ec == bhttp::error::body_limit)
      return send(error_response(vigil_errc::payload_too_large, "body larger than " +
                                        std::to_string(state_->settings.body_limit_bytes) + " bytes"),
                  11, true);
    if (ec)
      return send(error_response(vigil_errc::malformed_request, "malformed HTTP request: " + ec.message()), 11, true);
    auto start = std::chrono::steady_clock::now();
    auto req = parser_->release();
    int version = req.version();
    bool keep_alive = req.keep_alive();
    if (reject_)
      return send(error_response(vigil_errc::overloaded, "too many connections"), version, true);
    http_request r;
    r.method = std::string(req.method_string());
    split_target(std::string(req.target()), r.path, r.query);
    r.authorization = std::string(req[bhttp::field::authorization]);
    r.content_type = std::string(req[bhttp::field::content_type]);
    r.body = std::move(req.body());
    // The responder may run on any thread: the write goes through this
    // connection's strand (inline when already on it).
    state_->handler(std::move(r), [self = shared_from_this(), start, version, keep_alive](http_response response) {
      self->state_->requests->add();
      self->state_->latency->observe(
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
      net::dispatch(self->stream_.get_executor(),
                    [self, version, keep_alive, response = std::move(response)]() mutable {
                      self->send(std::move(response), version, !keep_alive);
                    });
    });
  }

  void send(http_response r, int version, bool close) {
    auto res = std::make_shared<bhttp::response<bhttp::string_body>>(
      static_cast<bhttp::status>(r.status), version);
    res->set(bhttp::field::server, "vigil");
    res->set(bhttp::field::content_type, r.content_type);
    if (r.retry_after_s > 0)
      res->set(bhttp::field::retry_after, std::to_string(r.retry_after_s));
    res->keep_alive(!close);
    res->body() = std::move(r.body);
    res->prepare_payload();
    response_ = res;
    stream_.expires_after(std::chrono::milliseconds(state_->settings.read_timeout_ms));
    bhttp::async_write(stream_, *res,
                       beast::bind_front_handler(&session::on_write, shared_from_this(), close));
  }

  void on_write(bool close, beast::error_code ec, std::size_t) {
    response_.reset();
    if (ec || close)
      return do_close();
    do_read();
  }

  void do_close() {
    beast::error_code ec;
    stream_.socket().shutdown(tcp::socket::shutdown_send, ec);
  }

  beast::tcp_stream stream_;
  beast::flat_buffer buffer_;
  std::optional<bhttp::request_parser<bhttp::string_body>> parser_;
  std::shared_ptr<void> response_;
  std::shared_ptr<shared_state> state_;
  bool reject_;
};

class listener : public std::enable_shared_from_this<listener> {
 public:
  listener(net::io_context& ioc, tcp::endpoint endpoint, std::shared_ptr<shared_state> state)
    : ioc_(ioc), acceptor_(net::make_strand(ioc)), state_(std::move(state)) {
    acceptor_.open(endpoint.protocol());
    acceptor_.set_option(net::socket_base::reuse_address(true));
    acceptor_.bind(endpoint);
    acceptor_.listen(net::socket_base::max_listen_connections);
  }
  unsigned short port() const { return acceptor_.local_endpoint().port(); }
  void run() { do_accept(); }
  void stop() {
    net::dispatch(acceptor_.get_executor(), [self = shared_from_this()] {
      beast::error_code ec;
      self->acceptor_.close(ec);
    });
  }

 private:
  void do_accept() {
    acceptor_.async_accept(net::make_strand(ioc_),
                           beast::bind_front_handler(&listener::on_accept, shared_from_this()));
  }
  void on_accept(beast::error_code ec, tcp::socket socket) {
    if (ec == net::error::operation_aborted)
      return;
    if (!ec) {
      bool reject = state_->connections.load() >= state_->settings.max_connections;
      std::make_shared<session>(std::move(socket), state_, reject)->run();
    }
    do_accept();
  }

  net::io_context& ioc_;
  tcp::acceptor acceptor_;
  std::shared_ptr<shared_state> state_;
};

} // namespace

struct http_server::impl {
  net::io_context ioc;
  std::shared_ptr<listener> accept;
  std::vector<std::thread> threads;
};

http_server::http_server(const server_settings& settings, request_handler handler)
  : impl_(std::make_unique<impl>()) {
  auto state = std::make_shared<shared_state>();
  state->settings = settings;
  state->handler = std::move(handler);
  state->latency = &pipeline::metrics().get_histogram("vigil_http_request_seconds",
                                                      "HTTP request handling time");
  state->requests = &pipeline::metrics().get_counter("vigil_http_requests_total", "HTTP requests served");
  try {
    auto endpoint = tcp::endpoint(net::ip::make_address(settings.address), settings.port);
    impl_->accept = std::make_shared<listener>(impl_->ioc, endpoint, state);
  } catch (const std::exception& e) {
    throw std::runtime_error("cannot listen on " + settings.address + ":" +
                             std::to_string(settings.port) + ": " + e.what());
  }
  impl_->accept->run();
  for (int i = 0; i < std::max(1, settings.threads); ++i)
    impl_->threads.emplace_back([this] { impl_->ioc.run(); });
}

http_server::~http_server() {
  stop();
}

unsigned short http_server::port() const {
  return impl_->accept->port();
}

void http_server::stop() {
  if (impl_->threads.empty())
    return;
  impl_->accept->stop();
  impl_->ioc.stop();
  for (auto& t : impl_->threads)
    t.join();
  impl_->threads.clear();
}

} // namespace vigil::http
