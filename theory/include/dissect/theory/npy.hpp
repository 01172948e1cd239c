#pragma once
// Reading and writing numpy's .npy files (format versions 1.0, 2.0, 3.0), as numpy's np.save writes them.
// Point sets use one layout everywhere: a C-order (N, h) array is the dim x N column-major matrix of its rows.

#include <Eigen/Core>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

namespace dissect::theory {

// An array as stored: its shape, dtype (numpy's descr, e.g. "<f8") and elements converted to double or int64.
struct NpyArray {
  std::vector<std::int64_t> shape;
  std::string descr;
  bool is_integer = false;
  std::vector<double> real_values;       // filled for float32/float64 arrays
  std::vector<std::int64_t> int_values;  // filled for integer and bool arrays
};

// Reads any C-order numeric array. Throws std::runtime_error naming the path for a missing or unreadable file,
// and naming the path and the problem for a bad magic string, an unparsable header, Fortran order, an unsupported
// dtype (structured, complex, object, strings), or a size that disagrees with the shape (truncated or trailing data).
NpyArray ReadNpy(const std::filesystem::path& path);

// Reads embeddings: a float32/float64 array of shape (N, h), returned as the h x N matrix of points. Rejects other
// dtypes, other ranks, N or h of 0, and NaN or inf (naming the first bad row and column).
Eigen::MatrixXd ReadNpyPoints(const std::filesystem::path& path);

// Embeddings with views: a float32/float64 array of shape (N, h) (one view) or (N, V, h) (V views per sample, the
// reference SupCon code's layout), returned as the h x (V N) matrix of points stacked view-major: column v N + i is
// view v of sample i (view 0 of every sample, then view 1, ...). Same checks as ReadNpyPoints; a non-finite value of
// a 3-D array is named by sample, view and column.
struct NpyViews {
  Eigen::MatrixXd points;        // h x (V N)
  Eigen::Index num_samples = 0;  // N
  Eigen::Index num_views = 0;    // V (1 for an (N, h) array)
};
NpyViews ReadNpyViews(const std::filesystem::path& path);

// Reads a float32/float64 matrix of shape (rows, cols), returned as a rows x cols matrix (e.g. weights W, K x h).
// Same checks as ReadNpyPoints.
Eigen::MatrixXd ReadNpyMatrix(const std::filesystem::path& path);

// Reads labels: an integer array of shape (N,), every value in [0, 2^31). Rejects floats, other ranks, negatives.
Eigen::VectorXi ReadNpyLabels(const std::filesystem::path& path);

// Labels from count integers (the values of an integer array): each in [0, 2^31), else std::invalid_argument
// "label -1 at index 3 is out of range (expected 0 <= label < 2^31)" (ReadNpyLabels prefixes the path).
Eigen::VectorXi LabelsFromIntegers(const std::int64_t* values, std::size_t count);

// Reads the rows of a float32/float64 (N, h) embeddings file a block at a time, so that files larger than memory can
// be processed in chunks: the header is parsed and the file size checked once, on construction, with the checks and
// messages of ReadNpyPoints (dtype, rank, N or h of 0, truncation, trailing data), naming "NpyRowReader" and the
// path. Rows come back as columns: rows [first, first + count) are the h x count matrix of those points, exactly as
// the same columns of ReadNpyPoints. Each read validates its values: NaN or inf throws std::runtime_error naming the
// path and the row (of the whole file) and column, as ReadNpyPoints does. Not thread-safe (one file position).
class NpyRowReader {
 public:
  // Opens `path`; throws std::runtime_error naming the path and the problem.
  explicit NpyRowReader(const std::filesystem::path& path);

  // N: the number of rows (points).
  Eigen::Index num_rows() const { return num_rows_; }
  // h: the number of columns (dimension of a point).
  Eigen::Index num_cols() const { return num_cols_; }
  // numpy's dtype descr, e.g. "<f4".
  const std::string& descr() const { return descr_; }
  const std::filesystem::path& path() const { return path_; }

  // Reads rows [first, first + count) into `points`, resized to h x count (its storage is reused when the size
  // fits). Throws std::invalid_argument for a range outside [0, N) or a null `points`, std::runtime_error for a read
  // error or a non-finite value.
  void ReadRows(Eigen::Index first, Eigen::Index count, Eigen::MatrixXd* points);
  // The same, returning a new h x count matrix.
  Eigen::MatrixXd ReadRows(Eigen::Index first, Eigen::Index count);
  // Row `row` (random access): the point as an h-vector. Same errors.
  Eigen::VectorXd ReadRow(Eigen::Index row);

 private:
  std::filesystem::path path_;
  std::ifstream in_;
  std::string descr_;
  Eigen::Index num_rows_ = 0;
  Eigen::Index num_cols_ = 0;
  int element_size_ = 0;           // bytes per value: 4 or 8
  bool big_endian_ = false;        // a '>' dtype
  std::uint64_t data_offset_ = 0;  // bytes before the first value
  std::vector<unsigned char> buffer_;
};

// Writes a rows x cols matrix as a C-order float64 array of shape (rows, cols). Written to a temporary name in the
// same folder and renamed into place, so a failure leaves no half file. Throws std::runtime_error naming the path.
void WriteNpyMatrix(const std::filesystem::path& path, const Eigen::Ref<const Eigen::MatrixXd>& matrix);
// Writes a dim x N point matrix as a C-order float64 array of shape (N, h).
void WriteNpyPoints(const std::filesystem::path& path, const Eigen::Ref<const Eigen::MatrixXd>& points);
// Writes labels as a C-order int64 array of shape (N,).
void WriteNpyLabels(const std::filesystem::path& path, const Eigen::Ref<const Eigen::VectorXi>& labels);

}  // namespace dissect::theory
