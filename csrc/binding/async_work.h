// A Promise-returning AsyncWorker whose rejection is an NsaTopkError with a code from the table
// and the caller's JS stack (captured when the call was made, since the rejection is built later
// from an empty stack). Subclasses set fail() on the worker thread and touch no JS value there.
#pragma once
#include <napi.h>

#include <string>

#include "errors.h"

namespace nsa::binding {

class PromiseWorker : public Napi::AsyncWorker {
 public:
  Napi::Promise Start() {
    Queue();
    return deferred_.Promise();
  }

 protected:
  explicit PromiseWorker(Napi::Env env, const char* name)
      : Napi::AsyncWorker(env, name),
        deferred_(Napi::Promise::Deferred::New(env)),
        caller_stack_(Napi::Error::New(env).Get("stack").ToString().Utf8Value()) {}

  // Worker thread only: records the failure; the promise rejects with it.
  void fail(ErrorCode code, const std::string& message) {
    code_ = code;
    SetError(message);
  }

  void OnOK() override {
    settle([&] { deferred_.Resolve(Env().Undefined()); });
  }

  void OnError(const Napi::Error& e) override {
    settle([&] {
      Napi::Error err = make_error(Env(), code_, e.Message());
      // "NsaTopkError: message" then the frames of the caller's stack ("Error" line dropped).
      std::string head = err.Get("stack").ToString().Utf8Value();
      head = head.substr(0, head.find("\n    at "));
      size_t frames = caller_stack_.find('\n');
      err.Set("stack", head + (frames == std::string::npos ? "" : caller_stack_.substr(frames)));
      deferred_.Reject(err.Value());
    });
  }

 private:
  // Settles the promise. When the work completes while its environment is being torn down (a
  // worker_thread terminated mid-call), N-API refuses to run JS and node-addon-api throws: nobody
  // can await the promise any more, so the throw is dropped rather than left to abort the process.
  // A failure with the environment still alive rejects with the plain error instead, so that no
  // caller waits forever.
  template <class Fn>
  void settle(Fn&& fn) {
    try {
      fn();
    } catch (const Napi::Error& first) {
      clear_pending();
      try {
        deferred_.Reject(Napi::Error::New(Env(), first.Message()).Value());
      } catch (const Napi::Error&) {
        clear_pending();
      }
    }
  }
  void clear_pending() {
    bool pending = false;
    if (napi_is_exception_pending(Env(), &pending) == napi_ok && pending) {
      napi_value ignored;
      napi_get_and_clear_last_exception(Env(), &ignored);
    }
  }

  Napi::Promise::Deferred deferred_;
  std::string caller_stack_;
  ErrorCode code_ = ErrorCode::InvalidArgument;
};

// A Promise-returning entry point: starts the worker `make` returns. A bad call (a throw while
// making it) rejects like a failed one rather than throwing from a Promise-returning function.
template <class Make>
Napi::Value start_promise(Napi::Env env, Make&& make) {
  try {
    return make()->Start();
  } catch (const Napi::Error& e) {
    auto deferred = Napi::Promise::Deferred::New(env);
    deferred.Reject(e.Value());
    return deferred.Promise();
  }
}

}  // namespace nsa::binding
