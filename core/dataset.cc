#include "core/dataset.h"

namespace exportd {

std::string_view FieldTypeName(FieldType t) {
  switch (t) {
    case FieldType::kInteger:
      return "integer";
    case FieldType::kReal:
      return "real";
    case FieldType::kText:
      return "text";
    case FieldType::kTimestamp:
      return "timestamp";
    case FieldType::kBoolean:
      return "boolean";
    case FieldType::kAny:
      return "any";
  }
  return "any";
}

Dataset::Dataset(DatasetSpec spec, std::vector<Field> fields)
    : spec_(std::move(spec)), fields_(std::move(fields)) {
  for (size_t i = 0; i < fields_.size(); ++i) index_.emplace(fields_[i].name, i);
}

const Field* Dataset::FindField(std::string_view name) const {
  auto it = index_.find(name);
  return it == index_.end() ? nullptr : &fields_[it->second];
}

Status DatasetCatalog::Add(Entry entry) {
  std::string name = entry.dataset->name();
  if (!entries_.emplace(name, std::move(entry)).second) {
    return Status(StatusCode::kAlreadyExists, "dataset '" + name + "' is declared twice");
  }
  return Status::Ok();
}

const DatasetCatalog::Entry* DatasetCatalog::Find(std::string_view name) const {
  auto it = entries_.find(name);
  return it == entries_.end() ? nullptr : &it->second;
}

std::vector<const DatasetCatalog::Entry*> DatasetCatalog::List() const {
  std::vector<const Entry*> out;
  for (const auto& [name, entry] : entries_) out.push_back(&entry);
  return out;
}

}  // namespace exportd
