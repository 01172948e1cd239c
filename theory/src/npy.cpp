#include "dissect/theory/npy.hpp"

#include <fmt/format.h>
#include <algorithm>
#include <array>
#include <cctype>
#include <cmath>
#include <cstring>
#include <fstream>
#include <limits>
#include <stdexcept>
#include <string_view>
#include <system_error>
#include <utility>

#include "dissect/theory/atomic_file.hpp"
#include "dissect/theory/check.hpp"

namespace dissect::theory {
namespace {

namespace fs = std::filesystem;

constexpr std::array<char, 6> kMagic = {'\x93', 'N', 'U', 'M', 'P', 'Y'};
constexpr std::size_t kMaxHeaderLength = 1 << 20;

[[noreturn]] void Fail(std::string_view function, const fs::path& path, std::string_view problem) {
  throw std::runtime_error(fmt::format("{}(): {}: {}", function, path.string(), problem));
}

// The header is a Python dict literal: {'descr': '<f8', 'fortran_order': False, 'shape': (3, 4), }.
struct Header {
  std::string descr;
  bool fortran_order = false;
  std::vector<std::int64_t> shape;
};

class HeaderParser {
 public:
  explicit HeaderParser(std::string_view text) : text_(text) {}

  // Returns an empty string on success, else the problem.
  std::string Parse(Header* header) {
    bool has_descr = false, has_order = false, has_shape = false;
    SkipSpace();
    if (!Consume('{')) return "header is not a dict";
    while (true) {
      SkipSpace();
      if (Consume('}')) break;
      std::string key;
      if (!ParseString(&key)) return "expected a quoted key in the header";
      SkipSpace();
      if (!Consume(':')) return fmt::format("expected ':' after key '{}'", key);
      SkipSpace();
      if (key == "descr") {
        if (!ParseString(&header->descr)) return "unsupported dtype (structured or nested dtypes are not supported)";
        has_descr = true;
      } else if (key == "fortran_order") {
        if (!ParseBool(&header->fortran_order)) return "expected True or False for fortran_order";
        has_order = true;
      } else if (key == "shape") {
        if (!ParseShape(&header->shape)) return "expected a tuple of non-negative integers for shape";
        has_shape = true;
      } else {
        return fmt::format("unexpected key '{}' in the header", key);
      }
      SkipSpace();
      if (Consume(',')) continue;
      SkipSpace();
      if (Consume('}')) break;
      return "expected ',' or '}' in the header";
    }
    if (!has_descr || !has_order || !has_shape) return "header lacks one of descr, fortran_order, shape";
    return {};
  }

 private:
  void SkipSpace() {
    while (pos_ < text_.size() && std::isspace(static_cast<unsigned char>(text_[pos_]))) ++pos_;
  }
  bool Consume(char c) {
    if (pos_ < text_.size() && text_[pos_] == c) {
      ++pos_;
      return true;
    }
    return false;
  }
  bool ParseString(std::string* out) {
    if (pos_ >= text_.size() || (text_[pos_] != '\'' && text_[pos_] != '"')) return false;
    const char quote = text_[pos_++];
    const std::size_t end = text_.find(quote, pos_);
    if (end == std::string_view::npos) return false;
    *out = std::string(text_.substr(pos_, end - pos_));
    pos_ = end + 1;
    return true;
  }
  bool ParseBool(bool* out) {
    if (text_.substr(pos_, 4) == "True") {
      *out = true;
      pos_ += 4;
      return true;
    }
    if (text_.substr(pos_, 5) == "False") {
      *out = false;
      pos_ += 5;
      return true;
    }
    return false;
  }
  bool ParseShape(std::vector<std::int64_t>* shape) {
    if (!Consume('(')) return false;
    while (true) {
      SkipSpace();
      if (Consume(')')) return true;
      std::int64_t value = 0;
      const std::size_t start = pos_;
      while (pos_ < text_.size() && std::isdigit(static_cast<unsigned char>(text_[pos_]))) {
        if (value > (std::numeric_limits<std::int64_t>::max() - 9) / 10) return false;
        value = value * 10 + (text_[pos_++] - '0');
      }
      if (pos_ < text_.size() && text_[pos_] == 'L') ++pos_;  // Python 2 long suffix
      if (pos_ == start) return false;
      shape->push_back(value);
      SkipSpace();
      if (Consume(',')) continue;
      SkipSpace();
      if (Consume(')')) return true;
      return false;
    }
  }

