#pragma once
// Labelled image data sets read from the standard files (MNIST / Fashion-MNIST IDX, CIFAR-10/100 binary), offline,
// from a directory the user names. Torch-free: the pixels stay uint8 until a batch is built (data_pipeline.hpp).

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

namespace dissect::train {

// N images of C x H x W uint8 pixels with labels in [0, num_classes).
struct ImageSet {
  std::string name;                  // e.g. "fashion-mnist/train"
  std::int64_t num_images = 0;       // N
  std::int64_t channels = 0;         // C
  std::int64_t height = 0;           // H
  std::int64_t width = 0;            // W
  int num_classes = 0;               // K
  std::vector<std::uint8_t> pixels;  // N*C*H*W values, image-major, then channel, row, column (NCHW)
  std::vector<std::int64_t> labels;  // N values in [0, K)

  std::int64_t ImageSize() const { return channels * height * width; }
};

struct DataSplit {
  ImageSet train;
  ImageSet test;
};

// Reads an IDX image file (magic 0x00000803, N x H x W uint8) and its IDX label file (magic 0x00000801, N uint8),
// each plain or gzip-compressed (detected from the content, not the name). Labels must lie in [0, num_classes).
// Throws std::runtime_error naming the file and the problem: missing or unreadable, wrong magic, truncated or
// trailing data, counts that disagree between the two files, a label out of range, a corrupt gzip stream.
ImageSet ReadIdx(const std::filesystem::path& images_path,
                 const std::filesystem::path& labels_path,
                 int num_classes,
                 const std::string& name);

// The four standard MNIST-layout files in `directory`: {train,t10k}-{images-idx3,labels-idx1}-ubyte, each either
// plain or with ".gz" (the plain file wins when both exist). 10 classes. Throws std::runtime_error naming a missing
// file and the names it looked for.
DataSplit LoadIdxDirectory(const std::filesystem::path& directory, const std::string& name);

// CIFAR-10 binary version: data_batch_1.bin .. data_batch_5.bin and test_batch.bin in `directory`; records of
// 1 label byte + 3072 pixel bytes (3 x 32 x 32); the file sizes must be whole records (10,000 per file in the real
// set, any positive count accepted). Throws std::runtime_error naming the file and the problem.
DataSplit LoadCifar10(const std::filesystem::path& directory);

// CIFAR-100 binary version: train.bin and test.bin; records of coarse label, fine label, 3072 pixels. Uses the
// 100 fine labels, or the 20 coarse ones when `coarse_labels`. Same errors as LoadCifar10.
DataSplit LoadCifar100(const std::filesystem::path& directory, bool coarse_labels = false);

// Names accepted by LoadDataset.
const std::vector<std::string>& DatasetNames();  // fashion-mnist, mnist, cifar10, cifar100

// Loads a data set by name from `directory`; an empty directory means the default: Debian's
// dataset-fashion-mnist package (/usr/share/datasets/fashion-mnist) for fashion-mnist, none for the others
// (std::invalid_argument asking for --data-dir). Throws std::invalid_argument for an unknown name.
DataSplit LoadDataset(const std::string& name, const std::filesystem::path& directory);

// The default directory of a data set, empty when it has none.
std::filesystem::path DefaultDataDirectory(const std::string& name);

}  // namespace dissect::train
