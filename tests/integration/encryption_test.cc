// Encryption of export files at rest, against the real binary: the default start encrypts
// (ciphertext on disk, a 0600 master key file in the data dir), downloads and Range requests
// serve the plaintext whose sha256 the task and the manifest list, a tampered file fails loudly
// (problem+json, `exportd verify` exits 1), master keys rotate (old tasks stay readable, new
// files name the new key), bad key configurations stop start-up, and encryption can be off.
#include <sys/stat.h>

#include <filesystem>

#include "tests/integration/itest_support.h"
#include "tests/integration/stored_files.h"

namespace exportd::itest {
namespace {

namespace fs = std::filesystem;

// 32 bytes ("0123456789abcdef" twice) in base64: a fixed key for the rotation test.
constexpr char kRotatedKey[] = "rotated-2:MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=";
constexpr char kEnvelopeMagic[] = "\x89XENV\r\n\x1a";

class EncryptionTest : public ExportdTest {
 protected:
  Json Export(const Json& body) {
    const std::string id = CreateExport(*api_, body);
    if (id.empty()) return nullptr;
    Json task = WaitForTerminal(*api_, id, seconds(60));
    EXPECT_EQ(task.value("status", ""), "Succeeded") << task.dump();
    return task;
  }

  std::string StoredPath(const std::string& id, const std::string& name) const {
    return server_->data_dir() + "/exports/" + id + "/" + name;
  }

  CommandResult Verify(const std::string& id) const {
    return server_->RunCli({"verify", id, "--config", server_->config_path()}, seconds(60));
  }

  bool Restart() {
    std::string error;
    if (!server_->Start(&error)) {
      ADD_FAILURE() << "restart failed: " << error;
      return false;
    }
    return true;
  }

  // Restarts with `change` applied to the config file; false (and the reason) when it does not
  // come up.
  bool RestartWith(const std::function<void(Json&)>& change, std::string* error) {
    Json config = Json::parse(ReadFileOrEmpty(server_->config_path()));
    change(config);
    WriteFile(server_->config_path(), config.dump());
    return server_->Start(error);
  }

