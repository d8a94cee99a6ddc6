// The verifier's tools (core/verifier.h) over this build's libraries: SHA-256 through OpenSSL,
// gunzip through zlib, the manifest's JSON through nlohmann-json.
#ifndef EXPORTD_SERVER_VERIFIER_TOOLS_H_
#define EXPORTD_SERVER_VERIFIER_TOOLS_H_

#include "core/verifier.h"

namespace exportd {

// Stateless and thread-safe; lives as long as the process.
const VerifierTools& LibraryVerifierTools();

}  // namespace exportd

#endif  // EXPORTD_SERVER_VERIFIER_TOOLS_H_
