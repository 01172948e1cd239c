// The compiled half of `import dissect` (the module dissect._dissect): the exact tiled SC loss and its gradient on
// tensors, the simplex, the bounds and the geometry report, each a thin call into theory/, train/ and verify/. The
// Python half (python/dissect/__init__.py) checks arguments, reshapes views and wraps the loss in a
// torch.autograd.Function. C++ std::invalid_argument and std::domain_error reach Python as ValueError.

#include <fmt/format.h>
#include <pybind11/eigen.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>
#include <torch/extension.h>

#include <cstdint>
#include <dissect/theory/bounds.hpp>
#include <dissect/theory/npy.hpp>
#include <dissect/theory/regular_simplex.hpp>
#include <dissect/theory/representation_geometry.hpp>
#include <dissect/theory/supcon_loss.hpp>
#include <dissect/theory/temperature.hpp>
#include <dissect/train/tiled_supcon_loss.hpp>
#include <optional>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "geometry_report.hpp"

namespace py = pybind11;

namespace dissect::python {
namespace {

// The SC options with the command line's checks and wording (dissect loss): the temperature, the reduction's name
// and the base temperature.
theory::SupConOptions SupConOptionsOf(double temperature,
                                      const std::string& reduction,
                                      std::optional<double> base_temperature,
                                      double memory_bytes) {
  theory::SupConOptions options;
  options.temperature = theory::Temperature::FromTemperature(temperature);
  options.reduction = theory::ParseSupConReduction(reduction);
  options.base_temperature = base_temperature;
  options.memory_budget_bytes = memory_bytes;
  options.Validate();
  return options;
}

// The loss (a 0-dim tensor of the rows' dtype) and, when with_gradient, d loss / d rows; no autograd graph.
std::pair<torch::Tensor, std::optional<torch::Tensor>> SupConLossAndGradient(const torch::Tensor& rows,
                                                                             const torch::Tensor& labels,
                                                                             double temperature,
                                                                             const std::string& reduction,
                                                                             std::optional<double> base_temperature,
                                                                             double memory_bytes,
                                                                             bool with_gradient) {
  const theory::SupConOptions checked = SupConOptionsOf(temperature, reduction, base_temperature, memory_bytes);
  train::TiledSupConOptions options;
  options.temperature = checked.temperature;
  options.reduction = checked.reduction;
  options.base_temperature = checked.base_temperature;
  options.memory_budget_bytes = checked.memory_budget_bytes;
  auto [value, gradient] = [&] {
    py::gil_scoped_release release;  // long computations leave other Python threads running
    return train::TiledSupConLossAndGradient(rows, labels, options, with_gradient);
  }();
  if (!with_gradient) return {value, std::nullopt};
  return {value, gradient};
}

// K x h: the vertices as rows, as Python keeps points.
Eigen::MatrixXd RegularSimplexRows(int num_classes, int dim, double radius, std::optional<std::uint64_t> seed) {
  return theory::RegularSimplex(num_classes, dim, radius, seed).transpose();
}

py::dict MultisetBound(int num_classes, int per_class, int batch_size, double temperature) {
  const theory::SupConMultisetBoundResult r = theory::SupConMultisetBound(
      num_classes, per_class, batch_size, theory::Temperature::FromTemperature(temperature));
  py::dict out;
  out["value"] = r.value;
  out["log_value"] = r.log_value;
  out["per_anchor_mean"] = r.per_anchor_mean;
  out["excess"] = r.excess;
  out["log_num_batches"] = r.log_num_batches;
  out["num_batches"] = r.num_batches;
  return out;
}

// The report of `dissect geometry --json` as a JSON text. embeddings: (N, h) float64 in C order; labels: N int64;
// weights: (K, h) or None.
std::string GeometryJson(py::array_t<double, py::array::c_style> embeddings,
                         py::array_t<std::int64_t, py::array::c_style> labels,
                         std::optional<Eigen::MatrixXd> weights,
                         double temperature,
                         int num_classes,
                         int batch_size,
                         int num_batches,
                         std::uint64_t seed,
                         long long chunk_size,
                         long long uniformity_limit,
                         long long full_batch_limit,
                         double pseudo_inverse_cutoff,
                         const std::string& global_mean,
                         const std::string& embeddings_name,
                         const std::string& dtype) {
  if (embeddings.ndim() != 2) {
    throw std::invalid_argument(fmt::format("embeddings: expected shape (N, h), got {} dimensions", embeddings.ndim()));
  }
  if (labels.ndim() != 1) {
    throw std::invalid_argument(
        fmt::format("labels: expected a 1-D array of labels, got {} dimensions", labels.ndim()));
  }
  theory::RepresentationGeometryOptions options;
  options.temperature = theory::Temperature::FromTemperature(temperature);
  options.num_classes = num_classes;
  options.batch_size = batch_size;
  options.num_batches = num_batches;
  options.seed = seed;
  options.chunk_size = chunk_size;
  options.uniformity_exact_limit = uniformity_limit;
  options.full_batch_limit = full_batch_limit;
  options.pseudo_inverse_cutoff = pseudo_inverse_cutoff;
  options.global_mean = theory::ParseGlobalMean(global_mean);
  options.Validate();
  const Eigen::Index num_points = embeddings.shape(0);
  const Eigen::Index dim = embeddings.shape(1);
  if (labels.shape(0) == 0) throw std::invalid_argument("labels: expected at least one label, got none");
  Eigen::VectorXi label_vector;
  try {
    label_vector = theory::LabelsFromIntegers(labels.data(), static_cast<std::size_t>(labels.shape(0)));
  } catch (const std::invalid_argument& error) {
    throw std::invalid_argument(std::string("labels: ") + error.what());
  }
  cli::CheckGeometryInputs({"embeddings", "labels", "weights", "num_classes"},
                           num_points,
                           dim,
                           label_vector,
                           weights ? &*weights : nullptr,
                           num_classes);
  theory::MatrixEmbeddingSource source(embeddings.data(), dim, num_points);
  theory::RepresentationGeometryResult result;
  {
    py::gil_scoped_release release;
    result = theory::MeasureRepresentationGeometry(source, label_vector, weights ? &*weights : nullptr, options);
  }
  return cli::GeometryReport(result, {embeddings_name, dtype, seed}).json().dump();
}

}  // namespace
}  // namespace dissect::python

