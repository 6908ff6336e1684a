#include "xep/data_form.hpp"

namespace parley::xep {

namespace {

const std::string kNs(kDataFormsNs);

void addField(xml::Element& parent, const FormField& f) {
  auto& field = parent.addChild(kNs, "field");
  if (!f.var.empty()) field.setAttr("var", f.var);
  if (!f.type.empty()) field.setAttr("type", f.type);
  if (!f.label.empty()) field.setAttr("label", f.label);
  if (f.required) field.addChild(kNs, "required");
  for (const auto& v : f.values) field.addChild(kNs, "value").addText(v);
  for (const auto& o : f.options) {
    auto& option = field.addChild(kNs, "option");
    if (!o.label.empty()) option.setAttr("label", o.label);
    option.addChild(kNs, "value").addText(o.value);
  }
}

}  // namespace

xml::Element makeForm(std::string_view type, std::string_view title, std::string_view instructions,
                      const std::vector<FormField>& fields) {
  xml::Element x(kNs, "x");
  x.setAttr("type", std::string(type));
  if (!title.empty()) x.addChild(kNs, "title").addText(title);
  if (!instructions.empty()) x.addChild(kNs, "instructions").addText(instructions);
  for (const auto& f : fields) addField(x, f);
  return x;
}

std::map<std::string, std::vector<std::string>> submittedValues(const xml::Element& form) {
  std::map<std::string, std::vector<std::string>> out;
  for (const auto* field : form.childrenNamed("field", kDataFormsNs)) {
    auto& values = out[std::string(field->attrOr("var"))];
    for (const auto* v : field->childrenNamed("value", kDataFormsNs)) values.push_back(v->text());
  }
  return out;
}

}  // namespace parley::xep
