#include "xep/mam_query.hpp"

#include <algorithm>
#include <charconv>
#include <set>
#include <vector>

#include "parley/stanza.hpp"
#include "xep/data_form.hpp"
#include "xep/datetime.hpp"

namespace parley::xep::mam {
namespace {

const std::string kMam(kNs);
const std::string kRsm(kRsmNs);

Refusal badRequest(std::string text) { return {"bad-request", std::move(text)}; }

std::string trimmed(std::string_view s) {
  const auto first = s.find_first_not_of(" \t\r\n");
  if (first == std::string_view::npos) return {};
  return std::string(s.substr(first, s.find_last_not_of(" \t\r\n") - first + 1));
}

// Applies one submitted field to the query; a refusal for values it cannot take.
std::optional<Refusal> applyField(Query& q, const std::string& var,
                                  const std::vector<std::string>& values) {
  if (var == "ids") {
    if (values.size() > static_cast<size_t>(kMaxMax))
      return badRequest("Ask for at most " + std::to_string(kMaxMax) + " ids at a time.");
    for (const auto& v : values)
      if (!trimmed(v).empty()) q.archive.ids.push_back(trimmed(v));
    return std::nullopt;
  }
  if (values.size() > 1) return badRequest("The field '" + var + "' takes one value.");
  const std::string value = values.empty() ? std::string() : trimmed(values.front());
  if (var == "FORM_TYPE") {
    if (value != kNs) return badRequest("The form's FORM_TYPE must be " + kMam + ".");
  } else if (var == "with") {
    if (value.empty()) return std::nullopt;
    auto jid = Jid::parse(value);
    if (!jid) return badRequest("'" + value + "' in the 'with' field is not a valid JID.");
    q.archive.with = jid->bareString();
    if (!jid->isBare()) q.archive.with_resource = jid->resource();
  } else if (var == "start" || var == "end") {
    if (value.empty()) return std::nullopt;
    auto t = parseDateTime(value);
    if (!t) {
      return badRequest("'" + value + "' in the '" + var +
                        "' field is not a XEP-0082 date and time such as "
                        "2026-11-29T10:00:00Z.");
    }
    (var == "start" ? q.archive.start_us : q.archive.end_us) = *t;
  } else if (var == "after-id" || var == "before-id") {
    if (!value.empty()) (var == "after-id" ? q.archive.after_id : q.archive.before_id) = value;
  } else {
    return Refusal{"feature-not-implemented", "This archive has no query field '" + var + "'."};
  }
  return std::nullopt;
}

std::optional<Refusal> applyRsm(Query& q, const xml::Element& set) {
  if (set.child("index", kRsmNs)) {
    return Refusal{"feature-not-implemented",
                   "Pages are chosen with <after/> or <before/>, not by <index/>."};
  }
  q.archive.max = kDefaultMax;
  if (const auto* max = set.child("max", kRsmNs)) {
    const std::string text = trimmed(max->text());
    long long n = 0;
    auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), n);
    if (text.empty() || ec != std::errc() || end != text.data() + text.size() || n < 0)
      return badRequest("<max/> must be a number of messages (0 or more).");
    q.archive.max = static_cast<int>(std::min<long long>(n, kMaxMax));
  }
  if (const auto* after = set.child("after", kRsmNs)) {
    if (auto id = trimmed(after->text()); !id.empty()) q.archive.page_after = id;
  }
  if (const auto* before = set.child("before", kRsmNs)) {
    // XEP-0059 §2.5: an empty <before/> asks for the last page.
    if (auto id = trimmed(before->text()); !id.empty()) {
      q.archive.page_before = id;
    } else {
      q.archive.last_page = true;
    }
  }
  return std::nullopt;
}

void addText(xml::Element& parent, std::string_view ns, std::string name, std::string_view text) {
  parent.addChild(std::string(ns), std::move(name)).addText(text);
}

}  // namespace

std::variant<Query, Refusal> parseQuery(const xml::Element& query, const std::string& owner) {
  Query q;
  q.archive.owner = owner;
  q.archive.max = kDefaultMax;
  q.queryid = std::string(query.attrOr("queryid"));
  if (query.attr("node")) {
    return Refusal{"feature-not-implemented",
                   "This archive has no nodes: pubsub archives (XEP-0442) are not offered."};
  }
  q.flip = query.child("flip-page", kNs) != nullptr;
  if (const auto* form = query.child("x", kDataFormsNs)) {
    for (const auto* field : form->childrenNamed("field", kDataFormsNs)) {
      std::vector<std::string> values;
      for (const auto* v : field->childrenNamed("value", kDataFormsNs)) values.push_back(v->text());
      if (auto refusal = applyField(q, std::string(field->attrOr("var")), values)) return *refusal;
    }
  }
  if (const auto* set = query.child("set", kRsmNs)) {
    if (auto refusal = applyRsm(q, *set)) return *refusal;
  }
  return q;
}

