#pragma once
// Rich output of a notebook cell: an SVG plot or a Markdown table shown inline. Under xeus-cling through
// xcpp::display; under the clang-repl kernel of notebooks/kernel as a marked block on stdout that the kernel turns
// into display data (and that a plain terminal shows as text).

#include <iostream>
#include <string>

#if __has_include(<xcpp/xdisplay.hpp>)
#include <nlohmann/json.hpp>
#include <xcpp/xdisplay.hpp>
#define DISSECT_NOTEBOOK_XEUS 1
#endif

namespace dissect::notebook {

struct MimeBundle {
  std::string mime;  // e.g. "image/svg+xml", "text/markdown"
  std::string text;
};

#ifdef DISSECT_NOTEBOOK_XEUS
inline nlohmann::json mime_bundle_repr(const MimeBundle& bundle) {
  nlohmann::json data = nlohmann::json::object();
  data[bundle.mime] = bundle.text;
  return data;
}
inline void Display(const std::string& mime, const std::string& text) { xcpp::display(MimeBundle{mime, text}); }
#else
inline void Display(const std::string& mime, const std::string& text) {
  std::cout << std::flush << "@@DISSECT-DISPLAY " << mime << "@@\n"
            << text << (!text.empty() && text.back() == '\n' ? "" : "\n") << "@@DISSECT-END-DISPLAY@@\n"
            << std::flush;
}
#endif

inline void ShowSvg(const std::string& svg) { Display("image/svg+xml", svg); }
inline void ShowMarkdown(const std::string& markdown) { Display("text/markdown", markdown); }

}  // namespace dissect::notebook