  std::string KeyFile(const std::string& name, const std::string& text, fs::perms perms) {
    const std::string path = server_->dir() + "/" + name;
    WriteFile(path, text);
    fs::permissions(path, perms);
    return path;
  }
};

TEST_F(EncryptionTest, DefaultStartEncryptsAtRestAndServesThePlaintext) {
  ASSERT_TRUE(StartWithItems(3000));
  const std::string key_file = server_->data_dir() + "/master_keys";
  ASSERT_TRUE(fs::exists(key_file)) << "the default start creates a master key file";
  EXPECT_EQ(fs::status(key_file).permissions() & fs::perms::all,
            fs::perms::owner_read | fs::perms::owner_write);
  EXPECT_NE(server_->stderr_log().find("keep the key outside the data dir"), std::string::npos)
      << server_->LogTail();

  Json task = Export({{"dataset", "items"}, {"max_rows_per_file", 2000}});
  ASSERT_FALSE(task.is_null());
  const std::string id = task.value("id", "");
  // Downloads: every byte, sha256 and byte count equal the task's files[] and the manifest's.
  ExpectExportMatches(*api_, task, ExpectedItems());
  DownloadedExport downloaded = DownloadExport(*api_, task);
  ASSERT_EQ(downloaded.raw.size(), 2u);

  for (size_t i = 0; i < downloaded.names.size(); ++i) {
    const std::string disk = ReadFileOrEmpty(StoredPath(id, downloaded.names[i]));
    const std::string& plain = downloaded.raw[i];
    EXPECT_EQ(disk.compare(0, 8, kEnvelopeMagic), 0) << downloaded.names[i];
    EXPECT_GT(disk.size(), plain.size());
    // Neither the header line nor any 40-byte stretch of rows is on disk.
    EXPECT_EQ(disk.find(plain.substr(0, plain.find("\r\n"))), std::string::npos);
    for (size_t at = 100; at + 40 < plain.size(); at += 5000) {
      ASSERT_EQ(disk.find(plain.substr(at, 40)), std::string::npos) << "plaintext at " << at;
    }
  }
  const std::string manifest_disk = ReadFileOrEmpty(StoredPath(id, "manifest.json"));
  EXPECT_EQ(manifest_disk.compare(0, 8, kEnvelopeMagic), 0);
  EXPECT_EQ(manifest_disk.find("sha256"), std::string::npos);
  // The manifest's sha256 values are those of the plaintext.
  for (size_t i = 0; i < downloaded.raw.size(); ++i) {
    EXPECT_EQ(downloaded.manifest["files"][i].value("sha256", ""), Sha256Hex(downloaded.raw[i]));
  }

  // Range: across the first chunk boundary (64 KiB) when the file is that large, and a suffix.
  const std::string url = task["files"][0].value("url", "");
  const std::string& plain = downloaded.raw[0];
  ASSERT_GT(plain.size(), 1000u);
  const size_t first = plain.size() > 70000 ? 65500 : plain.size() / 2;
  HttpResponse ranged = api_->GetUrl(
      url, {{"Range", "bytes=" + std::to_string(first) + "-" + std::to_string(first + 99)}});
  EXPECT_EQ(ranged.status, 206) << ranged.Describe();
  EXPECT_EQ(ranged.body, plain.substr(first, 100));
  EXPECT_EQ(ranged.Header("Content-Range"), "bytes " + std::to_string(first) + "-" +
                                                std::to_string(first + 99) + "/" +
                                                std::to_string(plain.size()));
  HttpResponse suffix = api_->GetUrl(url, {{"Range", "bytes=-77"}});
  EXPECT_EQ(suffix.status, 206) << suffix.Describe();
  EXPECT_EQ(suffix.body, plain.substr(plain.size() - 77));

  CommandResult verified = Verify(id);
  EXPECT_EQ(verified.exit_code, 0) << verified.out << verified.err;
}

TEST_F(EncryptionTest, GzipIsCompressedThenEncrypted) {
  ASSERT_TRUE(StartWithItems(1000));
  Json task = Export({{"dataset", "items"}, {"format", "ndjson"}, {"compression", "gzip"}});
  ASSERT_FALSE(task.is_null());
  ExpectExportMatches(*api_, task, ExpectedItems());
  DownloadedExport downloaded = DownloadExport(*api_, task);
  ASSERT_FALSE(downloaded.raw.empty());
  const std::string disk = ReadFileOrEmpty(StoredPath(task.value("id", ""), downloaded.names[0]));
  EXPECT_EQ(disk.compare(0, 8, kEnvelopeMagic), 0);
  EXPECT_EQ(disk.find(downloaded.raw[0].substr(0, 20)), std::string::npos) << "gzip on disk";
  CommandResult verified = Verify(task.value("id", ""));
  EXPECT_EQ(verified.exit_code, 0) << verified.out << verified.err;
}

TEST_F(EncryptionTest, TamperedFilesFailLoudly) {
  ASSERT_TRUE(StartWithItems(3000));
  Json task = Export({{"dataset", "items"}, {"max_rows_per_file", 200}});
  Json big = Export({{"dataset", "items"}});
  ASSERT_FALSE(task.is_null() || big.is_null());
  const std::string id = task.value("id", "");
  const std::string url = task["files"][1].value("url", "");
  ASSERT_EQ(api_->GetUrl(url).status, 200);

  // One byte of a small (one-chunk) file: refused before any byte is served.
  const std::string path = StoredPath(id, "part-00002.csv");
  std::string bytes = ReadFileOrEmpty(path);
  ASSERT_GT(bytes.size(), 1000u);
  bytes[bytes.size() / 2] = static_cast<char>(bytes[bytes.size() / 2] ^ 0x04);
  WriteFile(path, bytes);
  HttpResponse tampered = api_->GetUrl(url);
  EXPECT_EQ(tampered.status, 500) << tampered.Describe();
  EXPECT_TRUE(IsProblem(tampered));
  EXPECT_EQ(tampered.body.find("\r\n"), std::string::npos) << "CSV bytes were served";
  EXPECT_NE(tampered.json.value("detail", "").find("integrity check"), std::string::npos)
      << tampered.Describe();
  HttpResponse tampered_range = api_->GetUrl(url, {{"Range", "bytes=0-10"}});
  EXPECT_EQ(tampered_range.status, 500) << tampered_range.Describe();
  EXPECT_NE(server_->stderr_log().find("failed authentication"), std::string::npos)
      << server_->LogTail();

  CommandResult verified = Verify(id);
  EXPECT_EQ(verified.exit_code, 1) << verified.out << verified.err;
  EXPECT_NE(verified.out.find("part-00002.csv"), std::string::npos) << verified.out;
  EXPECT_NE(verified.out.find("failed authentication"), std::string::npos) << verified.out;
  EXPECT_NE(verified.out.find("MISMATCH"), std::string::npos) << verified.out;

  // A byte of a later chunk of a large file: a read starting in that chunk is refused, and a
  // whole download never completes as a 200 with the file's length.
  const std::string big_id = big.value("id", "");
  const std::string big_url = big["files"][0].value("url", "");
  const int64_t big_size = big["files"][0].value("bytes", int64_t{0});
  ASSERT_GT(big_size, 3 * 65536) << "the large file must span several chunks";
  const std::string big_path = StoredPath(big_id, big["files"][0].value("name", ""));
  std::string big_bytes = ReadFileOrEmpty(big_path);
  const size_t in_chunk_3 = 200 + 2 * (65536 + 16) + 100;
  big_bytes[in_chunk_3] = static_cast<char>(big_bytes[in_chunk_3] ^ 0x01);
  WriteFile(big_path, big_bytes);
  HttpResponse whole = api_->GetUrl(big_url);
  EXPECT_FALSE(whole.status == 200 && static_cast<int64_t>(whole.body.size()) == big_size)
      << "a tampered file was served whole: " << whole.status;
  HttpResponse from_chunk_3 = api_->GetUrl(big_url, {{"Range", "bytes=131072-131200"}});
  EXPECT_EQ(from_chunk_3.status, 500) << from_chunk_3.Describe();
  HttpResponse chunk_1 = api_->GetUrl(big_url, {{"Range", "bytes=0-99"}});
  EXPECT_EQ(chunk_1.status, 206) << "intact chunks stay readable: " << chunk_1.Describe();
  CommandResult big_verified = Verify(big_id);
  EXPECT_EQ(big_verified.exit_code, 1) << big_verified.out << big_verified.err;
}

TEST_F(EncryptionTest, KeyRotationKeepsOldTasksReadable) {
  ASSERT_TRUE(StartWithItems(500));
  Json old_task = Export({{"dataset", "items"}});
  ASSERT_FALSE(old_task.is_null());
  const std::string old_id = old_task.value("id", "");
  const std::string old_key_id = StoredKeyId(StoredPath(old_id, "part-00001.csv"));
  ASSERT_EQ(old_key_id.rfind("auto-", 0), 0u) << old_key_id;
  ASSERT_EQ(server_->Stop(), 0);

  // Rotation: the generated key moves to a key file outside the data dir with a new key after
  // it (the last listed is active).
  const std::string generated = ReadFileOrEmpty(server_->data_dir() + "/master_keys");
  const std::string keys = KeyFile("keys", generated + kRotatedKey + "\n",
                                   fs::perms::owner_read | fs::perms::owner_write);
  std::string error;
  ASSERT_TRUE(RestartWith(
      [&](Json& c) {
        c["encryption"] = {{"key_file", keys}};
      },
      &error))
      << error;
  EXPECT_NE(server_->stderr_log().find("new files use master key 'rotated-2', 2 key(s)"),
            std::string::npos)
      << server_->LogTail();
  ExpectExportMatches(*api_, GetTask(*api_, old_id), ExpectedItems());
  Json new_task = Export({{"dataset", "items"}});
  ASSERT_FALSE(new_task.is_null());
  const std::string new_id = new_task.value("id", "");
  EXPECT_EQ(StoredKeyId(StoredPath(new_id, "part-00001.csv")), "rotated-2");
  EXPECT_EQ(StoredKeyId(StoredPath(new_id, "manifest.json")), "rotated-2");
  EXPECT_EQ(StoredKeyId(StoredPath(old_id, "part-00001.csv")), old_key_id) << "not rewritten";
  ExpectExportMatches(*api_, new_task, ExpectedItems());
  EXPECT_EQ(Verify(old_id).exit_code, 0);
  EXPECT_EQ(Verify(new_id).exit_code, 0);
  ASSERT_EQ(server_->Stop(), 0);

  // The old key removed too early: its files fail with a message naming the missing key.
  KeyFile("keys", std::string(kRotatedKey) + "\n", fs::perms::owner_read | fs::perms::owner_write);
  ASSERT_TRUE(Restart());
  HttpResponse old_file = api_->GetUrl(old_task["files"][0].value("url", ""));
  EXPECT_EQ(old_file.status, 500) << old_file.Describe();
  EXPECT_NE(server_->stderr_log().find("needs master key '" + old_key_id + "'"), std::string::npos)
      << server_->LogTail();
  EXPECT_EQ(api_->GetUrl(new_task["files"][0].value("url", "")).status, 200);
  CommandResult old_verified = Verify(old_id);
  EXPECT_EQ(old_verified.exit_code, 1) << old_verified.out << old_verified.err;
  EXPECT_NE(old_verified.out.find("needs master key"), std::string::npos) << old_verified.out;
}

TEST_F(EncryptionTest, KeysFromTheEnvironmentAndAnActiveKeyId) {
  const std::string other = "older:" + std::string("QUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUE=");
  ASSERT_TRUE(StartWithItems(
      100, Json::object(),
      {{"EXPORTD_MASTER_KEY", other + "," + kRotatedKey}, {"EXPORTD_MASTER_KEY_ID", "older"}}));
  EXPECT_FALSE(fs::exists(server_->data_dir() + "/master_keys"))
      << "no key file is made when the keys come from the environment";
  Json task = Export({{"dataset", "items"}});
  ASSERT_FALSE(task.is_null());
  EXPECT_EQ(StoredKeyId(StoredPath(task.value("id", ""), "part-00001.csv")), "older");
  ExpectExportMatches(*api_, task, ExpectedItems());
  EXPECT_EQ(server_->stderr_log().find("MDEyMzQ1Njc4OWFiY2RlZj"), std::string::npos)
      << "key material in the log";
}

TEST_F(EncryptionTest, BadKeyConfigurationsStopStartUpWithAClearMessage) {
  ASSERT_TRUE(StartWithItems(10));
  ASSERT_EQ(server_->Stop(), 0);
  const auto owner_only = fs::perms::owner_read | fs::perms::owner_write;
  struct Case {
    std::string text;
    fs::perms perms;
    std::string active;
    std::string expected;
  };
  for (const Case& c : {
           Case{std::string(kRotatedKey) + "\n", owner_only | fs::perms::others_read, "",
                "chmod 600"},
           Case{"k:QUFBQQ==\n", owner_only, "", "is 4 bytes; AES-256 needs 32"},
           Case{"k:%%%\n", owner_only, "", "not valid base64"},
           Case{std::string(kRotatedKey) + "\n", owner_only, "nope",
                "active master key id 'nope' is not in"},
       }) {
    const std::string keys = KeyFile("bad_keys", c.text, c.perms);
    std::string error;
    const bool started = RestartWith(
        [&](Json& config) {
          config["encryption"] = {{"key_file", keys}};
          if (!c.active.empty()) config["encryption"]["active_key_id"] = c.active;
        },
        &error);
    EXPECT_FALSE(started) << c.expected;
    if (started) {
      server_->Stop();
      continue;
    }
    EXPECT_NE(server_->stderr_log().find(c.expected), std::string::npos) << c.expected << "\n"
                                                                         << server_->LogTail();
    EXPECT_EQ(server_->stderr_log().find("MDEyMzQ1Njc4OWFiY2RlZj"), std::string::npos)
        << "key material in the log";
  }
}

TEST_F(EncryptionTest, OptOutStoresPlaintext) {
  ASSERT_TRUE(StartWithItems(300, {{"encryption", {{"enabled", false}}}}));
  EXPECT_FALSE(fs::exists(server_->data_dir() + "/master_keys"));
  Json task = Export({{"dataset", "items"}});
  ASSERT_FALSE(task.is_null());
  DownloadedExport downloaded = DownloadExport(*api_, task);
  ASSERT_FALSE(downloaded.raw.empty());
  EXPECT_EQ(ReadFileOrEmpty(StoredPath(task.value("id", ""), downloaded.names[0])),
            downloaded.raw[0]);
  ExpectExportMatches(*api_, task, ExpectedItems());
}

}  // namespace
}  // namespace exportd::itest