xml::Element queryForm() {
  FormField form_type("FORM_TYPE", "hidden", "", {kMam});
  xml::Element form = makeForm("form", "Search the message archive", "",
                               {form_type,
                                {"with", "jid-single", "With this address"},
                                {"start", "text-single", "From (XEP-0082 date and time)"},
                                {"end", "text-single", "Until (XEP-0082 date and time)"},
                                {"before-id", "text-single", "Before this message id"},
                                {"after-id", "text-single", "After this message id"}});
  // XEP-0313 §4.1.5: 'ids' is open to any value, never a list of every id (XEP-0122).
  const std::string data(kDataFormsNs), validate_ns("http://jabber.org/protocol/xdata-validate");
  auto& ids = form.addChild(data, "field");
  ids.setAttr("var", "ids");
  ids.setAttr("type", "list-multi");
  ids.setAttr("label", "Only these message ids");
  auto& validate = ids.addChild(validate_ns, "validate");
  validate.setAttr("datatype", "xs:string");
  validate.addChild(validate_ns, "open");
  return form;
}

xml::Element resultMessage(const Jid& to, const std::string& archive, const std::string& queryid,
                           const storage::ArchivedMessage& archived, const xml::Element* message) {
  xml::Element out(std::string(ns::kClient), "message");
  out.setAttr("to", to.full());
  out.setAttr("from", archive);
  auto& result = out.addChild(kMam, "result");
  if (!queryid.empty()) result.setAttr("queryid", queryid);
  result.setAttr("id", archived.id);
  auto& forwarded = result.addChild(std::string(kForwardNs), "forwarded");
  forwarded.addChild(std::string(kDelayNs), "delay")
      .setAttr("stamp", formatDateTime(archived.at_us));
  if (message) forwarded.addChild(*message);
  return out;
}

xml::Element fin(const storage::ArchivePage& page) {
  xml::Element out(kMam, "fin");
  out.setAttr("complete", page.complete ? "true" : "false");
  auto& set = out.addChild(kRsm, "set");
  if (!page.messages.empty()) {
    auto& first = set.addChild(kRsm, "first");
    if (page.first_index) first.setAttr("index", std::to_string(*page.first_index));
    first.addText(page.messages.front().id);
    addText(set, kRsmNs, "last", page.messages.back().id);
  }
  if (page.count) addText(set, kRsmNs, "count", std::to_string(*page.count));
  return out;
}

xml::Element metadata(const std::optional<storage::ArchiveBounds>& bounds) {
  xml::Element out(kMam, "metadata");
  if (!bounds) return out;
  for (auto [name, m] : {std::pair{"start", &bounds->first}, std::pair{"end", &bounds->last}}) {
    auto& e = out.addChild(kMam, name);
    e.setAttr("id", m->id);
    e.setAttr("timestamp", formatDateTime(m->at_us));
  }
  return out;
}

xml::Element prefsElement(const storage::ArchivePrefs& prefs) {
  xml::Element out(kMam, "prefs");
  out.setAttr("default", std::string(storage::archiveDefaultName(prefs.mode)));
  for (auto [name, list] : {std::pair{"always", &prefs.always}, std::pair{"never", &prefs.never}}) {
    auto& e = out.addChild(kMam, name);
    for (const auto& jid : *list) addText(e, kNs, "jid", jid);
  }
  return out;
}

std::variant<storage::ArchivePrefs, Refusal> parsePrefs(const xml::Element& prefs) {
  storage::ArchivePrefs out;
  auto mode = storage::parseArchiveDefault(prefs.attrOr("default"));
  if (!mode) return badRequest("'default' must be always, roster or never.");
  out.mode = *mode;
  std::set<std::string> never;
  for (auto [name, list] : {std::pair{"never", &out.never}, std::pair{"always", &out.always}}) {
    std::set<std::string> seen;
    const auto* e = prefs.child(name, kNs);
    if (!e) continue;
    for (const auto* j : e->childrenNamed("jid", kNs)) {
      auto jid = Jid::parse(trimmed(j->text()));
      if (!jid) return Refusal{"jid-malformed", "'" + j->text() + "' is not a valid JID."};
      // Listed in both: never wins (the user asked for privacy at least once).
      if (list == &out.always && never.count(jid->full())) continue;
      if (seen.insert(jid->full()).second) list->push_back(jid->full());
    }
    if (list->size() > kMaxPrefsJids) {
      return Refusal{"not-acceptable",
                     "At most " + std::to_string(kMaxPrefsJids) + " addresses fit in one list."};
    }
    if (list == &out.never) never = seen;
  }
  return out;
}

}  // namespace parley::xep::mam