PYBIND11_MODULE(_dissect, m) {
  using namespace dissect::python;
  m.doc() = "The compiled half of dissect; use the functions of the package dissect.";
  py::register_exception_translator([](std::exception_ptr error) {
    try {
      if (error) std::rethrow_exception(error);
    } catch (const std::domain_error& e) {
      PyErr_SetString(PyExc_ValueError, e.what());
    }
  });
  m.def("supcon_loss_and_gradient",
        &SupConLossAndGradient,
        py::arg("rows"),
        py::arg("labels"),
        py::arg("temperature"),
        py::arg("reduction"),
        py::arg("base_temperature"),
        py::arg("memory_bytes"),
        py::arg("with_gradient"));
  m.def("regular_simplex",
        &RegularSimplexRows,
        py::arg("num_classes"),
        py::arg("dim"),
        py::arg("radius"),
        py::arg("seed"));
  m.def(
      "ce_bound",
      [](int num_classes, double radius, double weight_norm, const std::string& norm) {
        return dissect::theory::CrossEntropyBound(
            num_classes, radius, weight_norm, dissect::theory::ParseWeightNorm(norm));
      },
      py::arg("num_classes"),
      py::arg("radius"),
      py::arg("weight_norm"),
      py::arg("norm"));
  m.def("supcon_multiset_bound",
        &MultisetBound,
        py::arg("num_classes"),
        py::arg("per_class"),
        py::arg("batch_size"),
        py::arg("temperature"));
  m.def(
      "supcon_composition_value",
      [](const std::vector<int>& composition, double temperature) {
        return dissect::theory::SupConCompositionValue(composition,
                                                       dissect::theory::Temperature::FromTemperature(temperature));
      },
      py::arg("composition"),
      py::arg("temperature"));
  m.def(
      "supcon_composition_excess",
      [](const std::vector<int>& composition, double temperature) {
        return dissect::theory::SupConCompositionExcess(composition,
                                                        dissect::theory::Temperature::FromTemperature(temperature));
      },
      py::arg("composition"),
      py::arg("temperature"));
  m.def(
      "supcon_iid_floor",
      [](int num_classes, int batch_size, double temperature) {
        return dissect::theory::SupConIidFloor(
            num_classes, batch_size, dissect::theory::Temperature::FromTemperature(temperature));
      },
      py::arg("num_classes"),
      py::arg("batch_size"),
      py::arg("temperature"));
  m.def("geometry_json",
        &GeometryJson,
        py::arg("embeddings"),
        py::arg("labels"),
        py::arg("weights"),
        py::arg("temperature"),
        py::arg("num_classes"),
        py::arg("batch_size"),
        py::arg("num_batches"),
        py::arg("seed"),
        py::arg("chunk_size"),
        py::arg("uniformity_limit"),
        py::arg("full_batch_limit"),
        py::arg("pseudo_inverse_cutoff"),
        py::arg("global_mean"),
        py::arg("embeddings_name"),
        py::arg("dtype"));
}
