#pragma once
// XEP-0004 data forms, as far as the server's own forms need them: building forms and
// results, and reading the values a client submitted. Results are plain forms of type
// 'result' (fields, no <reported>/<item> table): Gajim's Execute Command cannot display
// multi-item results, and every client can display fields.
#include <map>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "parley/xml/element.hpp"

namespace parley::xep {

inline constexpr std::string_view kDataFormsNs = "jabber:x:data";

struct FormOption {
  std::string value, label;
};

struct FormField {
  FormField(std::string var_, std::string type_, std::string label_,
            std::vector<std::string> values_ = {}, std::vector<FormOption> options_ = {})
      : var(std::move(var_)),
        type(std::move(type_)),
        label(std::move(label_)),
        values(std::move(values_)),
        options(std::move(options_)) {}
  std::string var;
  std::string type;  // list-single, text-single, fixed, ...
  std::string label;
  std::vector<std::string> values;
  std::vector<FormOption> options;
  bool required = false;
};

// <x xmlns='jabber:x:data' type='form|result'> with a title, instructions and fields.
xml::Element makeForm(std::string_view type, std::string_view title, std::string_view instructions,
                      const std::vector<FormField>& fields);

// The submitted values of a form of type 'submit', by field var.
std::map<std::string, std::vector<std::string>> submittedValues(const xml::Element& form);

}  // namespace parley::xep
