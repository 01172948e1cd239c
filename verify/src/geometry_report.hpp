#pragma once
// The report of `dissect geometry` (table rows and JSON fields), built in one place for the command and for the
// Python module's dissect.geometry, so that both give the same keys and numbers.

#include <cstdint>
#include <dissect/theory/representation_geometry.hpp>
#include <string>

#include "output.hpp"

namespace dissect::cli {

// What the result does not hold: where the embeddings came from and the seed of the run.
struct GeometryReportSource {
  std::string embeddings;  // the .npy path, or what the caller passed ("array")
  std::string dtype;       // numpy's descr of the embeddings: "<f4", "<f8"
  std::uint64_t seed = 0;  // RepresentationGeometryOptions::seed
  // Where the SC temperature came from: "given" (--temperature/--radius, or Python's argument), "run" (the training
  // run's own, from --run DIR), "default" (0.1, the paper's, when neither was given).
  std::string temperature_source = "given";
};

// How the caller names the inputs in its messages: paths and flags (the command) or parameters (Python).
struct GeometryInputNames {
  std::string embeddings;   // "Z.npy" or "embeddings"
  std::string labels;       // "y.npy" or "labels"
  std::string weights;      // "W.npy" or "weights"
  std::string num_classes;  // "--classes" or "num_classes"
};

// The checks of the labels, W and K against the embeddings (N points of dimension h), before the measurement:
// std::invalid_argument naming the input, e.g. "y.npy has 9 labels, but Z.npy has 10 embeddings (shape (N, h))".
// weights may be null; num_classes 0 means unset.
void CheckGeometryInputs(const GeometryInputNames& names,
                         Eigen::Index num_points,
                         Eigen::Index dim,
                         const Eigen::VectorXi& labels,
                         const Eigen::MatrixXd* weights,
                         int num_classes);

// Every field of the result, in the order `dissect geometry` prints them; the W fields only when it had W.
Report GeometryReport(const theory::RepresentationGeometryResult& r, const GeometryReportSource& source);

}  // namespace dissect::cli
