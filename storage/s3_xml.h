// The little XML that S3 speaks, read and written by hand: S3's responses are flat and
// machine-generated, so element text by tag name is all exportd needs (no DTDs, no namespaces
// prefixes, no CDATA in these answers).
#ifndef EXPORTD_STORAGE_S3_XML_H_
#define EXPORTD_STORAGE_S3_XML_H_

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace exportd {

// The unescaped text of every <tag>...</tag> in `xml`, in order (<tag/> gives "").
std::vector<std::string> XmlElements(std::string_view xml, std::string_view tag);
// The first one, if any.
std::optional<std::string> XmlElement(std::string_view xml, std::string_view tag);
// &amp; &lt; &gt; &quot; &apos; and numeric references decoded (UTF-8).
std::string XmlUnescape(std::string_view text);
std::string XmlEscape(std::string_view text);

// S3's error document: <Error><Code>NoSuchKey</Code><Message>...</Message>...</Error>.
struct S3ErrorBody {
  std::string code;     // empty when the body is not an S3 error document
  std::string message;
};
S3ErrorBody ParseS3Error(std::string_view body);

}  // namespace exportd

#endif  // EXPORTD_STORAGE_S3_XML_H_
