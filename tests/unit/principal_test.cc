// Principal namespaces (core/principal.h) and migration 008, which moves the tasks of a store
// made before them into their owners' namespaces (storage/sqlite/principal_migration.h finishes the
// tokens' part once the issuer is known).
#include "core/principal.h"

#include <gtest/gtest.h>
#include <sqlite3.h>

#include <span>

#include "storage/sqlite/migrations.h"
#include "storage/sqlite/principal_migration.h"
#include "storage/sqlite/sqlite_db.h"
#include "storage/sqlite/sqlite_task_store.h"
#include "storage/sqlite/task_codec.h"
#include "tests/fakes/temp_dir.h"

namespace exportd {
namespace {

TEST(PrincipalTest, KeysAndTokensHaveSeparateNamespaces) {
  EXPECT_EQ(KeyPrincipal("key_0a1b"), "key:key_0a1b");
  EXPECT_EQ(TokenPrincipal("https://idp.example.org/", "alice"),
            "jwt:https://idp.example.org/#alice");
  // A token whose sub is a key id, or even a key's principal, is still not that key.
  EXPECT_NE(TokenPrincipal("https://idp/", "key_0a1b"), KeyPrincipal("key_0a1b"));
  EXPECT_NE(TokenPrincipal("https://idp/", "key:key_0a1b"), KeyPrincipal("key_0a1b"));
}

TEST(PrincipalTest, ReservedAndMalformedSubjectsAreRefused) {
  for (std::string_view sub : {"link", "exportd", "EXPORTD", "Link", "system", ""}) {
    Status s = CheckTokenSubject(sub);
    EXPECT_EQ(s.code(), StatusCode::kUnauthenticated) << sub;
  }
  EXPECT_FALSE(CheckTokenSubject(std::string("al\nice")).ok());
  EXPECT_FALSE(CheckTokenSubject(std::string(256, 'a')).ok());
  EXPECT_TRUE(CheckTokenSubject("alice").ok());
  EXPECT_TRUE(CheckTokenSubject("key_0a1b").ok());  // harmless once namespaced
  EXPECT_TRUE(CheckTokenSubject("linked").ok());
}

const TimePoint kT0 = TimePoint{} + std::chrono::milliseconds(1'700'000'000'000);

// A store as version 7 left it: two keys, and tasks owned by a key, by a revoked key and by a
// token's subject (stored bare, as then).
class PrincipalMigrationTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::span<const Migration> all = EmbeddedMigrations();
    size_t ours = 0;  // the index of 008_principal_namespaces (whatever number it gets)
    while (ours < all.size() && all[ours].name != "principal_namespaces") ++ours;
    ASSERT_LT(ours, all.size());
    Result<Database> db = Database::Open(path_, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE);
    ASSERT_TRUE(db.ok()) << db.status().ToString();
    ASSERT_TRUE(ApplyMigrations(*db, all.first(ours)).ok());
    ASSERT_TRUE(db->Exec("INSERT INTO api_keys (id, name, sha256, admin, created_at, revoked_at)"
                         " VALUES ('key_aaaa', 'a', 'd1', 0, 1, NULL),"
                         "        ('key_bbbb', 'b', 'd2', 0, 1, 5)")
                    .ok());
    int seq = 0;
    for (const auto& [id, principal] : std::vector<std::pair<std::string, std::string>>{
             {"t-key", "key_aaaa"}, {"t-revoked", "key_bbbb"}, {"t-token", "carol"}}) {
      Task t;
      t.id = id;
      t.principal = principal;
      t.request.dataset = "samples";
      t.query_hash = "h";
      t.created_at = t.updated_at = kT0;
      ASSERT_TRUE(db->Exec("INSERT INTO tasks (id, seq, principal, state, dataset, query_hash,"
                           " created_at, updated_at, body) VALUES ('" +
                           id + "', " + std::to_string(++seq) + ", '" + principal +
                           "', 'Pending', 'samples', 'h', 0, 0, json('" + EncodeTask(t) + "'))")
                      .ok());
    }
  }

  std::string Owner(SqliteTaskStore& store, const std::string& id) {
    Result<Task> t = store.Get(id);
    EXPECT_TRUE(t.ok()) << t.status().ToString();
    return t.ok() ? t->principal : "";
  }

  testing_support::TempDir dir_;
  const std::string path_ = dir_.File("old.db");
};

TEST_F(PrincipalMigrationTest, TasksKeepTheirOwnersInTheNewNamespaces) {
  {
    Result<std::unique_ptr<SqliteTaskStore>> store = SqliteTaskStore::Open(path_);
    ASSERT_TRUE(store.ok()) << store.status().ToString();
    EXPECT_EQ(Owner(**store, "t-key"), KeyPrincipal("key_aaaa"));
    EXPECT_EQ(Owner(**store, "t-revoked"), KeyPrincipal("key_bbbb"));
    // The issuer is not known to SQL: unclaimed until exportd starts with OAuth configured.
    EXPECT_EQ(Owner(**store, "t-token"), std::string(kUnclaimedTokenPrefix) + "carol");
    // The indexed column moved with the body: listing by owner finds the task.
    TaskListQuery query;
    query.principal = KeyPrincipal("key_aaaa");
    Result<TaskPage> page = (*store)->List(query);
    ASSERT_TRUE(page.ok());
    ASSERT_EQ(page->items.size(), 1u);
    EXPECT_EQ(page->items[0].id, "t-key");
    query.principal = "key_aaaa";  // the bare id owns nothing any more
    EXPECT_TRUE((*store)->List(query)->items.empty());
  }
  Result<int64_t> claimed = ClaimTokenPrincipals(path_, "https://idp.example.org/");
  ASSERT_TRUE(claimed.ok()) << claimed.status().ToString();
  EXPECT_EQ(*claimed, 1);
  EXPECT_EQ(*ClaimTokenPrincipals(path_, "https://idp.example.org/"), 0);  // done once
  Result<std::unique_ptr<SqliteTaskStore>> store = SqliteTaskStore::Open(path_);
  ASSERT_TRUE(store.ok());
  EXPECT_EQ(Owner(**store, "t-token"), TokenPrincipal("https://idp.example.org/", "carol"));
  EXPECT_EQ(Owner(**store, "t-key"), KeyPrincipal("key_aaaa"));
  TaskListQuery query;
  query.principal = TokenPrincipal("https://idp.example.org/", "carol");
  EXPECT_EQ((*store)->List(query)->items.size(), 1u);
}

}  // namespace
}  // namespace exportd
