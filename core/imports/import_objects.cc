#include "core/imports/import_objects.h"

#include <string>

namespace exportd {
namespace {

constexpr size_t kListPage = 1000;

}  // namespace

bool ImportObjectMatches(std::string_view name, Format format, bool gzip) {
  const size_t slash = name.rfind('/');
  const std::string_view file = slash == std::string_view::npos ? name : name.substr(slash + 1);
  std::string suffix = ".";
  suffix.append(FormatName(format));
  if (gzip) suffix.append(".gz");
  return file.size() > suffix.size() && file.ends_with(suffix);
}

Result<std::vector<ListedObject>> ListImportObjects(ObjectStore& store, std::string_view prefix,
                                                    Format format, bool gzip, size_t limit,
                                                    bool* more) {
  std::vector<ListedObject> out;
  *more = false;
  std::string token;
  do {
    ASSIGN_OR_RETURN(ObjectPage page, store.List(prefix, token, kListPage));
    for (ListedObject& o : page.objects) {
      if (!ImportObjectMatches(o.name, format, gzip)) continue;
      if (out.size() == limit) {
        *more = true;
        return out;
      }
      out.push_back(std::move(o));
    }
    token = std::move(page.next_page_token);
  } while (!token.empty());
  return out;
}

}  // namespace exportd
