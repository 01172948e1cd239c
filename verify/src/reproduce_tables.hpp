#pragma once
// The tables of `dissect reproduce` beside its claims: the accuracy table of the trained encoders (Markdown in the
// layout of the authors' table, and CSV) from typed runs.

#include <map>
#include <string>
#include <vector>

#include "dissect/verify/part_results.hpp"

namespace dissect::cli {

// The runs of one dataset's table: row name ("ce", "supcon (final linear)", ...) -> augmentation ("none",
// "crop+flip") -> the runs over the seeds.
using TableRuns = std::map<std::string, std::map<std::string, std::vector<verify::TrainedRun>>>;

// Rows: the losses; columns: augmentation x (class means, linear probe), then the class-mean similarity without
// augmentation; cells "mean ± sd (n)" over the seeds.
std::string AccuracyMarkdown(const TableRuns& runs);
// One row per row name, augmentation and seed.
std::string AccuracyCsv(const std::string& dataset, const TableRuns& runs);

// A CSV field: quoted, inner quotes doubled.
std::string CsvField(const std::string& text);

}  // namespace dissect::cli
