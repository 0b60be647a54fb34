#include "http/http_server.h"

#include "http/http_errors.h"
#include "pipeline/metrics/metrics_registry.h"

#include <boost/asio/dispatch.hpp>
#include <boost/asio/write.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/strand.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include <atomic>
#include <chrono>
#include <mutex>
#include <optional>
#include <thread>
#include <unordered_map>
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
  std::atomic<int> connections{0};   ///< full sessions
  std::atomic<int> probes{0};        ///< sessions in the probe reserve
  std::mutex clients_mutex;
  std::unordered_map<std::string, int> per_client;  ///< open sessions by remote address
  pipeline::histogram* latency = nullptr;
  pipeline::counter* requests = nullptr;
  pipeline::counter* refused = nullptr;
};

/// How a new connection is served.
enum class admission { full, probe_only, refuse };

// Counts a session against its remote address and the server for as long
// as it lives.
class connection_slot {
 public:
  connection_slot(std::shared_ptr<shared_state> state, std::string client, bool probe)
    : state_(std::move(state)), client_(std::move(client)), probe_(probe) {}
  ~connection_slot() {
    --(probe_ ? state_->probes : state_->connections);
    std::lock_guard<std::mutex> lock(state_->clients_mutex);
    if (--state_->per_client[client_] <= 0)
      state_->per_client.erase(client_);
  }
  connection_slot(const connection_slot&) = delete;
  connection_slot& operator=(const connection_slot&) = delete;

 private:
  std::shared_ptr<shared_state> state_;
  std::string client_;
  bool probe_;
};

// Decides (and, when admitted, counts) a new connection from `client`. One
// address can hold at most max_connections_per_client, so it cannot exhaust
// the server; when the server is full, a few more may still ask the probes.
admission admit(shared_state& state, const std::string& client) {
  std::lock_guard<std::mutex> lock(state.clients_mutex);
  int& mine = state.per_client[client];
  admission a = admission::refuse;
  if (mine >= state.settings.max_connections_per_client)
    a = admission::refuse;
  else if (state.connections.load() < state.settings.max_connections)
    a = admission::full;
  else if (state.probes.load() < state.settings.probe_reserve)
    a = admission::probe_only;
  if (a == admission::refuse) {
    if (mine == 0)
      state.per_client.erase(client);
    return a;
  }
  ++mine;
  ++(a == admission::full ? state.connections : state.probes);
  return a;
}

// Answers 503 at once, without reading the request, and closes.
void refuse_connection(tcp::socket socket) {
  static const std::string response = [] {
    auto body = error_response(vigil_errc::overloaded, "too many connections; retry later").body;
    return "HTTP/1.1 503 Service Unavailable\r\nServer: vigil\r\nContent-Type: application/json\r\n"
           "Retry-After: 1\r\nConnection: close\r\nContent-Length: " +
           std::to_string(body.size()) + "\r\n\r\n" + body;
  }();
  auto s = std::make_shared<tcp::socket>(std::move(socket));
  net::async_write(*s, net::buffer(response), [s](beast::error_code, std::size_t) {
    beast::error_code ec;
    s->shutdown(tcp::socket::shutdown_both, ec);
    s->close(ec);
  });
}

/// Bytes a connection's reads take at once (its buffer's capacity):
/// 256 connections hold 4 MB.
constexpr std::size_t read_buffer_bytes = 16 * 1024;

class session : public std::enable_shared_from_this<session> {
 public:
  session(tcp::socket&& socket, std::shared_ptr<shared_state> state, std::string client, bool probe_only)
    : stream_(std::move(socket)), state_(std::move(state)), slot_(state_, std::move(client), probe_only),
      probe_only_(probe_only) {
    // Beast reads at most the buffer's free capacity (at least 512 bytes),
    // and the parser drains the buffer after every read, so a buffer that
    // starts small never grows: every read was 512 bytes (strace), about 80
    // reads and timer re-arms for a 40 kB array of 100 transactions.
    if (!probe_only_)
      buffer_.reserve(read_buffer_bytes);
  }

  void run() {
    net::dispatch(stream_.get_executor(),
                  beast::bind_front_handler(&session::do_read, shared_from_this()));
  }

 private:
  void do_read() {
    parser_.emplace();
    parser_->body_limit(probe_only_ ? 0 : state_->settings.body_limit_bytes);
    parser_->header_limit(probe_only_ ? 2 * 1024 : 16 * 1024);
    // One deadline for the whole request: trickling bytes does not extend it.
    stream_.expires_after(std::chrono::milliseconds(probe_only_ ? std::min(1'000, state_->settings.read_timeout_ms)
                                                                : state_->settings.read_timeout_ms));
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
    bool keep_alive = req.keep_alive() && !probe_only_;
    http_request r;
    r.method = std::string(req.method_string());
    split_target(std::string(req.target()), r.path, r.query);
    if (probe_only_ && r.path != "/health" && r.path != "/ready")
      return send(error_response(vigil_errc::overloaded, "too many connections; retry later"), version, true);
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
  connection_slot slot_;
  bool probe_only_;
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
      beast::error_code peer_error;
      auto peer = socket.remote_endpoint(peer_error);
      std::string client = peer_error ? std::string("?") : peer.address().to_string();
      auto a = admit(*state_, client);
      if (a == admission::refuse) {
        state_->refused->add();
        refuse_connection(std::move(socket));
      } else {
        std::make_shared<session>(std::move(socket), state_, std::move(client), a == admission::probe_only)->run();
      }
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
  state->refused = &pipeline::metrics().get_counter(
    "vigil_http_connections_refused_total", "Connections answered 503 at once (per-client or server limit)");
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
