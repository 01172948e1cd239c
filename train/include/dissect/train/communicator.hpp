#pragma once
// Data-parallel training over torch's own distributed backend, c10d: one process per rank, a TCPStore at rank 0 for
// the rendezvous, and ProcessGroupGloo (CPU tensors) or ProcessGroupNCCL (CUDA tensors, where the LibTorch build has
// NCCL). The collectives here are the few the trainer needs; each one either completes on every rank or throws on
// every surviving rank (a peer that exits breaks its connections at once; one that hangs is given up after
// `timeout_seconds`).

#include <torch/torch.h>

#include <cstdint>
#include <memory>
#include <string>

namespace dissect::train {

struct DistributedOptions {
  // Number of processes W taking part (1: no process group, every collective is the identity).
  int world_size = 1;
  // This process's rank r in [0, W). Rank 0 hosts the rendezvous store and writes the run's files.
  int rank = 0;
  // Host name or address of rank 0 as the other ranks reach it, and the port of its store.
  std::string master_address = "127.0.0.1";
  int master_port = 29500;
  // A rank waits this long for the others (at the rendezvous and in every collective) before failing.
  double timeout_seconds = 120.0;
  // Gloo: the network interface whose address this rank uses (e.g. "eth0"); empty: the loopback address when the
  // master is on loopback, else the address this machine's host name resolves to.
  std::string network_interface;
  // "auto" (NCCL for a CUDA device where the LibTorch build has it, Gloo otherwise), "gloo" or "nccl".
  std::string backend = "auto";

  // Throws std::invalid_argument naming the first bad field (W >= 1, 0 <= r < W, port in [1, 65535], timeout > 0).
  void Validate() const;
};

// Parses "HOST:PORT" (also "[v6-address]:PORT") into master_address and master_port. Throws std::invalid_argument
// naming the text when it has no port or the port is not a number in [1, 65535].
void ParseMaster(const std::string& text, DistributedOptions* options);

// One process's membership in a group of W ranks. A communicator of world size 1 has no process group: its
// collectives return their input.
class Communicator {
 public:
  // Joins the group (blocks until all W ranks have joined, at most timeout_seconds). `device` picks the backend
  // under "auto". Throws std::invalid_argument for bad options or a backend this build lacks, std::runtime_error
  // when the rendezvous fails (the message names the master address and port).
  static std::shared_ptr<Communicator> Create(const DistributedOptions& options, torch::Device device);
  // The group of one process.
  static std::shared_ptr<Communicator> Single();

  ~Communicator();
  Communicator(const Communicator&) = delete;
  Communicator& operator=(const Communicator&) = delete;

  int rank() const { return rank_; }
  int world_size() const { return world_size_; }
  bool distributed() const { return world_size_ > 1; }
  std::string backend() const { return backend_; }

  // In place: every rank's tensor becomes the elementwise sum over the ranks (same shape and dtype everywhere).
  void AllReduceSum(torch::Tensor& tensor);
  // The rank-ordered concatenation along dimension 0 of every rank's `local` (equal shapes on every rank).
  torch::Tensor AllGather(const torch::Tensor& local);
  // In place: every rank's tensor becomes rank `root`'s.
  void Broadcast(torch::Tensor& tensor, int root = 0);
  // Rank `root`'s bytes on every rank (the other ranks' argument is ignored).
  std::string BroadcastBytes(const std::string& bytes, int root = 0);
  // True on every rank when `flag` is true on any rank (e.g. a signal received by one rank stops all).
  bool AnyTrue(bool flag);
  // Waits until every rank has arrived.
  void Barrier();

  // Every collective throws std::runtime_error naming this rank, the collective and the backend's error when a peer
  // is lost or the timeout passes; the communicator is unusable afterwards.
  struct Impl;

 private:
  Communicator() = default;
  int rank_ = 0;
  int world_size_ = 1;
  std::string backend_ = "none";
  std::unique_ptr<Impl> impl_;
};

// Autograd-aware collectives for a loss that spans the ranks. The total objective is the sum over ranks of each
// rank's loss, and model gradients are summed over ranks (see DataParallelLoss in data_parallel.hpp).
//
// The rank-ordered concatenation of every rank's B_r x ... tensor (equal shapes); backward sums the incoming
// gradients over the ranks and returns this rank's rows, so each embedding gets the gradient of the total objective.
torch::Tensor AllGatherWithGradient(const torch::Tensor& local, Communicator& communicator);
// The sum over ranks; backward sums the incoming gradients over the ranks (used by synchronized batch norm).
torch::Tensor AllReduceSumWithGradient(const torch::Tensor& local, Communicator& communicator);

}  // namespace dissect::train
