#pragma once
// Progress on stderr (docs/cli.md, Progress). On a terminal: one line, redrawn in place. Off a terminal (a log file,
// nohup, a batch scheduler): plain lines, one per event that asks for it (a stage beginning) and a heartbeat with
// the latest text every DISSECT_PROGRESS_SECONDS seconds (default 30; 0 turns the heartbeat off).

#include <string>

namespace dissect::cli {

class ProgressLine {
 public:
  // `wanted` false: never draws (e.g. the ranks of a data-parallel run other than rank 0).
  explicit ProgressLine(bool wanted = true);
  ~ProgressLine();
  // Shows `text`: on a terminal the line is redrawn (at most ten times a second unless `event`); off a terminal a
  // plain line is written when `event` (a stage begins) or when the heartbeat interval has passed.
  void Update(const std::string& text, bool event = false);
  // Ends the line so that later output starts on a fresh one.
  void Finish();

 private:
  bool wanted_;
  bool terminal_;
  double heartbeat_seconds_;
  bool dirty_ = false;
  double last_ = -1.0;      // terminal: last redraw
  double last_line_ = 0.0;  // off a terminal: last plain line (or the construction)
};

}  // namespace dissect::cli
