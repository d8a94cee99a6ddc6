// S3's XML (storage/s3/s3_xml.h). Every parser takes the raw input and must answer without
// crashing; then the input, cut at '\n' into object keys, must come back unchanged from
// the DeleteObjects body exportd writes and from a listing that names them.
// Keys lose their C0 controls first: XML 1.0 cannot carry most of them and normalises CR,
// which is why S3 itself offers encoding-type=url for such keys (exportd's keys are ASCII).
#include <cstddef>
#include <cstdint>
#include <pugixml.hpp>
#include <sstream>
#include <string>
#include <vector>

#include "storage/s3/s3_xml.h"
#include "tests/fuzz/fuzz_fail.h"

namespace {

using exportd::fuzz::Fail;

std::vector<std::string> Keys(const std::string& input) {
  std::vector<std::string> keys(1);
  for (char c : input) {
    if (c == '\n') {
      keys.emplace_back();
    } else if (static_cast<unsigned char>(c) >= 0x20) {
      keys.back().push_back(c);
    }
  }
  return keys;
}

std::string Listing(const std::vector<std::string>& keys) {
  pugi::xml_document doc;
  pugi::xml_node root = doc.append_child("ListBucketResult");
  root.append_child("IsTruncated").text().set("false");
  for (const std::string& key : keys) {
    root.append_child("Contents").append_child("Key").text().set(key.c_str());
  }
  std::ostringstream out;
  doc.save(out);
  return out.str();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string input(reinterpret_cast<const char*>(data), size);
  (void)exportd::ParseS3Error(input);
  (void)exportd::ParseUploadId(input);
  (void)exportd::ParseListObjectsV2(input);
  (void)exportd::ParseDeleteResult(input);

  const std::vector<std::string> keys = Keys(input);
  const std::string body = exportd::DeleteObjectsXml(keys);
  pugi::xml_document doc;
  // As S3 reads it: the text of an element is kept even when it is only whitespace.
  if (!doc.load_buffer(body.data(), body.size(),
                       pugi::parse_default | pugi::parse_ws_pcdata_single)) {
    Fail("DeleteObjects body parses", body);
  }
  std::vector<std::string> back;
  for (const pugi::xml_node object : doc.child("Delete").children("Object")) {
    back.emplace_back(object.child("Key").text().as_string());
  }
  if (back != keys) Fail("DeleteObjects body carries the keys unchanged", body);

  exportd::Result<exportd::S3ListPage> page = exportd::ParseListObjectsV2(Listing(keys));
  if (!page.ok()) Fail("a listing parses", page.status().message());
  if (page->keys != keys) Fail("a listing gives back its keys unchanged", Listing(keys));
  return 0;
}
