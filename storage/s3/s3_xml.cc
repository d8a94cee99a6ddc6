#include "storage/s3/s3_xml.h"

#include <pugixml.hpp>
#include <sstream>

namespace exportd {
namespace {

// S3's answers carry no DTD; entity and character references are all they escape. An element
// whose whole text is whitespace keeps it (parse_ws_pcdata_single): pugixml drops such text by
// default, which read the key " " as "".
constexpr unsigned kParseOptions =
    (pugi::parse_default & ~pugi::parse_wnorm_attribute) | pugi::parse_ws_pcdata_single;

// The one translation of pugixml's parse errors.
Status ParseXml(std::string_view body, pugi::xml_document& doc, std::string_view what) {
  const pugi::xml_parse_result result =
      doc.load_buffer(body.data(), body.size(), kParseOptions, pugi::encoding_utf8);
  if (!result) {
    return Internal(std::string(what) + ": unreadable XML at byte " +
                    std::to_string(result.offset) + ": " + result.description());
  }
  return Status::Ok();
}

std::string Text(const pugi::xml_node& node) { return node.text().as_string(); }

std::string Print(const pugi::xml_document& doc) {
  std::ostringstream out;
  doc.save(out, "", pugi::format_raw | pugi::format_no_declaration, pugi::encoding_utf8);
  return out.str();
}

}  // namespace

S3ErrorBody ParseS3Error(std::string_view body) {
  S3ErrorBody out;
  pugi::xml_document doc;
  if (!ParseXml(body, doc, "error").ok()) return out;
  const pugi::xml_node error = doc.child("Error");
  if (!error) return out;
  out.code = Text(error.child("Code"));
  out.message = Text(error.child("Message"));
  return out;
}

Result<std::string> ParseUploadId(std::string_view body) {
  pugi::xml_document doc;
  RETURN_IF_ERROR(ParseXml(body, doc, "CreateMultipartUpload"));
  std::string id = Text(doc.child("InitiateMultipartUploadResult").child("UploadId"));
  if (id.empty()) return Internal("CreateMultipartUpload: no UploadId in the answer");
  return id;
}

Result<S3ListPage> ParseListObjectsV2(std::string_view body) {
  pugi::xml_document doc;
  RETURN_IF_ERROR(ParseXml(body, doc, "ListObjectsV2"));
  const pugi::xml_node result = doc.child("ListBucketResult");
  if (!result) return Internal("ListObjectsV2: no ListBucketResult in the answer");
  S3ListPage page;
  for (const pugi::xml_node contents : result.children("Contents")) {
    const pugi::xml_node key = contents.child("Key");
    if (!key) continue;
    page.keys.push_back(Text(key));
    page.sizes.push_back(contents.child("Size").text().as_llong(0));
  }
  if (Text(result.child("IsTruncated")) == "true") {
    page.next_continuation_token = Text(result.child("NextContinuationToken"));
    if (page.next_continuation_token.empty()) {
      return Internal("ListObjectsV2: truncated listing without NextContinuationToken");
    }
  }
  return page;
}

Result<std::vector<S3DeleteError>> ParseDeleteResult(std::string_view body) {
  pugi::xml_document doc;
  RETURN_IF_ERROR(ParseXml(body, doc, "DeleteObjects"));
  const pugi::xml_node result = doc.child("DeleteResult");
  if (!result) return Internal("DeleteObjects: no DeleteResult in the answer");
  std::vector<S3DeleteError> errors;
  for (const pugi::xml_node error : result.children("Error")) {
    errors.push_back(
        {Text(error.child("Key")), Text(error.child("Code")), Text(error.child("Message"))});
  }
  return errors;
}

std::string CompleteMultipartUploadXml(const std::vector<std::string>& etags) {
  pugi::xml_document doc;
  pugi::xml_node root = doc.append_child("CompleteMultipartUpload");
  for (size_t i = 0; i < etags.size(); ++i) {
    pugi::xml_node part = root.append_child("Part");
    part.append_child("PartNumber").text().set(std::to_string(i + 1).c_str());
    part.append_child("ETag").text().set(etags[i].c_str());
  }
  return Print(doc);
}

std::string DeleteObjectsXml(const std::vector<std::string>& keys) {
  pugi::xml_document doc;
  pugi::xml_node root = doc.append_child("Delete");
  root.append_child("Quiet").text().set("true");
  for (const std::string& key : keys) {
    root.append_child("Object").append_child("Key").text().set(key.c_str());
  }
  return Print(doc);
}

}  // namespace exportd
