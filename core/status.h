// Status and Result<T>: the one error language of exportd.
//
// Codes are chosen by what the caller should do next (as in abseil):
//   kUnavailable        transient; retry the same call later (source busy, I/O error, storage 5xx).
//   kDeadlineExceeded   transient; a timeout.
//   kAborted            retry at a higher level (e.g. a lost lease or a conflicting writer).
//   kInvalidArgument    the request is well-formed but meaningless (unknown field, operator,
//   dataset). kMalformed          the request cannot be parsed or has wrong types.
//   kFailedPrecondition the system is not in a state where this can be done (cancel a terminal
//   task). kGone               it existed and is permanently gone (expired or deleted files); never
//   retry. kNotFound, kAlreadyExists, kPermissionDenied, kUnauthenticated, kResourceExhausted,
//   kCancelled, kDataLoss, kInternal: as their names say.
// Foreign error systems (errno, sqlite, curl, exceptions) are translated in exactly one function
// each.
#ifndef EXPORTD_CORE_STATUS_H_
#define EXPORTD_CORE_STATUS_H_

#include <cassert>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <variant>

namespace exportd {

enum class StatusCode {
  kOk = 0,
  kCancelled,
  kInvalidArgument,
  kMalformed,
  kDeadlineExceeded,
  kNotFound,
  kAlreadyExists,
  kPermissionDenied,
  kUnauthenticated,
  kResourceExhausted,
  kFailedPrecondition,
  kAborted,
  kUnavailable,
  kDataLoss,
  kInternal,
  kGone,
};

// Stable snake_case name of a code ("unavailable", "invalid_argument", ...).
std::string_view StatusCodeName(StatusCode code);

// True for codes that a retry of the same work may cure.
bool IsTransient(StatusCode code);

class [[nodiscard]] Status {
 public:
  Status() = default;
  Status(StatusCode code, std::string message, std::string pointer = {})
      : code_(code), message_(std::move(message)), pointer_(std::move(pointer)) {}

  static Status Ok() { return Status(); }

  bool ok() const { return code_ == StatusCode::kOk; }
  StatusCode code() const { return code_; }
  const std::string& message() const { return message_; }
  // A JSON pointer into the request that the error is about ("/filter/depth"), or empty.
  const std::string& pointer() const { return pointer_; }

  // "unavailable: database is locked"
  std::string ToString() const;

  // Returns a copy whose message is "context: message".
  Status WithContext(std::string_view context) const;

 private:
  StatusCode code_ = StatusCode::kOk;
  std::string message_;
  std::string pointer_;
};

inline Status InvalidArgument(std::string msg, std::string pointer = {}) {
  return {StatusCode::kInvalidArgument, std::move(msg), std::move(pointer)};
}
inline Status Malformed(std::string msg, std::string pointer = {}) {
  return {StatusCode::kMalformed, std::move(msg), std::move(pointer)};
}
inline Status NotFound(std::string msg) { return {StatusCode::kNotFound, std::move(msg)}; }
inline Status FailedPrecondition(std::string msg) {
  return {StatusCode::kFailedPrecondition, std::move(msg)};
}
inline Status Unavailable(std::string msg) { return {StatusCode::kUnavailable, std::move(msg)}; }
inline Status Internal(std::string msg) { return {StatusCode::kInternal, std::move(msg)}; }
inline Status Cancelled(std::string msg) { return {StatusCode::kCancelled, std::move(msg)}; }
inline Status Aborted(std::string msg) { return {StatusCode::kAborted, std::move(msg)}; }
inline Status PermissionDenied(std::string msg) {
  return {StatusCode::kPermissionDenied, std::move(msg)};
}
inline Status ResourceExhausted(std::string msg) {
  return {StatusCode::kResourceExhausted, std::move(msg)};
}
inline Status DataLoss(std::string msg) { return {StatusCode::kDataLoss, std::move(msg)}; }
inline Status Gone(std::string msg) { return {StatusCode::kGone, std::move(msg)}; }

// Holds either a value or a non-OK Status.
template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : value_(std::move(value)) {}         // NOLINT(google-explicit-constructor)
  Result(Status status) : status_(std::move(status)) {  // NOLINT(google-explicit-constructor)
    assert(!status_.ok() && "Result constructed from an OK status");
    if (status_.ok()) status_ = Internal("Result constructed from an OK status");
  }

  bool ok() const { return value_.has_value(); }
  const Status& status() const { return status_; }

  // REQUIRES: ok()
  T& value() & { return *value_; }
  const T& value() const& { return *value_; }
  T&& value() && { return std::move(*value_); }
  T& operator*() & { return *value_; }
  const T& operator*() const& { return *value_; }
  T* operator->() { return &*value_; }
  const T* operator->() const { return &*value_; }

 private:
  std::optional<T> value_;
  Status status_;
};

#define EXPORTD_CONCAT_INNER_(a, b) a##b
#define EXPORTD_CONCAT_(a, b) EXPORTD_CONCAT_INNER_(a, b)

#define RETURN_IF_ERROR(expr)           \
  do {                                  \
    ::exportd::Status _status = (expr); \
    if (!_status.ok()) return _status;  \
  } while (0)

#define ASSIGN_OR_RETURN_IMPL_(tmp, lhs, expr) \
  auto tmp = (expr);                           \
  if (!tmp.ok()) return tmp.status();          \
  lhs = std::move(tmp).value()

// ASSIGN_OR_RETURN(auto x, MakeX());
#define ASSIGN_OR_RETURN(lhs, expr) \
  ASSIGN_OR_RETURN_IMPL_(EXPORTD_CONCAT_(_result_, __LINE__), lhs, expr)

}  // namespace exportd

#endif  // EXPORTD_CORE_STATUS_H_
