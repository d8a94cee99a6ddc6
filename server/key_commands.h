// API keys from the command line: `exportd keys ...` on the key store in config.data_dir, and the
// admin key a first start creates.
#ifndef EXPORTD_SERVER_KEY_COMMANDS_H_
#define EXPORTD_SERVER_KEY_COMMANDS_H_

#include <string>

#include "core/key_store.h"
#include "core/role.h"
#include "core/status.h"
#include "server/config.h"

namespace exportd {

// Creates a key with `role` and prints its secret, alone, on stdout.
Status CreateKeyCommand(const Config& config, const std::string& name, Role role);
// One line per key on stdout: id, name, role, created, active or revoked.
Status ListKeysCommand(const Config& config);
Status RevokeKeyCommand(const Config& config, const std::string& id);

// On first start: an admin key from EXPORTD_BOOTSTRAP_KEY, or a new one printed once on stdout
// when `keys` holds no active key.
Status EnsureBootstrapKey(ApiKeyStore& keys);

}  // namespace exportd

#endif  // EXPORTD_SERVER_KEY_COMMANDS_H_
