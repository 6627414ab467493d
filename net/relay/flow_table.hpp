// One kind of live flow (TCP, UDP, ping) by 5-tuple: the engine's tables.
// Used from the engine's dispatch strand only. A flow that ended asks to be
// forgotten from its own strand (forget_later); the erase runs on the
// dispatch strand and only if the tuple still maps to that very flow (a new
// flow may have taken the tuple meanwhile).
#pragma once
#include <asio/post.hpp>
#include <asio/strand.hpp>

#include <memory>
#include <unordered_map>

#include "net/relay/flow_key.hpp"

namespace netpen::relay {

template <class Flow>
class flow_table {
 public:
  using map_type = std::unordered_map<flow_key, std::shared_ptr<Flow>, flow_key_hash>;
  using iterator = typename map_type::iterator;

  explicit flow_table(asio::strand<asio::any_io_executor> dispatch) : dispatch_(std::move(dispatch)) {}

  // The live flow for `key`, or end(). A finished flow whose erase has not
  // run yet is dropped here, so a new flow can take its tuple.
  iterator find_live(const flow_key& key) {
    auto it = flows_.find(key);
    if (it != flows_.end() && it->second->finished()) {
      flows_.erase(it);
      return flows_.end();
    }
    return it;
  }
  iterator insert(const flow_key& key, std::shared_ptr<Flow> flow) {
    return flows_.insert_or_assign(key, std::move(flow)).first;
  }
  void erase(iterator it) { flows_.erase(it); }
  // From any strand: drop `key` if it still maps to `flow`. The lambda keeps
  // `flow` alive until the comparison: a raw pointer could match a new flow
  // for the same (reused) tuple allocated at the same address.
  // `Base` is Flow or one of its bases (the flow's done callback type).
  template <class Base>
  void forget_later(const flow_key& key, std::shared_ptr<Base> flow) {
    asio::post(dispatch_, [this, key, flow = std::move(flow)] {
      auto it = flows_.find(key);
      if (it != flows_.end() && static_cast<const Base*>(it->second.get()) == flow.get()) flows_.erase(it);
    });
  }
  template <class F>
  void for_each(F f) {
    for (auto& [key, flow] : flows_) f(*flow);
  }
  iterator begin() { return flows_.begin(); }
  iterator end() { return flows_.end(); }
  std::size_t size() const { return flows_.size(); }
  void clear() { flows_.clear(); }

 private:
  asio::strand<asio::any_io_executor> dispatch_;
  map_type flows_;
};

}  // namespace netpen::relay
