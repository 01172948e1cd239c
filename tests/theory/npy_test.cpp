// Tests of dissect/theory/npy.hpp: round trips, the exact bytes the writer produces, files numpy itself wrote
// (tests/data/npy, see its README.md) and corrupt files made from them in a temporary directory.

#include "dissect/theory/npy.hpp"

#include <Eigen/Core>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <initializer_list>
#include <iterator>
#include <limits>
#include <stdexcept>
#include <string>
#include <vector>

#include "catch.hpp"
#include "test_support.hpp"

namespace dissect::theory {
namespace {

namespace fs = std::filesystem;

using test::BitPattern;
using test::MessageContains;
using test::SameBits;
using test::TemporaryDirectory;

const fs::path kFixtures = fs::path(DISSECT_TEST_DATA_DIR) / "npy";

std::string ReadBytes(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  REQUIRE(in.good());
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

void WriteBytes(const fs::path& path, const std::string& bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  REQUIRE(out.good());
}

// The little-endian bytes of some values (the test machines are little-endian, like numpy's '<' dtypes).
template <typename T>
std::string RawBytes(std::initializer_list<T> values) {
  std::string bytes(values.size() * sizeof(T), '\0');
  std::memcpy(bytes.data(), values.begin(), bytes.size());
  return bytes;
}

// A .npy file of format version `major`.0 with the given header dict and data, padded like numpy pads it.
std::string NpyBytes(const std::string& dict, const std::string& data, int major = 1) {
  const std::size_t preamble = major == 1 ? 10 : 12;
  std::string header = dict;
  while ((preamble + header.size() + 1) % 64 != 0) header.push_back(' ');
  header.push_back('\n');
  std::string bytes("\x93NUMPY", 6);
  bytes.push_back(static_cast<char>(major));
  bytes.push_back('\0');
  const int length_bytes = major == 1 ? 2 : 4;
  for (int b = 0; b < length_bytes; ++b) bytes.push_back(static_cast<char>((header.size() >> (8 * b)) & 0xff));
  return bytes + header + data;
}

// Checks the layout of a version 1.0 file as np.save writes it and returns its header text.
std::string CheckVersion1Layout(const fs::path& path, std::size_t data_bytes) {
  const std::string bytes = ReadBytes(path);
  REQUIRE(bytes.size() >= 10);
  REQUIRE(bytes.compare(0, 8, std::string("\x93NUMPY\x01\x00", 8)) == 0);
  const std::size_t header_length =
      static_cast<unsigned char>(bytes[8]) | (static_cast<std::size_t>(static_cast<unsigned char>(bytes[9])) << 8);
  REQUIRE((10 + header_length) % 64 == 0);
  REQUIRE(bytes.size() == 10 + header_length + data_bytes);
  REQUIRE(bytes[10 + header_length - 1] == '\n');
  return bytes.substr(10, header_length);
}

// --- Round trips -----------------------------------------------------------------------------------------------

TEST_CASE("WriteNpyPoints and ReadNpyPoints round-trip a dim x N matrix through a C-order (N, h) array", "[npy]") {
  const TemporaryDirectory directory;
  Eigen::MatrixXd points = test::RandomGaussianPoints(3, 7, 1);
  points(0, 0) = -0.0;
  points(1, 2) = 1e-300;
  points(2, 6) = -1e300;
  points(0, 5) = std::numeric_limits<double>::denorm_min();
  const fs::path path = directory.path() / "points.npy";
  WriteNpyPoints(path, points);
  REQUIRE(SameBits(ReadNpyPoints(path), points));
  const NpyArray array = ReadNpy(path);
  REQUIRE(array.shape == std::vector<std::int64_t>{7, 3});
  REQUIRE(array.descr == "<f8");
  REQUIRE_FALSE(array.is_integer);
  REQUIRE(array.real_values.size() == 21);
  for (int i = 0; i < 7; ++i) {
    for (int d = 0; d < 3; ++d) REQUIRE(BitPattern(array.real_values[i * 3 + d]) == BitPattern(points(d, i)));
  }
}

TEST_CASE("WriteNpyPoints accepts a block of a larger matrix (an outer stride)", "[npy]") {
  const TemporaryDirectory directory;
  const Eigen::MatrixXd big = test::RandomGaussianPoints(5, 6, 2);
  const fs::path path = directory.path() / "block.npy";
  WriteNpyPoints(path, big.block(1, 1, 3, 4));
  REQUIRE(SameBits(ReadNpyPoints(path), big.block(1, 1, 3, 4)));
  WriteNpyMatrix(path, big.block(1, 1, 3, 4));
  REQUIRE(SameBits(ReadNpyMatrix(path), big.block(1, 1, 3, 4)));
}

TEST_CASE("WriteNpyMatrix and ReadNpyMatrix round-trip a rows x cols matrix as shape (rows, cols)", "[npy]") {
  const TemporaryDirectory directory;
  const Eigen::MatrixXd matrix = test::RandomGaussianPoints(4, 6, 3);
  const fs::path path = directory.path() / "matrix.npy";
  WriteNpyMatrix(path, matrix);
  REQUIRE(SameBits(ReadNpyMatrix(path), matrix));
  const NpyArray array = ReadNpy(path);
  REQUIRE(array.shape == std::vector<std::int64_t>{4, 6});
  for (int r = 0; r < 4; ++r) {
    for (int c = 0; c < 6; ++c) REQUIRE(BitPattern(array.real_values[r * 6 + c]) == BitPattern(matrix(r, c)));
  }
  // Read as points, the same file is the transpose: (N, h) = (4, 6) gives a 6 x 4 point matrix.
  REQUIRE(SameBits(ReadNpyPoints(path), matrix.transpose()));
}

TEST_CASE("WriteNpyLabels and ReadNpyLabels round-trip labels as an int64 array of shape (N,)", "[npy]") {
  const TemporaryDirectory directory;
  Eigen::VectorXi labels(5);
  labels << 0, 3, 1, std::numeric_limits<int>::max(), 5;
  const fs::path path = directory.path() / "labels.npy";
  WriteNpyLabels(path, labels);
  REQUIRE(ReadNpyLabels(path) == labels);
  const NpyArray array = ReadNpy(path);
  REQUIRE(array.descr == "<i8");
  REQUIRE(array.is_integer);
  REQUIRE(array.shape == std::vector<std::int64_t>{5});
  REQUIRE(array.int_values == std::vector<std::int64_t>{0, 3, 1, std::numeric_limits<int>::max(), 5});
}

// --- The bytes the writer produces ----------------------------------------------------------------------------

TEST_CASE("WriteNpy: the file starts with the bytes 93 'NUMPY' 01 00 and its header length is a multiple of 64",
          "[npy]") {
  const TemporaryDirectory directory;
  const fs::path path = directory.path() / "layout.npy";
  SECTION("points (7, 3)") {
    WriteNpyPoints(path, test::RandomGaussianPoints(3, 7, 4));
    const std::string header = CheckVersion1Layout(path, 7 * 3 * 8);
    REQUIRE(header.rfind("{'descr': '<f8', 'fortran_order': False, 'shape': (7, 3), }", 0) == 0);
  }
  SECTION("a 1 x 1 matrix") {
    WriteNpyMatrix(path, Eigen::MatrixXd::Constant(1, 1, 2.0));
    const std::string header = CheckVersion1Layout(path, 8);
    REQUIRE(header.rfind("{'descr': '<f8', 'fortran_order': False, 'shape': (1, 1), }", 0) == 0);
  }
  SECTION("a 1000 x 12 matrix (longer shape text)") {
    WriteNpyMatrix(path, Eigen::MatrixXd::Zero(1000, 12));
    const std::string header = CheckVersion1Layout(path, 1000 * 12 * 8);
    REQUIRE(header.rfind("{'descr': '<f8', 'fortran_order': False, 'shape': (1000, 12), }", 0) == 0);
  }
  SECTION("labels (5,)") {
    WriteNpyLabels(path, Eigen::VectorXi::Zero(5));
    const std::string header = CheckVersion1Layout(path, 5 * 8);
    REQUIRE(header.rfind("{'descr': '<i8', 'fortran_order': False, 'shape': (5,), }", 0) == 0);
  }
}

TEST_CASE("WriteNpy: writes byte for byte the file np.save writes for the same array", "[npy]") {
  const TemporaryDirectory directory;
  Eigen::MatrixXd matrix(4, 2);
  matrix << 1.5, -2.25, 0.1, 1e-300, 3.0, -0.0, 1e300, 7.0;
  WriteNpyMatrix(directory.path() / "matrix.npy", matrix);
  REQUIRE(ReadBytes(directory.path() / "matrix.npy") == ReadBytes(kFixtures / "float64_4x2.npy"));
  Eigen::VectorXi labels(5);
  labels << 0, 4, 1, 3, 2;
  WriteNpyLabels(directory.path() / "labels.npy", labels);
  REQUIRE(ReadBytes(directory.path() / "labels.npy") == ReadBytes(kFixtures / "int64_5.npy"));
}

TEST_CASE("WriteNpy: replaces an existing file and leaves no temporary file behind", "[npy]") {
  const TemporaryDirectory directory;
  const fs::path path = directory.path() / "points.npy";
  WriteNpyPoints(path, Eigen::MatrixXd::Ones(2, 3));
  WriteNpyPoints(path, Eigen::MatrixXd::Zero(4, 5));
  REQUIRE(ReadNpyPoints(path).rows() == 4);
  int entries = 0;
  for (const auto& entry : fs::directory_iterator(directory.path())) {
    CAPTURE(entry.path().string());
    REQUIRE(entry.path().filename() == "points.npy");
    ++entries;
  }
  REQUIRE(entries == 1);
}

TEST_CASE("WriteNpy: an unwritable path throws std::runtime_error naming the path", "[npy]") {
  const TemporaryDirectory directory;
  const fs::path path = directory.path() / "no_such_folder" / "points.npy";
  REQUIRE_THROWS_MATCHES(WriteNpyPoints(path, Eigen::MatrixXd::Ones(2, 2)),
                         std::runtime_error,
                         MessageContains("WriteNpy(): " + path.string() + ": cannot open"));
  REQUIRE_THROWS_MATCHES(
      WriteNpyMatrix(path, Eigen::MatrixXd::Ones(2, 2)), std::runtime_error, MessageContains(path.string()));
  REQUIRE_THROWS_MATCHES(
      WriteNpyLabels(path, Eigen::VectorXi::Zero(2)), std::runtime_error, MessageContains(path.string()));
  REQUIRE_FALSE(fs::exists(path));
}

// --- Files numpy wrote (tests/data/npy/README.md) ---------------------------------------------------------------

TEST_CASE("ReadNpy: reads numpy's float32 (5, 3) file exactly", "[npy]") {
  const fs::path path = kFixtures / "float32_5x3.npy";
  const NpyArray array = ReadNpy(path);
  REQUIRE(array.descr == "<f4");
  REQUIRE(array.shape == std::vector<std::int64_t>{5, 3});
  const Eigen::MatrixXd points = ReadNpyPoints(path);  // 3 x 5
  const Eigen::MatrixXd matrix = ReadNpyMatrix(path);  // 5 x 3
  REQUIRE(points.rows() == 3);
  REQUIRE(points.cols() == 5);
  for (int i = 0; i < 5; ++i) {
    for (int j = 0; j < 3; ++j) {
      const double expected = (i * 3 + j) * 0.5 - 2.0;
      REQUIRE(points(j, i) == Approx(expected).margin(0.0));
      REQUIRE(matrix(i, j) == Approx(expected).margin(0.0));
      REQUIRE(array.real_values[i * 3 + j] == Approx(expected).margin(0.0));
    }
  }
}

TEST_CASE("ReadNpy: reads numpy's float64 (4, 2) file exactly, signed zero included", "[npy]") {
  const Eigen::MatrixXd matrix = ReadNpyMatrix(kFixtures / "float64_4x2.npy");
  REQUIRE(matrix.rows() == 4);
  REQUIRE(matrix.cols() == 2);
  const double expected[4][2] = {{1.5, -2.25}, {0.1, 1e-300}, {3.0, -0.0}, {1e300, 7.0}};
  for (int r = 0; r < 4; ++r) {
    for (int c = 0; c < 2; ++c) REQUIRE(BitPattern(matrix(r, c)) == BitPattern(expected[r][c]));
  }
  REQUIRE(std::signbit(matrix(2, 1)));
}

TEST_CASE("ReadNpy: reads numpy's big-endian '>f8' file", "[npy]") {
  const fs::path path = kFixtures / "float64_big_endian_2x2.npy";
  REQUIRE(ReadNpy(path).descr == ">f8");
  Eigen::MatrixXd expected(2, 2);
  expected << 1.0, -2.5, 3.25, 1e10;
  REQUIRE(SameBits(ReadNpyMatrix(path), expected));
}

TEST_CASE("ReadNpy: reads numpy's format version 2.0 file", "[npy]") {
  const fs::path path = kFixtures / "float64_version2_3x2.npy";
  REQUIRE(ReadBytes(path)[6] == '\x02');
  Eigen::MatrixXd expected(3, 2);
  expected << 0.5, -1.0, 2.0, 0.25, -8.0, 1e-3;
  REQUIRE(SameBits(ReadNpyMatrix(path), expected));
}

TEST_CASE("ReadNpyLabels: reads numpy's int32, int64 and uint8 label files", "[npy]") {
  Eigen::VectorXi int32_labels(5), int64_labels(5), uint8_labels(5);
  int32_labels << 0, 1, 2, 1, std::numeric_limits<int>::max();
  int64_labels << 0, 4, 1, 3, 2;
  uint8_labels << 0, 1, 2, 255, 7;
  REQUIRE(ReadNpyLabels(kFixtures / "int32_5.npy") == int32_labels);
  REQUIRE(ReadNpyLabels(kFixtures / "int64_5.npy") == int64_labels);
  REQUIRE(ReadNpyLabels(kFixtures / "uint8_5.npy") == uint8_labels);
  REQUIRE(ReadNpy(kFixtures / "int32_5.npy").descr == "<i4");
  REQUIRE(ReadNpy(kFixtures / "uint8_5.npy").descr == "|u1");
  REQUIRE(ReadNpy(kFixtures / "uint8_5.npy").is_integer);
}

TEST_CASE("ReadNpy: reads numpy's 3-D int64 array, which points and labels reject", "[npy]") {
  const fs::path path = kFixtures / "int64_2x3x4.npy";
  const NpyArray array = ReadNpy(path);
  REQUIRE(array.shape == std::vector<std::int64_t>{2, 3, 4});
  REQUIRE(array.int_values.size() == 24);
  for (std::size_t i = 0; i < 24; ++i) REQUIRE(array.int_values[i] == static_cast<std::int64_t>(i));
  REQUIRE_THROWS_MATCHES(
      ReadNpyLabels(path),
      std::runtime_error,
      Catch::Message("ReadNpyLabels(): " + path.string() + ": expected a 1-D array of labels, got 3 dimensions"));
  REQUIRE_THROWS_MATCHES(
      ReadNpyPoints(path),
      std::runtime_error,
      Catch::Message("ReadNpyPoints(): " + path.string() + ": expected a float32 or float64 array, got dtype '<i8'"));
}

TEST_CASE("ReadNpy: a float file numpy wrote with a NaN is read, and rejected as points naming row and column",
          "[npy]") {
  const fs::path path = kFixtures / "float64_nan_3x2.npy";
  const NpyArray array = ReadNpy(path);
  REQUIRE(array.real_values.size() == 6);
  REQUIRE(std::isnan(array.real_values[2]));
  REQUIRE_THROWS_MATCHES(
      ReadNpyPoints(path),
      std::runtime_error,
      Catch::Message("ReadNpyPoints(): " + path.string() + ": non-finite value nan at row 1, column 0"));
  REQUIRE_THROWS_MATCHES(
      ReadNpyMatrix(path), std::runtime_error, MessageContains("non-finite value nan at row 1, column 0"));
  REQUIRE_THROWS_MATCHES(
      ReadNpyLabels(path), std::runtime_error, MessageContains("expected an integer array, got dtype '<f8'"));
}

TEST_CASE("ReadNpyLabels: a negative label numpy wrote is rejected naming its index", "[npy]") {
  const fs::path path = kFixtures / "int64_negative_label_4.npy";
  REQUIRE(ReadNpy(path).int_values == std::vector<std::int64_t>{0, 1, -1, 2});
  REQUIRE_THROWS_MATCHES(ReadNpyLabels(path),
                         std::runtime_error,
                         Catch::Message("ReadNpyLabels(): " + path.string() +
                                        ": label -1 at index 2 is out of range (expected 0 <= label < 2^31)"));
}

TEST_CASE("ReadNpy: numpy's Fortran-order file is rejected with advice", "[npy]") {
  const fs::path path = kFixtures / "float64_fortran_3x2.npy";
  REQUIRE_THROWS_MATCHES(ReadNpy(path),
                         std::runtime_error,
                         MessageContains("ReadNpy(): " + path.string() + ": Fortran-order arrays are not supported"));
  REQUIRE_THROWS_MATCHES(ReadNpyPoints(path), std::runtime_error, MessageContains("np.ascontiguousarray"));
}

TEST_CASE("ReadNpy: numpy's complex128 file is rejected as an unsupported dtype", "[npy]") {
  const fs::path path = kFixtures / "complex128_3.npy";
  REQUIRE_THROWS_MATCHES(ReadNpy(path),
                         std::runtime_error,
                         Catch::Message("ReadNpy(): " + path.string() +
                                        ": unsupported dtype '<c16' (expected float32/float64, or integers/bool for "
                                        "labels)"));
}

// --- Hand-made files: dtypes and shapes numpy can write but the fixtures do not cover ---------------------------

TEST_CASE("ReadNpy: sign-extends small signed integers, byte-swaps big-endian ones and reads bool", "[npy]") {
  const TemporaryDirectory directory;
  const fs::path path = directory.path() / "a.npy";
  WriteBytes(
      path,
      NpyBytes("{'descr': '<i2', 'fortran_order': False, 'shape': (3,), }", RawBytes<std::int16_t>({-2, 5, -32768})));
  REQUIRE(ReadNpy(path).int_values == std::vector<std::int64_t>{-2, 5, -32768});
  WriteBytes(path,
             NpyBytes("{'descr': '>i4', 'fortran_order': False, 'shape': (2,), }",
                      std::string("\xff\xff\xff\xff\x00\x00\x01\x02", 8)));
  REQUIRE(ReadNpy(path).int_values == std::vector<std::int64_t>{-1, 258});
  WriteBytes(path,
             NpyBytes("{'descr': '|b1', 'fortran_order': False, 'shape': (3,), }", std::string("\x01\x00\x01", 3)));
  REQUIRE(ReadNpyLabels(path) == Eigen::Vector3i(1, 0, 1));
}

TEST_CASE("ReadNpy: reads a format version 3.0 file and a Python 2 header with long suffixes", "[npy]") {
  const TemporaryDirectory directory;
  const fs::path path = directory.path() / "a.npy";
  WriteBytes(path, NpyBytes("{'descr': '<f8', 'fortran_order': False, 'shape': (1, 2), }", RawBytes({1.0, -3.0}), 3));
  REQUIRE(SameBits(ReadNpyMatrix(path), Eigen::RowVector2d(1.0, -3.0)));
  WriteBytes(path, NpyBytes("{'descr': '<f8', 'fortran_order': False, 'shape': (2L, 1L), }", RawBytes({1.0, -3.0})));
  REQUIRE(SameBits(ReadNpyMatrix(path), Eigen::Vector2d(1.0, -3.0)));
}

TEST_CASE("ReadNpy: float16 and other unsupported dtypes are rejected", "[npy]") {
  const TemporaryDirectory directory;
  const fs::path path = directory.path() / "a.npy";
  for (const std::string descr : {"<f2", "<U3", "|O", "<c8", "<f16"}) {
    CAPTURE(descr);
    WriteBytes(path, NpyBytes("{'descr': '" + descr + "', 'fortran_order': False, 'shape': (0,), }", ""));
    REQUIRE_THROWS_MATCHES(ReadNpy(path), std::runtime_error, MessageContains("unsupported dtype '" + descr + "'"));
  }
  WriteBytes(path, NpyBytes("{'descr': [('a', '<f8')], 'fortran_order': False, 'shape': (0,), }", ""));
  REQUIRE_THROWS_MATCHES(ReadNpy(path), std::runtime_error, MessageContains("structured or nested dtypes"));
}

TEST_CASE("ReadNpyPoints, ReadNpyMatrix and ReadNpyLabels reject other ranks and empty arrays", "[npy]") {
  const TemporaryDirectory directory;
  const fs::path path = directory.path() / "a.npy";
  WriteBytes(path, NpyBytes("{'descr': '<f8', 'fortran_order': False, 'shape': (3,), }", RawBytes({1.0, 2.0, 3.0})));
  REQUIRE_THROWS_MATCHES(
      ReadNpyPoints(path), std::runtime_error, MessageContains("expected a 2-D array, got 1 dimensions"));
  WriteBytes(path, NpyBytes("{'descr': '<f8', 'fortran_order': False, 'shape': (), }", RawBytes({1.0})));
  REQUIRE(ReadNpy(path).real_values.size() == 1);
  REQUIRE_THROWS_MATCHES(
      ReadNpyMatrix(path), std::runtime_error, MessageContains("expected a 2-D array, got 0 dimensions"));
  WriteBytes(path, NpyBytes("{'descr': '<f8', 'fortran_order': False, 'shape': (0, 3), }", ""));
  REQUIRE_THROWS_MATCHES(
      ReadNpyPoints(path), std::runtime_error, MessageContains("expected a non-empty array, got shape (0, 3)"));
  WriteBytes(path, NpyBytes("{'descr': '<i8', 'fortran_order': False, 'shape': (0,), }", ""));
  REQUIRE_THROWS_MATCHES(
      ReadNpyLabels(path), std::runtime_error, MessageContains("expected at least one label, got none"));
  WriteBytes(path,
             NpyBytes("{'descr': '<u8', 'fortran_order': False, 'shape': (1,), }",
                      RawBytes<std::uint64_t>({std::numeric_limits<std::uint64_t>::max()})));
  REQUIRE_THROWS_MATCHES(ReadNpyLabels(path), std::runtime_error, MessageContains("is out of range"));
  WriteBytes(path,
             NpyBytes("{'descr': '<i8', 'fortran_order': False, 'shape': (1,), }",
                      RawBytes<std::int64_t>({std::int64_t{1} << 31})));
  REQUIRE_THROWS_MATCHES(
      ReadNpyLabels(path), std::runtime_error, MessageContains("label 2147483648 at index 0 is out of range"));
}

// --- Missing and corrupt files ----------------------------------------------------------------------------------

TEST_CASE("ReadNpy: a missing file throws std::runtime_error whose message contains the path", "[npy]") {
  const TemporaryDirectory directory;
  const fs::path path = directory.path() / "missing.npy";
  REQUIRE_THROWS_MATCHES(
      ReadNpy(path), std::runtime_error, Catch::Message("ReadNpy(): " + path.string() + ": no such file"));
  REQUIRE_THROWS_MATCHES(ReadNpyPoints(path), std::runtime_error, MessageContains(path.string()));
  REQUIRE_THROWS_MATCHES(ReadNpyMatrix(path), std::runtime_error, MessageContains(path.string()));
  REQUIRE_THROWS_MATCHES(ReadNpyLabels(path), std::runtime_error, MessageContains(path.string()));
}

TEST_CASE("ReadNpy: a directory instead of a file throws naming the path", "[npy]") {
  const TemporaryDirectory directory;
  REQUIRE_THROWS_MATCHES(
      ReadNpy(directory.path()),
      std::runtime_error,
      Catch::Message("ReadNpy(): " + directory.path().string() + ": is a directory, expected a .npy file"));
}

TEST_CASE("ReadNpy: truncated files throw naming the path and the problem", "[npy]") {
  const TemporaryDirectory directory;
  const std::string bytes = ReadBytes(kFixtures / "float64_4x2.npy");  // 128-byte header + 64 bytes of data
  REQUIRE(bytes.size() == 192);
  const fs::path path = directory.path() / "truncated.npy";
  SECTION("in the data") {
    WriteBytes(path, bytes.substr(0, bytes.size() - 5));
    REQUIRE_THROWS_MATCHES(ReadNpy(path),
                           std::runtime_error,
                           Catch::Message("ReadNpy(): " + path.string() +
                                          ": truncated: the shape needs 64 bytes of data, the file has 59"));
    REQUIRE_THROWS_MATCHES(ReadNpyMatrix(path), std::runtime_error, MessageContains("truncated"));
  }
  SECTION("with no data at all") {
    WriteBytes(path, bytes.substr(0, 128));
    REQUIRE_THROWS_MATCHES(ReadNpy(path),
                           std::runtime_error,
                           MessageContains("truncated: the shape needs 64 bytes of data, the file has 0"));
  }
  SECTION("in the header") {
    WriteBytes(path, bytes.substr(0, 40));
    REQUIRE_THROWS_MATCHES(ReadNpy(path),
                           std::runtime_error,
                           Catch::Message("ReadNpy(): " + path.string() + ": truncated or corrupt header"));
  }
  SECTION("in the preamble") {
    WriteBytes(path, bytes.substr(0, 7));
    REQUIRE_THROWS_MATCHES(ReadNpy(path),
                           std::runtime_error,
                           Catch::Message("ReadNpy(): " + path.string() + ": too short to be a .npy file"));
  }
  SECTION("an empty file") {
    WriteBytes(path, "");
    REQUIRE_THROWS_MATCHES(ReadNpy(path), std::runtime_error, MessageContains("too short to be a .npy file"));
  }
}

TEST_CASE("ReadNpy: trailing bytes after the data throw naming the path", "[npy]") {
  const TemporaryDirectory directory;
  const fs::path path = directory.path() / "trailing.npy";
  WriteBytes(path, ReadBytes(kFixtures / "float64_4x2.npy") + "xyz");
  REQUIRE_THROWS_MATCHES(
      ReadNpy(path),
      std::runtime_error,
      Catch::Message("ReadNpy(): " + path.string() + ": corrupt: 3 bytes of data after the 64 that the shape needs"));
}

TEST_CASE("ReadNpy: a bad magic string throws naming the path", "[npy]") {
  const TemporaryDirectory directory;
  const fs::path path = directory.path() / "magic.npy";
  std::string bytes = ReadBytes(kFixtures / "float64_4x2.npy");
  bytes[1] = 'X';
  WriteBytes(path, bytes);
  REQUIRE_THROWS_MATCHES(ReadNpy(path),
                         std::runtime_error,
                         Catch::Message("ReadNpy(): " + path.string() + ": not a .npy file (bad magic string)"));
  WriteBytes(path, "just some text, long enough to pass the size check");
  REQUIRE_THROWS_MATCHES(ReadNpy(path), std::runtime_error, MessageContains("bad magic string"));
}

TEST_CASE("ReadNpy: an unsupported format version throws naming it", "[npy]") {
  const TemporaryDirectory directory;
  const fs::path path = directory.path() / "version.npy";
  std::string bytes = ReadBytes(kFixtures / "float64_4x2.npy");
  bytes[6] = '\x04';
  WriteBytes(path, bytes);
  REQUIRE_THROWS_MATCHES(ReadNpy(path),
                         std::runtime_error,
                         Catch::Message("ReadNpy(): " + path.string() + ": unsupported .npy format version 4.0"));
}

TEST_CASE("ReadNpy: a garbage header throws 'corrupt header' naming the path and the problem", "[npy]") {
  const TemporaryDirectory directory;
  const fs::path path = directory.path() / "header.npy";
  struct Case {
    std::string dict;
    std::string problem;
  };
  for (const Case& c :
       {Case{"this is not a python dict", "corrupt header: header is not a dict"},
        Case{"{'descr': '<f8', 'fortran_order': False, 'shape': (2, 2), 'extra': 1}",
             "corrupt header: unexpected key 'extra' in the header"},
        Case{"{'descr': '<f8', 'fortran_order': False}",
             "corrupt header: header lacks one of descr, fortran_order, shape"},
        Case{"{'descr': '<f8', 'fortran_order': Maybe, 'shape': (2, 2)}",
             "corrupt header: expected True or False for fortran_order"},
        Case{"{'descr': '<f8', 'fortran_order': False, 'shape': (2, -2)}",
             "corrupt header: expected a tuple of non-negative integers for shape"},
        Case{"{'descr' '<f8'}", "corrupt header: expected ':' after key 'descr'"},
        Case{"{descr: '<f8'}", "corrupt header: expected a quoted key in the header"},
        Case{"{'descr': '<f8' 'shape': (2, 2)}", "corrupt header: expected ',' or '}' in the header"}}) {
    CAPTURE(c.dict);
    WriteBytes(path, NpyBytes(c.dict, RawBytes({1.0, 2.0, 3.0, 4.0})));
    REQUIRE_THROWS_MATCHES(
        ReadNpy(path), std::runtime_error, Catch::Message("ReadNpy(): " + path.string() + ": " + c.problem));
  }
}

TEST_CASE("ReadNpy: a header length beyond the end of the file throws", "[npy]") {
  const TemporaryDirectory directory;
  const fs::path path = directory.path() / "length.npy";
  std::string bytes = ReadBytes(kFixtures / "float64_4x2.npy");
  bytes[8] = '\xff';
  bytes[9] = '\x7f';
  WriteBytes(path, bytes);
  REQUIRE_THROWS_MATCHES(ReadNpy(path), std::runtime_error, MessageContains("truncated or corrupt header"));
}

// --- NpyRowReader: the same files, read in blocks of rows ---------------------------------------------------------

TEST_CASE("NpyRowReader: blocks and single rows of numpy's files equal the columns of ReadNpyPoints", "[npy]") {
  for (const char* name :
       {"float32_5x3.npy", "float64_4x2.npy", "float64_big_endian_2x2.npy", "float64_version2_3x2.npy"}) {
    CAPTURE(name);
    const fs::path path = kFixtures / name;
    const Eigen::MatrixXd points = ReadNpyPoints(path);
    NpyRowReader reader(path);
    REQUIRE(reader.num_rows() == points.cols());
    REQUIRE(reader.num_cols() == points.rows());
    REQUIRE(reader.descr() == ReadNpy(path).descr);
    REQUIRE(reader.path() == path);
    REQUIRE(SameBits(reader.ReadRows(0, reader.num_rows()), points));
    Eigen::MatrixXd block;
    for (Eigen::Index first = 0; first < reader.num_rows(); first += 2) {
      const Eigen::Index count = std::min<Eigen::Index>(2, reader.num_rows() - first);
      reader.ReadRows(first, count, &block);
      REQUIRE(SameBits(block, points.middleCols(first, count)));
    }
    // Random access, backwards, after the blocks.
    for (Eigen::Index row = reader.num_rows() - 1; row >= 0; --row) {
      REQUIRE(SameBits(reader.ReadRow(row), points.col(row)));
    }
    REQUIRE(reader.ReadRows(1, 0).cols() == 0);
  }
  REQUIRE(NpyRowReader(kFixtures / "float32_5x3.npy").descr() == "<f4");
}

TEST_CASE("NpyRowReader: reads a file written by WriteNpyPoints in blocks that straddle any boundary", "[npy]") {
  const TemporaryDirectory directory;
  const fs::path path = directory.path() / "points.npy";
  const Eigen::MatrixXd points = test::RandomGaussianPoints(6, 37, 5);
  WriteNpyPoints(path, points);
  NpyRowReader reader(path);
  Eigen::MatrixXd block;
  for (Eigen::Index first = 0; first < 37; first += 5) {
    reader.ReadRows(first, std::min<Eigen::Index>(5, 37 - first), &block);
    REQUIRE(SameBits(block, points.middleCols(first, block.cols())));
  }
}

TEST_CASE("NpyRowReader: a NaN is reported when its row is read, naming the row and column", "[npy]") {
  const fs::path path = kFixtures / "float64_nan_3x2.npy";
  NpyRowReader reader(path);  // the header is fine
  REQUIRE(reader.ReadRow(0)[1] == 2.0);
  REQUIRE(reader.ReadRow(2)[0] == 5.0);
  REQUIRE_THROWS_MATCHES(
      reader.ReadRows(0, 3),
      std::runtime_error,
      Catch::Message("NpyRowReader::ReadRows(): " + path.string() + ": non-finite value nan at row 1, column 0"));
  REQUIRE_THROWS_MATCHES(reader.ReadRow(1), std::runtime_error, MessageContains("at row 1, column 0"));
}

TEST_CASE("NpyRowReader: rejects what ReadNpyPoints rejects, naming the path and the problem", "[npy]") {
  const TemporaryDirectory directory;
  const fs::path missing = directory.path() / "missing.npy";
  REQUIRE_THROWS_MATCHES(NpyRowReader(missing),
                         std::runtime_error,
                         Catch::Message("NpyRowReader(): " + missing.string() + ": no such file"));
  REQUIRE_THROWS_MATCHES(NpyRowReader(kFixtures / "int64_2x3x4.npy"),
                         std::runtime_error,
                         MessageContains("expected a float32 or float64 array, got dtype '<i8'"));
  REQUIRE_THROWS_MATCHES(
      NpyRowReader(kFixtures / "float64_fortran_3x2.npy"), std::runtime_error, MessageContains("Fortran-order"));
  REQUIRE_THROWS_MATCHES(
      NpyRowReader(kFixtures / "complex128_3.npy"), std::runtime_error, MessageContains("unsupported dtype '<c16'"));
  const fs::path path = directory.path() / "bad.npy";
  WriteBytes(path, NpyBytes("{'descr': '<f8', 'fortran_order': False, 'shape': (3,), }", RawBytes({1.0, 2.0, 3.0})));
  REQUIRE_THROWS_MATCHES(
      NpyRowReader(path), std::runtime_error, MessageContains("expected a 2-D array, got 1 dimensions"));
  WriteBytes(path, NpyBytes("{'descr': '<f8', 'fortran_order': False, 'shape': (0, 3), }", ""));
  REQUIRE_THROWS_MATCHES(
      NpyRowReader(path), std::runtime_error, MessageContains("expected a non-empty array, got shape (0, 3)"));
  const std::string bytes = ReadBytes(kFixtures / "float64_4x2.npy");
  WriteBytes(path, bytes.substr(0, bytes.size() - 5));
  REQUIRE_THROWS_MATCHES(NpyRowReader(path),
                         std::runtime_error,
                         Catch::Message("NpyRowReader(): " + path.string() +
                                        ": truncated: the shape needs 64 bytes of data, the file has 59"));
  WriteBytes(path, bytes + "xyz");
  REQUIRE_THROWS_MATCHES(NpyRowReader(path), std::runtime_error, MessageContains("corrupt: 3 bytes of data after"));
  WriteBytes(path, "not a numpy file at all, but long enough");
  REQUIRE_THROWS_MATCHES(NpyRowReader(path), std::runtime_error, MessageContains("bad magic string"));
}

TEST_CASE("NpyRowReader: a range outside the rows throws std::invalid_argument", "[npy]") {
  NpyRowReader reader(kFixtures / "float64_4x2.npy");
  REQUIRE_THROWS_MATCHES(reader.ReadRows(3, 2),
                         std::invalid_argument,
                         Catch::Message("NpyRowReader::ReadRows(): expected rows [first, first + count) within [0, 4), "
                                        "got first = 3, count = 2"));
  REQUIRE_THROWS_AS(reader.ReadRows(-1, 1), std::invalid_argument);
  REQUIRE_THROWS_AS(reader.ReadRows(0, 1, nullptr), std::invalid_argument);
  REQUIRE_THROWS_MATCHES(reader.ReadRow(4), std::invalid_argument, MessageContains("expected a row in [0, 4), got 4"));
  REQUIRE(reader.ReadRow(3)[1] == 7.0);  // still usable after the errors
}

}  // namespace
}  // namespace dissect::theory
