#include "storage/sqlite/sqlite_key_store.h"

#include <gtest/gtest.h>
#include <sqlite3.h>
#include <stdlib.h>

#include <chrono>
#include <filesystem>
#include <string>
#include <thread>

#include "storage/base/digest.h"
#include "storage/sqlite/migrations.h"
#include "storage/sqlite/sqlite_db.h"
#include "storage/sqlite/sqlite_task_store.h"

namespace exportd {
namespace {

TimePoint AtMs(int64_t ms) { return TimePoint{} + std::chrono::milliseconds(ms); }

class SqliteKeyStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string tmpl = (std::filesystem::temp_directory_path() / "exportd-keys-XXXXXX").string();
    ASSERT_NE(mkdtemp(tmpl.data()), nullptr);
    dir_ = tmpl;
    path_ = (dir_ / "exportd.db").string();
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  std::unique_ptr<SqliteKeyStore> OpenStore() {
    Result<std::unique_ptr<SqliteKeyStore>> store = SqliteKeyStore::Open(path_);
    EXPECT_TRUE(store.ok()) << store.status().ToString();
    return store.ok() ? std::move(store).value() : nullptr;
  }

  static ApiKey Key(const std::string& id, const std::string& secret, Role role, int64_t at_ms) {
    ApiKey key;
    key.id = id;
    key.name = "label of " + id;
    key.sha256 = Sha256Hex(secret);
    key.role = role;
    key.created_at = AtMs(at_ms);
    return key;
  }

