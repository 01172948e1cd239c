#pragma once
// Reading and writing numpy's .npy files (format versions 1.0, 2.0, 3.0), as numpy's np.save writes them.
// Point sets use one layout everywhere: a C-order (N, h) array is the dim x N column-major matrix of its rows.

#include <Eigen/Core>
#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

namespace dissect::theory {

// An array as stored: its shape, dtype (numpy's descr, e.g. "<f8") and elements converted to double or int64.
struct NpyArray {
  std::vector<std::int64_t> shape;
  std::string descr;
  bool is_integer = false;
  std::vector<double> real_values;      // filled for float32/float64 arrays
  std::vector<std::int64_t> int_values;  // filled for integer and bool arrays
};

// Reads any C-order numeric array. Throws std::runtime_error naming the path for a missing or unreadable file,
// and naming the path and the problem for a bad magic string, an unparsable header, Fortran order, an unsupported
// dtype (structured, complex, object, strings), or a size that disagrees with the shape (truncated or trailing data).
NpyArray ReadNpy(const std::filesystem::path& path);

// Reads embeddings: a float32/float64 array of shape (N, h), returned as the h x N matrix of points. Rejects other
// dtypes, other ranks, N or h of 0, and NaN or inf (naming the first bad row and column).
Eigen::MatrixXd ReadNpyPoints(const std::filesystem::path& path);

// Reads a float32/float64 matrix of shape (rows, cols), returned as a rows x cols matrix (e.g. weights W, K x h).
// Same checks as ReadNpyPoints.
Eigen::MatrixXd ReadNpyMatrix(const std::filesystem::path& path);

// Reads labels: an integer array of shape (N,), every value in [0, 2^31). Rejects floats, other ranks, negatives.
Eigen::VectorXi ReadNpyLabels(const std::filesystem::path& path);

// Writes a rows x cols matrix as a C-order float64 array of shape (rows, cols). Written to a temporary name in the
// same folder and renamed into place, so a failure leaves no half file. Throws std::runtime_error naming the path.
void WriteNpyMatrix(const std::filesystem::path& path, const Eigen::Ref<const Eigen::MatrixXd>& matrix);
// Writes a dim x N point matrix as a C-order float64 array of shape (N, h).
void WriteNpyPoints(const std::filesystem::path& path, const Eigen::Ref<const Eigen::MatrixXd>& points);
// Writes labels as a C-order int64 array of shape (N,).
void WriteNpyLabels(const std::filesystem::path& path, const Eigen::Ref<const Eigen::VectorXi>& labels);

}  // namespace dissect::theory
