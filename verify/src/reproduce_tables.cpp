#include "reproduce_tables.hpp"

#include <fmt/format.h>

#include <cmath>

#include "dissect/verify/statistics.hpp"

namespace dissect::cli {
namespace {

// "mean ± sd (n)" of one field over the seeds ("-" where no run has it).
std::string Cell(const std::vector<verify::TrainedRun>& runs, double verify::TrainedRun::* field, int digits) {
  std::vector<double> values;
  for (const verify::TrainedRun& r : runs) {
    if (std::isfinite(r.*field)) values.push_back(r.*field);
  }
  if (values.empty()) return "-";
  if (values.size() == 1) return fmt::format("{:.{}f} (1)", values.front(), digits);
  return fmt::format("{:.{}f} ± {:.{}f} ({})",
                     verify::Mean(values),
                     digits,
                     verify::SampleStandardDeviation(values),
                     digits,
                     values.size());
}

}  // namespace

std::string CsvField(const std::string& text) {
  std::string out = "\"";
  for (const char c : text) out += c == '"' ? std::string("\"\"") : std::string(1, c);
  return out + "\"";
}

std::string AccuracyMarkdown(const TableRuns& runs) {
  std::string table =
      "| encoder | none: class means | none: linear probe | none: class-mean similarity | crop+flip: class means | "
      "crop+flip: linear probe |\n|---|---|---|---|---|---|\n";
  double simplex = std::nan("");
  for (const auto& [row, by_augment] : runs) {
    const auto cells = [&](const std::string& augment, bool similarity) -> std::string {
      const auto it = by_augment.find(augment);
      if (it == by_augment.end()) return similarity ? " - | - | - |" : " - | - |";
      if (!it->second.empty()) simplex = it->second.front().simplex_similarity;
      std::string text = " " + Cell(it->second, &verify::TrainedRun::test_accuracy_class_mean, 2) + " | " +
                         Cell(it->second, &verify::TrainedRun::test_accuracy_probe, 2) + " |";
      if (similarity) text += " " + Cell(it->second, &verify::TrainedRun::class_mean_similarity, 4) + " |";
      return text;
    };
    table += "| " + row + " |" + cells("none", true) + cells("crop+flip", false) + "\n";
  }
  table += fmt::format(
      "\nCells: mean ± sample standard deviation (runs) over seeds. Similarity at the simplex: "
      "{:.4f}; post-ReLU features reach at best 0.5 (an orthogonal frame).\n",
      simplex);
  return table;
}

std::string AccuracyCsv(const std::string& dataset, const TableRuns& runs) {
  std::string csv =
      "dataset,encoder,augment,seed,test_accuracy_class_mean,test_accuracy_probe,class_mean_similarity,"
      "simplex_similarity\n";
  for (const auto& [row, by_augment] : runs) {
    for (const auto& [augment, list] : by_augment) {
      for (const verify::TrainedRun& r : list) {
        csv += fmt::format("{},{},{},{},{:.17g},{:.17g},{:.17g},{:.17g}\n",
                           dataset,
                           CsvField(row),
                           augment,
                           r.seed,
                           r.test_accuracy_class_mean,
                           r.test_accuracy_probe,
                           r.class_mean_similarity,
                           r.simplex_similarity);
      }
    }
  }
  return csv;
}

}  // namespace dissect::cli