  std::filesystem::path dir_;
  std::string path_;
};

void ExpectSameKey(const ApiKey& a, const ApiKey& b) {
  EXPECT_EQ(a.id, b.id);
  EXPECT_EQ(a.name, b.name);
  EXPECT_EQ(a.sha256, b.sha256);
  EXPECT_EQ(a.role, b.role);
  EXPECT_EQ(a.created_at, b.created_at);
  EXPECT_EQ(a.revoked_at, b.revoked_at);
}

TEST_F(SqliteKeyStoreTest, InsertFindAndDurable) {
  const ApiKey admin = Key("k-admin", "secret-1", Role::kAdmin, 1'000);
  const ApiKey user = Key("k-user", "secret-2", Role::kExporter, 2'000);
  {
    auto store = OpenStore();
    ASSERT_NE(store, nullptr);
    ASSERT_TRUE(store->Insert(admin).ok());
    ASSERT_TRUE(store->Insert(user).ok());
  }
  auto store = OpenStore();  // a fresh connection: the keys are in the file
  ASSERT_NE(store, nullptr);
  Result<std::optional<ApiKey>> found = store->FindActiveByDigest(Sha256Hex("secret-2"));
  ASSERT_TRUE(found.ok()) << found.status().ToString();
  ASSERT_TRUE(found->has_value());
  ExpectSameKey(**found, user);

  found = store->FindActiveByDigest(Sha256Hex("no such secret"));
  ASSERT_TRUE(found.ok());
  EXPECT_FALSE(found->has_value());

  Result<int64_t> count = store->CountActive();
  ASSERT_TRUE(count.ok());
  EXPECT_EQ(*count, 2);
}

TEST_F(SqliteKeyStoreTest, DuplicateIdOrDigestIsAlreadyExists) {
  auto store = OpenStore();
  ASSERT_NE(store, nullptr);
  ASSERT_TRUE(store->Insert(Key("k1", "s1", Role::kExporter, 1)).ok());
  EXPECT_EQ(store->Insert(Key("k1", "s2", Role::kExporter, 2)).code(), StatusCode::kAlreadyExists);
  EXPECT_EQ(store->Insert(Key("k2", "s1", Role::kExporter, 3)).code(), StatusCode::kAlreadyExists);
  Result<std::vector<ApiKey>> keys = store->List();
  ASSERT_TRUE(keys.ok());
  ASSERT_EQ(keys->size(), 1u);
  ExpectSameKey(keys->at(0), Key("k1", "s1", Role::kExporter, 1));
}

TEST_F(SqliteKeyStoreTest, RevokeHidesKeyAndKeepsItListed) {
  auto store = OpenStore();
  ASSERT_NE(store, nullptr);
  ASSERT_TRUE(store->Insert(Key("k1", "s1", Role::kAdmin, 1)).ok());
  ASSERT_TRUE(store->Insert(Key("k2", "s2", Role::kExporter, 2)).ok());

  ASSERT_TRUE(store->Revoke("k1", AtMs(50)).ok());
  // Revoking again is OK and keeps the first time.
  ASSERT_TRUE(store->Revoke("k1", AtMs(99)).ok());
  EXPECT_EQ(store->Revoke("nope", AtMs(50)).code(), StatusCode::kNotFound);

  Result<std::optional<ApiKey>> found = store->FindActiveByDigest(Sha256Hex("s1"));
  ASSERT_TRUE(found.ok());
  EXPECT_FALSE(found->has_value());
  Result<int64_t> count = store->CountActive();
  ASSERT_TRUE(count.ok());
  EXPECT_EQ(*count, 1);

  Result<std::vector<ApiKey>> keys = store->List();
  ASSERT_TRUE(keys.ok());
  ASSERT_EQ(keys->size(), 2u);
  EXPECT_EQ(keys->at(0).id, "k1");
  EXPECT_EQ(keys->at(0).revoked_at, std::optional<TimePoint>(AtMs(50)));
  EXPECT_EQ(keys->at(1).id, "k2");
  EXPECT_EQ(keys->at(1).revoked_at, std::nullopt);

  // A revoked digest cannot be reused: the digest column stays unique.
  EXPECT_EQ(store->Insert(Key("k3", "s1", Role::kExporter, 3)).code(), StatusCode::kAlreadyExists);
}

// The store keeps the keys it found until the file changes (CommittedReadCache). A revocation
// through another connection, as `exportd keys revoke` in another process, is seen by the very
// next lookup.
TEST_F(SqliteKeyStoreTest, ARevocationElsewhereIsSeenByTheNextLookup) {
  std::unique_ptr<SqliteKeyStore> server = OpenStore();
  std::unique_ptr<SqliteKeyStore> cli = OpenStore();
  ASSERT_NE(server, nullptr);
  ASSERT_NE(cli, nullptr);
  ASSERT_TRUE(cli->Insert(Key("k1", "secret-1", Role::kExporter, 1)).ok());
  for (int i = 0; i < 2; ++i) {  // the second from what the first kept
    Result<std::optional<ApiKey>> found = server->FindActiveByDigest(Sha256Hex("secret-1"));
    ASSERT_TRUE(found.ok() && found->has_value()) << i;
  }
  ASSERT_TRUE(cli->Revoke("k1", AtMs(5)).ok());
  Result<std::optional<ApiKey>> after = server->FindActiveByDigest(Sha256Hex("secret-1"));
  ASSERT_TRUE(after.ok()) << after.status().ToString();
  EXPECT_FALSE(after->has_value()) << "a revoked key was still found";
}

// A revocation that exportd did not make (the sqlite3 shell) is not counted; the store reuses
// what it found for a second at most.
TEST_F(SqliteKeyStoreTest, ARevocationByAnotherToolIsSeenWithinASecond) {
  std::unique_ptr<SqliteKeyStore> server = OpenStore();
  ASSERT_NE(server, nullptr);
  ASSERT_TRUE(server->Insert(Key("k1", "secret-1", Role::kExporter, 1)).ok());
  Result<std::optional<ApiKey>> found = server->FindActiveByDigest(Sha256Hex("secret-1"));
  ASSERT_TRUE(found.ok() && found->has_value());
  {
    Result<Database> raw = Database::Open(path_, SQLITE_OPEN_READWRITE);
    ASSERT_TRUE(raw.ok());
    ASSERT_TRUE(raw->Exec("UPDATE api_keys SET revoked_at = 5 WHERE id = 'k1'").ok());
  }
  found = server->FindActiveByDigest(Sha256Hex("secret-1"));
  ASSERT_TRUE(found.ok());
  EXPECT_TRUE(found->has_value()) << "the lookup was not reused";
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(3);
  while (found.ok() && found->has_value() && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    found = server->FindActiveByDigest(Sha256Hex("secret-1"));
  }
  ASSERT_TRUE(found.ok());
  EXPECT_FALSE(found->has_value()) << "still found 3 s after the revocation";
}

// Unknown digests are not kept: a key added elsewhere works at once.
TEST_F(SqliteKeyStoreTest, AKeyAddedElsewhereWorksAtOnce) {
  std::unique_ptr<SqliteKeyStore> server = OpenStore();
  std::unique_ptr<SqliteKeyStore> cli = OpenStore();
  ASSERT_NE(server, nullptr);
  ASSERT_NE(cli, nullptr);
  Result<std::optional<ApiKey>> found = server->FindActiveByDigest(Sha256Hex("secret-2"));
  ASSERT_TRUE(found.ok() && !found->has_value());
  ASSERT_TRUE(cli->Insert(Key("k2", "secret-2", Role::kReader, 1)).ok());
  found = server->FindActiveByDigest(Sha256Hex("secret-2"));
  ASSERT_TRUE(found.ok() && found->has_value());
  EXPECT_EQ((*found)->id, "k2");
}

TEST_F(SqliteKeyStoreTest, SharesTheFileWithTheTaskStore) {
  Result<std::unique_ptr<SqliteTaskStore>> tasks = SqliteTaskStore::Open(path_);
  ASSERT_TRUE(tasks.ok()) << tasks.status().ToString();
  auto keys = OpenStore();
  ASSERT_NE(keys, nullptr);
  ASSERT_TRUE(keys->Insert(Key("k1", "s1", Role::kExporter, 1)).ok());
  EXPECT_TRUE((*tasks)->CheckWritable().ok());
  Result<int64_t> count = keys->CountActive();
  ASSERT_TRUE(count.ok());
  EXPECT_EQ(*count, 1);
}

TEST_F(SqliteKeyStoreTest, EveryRoleRoundTrips) {
  auto store = OpenStore();
  ASSERT_NE(store, nullptr);
  int i = 0;
  for (Role role : {Role::kReader, Role::kExporter, Role::kAdmin}) {
    const std::string id = "k" + std::to_string(++i);
    ASSERT_TRUE(store->Insert(Key(id, "secret-" + id, role, i)).ok());
    Result<std::optional<ApiKey>> found = store->FindActiveByDigest(Sha256Hex("secret-" + id));
    ASSERT_TRUE(found.ok() && found->has_value());
    EXPECT_EQ((*found)->role, role) << RoleName(role);
  }
}

// A database made before roles existed (schema 4): admin keys stay admin, the others become
// exporters, which is what a non-admin key could do then.
TEST_F(SqliteKeyStoreTest, KeysFromBeforeRolesKeepTheirPowers) {
  {
    Result<Database> db = Database::Open(path_, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE);
    ASSERT_TRUE(db.ok());
    ASSERT_TRUE(ApplyMigrations(*db, EmbeddedMigrations().first(4)).ok());
    ASSERT_TRUE(db->Exec("INSERT INTO api_keys (id, name, sha256, admin, created_at) VALUES"
                         " ('old-admin', 'a', '" +
                         Sha256Hex("s-admin") +
                         "', 1, 1),"
                         " ('old-user', 'u', '" +
                         Sha256Hex("s-user") + "', 0, 2)")
                    .ok());
  }
  auto store = OpenStore();
  ASSERT_NE(store, nullptr);
  Result<std::optional<ApiKey>> admin = store->FindActiveByDigest(Sha256Hex("s-admin"));
  Result<std::optional<ApiKey>> user = store->FindActiveByDigest(Sha256Hex("s-user"));
  ASSERT_TRUE(admin.ok() && admin->has_value() && user.ok() && user->has_value());
  EXPECT_EQ((*admin)->role, Role::kAdmin);
  EXPECT_EQ((*user)->role, Role::kExporter);
}

TEST(RoleTest, NamesParseBackAndOrderIncludesLowerRoles) {
  for (Role role : {Role::kReader, Role::kExporter, Role::kAdmin}) {
    EXPECT_EQ(ParseRole(RoleName(role)), role);
  }
  EXPECT_EQ(ParseRole("root"), std::nullopt);
  EXPECT_EQ(ParseRole("Admin"), std::nullopt);
  EXPECT_TRUE(RoleAllows(Role::kAdmin, Role::kReader));
  EXPECT_TRUE(RoleAllows(Role::kExporter, Role::kExporter));
  EXPECT_FALSE(RoleAllows(Role::kReader, Role::kExporter));
  EXPECT_FALSE(RoleAllows(Role::kExporter, Role::kAdmin));
}

}  // namespace
}  // namespace exportd
