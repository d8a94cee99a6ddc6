// StoreHealth: whether a store can serve now (for /readyz).
#ifndef EXPORTD_CORE_STORE_HEALTH_H_
#define EXPORTD_CORE_STORE_HEALTH_H_

#include "core/status.h"

namespace exportd {

// Thread-safe.
class StoreHealth {
 public:
  virtual ~StoreHealth() = default;

  // OK if the store can take writes now (for /readyz).
  virtual Status CheckWritable() = 0;
};

}  // namespace exportd

#endif  // EXPORTD_CORE_STORE_HEALTH_H_
