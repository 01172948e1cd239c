#pragma once
// A progress line on stderr, redrawn in place, only when stderr is a terminal (docs/development.md, Output).

#include <string>

namespace dissect::cli {

class ProgressLine {
 public:
  // `wanted` false: never draws (e.g. the ranks of a data-parallel run other than rank 0).
  explicit ProgressLine(bool wanted = true);
  ~ProgressLine();
  // Redraws the line (at most ten times a second).
  void Update(const std::string& text);
  // Ends the line so that later output starts on a fresh one.
  void Finish();

 private:
  bool enabled_;
  bool dirty_ = false;
  double last_ = -1.0;
};

}  // namespace dissect::cli
