#include "server/verifier_tools.h"

#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

#include "storage/base/digest.h"
#include "storage/base/gzip_decoder.h"

namespace exportd {
namespace {

class Sha256Digest final : public StreamDigest {
 public:
  void Update(std::string_view data) override { sha_.Update(data); }
  std::string FinishHex() override { return sha_.FinishHex(); }

 private:
  Sha256 sha_;
};

class ZlibInflater final : public Inflater {
 public:
  explicit ZlibInflater(std::unique_ptr<GzipDecoder> decoder) : decoder_(std::move(decoder)) {}
  bool NeedsInput() const override { return decoder_->NeedsInput(); }
  void SetInput(std::string_view compressed) override { decoder_->SetInput(compressed); }
  Result<size_t> Inflate(char* out, size_t size) override { return decoder_->Inflate(out, size); }
  bool finished() const override { return decoder_->finished(); }

 private:
  const std::unique_ptr<GzipDecoder> decoder_;
};

std::string JsonString(const nlohmann::json& doc, const char* key) {
  const auto it = doc.find(key);
  return it != doc.end() && it->is_string() ? it->get<std::string>() : std::string();
}

int64_t JsonInt(const nlohmann::json& doc, const char* key) {
  const auto it = doc.find(key);
  return it != doc.end() && it->is_number_integer() ? it->get<int64_t>() : -1;
}

class JsonManifestParser final : public ManifestParser {
 public:
  std::optional<ManifestDocument> Parse(std::string_view text) const override {
    const nlohmann::json doc = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
    if (doc.is_discarded() || !doc.is_object()) return std::nullopt;
    ManifestDocument manifest;
    manifest.task_id = JsonString(doc, "task_id");
    manifest.query_hash = JsonString(doc, "query_hash");
    if (const auto request = doc.find("request"); request != doc.end()) {
      manifest.request = request->dump();
    }
    manifest.rows = JsonInt(doc, "rows");
    const auto files = doc.find("files");
    manifest.has_files = files != doc.end() && files->is_array();
    if (!manifest.has_files) return manifest;
    for (const nlohmann::json& entry : *files) {
      if (!entry.is_object()) {
        manifest.files.emplace_back();
        continue;
      }
      manifest.files.push_back(FileInfo{.name = JsonString(entry, "name"),
                                        .rows = JsonInt(entry, "rows"),
                                        .bytes = JsonInt(entry, "bytes"),
                                        .sha256 = JsonString(entry, "sha256"),
                                        .content_type = JsonString(entry, "content_type")});
    }
    return manifest;
  }

  bool SameJson(std::string_view a, std::string_view b) const override {
    const nlohmann::json x = nlohmann::json::parse(a, nullptr, /*allow_exceptions=*/false);
    const nlohmann::json y = nlohmann::json::parse(b, nullptr, /*allow_exceptions=*/false);
    return !x.is_discarded() && !y.is_discarded() && x == y;
  }
};

}  // namespace

const VerifierTools& LibraryVerifierTools() {
  static const JsonManifestParser parser;
  static const VerifierTools tools{
      .new_sha256 = [] { return std::unique_ptr<StreamDigest>(std::make_unique<Sha256Digest>()); },
      .new_gunzip = []() -> Result<std::unique_ptr<Inflater>> {
        ASSIGN_OR_RETURN(std::unique_ptr<GzipDecoder> decoder, GzipDecoder::Create());
        return std::unique_ptr<Inflater>(std::make_unique<ZlibInflater>(std::move(decoder)));
      },
      .manifest_parser = &parser};
  return tools;
}

}  // namespace exportd
