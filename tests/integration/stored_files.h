// What an exportd data dir holds on disk, read the way exportd reads it: export files are
// decrypted with the data dir's master key file (DATA_DIR/master_keys) through the same
// EncryptingObjectStore over LocalObjectStore that serves downloads. For tests that inspect what
// an interrupted export left behind, where no download link exists yet.
#ifndef EXPORTD_TESTS_INTEGRATION_STORED_FILES_H_
#define EXPORTD_TESTS_INTEGRATION_STORED_FILES_H_

#include <string>

namespace exportd::itest {

// The plaintext of DATA_DIR/exports/<id>/<name>: decrypted and authenticated when it is
// encrypted, as stored otherwise. "" with a gtest failure when it cannot be opened or read
// (a file that fails authentication included).
std::string ReadStoredExportFile(const std::string& data_dir, const std::string& id,
                                 const std::string& name);

// The master key id in an encrypted file's envelope header; "" when the file is not encrypted.
std::string StoredKeyId(const std::string& path);

}  // namespace exportd::itest

#endif  // EXPORTD_TESTS_INTEGRATION_STORED_FILES_H_
