// The dashboard compiled into the binary: every file the page loads is embedded (scripts named
// by index.html and by each module's imports), with the right Content-Type and an ETag of its
// own, and the whole stays within its size budget.
#include <gtest/gtest.h>

#include <regex>
#include <set>
#include <string>

#include "api/static_files.h"

namespace exportd::api {
namespace {

constexpr size_t kBudgetBytes = 150 * 1024;

TEST(DashboardFilesTest, IndexIsEmbeddedAndEveryFileItNamesToo) {
  const StaticFile* index = FindDashboardFile("index.html");
  ASSERT_NE(index, nullptr);
  EXPECT_EQ(index->content_type, "text/html; charset=utf-8");
  const std::string html(index->body);
  const std::regex ref(R"re((?:src|href)="/(ui/[^"]+)")re");
  int refs = 0;
  for (std::sregex_iterator it(html.begin(), html.end(), ref), end; it != end; ++it) {
    ++refs;
    EXPECT_NE(FindDashboardFile((*it)[1].str()), nullptr) << (*it)[1].str();
  }
  EXPECT_GE(refs, 3);  // the icon, the style sheet, the entry module
}

TEST(DashboardFilesTest, EveryModuleImportResolvesToAnEmbeddedModule) {
  const std::regex import(R"re(from '\./([A-Za-z0-9_.-]+\.js)')re");
  int modules = 0;
  for (const StaticFile& f : DashboardFiles()) {
    if (!f.path.ends_with(".js")) continue;
    ++modules;
    EXPECT_EQ(f.content_type, "text/javascript; charset=utf-8") << f.path;
    const std::string body(f.body);
    for (std::sregex_iterator it(body.begin(), body.end(), import), end; it != end; ++it) {
      EXPECT_NE(FindDashboardFile("ui/" + (*it)[1].str()), nullptr)
          << f.path << " imports " << (*it)[1].str();
    }
  }
  EXPECT_GE(modules, 2);
}

TEST(DashboardFilesTest, SortedWithDistinctStrongEtagsAndWithinBudget) {
  size_t total = 0;
  std::set<std::string_view> etags;
  std::string_view previous;
  for (const StaticFile& f : DashboardFiles()) {
    EXPECT_LT(previous, f.path);  // FindDashboardFile searches by halves
    previous = f.path;
    EXPECT_TRUE(std::regex_match(std::string(f.etag), std::regex(R"("[0-9a-f]{16}")"))) << f.etag;
    EXPECT_TRUE(etags.insert(f.etag).second) << f.path;
    EXPECT_FALSE(f.body.empty()) << f.path;
    total += f.body.size();
  }
  EXPECT_LT(total, kBudgetBytes);
}

TEST(DashboardFilesTest, FindsOnlyWhatIsThere) {
  EXPECT_NE(FindDashboardFile("ui/app.js"), nullptr);
  EXPECT_EQ(FindDashboardFile("ui/app"), nullptr);
  EXPECT_EQ(FindDashboardFile("ui/zzz.js"), nullptr);
  EXPECT_EQ(FindDashboardFile(""), nullptr);
  EXPECT_EQ(FindDashboardFile("../CMakeLists.txt"), nullptr);
}

}  // namespace
}  // namespace exportd::api