  std::string_view text_;
  std::size_t pos_ = 0;
};

struct DType {
  char kind = 0;  // 'f', 'i', 'u', 'b'
  int size = 0;
  bool swap = false;
};

DType ParseDescr(const std::string& descr, const fs::path& path, std::string_view function) {
  const auto unsupported = [&] {
    Fail(function,
         path,
         fmt::format("unsupported dtype '{}' (expected float32/float64, or integers/bool for labels)", descr));
  };
  if (descr.size() < 3) unsupported();
  const char order = descr[0];
  DType dtype;
  dtype.kind = descr[1];
  const std::string size_text = descr.substr(2);
  if (size_text.size() != 1 || !std::isdigit(static_cast<unsigned char>(size_text[0]))) unsupported();
  dtype.size = size_text[0] - '0';
  if (order == '>') {
    dtype.swap = dtype.size > 1;
  } else if (order != '<' && order != '|' && order != '=') {
    unsupported();
  }
  const bool ok = (dtype.kind == 'f' && (dtype.size == 4 || dtype.size == 8)) ||
                  ((dtype.kind == 'i' || dtype.kind == 'u') &&
                   (dtype.size == 1 || dtype.size == 2 || dtype.size == 4 || dtype.size == 8)) ||
                  (dtype.kind == 'b' && dtype.size == 1);
  if (!ok) unsupported();
  return dtype;
}

std::uint64_t LoadUnsigned(const unsigned char* bytes, int size, bool swap) {
  std::uint64_t value = 0;
  for (int b = 0; b < size; ++b) {
    const int shift = swap ? 8 * (size - 1 - b) : 8 * b;
    value |= static_cast<std::uint64_t>(bytes[b]) << shift;
  }
  return value;
}

void ConvertElements(const std::vector<unsigned char>& raw, const DType& dtype, NpyArray* array) {
  const std::size_t count = raw.size() / dtype.size;
  if (dtype.kind == 'f') {
    array->real_values.resize(count);
    for (std::size_t i = 0; i < count; ++i) {
      const std::uint64_t bits = LoadUnsigned(raw.data() + i * dtype.size, dtype.size, dtype.swap);
      if (dtype.size == 8) {
        double value;
        std::memcpy(&value, &bits, sizeof value);
        array->real_values[i] = value;
      } else {
        const auto bits32 = static_cast<std::uint32_t>(bits);
        float value;
        std::memcpy(&value, &bits32, sizeof value);
        array->real_values[i] = value;
      }
    }
    return;
  }
  array->is_integer = true;
  array->int_values.resize(count);
  const int shift = 64 - 8 * dtype.size;
  for (std::size_t i = 0; i < count; ++i) {
    const std::uint64_t bits = LoadUnsigned(raw.data() + i * dtype.size, dtype.size, dtype.swap);
    if (dtype.kind == 'i' && dtype.size < 8) {
      // Sign-extend: shift the value's sign bit to bit 63, then arithmetic shift back.
      array->int_values[i] = static_cast<std::int64_t>(bits << shift) >> shift;
    } else if (dtype.kind == 'u' && dtype.size == 8 && bits > static_cast<std::uint64_t>(INT64_MAX)) {
      array->int_values[i] = -1;  // out of any label range; reported by the caller
    } else {
      array->int_values[i] = static_cast<std::int64_t>(bits);
    }
  }
}

Eigen::MatrixXd RealMatrixFrom(const NpyArray& array, const fs::path& path, std::string_view function) {
  if (array.is_integer) {
    Fail(function, path, fmt::format("expected a float32 or float64 array, got dtype '{}'", array.descr));
  }
  if (array.shape.size() != 2) {
    Fail(function, path, fmt::format("expected a 2-D array, got {} dimensions", array.shape.size()));
  }
  if (array.shape[0] == 0 || array.shape[1] == 0) {
    Fail(function, path, fmt::format("expected a non-empty array, got shape ({}, {})", array.shape[0], array.shape[1]));
  }
  // C order (rows, cols) is the column-major cols x rows matrix.
  Eigen::MatrixXd transposed =
      Eigen::Map<const Eigen::MatrixXd>(array.real_values.data(), array.shape[1], array.shape[0]);
  for (Eigen::Index row = 0; row < transposed.cols(); ++row) {
    for (Eigen::Index col = 0; col < transposed.rows(); ++col) {
      if (!std::isfinite(transposed(col, row))) {
        Fail(function, path, fmt::format("non-finite value {} at row {}, column {}", transposed(col, row), row, col));
      }
    }
  }
  return transposed;
}

void WriteArray(const fs::path& path,
                std::string_view descr,
                const std::vector<std::int64_t>& shape,
                const void* data,
                std::size_t num_bytes) {
  // numpy writes (3, 4) for 2-D arrays and (3,) for 1-D ones.
  std::string shape_text = "(";
  for (std::size_t d = 0; d < shape.size(); ++d) shape_text += fmt::format("{}{}", d ? ", " : "", shape[d]);
  shape_text += shape.size() == 1 ? ",)" : ")";
  std::string header = fmt::format("{{'descr': '{}', 'fortran_order': False, 'shape': {}, }}", descr, shape_text);
  // Version 1.0: 10 bytes of preamble, the header padded with spaces and a newline to a multiple of 64 bytes.
  const std::size_t unpadded = kMagic.size() + 4 + header.size() + 1;
  header.append((64 - unpadded % 64) % 64, ' ');
  header.push_back('\n');

  WriteStreamAtomically(path, fmt::format("WriteNpy(): {}", path.string()), [&](std::ostream& out) {
    out.write(kMagic.data(), kMagic.size());
    const unsigned char version[2] = {1, 0};
    out.write(reinterpret_cast<const char*>(version), 2);
    const unsigned char length[2] = {static_cast<unsigned char>(header.size() & 0xff),
                                     static_cast<unsigned char>(header.size() >> 8)};
    out.write(reinterpret_cast<const char*>(length), 2);
    out.write(header.data(), static_cast<std::streamsize>(header.size()));
    out.write(static_cast<const char*>(data), static_cast<std::streamsize>(num_bytes));
  });
}

// An opened .npy file whose preamble and header were checked: the stream stands at the first data byte, and the
// file holds exactly the data the shape needs. Problems are reported as `function(): path: problem`.
struct OpenedNpy {
  std::ifstream in;
  Header header;
  DType dtype;
  std::uint64_t count = 0;        // elements
  std::uint64_t data_offset = 0;  // bytes before the data
};

OpenedNpy OpenNpy(const fs::path& path, std::string_view function) {
  const std::string_view kFunction = function;
  OpenedNpy opened;
  std::error_code error;
  if (!fs::exists(path, error)) Fail(kFunction, path, "no such file");
  if (fs::is_directory(path, error)) Fail(kFunction, path, "is a directory, expected a .npy file");
  const std::uintmax_t file_size = fs::file_size(path, error);
  if (error) Fail(kFunction, path, fmt::format("cannot read: {}", error.message()));
  opened.in.open(path, std::ios::binary);
  std::ifstream& in = opened.in;
  if (!in) Fail(kFunction, path, "cannot open for reading");

  std::array<char, 6> magic{};
  unsigned char version[2] = {0, 0};
  if (file_size < 10 || !in.read(magic.data(), magic.size()) || !in.read(reinterpret_cast<char*>(version), 2)) {
    Fail(kFunction, path, "too short to be a .npy file");
  }
  if (magic != kMagic) Fail(kFunction, path, "not a .npy file (bad magic string)");
  std::size_t header_length = 0;
  std::size_t preamble = 0;
  if (version[0] == 1) {
    unsigned char length[2];
    in.read(reinterpret_cast<char*>(length), 2);
    header_length = length[0] | (length[1] << 8);
    preamble = 10;
  } else if (version[0] == 2 || version[0] == 3) {
    unsigned char length[4];
    in.read(reinterpret_cast<char*>(length), 4);
    header_length = static_cast<std::size_t>(LoadUnsigned(length, 4, false));
    preamble = 12;
  } else {
    Fail(kFunction, path, fmt::format("unsupported .npy format version {}.{}", version[0], version[1]));
  }
  if (!in || header_length > kMaxHeaderLength || preamble + header_length > file_size) {
    Fail(kFunction, path, "truncated or corrupt header");
  }
  std::string header_text(header_length, '\0');
  if (!in.read(header_text.data(), static_cast<std::streamsize>(header_length))) {
    Fail(kFunction, path, "truncated header");
  }
  Header& header = opened.header;
  const std::string problem = HeaderParser(header_text).Parse(&header);
  if (!problem.empty()) Fail(kFunction, path, fmt::format("corrupt header: {}", problem));
  if (header.fortran_order) {
    Fail(kFunction,
         path,
         "Fortran-order arrays are not supported: save a C-order array (np.save(f, np.ascontiguousarray(a)))");
  }
  opened.dtype = ParseDescr(header.descr, path, kFunction);

  std::uint64_t count = 1;
  for (std::int64_t d : header.shape) {
    if (d != 0 && count > std::numeric_limits<std::uint64_t>::max() / 16 / static_cast<std::uint64_t>(d)) {
      Fail(kFunction, path, "shape too large");
    }
    count *= static_cast<std::uint64_t>(d);
  }
  const std::uint64_t data_bytes = count * opened.dtype.size;
  const std::uint64_t available = file_size - preamble - header_length;
  if (available < data_bytes) {
    Fail(kFunction,
         path,
         fmt::format("truncated: the shape needs {} bytes of data, the file has {}", data_bytes, available));
  }
  if (available > data_bytes) {
    Fail(
        kFunction,
        path,
        fmt::format("corrupt: {} bytes of data after the {} that the shape needs", available - data_bytes, data_bytes));
  }
  opened.count = count;
  opened.data_offset = preamble + header_length;
  return opened;
}

}  // namespace

NpyArray ReadNpy(const fs::path& path) {
  OpenedNpy opened = OpenNpy(path, "ReadNpy");
  const std::uint64_t data_bytes = opened.count * opened.dtype.size;
  std::vector<unsigned char> raw(data_bytes);
  if (!opened.in.read(reinterpret_cast<char*>(raw.data()), static_cast<std::streamsize>(data_bytes))) {
    Fail("ReadNpy", path, "read error in the data");
  }
  NpyArray array;
  array.shape = opened.header.shape;
  array.descr = opened.header.descr;
  ConvertElements(raw, opened.dtype, &array);
  return array;
}

NpyRowReader::NpyRowReader(const fs::path& path) : path_(path) {
  constexpr const char* kFunction = "NpyRowReader";
  OpenedNpy opened = OpenNpy(path, kFunction);
  // The checks of ReadNpyPoints (RealMatrixFrom), made on the header alone.
  if (opened.dtype.kind != 'f') {
    Fail(kFunction, path, fmt::format("expected a float32 or float64 array, got dtype '{}'", opened.header.descr));
  }
  const std::vector<std::int64_t>& shape = opened.header.shape;
  if (shape.size() != 2) Fail(kFunction, path, fmt::format("expected a 2-D array, got {} dimensions", shape.size()));
  if (shape[0] == 0 || shape[1] == 0) {
    Fail(kFunction, path, fmt::format("expected a non-empty array, got shape ({}, {})", shape[0], shape[1]));
  }
  in_ = std::move(opened.in);
  descr_ = opened.header.descr;
  num_rows_ = static_cast<Eigen::Index>(shape[0]);
  num_cols_ = static_cast<Eigen::Index>(shape[1]);
  element_size_ = opened.dtype.size;
  big_endian_ = opened.dtype.swap;
  data_offset_ = opened.data_offset;
}

void NpyRowReader::ReadRows(Eigen::Index first, Eigen::Index count, Eigen::MatrixXd* points) {
  constexpr const char* kFunction = "NpyRowReader::ReadRows";
  if (points == nullptr) ThrowInvalidArgument(kFunction, "expected an output matrix, got null");
  if (first < 0 || count < 0 || first > num_rows_ || count > num_rows_ - first) {
    ThrowInvalidArgument(kFunction,
                         fmt::format("expected rows [first, first + count) within [0, {}), got first = {}, count = {}",
                                     num_rows_,
                                     first,
                                     count));
  }
  points->resize(num_cols_, count);
  if (count == 0) return;
  const std::uint64_t row_bytes = static_cast<std::uint64_t>(num_cols_) * element_size_;
  const std::uint64_t num_bytes = row_bytes * static_cast<std::uint64_t>(count);
  in_.clear();
  in_.seekg(static_cast<std::streamoff>(data_offset_ + row_bytes * static_cast<std::uint64_t>(first)));
  const auto fail_read = [&] {
    Fail(kFunction, path_, fmt::format("read error in rows [{}, {}) (was the file changed?)", first, first + count));
  };
  if (!in_) fail_read();

  const std::uint16_t probe = 1;
  unsigned char probe_bytes[2];
  std::memcpy(probe_bytes, &probe, 2);
  const bool host_little_endian = probe_bytes[0] == 1;
  double* out = points->data();
  if (element_size_ == 8 && !big_endian_ && host_little_endian) {
    // The file's bytes are the doubles: read them in place.
    if (!in_.read(reinterpret_cast<char*>(out), static_cast<std::streamsize>(num_bytes))) fail_read();
  } else {
    buffer_.resize(num_bytes);
    if (!in_.read(reinterpret_cast<char*>(buffer_.data()), static_cast<std::streamsize>(num_bytes))) fail_read();
    const std::size_t values = static_cast<std::size_t>(num_bytes / element_size_);
    if (element_size_ == 4 && !big_endian_ && host_little_endian) {
      const float* in = reinterpret_cast<const float*>(buffer_.data());
      for (std::size_t i = 0; i < values; ++i) out[i] = in[i];
    } else {
      for (std::size_t i = 0; i < values; ++i) {
        const std::uint64_t bits = LoadUnsigned(buffer_.data() + i * element_size_, element_size_, big_endian_);
        if (element_size_ == 8) {
          std::memcpy(out + i, &bits, sizeof(double));
        } else {
          const auto bits32 = static_cast<std::uint32_t>(bits);
          float value;
          std::memcpy(&value, &bits32, sizeof value);
          out[i] = value;
        }
      }
    }
  }
  if (!points->allFinite()) {
    for (Eigen::Index row = 0; row < count; ++row) {
      for (Eigen::Index col = 0; col < num_cols_; ++col) {
        const double value = (*points)(col, row);
        if (!std::isfinite(value)) {
          Fail(kFunction, path_, fmt::format("non-finite value {} at row {}, column {}", value, first + row, col));
        }
      }
    }
  }
}

Eigen::MatrixXd NpyRowReader::ReadRows(Eigen::Index first, Eigen::Index count) {
  Eigen::MatrixXd points;
  ReadRows(first, count, &points);
  return points;
}

Eigen::VectorXd NpyRowReader::ReadRow(Eigen::Index row) {
  if (row < 0 || row >= num_rows_) {
    ThrowInvalidArgument("NpyRowReader::ReadRow", fmt::format("expected a row in [0, {}), got {}", num_rows_, row));
  }
  Eigen::MatrixXd point;
  ReadRows(row, 1, &point);
  return point.col(0);
}

Eigen::MatrixXd ReadNpyPoints(const fs::path& path) {
  // (N, h) in C order is exactly the column-major h x N matrix of points.
  return RealMatrixFrom(ReadNpy(path), path, "ReadNpyPoints");
}

NpyViews ReadNpyViews(const fs::path& path) {
  constexpr const char* kFunction = "ReadNpyViews";
  const NpyArray array = ReadNpy(path);
  NpyViews views;
  if (array.is_integer) {
    Fail(kFunction, path, fmt::format("expected a float32 or float64 array, got dtype '{}'", array.descr));
  }
  if (array.shape.size() != 3) {
    if (array.shape.size() != 2) {
      Fail(kFunction,
           path,
           fmt::format("expected a 2-D (N, h) or 3-D (N, V, h) array, got {} dimensions", array.shape.size()));
    }
    views.points = RealMatrixFrom(array, path, kFunction);
    views.num_samples = views.points.cols();
    views.num_views = 1;
    return views;
  }
  const std::int64_t n = array.shape[0], v = array.shape[1], h = array.shape[2];
  if (n == 0 || v == 0 || h == 0) {
    Fail(kFunction, path, fmt::format("expected a non-empty array, got shape ({}, {}, {})", n, v, h));
  }
  views.num_samples = n;
  views.num_views = v;
  views.points.resize(h, n * v);
  for (std::int64_t i = 0; i < n; ++i) {
    for (std::int64_t view = 0; view < v; ++view) {
      for (std::int64_t c = 0; c < h; ++c) {
        const double value = array.real_values[static_cast<std::size_t>((i * v + view) * h + c)];
        if (!std::isfinite(value)) {
          Fail(kFunction, path, fmt::format("non-finite value {} at sample {}, view {}, column {}", value, i, view, c));
        }
        views.points(c, view * n + i) = value;
      }
    }
  }
  return views;
}

Eigen::MatrixXd ReadNpyMatrix(const fs::path& path) {
  return RealMatrixFrom(ReadNpy(path), path, "ReadNpyMatrix").transpose();
}

Eigen::VectorXi ReadNpyLabels(const fs::path& path) {
  constexpr const char* kFunction = "ReadNpyLabels";
  const NpyArray array = ReadNpy(path);
  if (!array.is_integer) Fail(kFunction, path, fmt::format("expected an integer array, got dtype '{}'", array.descr));
  if (array.shape.size() != 1) {
    Fail(kFunction, path, fmt::format("expected a 1-D array of labels, got {} dimensions", array.shape.size()));
  }
  if (array.shape[0] == 0) Fail(kFunction, path, "expected at least one label, got none");
  try {
    return LabelsFromIntegers(array.int_values.data(), array.int_values.size());
  } catch (const std::invalid_argument& error) {
    Fail(kFunction, path, error.what());
  }
}

Eigen::VectorXi LabelsFromIntegers(const std::int64_t* values, std::size_t count) {
  Eigen::VectorXi labels(static_cast<Eigen::Index>(count));
  for (std::size_t i = 0; i < count; ++i) {
    const std::int64_t value = values[i];
    if (value < 0 || value > std::numeric_limits<int>::max()) {
      throw std::invalid_argument(
          fmt::format("label {} at index {} is out of range (expected 0 <= label < 2^31)", value, i));
    }
    labels[static_cast<Eigen::Index>(i)] = static_cast<int>(value);
  }
  return labels;
}

void WriteNpyMatrix(const fs::path& path, const Eigen::Ref<const Eigen::MatrixXd>& matrix) {
  const Eigen::MatrixXd transposed = matrix.transpose();  // column-major cols x rows = C-order rows x cols
  WriteArray(path, "<f8", {matrix.rows(), matrix.cols()}, transposed.data(), transposed.size() * sizeof(double));
}

void WriteNpyPoints(const fs::path& path, const Eigen::Ref<const Eigen::MatrixXd>& points) {
  const Eigen::MatrixXd copy = points;  // a Ref may have an outer stride; the copy is contiguous
  WriteArray(path, "<f8", {points.cols(), points.rows()}, copy.data(), copy.size() * sizeof(double));
}

void WriteNpyLabels(const fs::path& path, const Eigen::Ref<const Eigen::VectorXi>& labels) {
  std::vector<std::int64_t> values(labels.data(), labels.data() + labels.size());
  WriteArray(path, "<i8", {labels.size()}, values.data(), values.size() * sizeof(std::int64_t));
}

}  // namespace dissect::theory
