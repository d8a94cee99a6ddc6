// LinkExpiry (api/task_json.h): how long the file links of a rendered task live.
#include "api/task_json.h"

#include <gtest/gtest.h>

namespace exportd::api {
namespace {

using std::chrono::hours;
using std::chrono::seconds;

const TimePoint kNow = TimePoint{} + std::chrono::milliseconds(1'700'000'000'250);

Task Finished(std::chrono::seconds files_live) {
  Task t;
  t.files_expire_at = kNow + files_live;
  return t;
}

TEST(LinkExpiryTest, ApiLinksLiveTheTtlButNotPastTheFiles) {
  TaskViewContext ctx{nullptr, kNow, hours(24)};
  EXPECT_EQ(LinkExpiry(Finished(hours(24 * 7)), ctx),
            std::chrono::floor<seconds>(kNow + hours(24)));
  EXPECT_EQ(LinkExpiry(Finished(hours(2)), ctx), std::chrono::floor<seconds>(kNow + hours(2)));
}

// Links sent in a notification are read later: they live as long as the files.
TEST(LinkExpiryTest, NotificationLinksLiveUntilTheFilesExpire) {
  TaskViewContext ctx{nullptr, kNow, hours(24)};
  ctx.links_until_files_expire = true;
  EXPECT_EQ(LinkExpiry(Finished(hours(24 * 7)), ctx),
            std::chrono::floor<seconds>(kNow + hours(24 * 7)));
  EXPECT_EQ(LinkExpiry(Finished(hours(2)), ctx), std::chrono::floor<seconds>(kNow + hours(2)));
}

// S3 pre-signed URLs live at most 7 days: a link is never shown as valid for longer.
TEST(LinkExpiryTest, TheStoresLimitCutsLinksShort) {
  TaskViewContext ctx{nullptr, kNow, hours(24)};
  ctx.links_until_files_expire = true;
  ctx.max_link_ttl = hours(24 * 7);
  EXPECT_EQ(LinkExpiry(Finished(hours(24 * 30)), ctx),
            std::chrono::floor<seconds>(kNow + hours(24 * 7)));
  EXPECT_EQ(LinkExpiry(Finished(hours(24 * 3)), ctx),
            std::chrono::floor<seconds>(kNow + hours(24 * 3)));
}

}  // namespace
}  // namespace exportd::api
