#pragma once
// Keys in the order they were last touched, oldest first: the bound on
// state created over HTTP (the least recently used key is forgotten first).

#include <list>
#include <string>
#include <unordered_map>

namespace vigil::pipeline {

class recency_list {
 public:
  /// Makes `key` the newest (adding it when absent).
  void touch(const std::string& key) {
    auto it = where_.find(key);
    if (it != where_.end())
      order_.erase(it->second);
    order_.push_back(key);
    where_[key] = std::prev(order_.end());
  }
  void erase(const std::string& key) {
    if (where_.empty())  // the stream's case: no key HTTP created, nothing to hash
      return;
    auto it = where_.find(key);
    if (it == where_.end())
      return;
    order_.erase(it->second);
    where_.erase(it);
  }
  /// touch(key), then hands the least recently touched keys to `forget`
  /// until at most `limit` remain (`key` itself stays while limit >= 1).
  template <class Forget>
  void touch_within(const std::string& key, std::size_t limit, Forget&& forget) {
    touch(key);
    while (size() > limit)
      forget(pop_oldest());
  }
  /// Removes and returns the least recently touched key; size() must be > 0.
  std::string pop_oldest() {
    std::string key = std::move(order_.front());
    order_.pop_front();
    where_.erase(key);
    return key;
  }
  bool contains(const std::string& key) const { return where_.count(key) != 0; }
  std::size_t size() const { return where_.size(); }

 private:
  std::list<std::string> order_;
  std::unordered_map<std::string, std::list<std::string>::iterator> where_;
};

} // namespace vigil::pipeline
