// A fresh directory under the system temp dir, removed with everything in it on destruction.
#ifndef EXPORTD_TESTS_FAKES_TEMP_DIR_H_
#define EXPORTD_TESTS_FAKES_TEMP_DIR_H_

#include <stdlib.h>

#include <filesystem>
#include <string>

namespace exportd::testing_support {

class TempDir {
 public:
  TempDir() {
    std::string tmpl = (std::filesystem::temp_directory_path() / "exportd-test-XXXXXX").string();
    path_ = mkdtemp(tmpl.data());
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  const std::string& path() const { return path_; }
  std::string File(const std::string& name) const { return path_ + "/" + name; }

 private:
  std::string path_;
};

}  // namespace exportd::testing_support

#endif  // EXPORTD_TESTS_FAKES_TEMP_DIR_H_
