#include "xep/caps.hpp"

#include <openssl/sha.h>

#include <algorithm>
#include <vector>

#include "auth/scram.hpp"
#include "xep/data_form.hpp"

namespace parley::xep::caps {

namespace {

constexpr std::string_view kInfoNs = "http://jabber.org/protocol/disco#info";

bool hasDuplicates(std::vector<std::string> items) {
  std::sort(items.begin(), items.end());
  return std::adjacent_find(items.begin(), items.end()) != items.end();
}

}  // namespace

std::optional<Announcement> announcementOf(const xml::Element& presence) {
  const xml::Element* c = presence.child("c", kCapsNs);
  if (!c) return std::nullopt;
  Announcement a{std::string(c->attrOr("node")), std::string(c->attrOr("ver")),
                 std::string(c->attrOr("hash"))};
  if (a.ver.empty() || a.hash.empty()) return std::nullopt;
  return a;
}

std::optional<std::string> verificationString(const xml::Element& query) {
  // §5.1: identities "category/type/lang/name<" sorted, features "var<" sorted, then each
  // extended form by FORM_TYPE: "FORM_TYPE<", then its fields sorted by var, "var<value<…".
  std::vector<std::string> identities;
  std::vector<std::string> features;
  std::vector<std::pair<std::string, std::string>> forms;  // FORM_TYPE, rest of the string
  for (const xml::Element* id : query.childrenNamed("identity", kInfoNs)) {
    identities.push_back(std::string(id->attrOr("category")) + "/" +
                         std::string(id->attrOr("type")) + "/" + std::string(id->lang()) + "/" +
                         std::string(id->attrOr("name")));
  }
  for (const xml::Element* f : query.childrenNamed("feature", kInfoNs)) {
    features.push_back(std::string(f->attrOr("var")));
  }
  // §5.4: duplicate identities or features make the answer unusable.
  if (hasDuplicates(identities) || hasDuplicates(features)) return std::nullopt;
  std::vector<std::string> form_types;
  for (const xml::Element* x : query.childrenNamed("x", kDataFormsNs)) {
    std::string form_type;
    bool has_form_type = false;
    std::vector<std::pair<std::string, std::vector<std::string>>> fields;
    for (const xml::Element* field : x->childrenNamed("field", kDataFormsNs)) {
      std::vector<std::string> values;
      for (const xml::Element* v : field->childrenNamed("value", kDataFormsNs))
        values.push_back(v->text());
      std::string var(field->attrOr("var"));
      if (var == "FORM_TYPE") {
        // §5.4: a FORM_TYPE with more than one value, or not hidden, makes the answer unusable.
        if (has_form_type || values.size() != 1 || field->attrOr("type") != "hidden")
          return std::nullopt;
        form_type = values.front();
        has_form_type = true;
        continue;
      }
      std::sort(values.begin(), values.end());
      fields.emplace_back(std::move(var), std::move(values));
    }
    if (!has_form_type) continue;  // forms without FORM_TYPE are ignored
    std::sort(fields.begin(), fields.end());
    std::string s = form_type + "<";
    for (const auto& [var, values] : fields) {
      s += var + "<";
      for (const auto& v : values) s += v + "<";
    }
    form_types.push_back(form_type);
    forms.emplace_back(form_type, std::move(s));
  }
  if (hasDuplicates(form_types)) return std::nullopt;
  std::sort(identities.begin(), identities.end());
  std::sort(features.begin(), features.end());
  std::sort(forms.begin(), forms.end());
  std::string out;
  for (const auto& i : identities) out += i + "<";
  for (const auto& f : features) out += f + "<";
  for (const auto& [type, s] : forms) out += s;
  return out;
}

std::optional<std::string> sha1Ver(const xml::Element& query) {
  auto s = verificationString(query);
  if (!s) return std::nullopt;
  unsigned char digest[SHA_DIGEST_LENGTH];
  SHA1(reinterpret_cast<const unsigned char*>(s->data()), s->size(), digest);
  return auth::base64Encode(std::string_view(reinterpret_cast<const char*>(digest), sizeof digest));
}

std::set<std::string> featuresOf(const xml::Element& query) {
  std::set<std::string> out;
  for (const xml::Element* f : query.childrenNamed("feature", kInfoNs))
    out.insert(std::string(f->attrOr("var")));
  return out;
}

Features Cache::find(const std::string& ver) const {
  std::lock_guard lock(mutex_);
  auto it = entries_.find(ver);
  return it == entries_.end() ? nullptr : it->second;
}

void Cache::insert(const std::string& ver, Features features) {
  std::lock_guard lock(mutex_);
  // A full cache starts over: client versions change slowly, so it refills within minutes.
  if (entries_.size() >= capacity_ && !entries_.count(ver)) entries_.clear();
  entries_[ver] = std::move(features);
}

}  // namespace parley::xep::caps
