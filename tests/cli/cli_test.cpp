// The `dissect` command line run as a user runs it: exit codes, stdout (table or JSON) and `error: ...` on stderr.

#include <sys/wait.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <dissect/theory/npy.hpp>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>

#include "catch.hpp"

namespace fs = std::filesystem;

namespace {

struct RunResult {
  int exit_code = -1;
  std::string out;
  std::string err;
};

std::string ReadFile(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream buffer;
  buffer << in.rdbuf();
  return buffer.str();
}

fs::path ScratchDir() {
  static const fs::path dir = [] {
    fs::path d = fs::temp_directory_path() / ("dissect_cli_test_" + std::to_string(::getpid()));
    fs::create_directories(d);
    return d;
  }();
  return dir;
}

// Runs `dissect ARGS` through the shell; arguments are passed as written (quote them where needed).
RunResult Run(const std::string& args) {
  const fs::path out = ScratchDir() / "stdout.txt";
  const fs::path err = ScratchDir() / "stderr.txt";
  const std::string command =
      std::string("'") + DISSECT_CLI_PATH + "' " + args + " >'" + out.string() + "' 2>'" + err.string() + "'";
  const int status = std::system(command.c_str());
  RunResult result;
  result.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  result.out = ReadFile(out);
  result.err = ReadFile(err);
  return result;
}

nlohmann::json RunJson(const std::string& args) {
  const RunResult result = Run(args + " --json");
  INFO("dissect " << args << "\nstderr: " << result.err);
  REQUIRE(result.exit_code == 0);
  return nlohmann::json::parse(result.out);
}

// Requires exit code 2 and an `error: ...` on stderr containing `needle`.
void RequireUsageError(const std::string& args, const std::string& needle) {
  const RunResult result = Run(args);
  INFO("dissect " << args << "\nstdout: " << result.out << "\nstderr: " << result.err);
  CHECK(result.exit_code == 2);
  CHECK(result.err.rfind("error: ", 0) == 0);
  CHECK_THAT(result.err, Catch::Contains(needle));
}

const fs::path kReference = fs::path(DISSECT_TEST_DATA_DIR) / "reference";

nlohmann::json Expected() { return nlohmann::json::parse(ReadFile(kReference / "expected.json")); }

std::string Quote(const fs::path& path) { return "'" + path.string() + "'"; }

// Writes a .npy file with the given header dict and payload bytes, for malformed-input tests.
fs::path WriteRawNpy(const std::string& name, const std::string& header_dict, const std::string& payload) {
  std::string header = header_dict;
  while ((10 + header.size() + 1) % 64 != 0) header.push_back(' ');
  header.push_back('\n');
  std::string bytes = std::string("\x93NUMPY\x01\x00", 8);
  bytes.push_back(static_cast<char>(header.size() & 0xff));
  bytes.push_back(static_cast<char>(header.size() >> 8));
  bytes += header + payload;
  const fs::path path = ScratchDir() / name;
  std::ofstream(path, std::ios::binary) << bytes;
  return path;
}

constexpr double kReferenceTolerance = 1e-10;

}  // namespace

TEST_CASE("dissect bound supcon: the multiset bound of K=3, n=2, b=9, rho=1 is 25205.688636803963") {
  const auto json = RunJson("bound supcon --classes 3 --per-class 2 --batch-size 9 --radius 1");
  CHECK(json["value"].get<double>() == Approx(25205.688636803963).epsilon(1e-12));
  CHECK(json["num_batches"].get<double>() == Approx(2002).epsilon(1e-15));
  CHECK(json["per_anchor_mean"].get<double>() == Approx(25205.688636803963 / (9 * 2002)).epsilon(1e-12));
}

TEST_CASE("dissect bound supcon: K=100, n=500, b=256 gives a finite log value and per-anchor mean") {
  const auto json = RunJson("bound supcon --classes 100 --per-class 500 --batch-size 256 --temperature 0.1");
  CHECK(std::isfinite(json["log_value"].get<double>()));
  CHECK(json["log_value"].get<double>() > 709.0);  // the total itself overflows double
  CHECK(json["value"].is_null());
  const double per_anchor = json["per_anchor_mean"].get<double>();
  CHECK(std::isfinite(per_anchor));
  CHECK(per_anchor > 0.0);
}

TEST_CASE("dissect bound supcon: radius and temperature give identical numbers") {
  const auto by_radius = RunJson("bound supcon --classes 4 --per-class 3 --batch-size 6 --radius 2");
  const auto by_temperature = RunJson("bound supcon --classes 4 --per-class 3 --batch-size 6 --temperature 0.25");
  CHECK(by_radius["value"].get<double>() == by_temperature["value"].get<double>());
  CHECK(by_radius["log_value"].get<double>() == by_temperature["log_value"].get<double>());
}

TEST_CASE("dissect bound supcon: the i.i.d. floor of K=10, b=256, tau=0.1 is 3.220563813319926") {
  const auto json = RunJson("bound supcon --classes 10 --batch-size 256 --temperature 0.1 --mode iid");
  CHECK(json["value"].get<double>() == Approx(3.220563813319926).epsilon(1e-12));
}

TEST_CASE("dissect bound supcon: the composition 5,4,0 at the simplex is 13.597726095124795") {
  const auto json = RunJson("bound supcon --classes 3 --radius 1 --mode composition --composition 5,4,0");
  CHECK(json["value"].get<double>() == Approx(13.597726095124795).epsilon(1e-13));
  CHECK(json["composition"] == nlohmann::json::array({5, 4, 0}));
}

TEST_CASE("dissect bound ce: known answers for the row and Frobenius norms") {
  CHECK(RunJson("bound ce --classes 3 --radius 1 --weight-norm 1")["value"].get<double>() ==
        Approx(0.3689811354013154).epsilon(1e-14));
  CHECK(RunJson("bound ce --classes 10 --radius 1 --weight-norm 1")["value"].get<double>() ==
        Approx(1.3769349204501935).epsilon(1e-14));
  CHECK(RunJson("bound ce --classes 4 --radius 1 --weight-norm 2 --norm frobenius")["value"].get<double>() ==
        Approx(RunJson("bound ce --classes 4 --radius 1 --weight-norm 1")["value"].get<double>()).epsilon(1e-15));
}

TEST_CASE("dissect bound: without --json a readable table is printed") {
  const RunResult result = Run("bound ce --classes 3 --radius 1 --weight-norm 1");
  CHECK(result.exit_code == 0);
  CHECK_THAT(result.out, Catch::Contains("CE lower bound") && Catch::Contains("0.3689811354013154"));
  const RunResult report = Run("bound report");
  CHECK(report.exit_code == 0);
  CHECK_THAT(report.out, Catch::Contains("1.3769349205") && Catch::Contains("3.220563813320"));
}

TEST_CASE("dissect bound report --json lists one row per K") {
  const auto json = RunJson("bound report --classes 2,10");
  REQUIRE(json["rows"].size() == 2);
  CHECK(json["rows"][1]["classes"] == 10);
  CHECK(json["rows"][1]["ce_bound"].get<double>() == Approx(1.3769349204501935).epsilon(1e-14));
  CHECK(json["rows"][1]["supcon_iid_floor"].get<double>() == Approx(3.220563813319926).epsilon(1e-12));
}

TEST_CASE("dissect loss supcon: the reference reduction equals the PyTorch reference SupConLoss to 1e-10") {
  const auto expected = Expected();
  const std::string files =
      "--embeddings " + Quote(kReference / "z_f64.npy") + " --labels " + Quote(kReference / "y_i64.npy");
  const auto json = RunJson("loss " + files + " --loss supcon --reduction reference --temperature 0.1");
  CHECK(json["value"].get<double>() ==
        Approx(expected["supcon_reference_tau_0.1"].get<double>()).epsilon(kReferenceTolerance));
  CHECK(json["num_points"] == expected["num_points"]);

  const auto based =
      RunJson("loss " + files + " --loss supcon --reduction reference --temperature 0.1 --base-temperature 0.07");
  CHECK(based["value"].get<double>() ==
        Approx(expected["supcon_reference_tau_0.1_base_0.07"].get<double>()).epsilon(kReferenceTolerance));
  // The base temperature used is in every report of the reduction: given, or tau by default (the table says so).
  CHECK(based["base_temperature"].get<double>() == 0.07);
  CHECK(json["base_temperature"].get<double>() == 0.1);
  const RunResult table = Run("loss " + files + " --loss supcon --reduction reference --temperature 0.1");
  CHECK_THAT(table.out, Catch::Contains("base temperature (base_tau = tau, default)"));
  CHECK_FALSE(RunJson("loss " + files + " --loss supcon --temperature 0.1").contains("base_temperature"));

  const auto f32 = RunJson("loss --embeddings " + Quote(kReference / "z_f32.npy") + " --labels " +
                           Quote(kReference / "y_i32.npy") + " --loss supcon --reduction reference --temperature 0.1");
  CHECK(f32["value"].get<double>() ==
        Approx(expected["supcon_reference_f32_tau_0.1"].get<double>()).epsilon(kReferenceTolerance));
}

TEST_CASE("dissect loss supcon: the reductions differ by b and the default is the theory's sum") {
  const std::string files =
      "--embeddings " + Quote(kReference / "z_f64.npy") + " --labels " + Quote(kReference / "y_i64.npy");
  const auto sum = RunJson("loss " + files + " --loss supcon --temperature 0.1");
  const auto mean = RunJson("loss " + files + " --loss supcon --temperature 0.1 --reduction batch_mean");
  CHECK(sum["reduction"] == "sum");
  CHECK(sum["value"].get<double>() == Approx(48.0 * mean["value"].get<double>()).epsilon(1e-14));
  const auto by_radius = RunJson("loss " + files + " --loss supcon --radius 2 --reduction batch_mean");
  const auto by_temperature = RunJson("loss " + files + " --loss supcon --temperature 0.25 --reduction batch_mean");
  CHECK(by_radius["value"].get<double>() == by_temperature["value"].get<double>());
}

TEST_CASE("dissect loss ce: equals numpy's cross-entropy and reports the bound only where it applies") {
  const auto json = RunJson("loss --embeddings " + Quote(kReference / "z_f64.npy") + " --labels " +
                            Quote(kReference / "y_i64.npy") + " --loss ce --weights " + Quote(kReference / "w.npy"));
  CHECK(json["value"].get<double>() == Approx(Expected()["ce"].get<double>()).epsilon(kReferenceTolerance));
  CHECK(json["num_classes"] == 4);
  CHECK(json["bound_note"] == "CE bound not applicable: the classes are not balanced");  // the fixture's labels
}

TEST_CASE("dissect loss ce: at the simplex the loss equals the CE bound, gap 0") {
  // Balanced labels, points at the vertices of a radius-1 simplex, W = simplex rows: the CE bound is attained.
  const double r = std::sqrt(1.5);  // zeta_k = sqrt(3/2) (e_k - 1/3) in R^3 has norm 1 for K = 3
  Eigen::MatrixXd simplex(3, 3);
  for (int k = 0; k < 3; ++k) {
    for (int d = 0; d < 3; ++d) simplex(d, k) = r * ((d == k ? 1.0 : 0.0) - 1.0 / 3.0);
  }
  Eigen::MatrixXd points(3, 6);
  Eigen::VectorXi labels(6);
  for (int i = 0; i < 6; ++i) {
    labels[i] = i % 3;
    points.col(i) = simplex.col(i % 3);
  }
  dissect::theory::WriteNpyPoints(ScratchDir() / "simplex_z.npy", points);
  dissect::theory::WriteNpyLabels(ScratchDir() / "simplex_y.npy", labels);
  dissect::theory::WriteNpyMatrix(ScratchDir() / "simplex_w.npy", simplex.transpose());
  const auto json =
      RunJson("loss --embeddings " + Quote(ScratchDir() / "simplex_z.npy") + " --labels " +
              Quote(ScratchDir() / "simplex_y.npy") + " --loss ce --weights " + Quote(ScratchDir() / "simplex_w.npy"));
  CHECK(json["value"].get<double>() == Approx(0.3689811354013154).epsilon(1e-13));
  CHECK(json["gap"].get<double>() == Approx(0.0).margin(1e-13));
}

TEST_CASE("dissect: --help of every command exits 0 and --version prints the version") {
  for (const char* args :
       {"--help", "bound --help", "bound ce --help", "bound supcon --help", "bound report --help", "loss --help"}) {
    const RunResult result = Run(args);
    INFO(args);
    CHECK(result.exit_code == 0);
    CHECK_THAT(result.out, Catch::Contains("Usage") || Catch::Contains("usage"));
  }
  CHECK(Run("--version").exit_code == 0);
}

TEST_CASE("dissect: usage errors exit 2 with error: on stderr") {
  RequireUsageError("", "subcommand");
  RequireUsageError("frobnicate", "frobnicate");
  RequireUsageError("bound", "subcommand");
  RequireUsageError("bound ce --radius 1 --weight-norm 1", "--classes");
  RequireUsageError("bound ce --classes three --radius 1 --weight-norm 1", "three");
  RequireUsageError("bound ce --classes 1 --radius 1 --weight-norm 1", "--classes: expected a value >= 2, got 1");
  RequireUsageError("bound ce --classes 3 --radius 0 --weight-norm 1", "--radius: expected a value > 0, got 0");
  RequireUsageError("bound ce --classes 3 --radius nan --weight-norm 1", "radius");
  RequireUsageError("bound ce --classes 3 --radius 1 --weight-norm -1", "--weight-norm: expected a value > 0, got -1");
  RequireUsageError("bound ce --classes 3 --radius 1 --weight-norm 1 --norm spectral", "spectral");
  RequireUsageError("bound supcon --classes 3 --per-class 2 --batch-size 9", "--radius");
  RequireUsageError("bound supcon --classes 3 --per-class 2 --batch-size 9 --radius 1 --temperature 1", "excludes");
  RequireUsageError("bound supcon --classes 3 --per-class 2 --batch-size 9 --temperature -1",
                    "--temperature: expected a value > 0, got -1");
  RequireUsageError("bound supcon --classes 3 --per-class 2 --batch-size 9 --temperature inf", "temperature");
  RequireUsageError("bound supcon --classes 3 --per-class 0 --batch-size 9 --radius 1",
                    "--per-class: expected a value >= 1, got 0");
  RequireUsageError("bound supcon --classes 3 --per-class 2 --batch-size 1 --radius 1",
                    "--batch-size: expected a value >= 2, got 1");
  RequireUsageError("bound supcon --classes 3 --batch-size 9 --radius 1", "--per-class");
  RequireUsageError("bound supcon --classes 3 --per-class 2 --radius 1", "--batch-size");
  RequireUsageError("bound supcon --classes 3 --radius 1 --mode iid", "--batch-size");
  RequireUsageError("bound supcon --classes 3 --radius 1 --mode composition", "--composition");
  RequireUsageError("bound supcon --classes 3 --radius 1 --mode composition --composition 5,4", "one per class");
  RequireUsageError("bound supcon --classes 3 --radius 1 --mode composition --composition 5,-4,0",
                    "--composition: expected a value >= 0, got -4");
  RequireUsageError("bound supcon --classes 3 --radius 1 --mode composition --composition 5,4,0 --batch-size 8",
                    "disagrees");
  RequireUsageError("bound supcon --classes 3 --radius 1 --mode sampled --batch-size 9 --per-class 2", "sampled");
  RequireUsageError("bound report --classes 3 --num-points 10", "dividing");
}

TEST_CASE("dissect loss: every bad input exits 2 with a clear error") {
  const std::string z = Quote(kReference / "z_f64.npy");
  const std::string y = Quote(kReference / "y_i64.npy");
  const std::string w = Quote(kReference / "w.npy");
  const std::string ok = "loss --embeddings " + z + " --labels " + y;

  RequireUsageError("loss --labels " + y + " --loss supcon --temperature 1", "--embeddings");
  // Without labels SC is self-supervised (each sample its own class); CE needs them.
  RequireUsageError("loss --embeddings " + z + " --loss ce --temperature 1", "--loss ce needs --labels y.npy");
  RequireUsageError(ok + " --temperature 1", "--loss");
  RequireUsageError(ok + " --loss triplet --temperature 1", "triplet");
  RequireUsageError(ok + " --loss supcon", "give one of --radius and --temperature");
  RequireUsageError(ok + " --loss supcon --temperature 0", "--temperature: expected a value > 0, got 0");
  RequireUsageError(ok + " --loss supcon --radius -2", "--radius: expected a value > 0, got -2");
  RequireUsageError(ok + " --loss supcon --temperature 1 --reduction mean", "mean");
  RequireUsageError(ok + " --loss supcon --temperature 1 --base-temperature 0.07", "reference only");
  RequireUsageError(ok + " --loss supcon --temperature 1 --reduction reference --base-temperature 0",
                    "--base-temperature: expected a value > 0, got 0");
  RequireUsageError(ok + " --loss supcon --temperature 1 --weights " + w, "--weights belongs to --loss ce");
  RequireUsageError(ok + " --loss ce", "needs --weights");
  RequireUsageError(ok + " --loss ce --weights " + w + " --temperature 1", "belong to --loss supcon");
  RequireUsageError(ok + " --loss ce --weights " + w + " --reduction sum", "belong to --loss supcon");

  // Files: missing, a directory, not .npy, truncated, corrupt header, Fortran order, wrong dtype, wrong rank, NaN.
  const fs::path missing = ScratchDir() / "does_not_exist.npy";
  RequireUsageError("loss --embeddings " + Quote(missing) + " --labels " + y + " --loss supcon --temperature 1",
                    missing.string() + ": no such file");
  RequireUsageError("loss --embeddings " + Quote(ScratchDir()) + " --labels " + y + " --loss supcon --temperature 1",
                    "is a directory");
  const fs::path text = ScratchDir() / "text.npy";
  std::ofstream(text) << "this is not numpy data\n";
  RequireUsageError("loss --embeddings " + Quote(text) + " --labels " + y + " --loss supcon --temperature 1",
                    "bad magic");
  const std::string f64_payload(6 * 8, '\0');
  const fs::path truncated = WriteRawNpy(
      "truncated.npy", "{'descr': '<f8', 'fortran_order': False, 'shape': (3, 2), }", f64_payload.substr(0, 40));
  RequireUsageError("loss --embeddings " + Quote(truncated) + " --labels " + y + " --loss supcon --temperature 1",
                    "truncated");
  const fs::path garbage = WriteRawNpy("garbage.npy", "{'descr': '<f8', 'fortran_order': Maybe}", f64_payload);
  RequireUsageError("loss --embeddings " + Quote(garbage) + " --labels " + y + " --loss supcon --temperature 1",
                    "corrupt header");
  const fs::path fortran =
      WriteRawNpy("fortran.npy", "{'descr': '<f8', 'fortran_order': True, 'shape': (3, 2), }", f64_payload);
  RequireUsageError("loss --embeddings " + Quote(fortran) + " --labels " + y + " --loss supcon --temperature 1",
                    "Fortran-order");
  const fs::path complex =
      WriteRawNpy("complex.npy", "{'descr': '<c16', 'fortran_order': False, 'shape': (3,), }", f64_payload);
  RequireUsageError("loss --embeddings " + Quote(complex) + " --labels " + y + " --loss supcon --temperature 1",
                    "unsupported dtype '<c16'");
  const fs::path rank3 =
      WriteRawNpy("rank3.npy", "{'descr': '<f8', 'fortran_order': False, 'shape': (3, 2, 1), }", f64_payload);
  RequireUsageError("loss --embeddings " + Quote(rank3) + " --labels " + y + " --loss ce --weights " + y,
                    "expected a 2-D array, got 3 dimensions");
  const fs::path rank4 =
      WriteRawNpy("rank4.npy", "{'descr': '<f8', 'fortran_order': False, 'shape': (3, 2, 1, 1), }", f64_payload);
  RequireUsageError("loss --embeddings " + Quote(rank4) + " --labels " + y + " --loss supcon --temperature 1",
                    "expected a 2-D (N, h) or 3-D (N, V, h) array, got 4 dimensions");
  // (N, V, h) for SC: 3 samples of 2 views, against labels of another length.
  RequireUsageError("loss --embeddings " + Quote(rank3) + " --labels " + y + " --loss supcon --temperature 1",
                    "labels, but");
  RequireUsageError("loss --embeddings " + y + " --labels " + y + " --loss supcon --temperature 1",
                    "expected a float32 or float64 array");
  RequireUsageError("loss --embeddings " + z + " --labels " + z + " --loss supcon --temperature 1",
                    "expected an integer array");

  Eigen::MatrixXd points = Eigen::MatrixXd::Ones(2, 3);
  points(1, 2) = std::nan("");
  dissect::theory::WriteNpyPoints(ScratchDir() / "nan.npy", points);
  Eigen::VectorXi labels(3);
  labels << 0, 1, 1;
  dissect::theory::WriteNpyLabels(ScratchDir() / "three_labels.npy", labels);
  RequireUsageError("loss --embeddings " + Quote(ScratchDir() / "nan.npy") + " --labels " +
                        Quote(ScratchDir() / "three_labels.npy") + " --loss supcon --temperature 1",
                    "non-finite value nan at row 2, column 1");
  RequireUsageError("loss --embeddings " + z + " --labels " + Quote(ScratchDir() / "three_labels.npy") +
                        " --loss supcon --temperature 1",
                    "has 3 labels, but");
  const std::string negative_payload = std::string("\x01\0\0\0\xff\xff\xff\xff", 8);
  const fs::path negative =
      WriteRawNpy("negative.npy", "{'descr': '<i4', 'fortran_order': False, 'shape': (2,), }", negative_payload);
  dissect::theory::WriteNpyPoints(ScratchDir() / "two_points.npy", Eigen::MatrixXd::Ones(2, 2));
  RequireUsageError("loss --embeddings " + Quote(ScratchDir() / "two_points.npy") + " --labels " + Quote(negative) +
                        " --loss supcon --temperature 1",
                    "label -1 at index 1 is out of range");

  // CE: W of the wrong width, labels beyond the rows of W.
  dissect::theory::WriteNpyMatrix(ScratchDir() / "w_wide.npy", Eigen::MatrixXd::Ones(4, 5));
  RequireUsageError(ok + " --loss ce --weights " + Quote(ScratchDir() / "w_wide.npy"), "expected (K, 12)");
  dissect::theory::WriteNpyMatrix(ScratchDir() / "w_two.npy", Eigen::MatrixXd::Ones(2, 12));
  RequireUsageError(ok + " --loss ce --weights " + Quote(ScratchDir() / "w_two.npy"), "out of range for W with K = 2");
}

TEST_CASE("dissect minimize: the multiset objective of Figure 5 reaches 25205.688636803963") {
  const auto json = RunJson(
      "minimize --loss supcon --classes 3 --per-class 2 --dim 2 --radius 1 --mode multiset "
      "--batch-size 9");
  CHECK(json["final_loss"].get<double>() == Approx(25205.688636803963).epsilon(1e-9));
  CHECK(json["bound"].get<double>() == Approx(25205.688636803963).epsilon(1e-12));
  CHECK(std::abs(json["rel_gap"].get<double>()) < 1e-9);
  CHECK(json["max_gram_error"].get<double>() < 1e-6);
  CHECK(json["strict_local_minimum_up_to_rotation"] == "true");
  CHECK(json["converged"] == "true");
  for (const char* field : {"final_loss",
                            "bound",
                            "gap",
                            "rel_gap",
                            "max_gram_error",
                            "max_within_class_spread",
                            "grad_norm",
                            "min_hessian_eigenvalue",
                            "iterations",
                            "seconds",
                            "converged",
                            "message"}) {
    INFO(field);
    CHECK(json.contains(field));
  }
}

TEST_CASE("dissect minimize: beyond the dense certificate's limit the matrix-free one gives the verdict") {
  // Tangent dimension N (h - 1) = 100 * 39 = 3,900 above the dense certificate's limit of 3,000.
  const std::string args = "minimize --loss supcon --temperature 0.5 --classes 10 --per-class 10 --dim 40";
  const auto json = RunJson(args);
  CHECK(json["strict_local_minimum_up_to_rotation"] == "true");
  CHECK(json["min_hessian_eigenvalue"].get<double>() > 0.0);
  const auto& detail = json["certificate_detail"];
  CHECK(detail["computed"] == true);
  CHECK(detail["method"] == "matrix-free");
  CHECK(detail["tangent_dim"] == 3900);
  CHECK(detail["expected_flat"] == 315);  // dim so(40) - dim so(31): the simplex spans 9 dimensions
  CHECK(detail["converged"] == true);
  CHECK(detail["hessian_vector_products"].get<int>() > 0);
  CHECK(detail["max_eigenvalue"].get<double>() > detail["min_eigenvalue"].get<double>());
  CHECK_THAT(json["certificate"].get<std::string>(), Catch::Contains("(rotation orbit of 315 deflated)"));
  const RunResult table = Run(args);
  REQUIRE(table.exit_code == 0);
  CHECK_THAT(table.err, Catch::Contains("seed 0 (1/1): certificate, "));
}

TEST_CASE("dissect minimize: a certificate not computed is unknown, null in JSON and not false in the table") {
  for (const std::string extra : {"--classes 3 --per-class 2 --dim 2 --no-certificate"}) {
    CAPTURE(extra);
    const std::string args = "minimize --loss supcon --temperature 0.5 " + extra;
    const auto json = RunJson(args);
    CHECK(json["strict_local_minimum_up_to_rotation"].is_null());
    CHECK(json["min_hessian_eigenvalue"].is_null());
    CHECK(json["certificate_detail"]["computed"] == false);
    const RunResult table = Run(args);
    REQUIRE(table.exit_code == 0);
    for (const std::string label : {"strict local minimum up to rotation", "min Hessian eigenvalue"}) {
      const std::size_t at = table.out.find(label);
      REQUIRE(at != std::string::npos);
      const std::string line = table.out.substr(at, table.out.find('\n', at) - at);
      CAPTURE(line);
      CHECK(line.size() >= 12);
      CHECK(line.substr(line.size() - 12) == "not computed");
    }
  }
}

TEST_CASE("dissect minimize: CE and SC full batches reach their bounds at a simplex") {
  const auto ce = RunJson("minimize --loss ce --classes 4 --per-class 3 --dim 3 --radius 1 --weight-norm 2");
  CHECK(std::abs(ce["rel_gap"].get<double>()) < 1e-9);
  CHECK(ce["max_gram_error"].get<double>() < 1e-5);
  const auto sc = RunJson("minimize --loss supcon --classes 4 --per-class 3 --dim 5 --temperature 0.5");
  CHECK(std::abs(sc["rel_gap"].get<double>()) < 1e-9);
  CHECK(sc["max_gram_error"].get<double>() < 1e-5);
  CHECK(sc["strict_local_minimum_up_to_rotation"] == "true");
}

TEST_CASE("dissect minimize: where no simplex fits the bound holds and is not attained") {
  const auto json = RunJson("minimize --loss supcon --classes 4 --per-class 3 --dim 2 --radius 1");
  CHECK(json["gap"].get<double>() > 1e-3);
  CHECK(json["bound_holds"] == "true");
  CHECK_THAT(json["bound_note"].get<std::string>(), Catch::Contains("not attained"));
  CHECK(json["restarts"] == 5);
  CHECK(json["loss_min"].get<double>() <= json["loss_max"].get<double>());
  const auto imbalanced = RunJson("minimize --loss ce --classes 3 --class-counts 5,2,1 --dim 2 --radius 1");
  CHECK(imbalanced["bound"].is_null());
  CHECK(std::isfinite(imbalanced["final_loss"].get<double>()));
}

TEST_CASE("dissect minimize --figure6: every unbalanced batch beats the simplex") {
  const RunResult result = Run("minimize --figure6");
  CHECK(result.exit_code == 0);
  CHECK_THAT(result.out, Catch::Contains("verdict: PASS"));
  const auto json = RunJson("minimize --figure6");
  REQUIRE(json["compositions"].size() == 12);
  CHECK(json["failures"] == 0);
  for (const auto& row : json["compositions"]) {
    if (row["composition"] == nlohmann::json::array({5, 4, 0})) {
      CHECK(row["simplex_value"].get<double>() == Approx(13.597726095124795).epsilon(1e-12));
      CHECK(row["minimum"].get<double>() < 13.597726095124795 - 0.1);
    }
  }
}

TEST_CASE("dissect minimize --figure1: the SC and CE paths end at the tetrahedron, with their snapshots and CSV") {
  const fs::path dir = ScratchDir() / "figure1";
  fs::remove_all(dir);
  const RunResult result = Run("minimize --figure1 --out " + Quote(dir));
  CHECK(result.exit_code == 0);
  CHECK_THAT(result.out, Catch::Contains("verdict: PASS"));
  const auto json = RunJson("minimize --figure1");
  REQUIRE(json["flows"].size() == 2);
  for (const auto& flow : json["flows"]) {
    INFO(flow["loss"]);
    CHECK(flow["pass"] == true);
    CHECK(flow["rel_gap"].get<double>() <= 1e-6);
    REQUIRE(flow["snapshots"].size() == 201);
    CHECK(flow["snapshots"][0]["points"].size() == 20);
    // The start is far from the bound, the end at it.
    CHECK(flow["snapshots"][0]["loss"].get<double>() > 1.1 * flow["bound"].get<double>());
  }
  // Paper: CE bound, K = 4, rho = r = 1.
  CHECK(json["flows"][1]["bound"].get<double>() == Approx(std::log(1 + 3 * std::exp(-4.0 / 3.0))).epsilon(1e-14));
  const std::string csv = ReadFile(dir / "figure1_supcon.csv");
  CHECK(csv.rfind("iteration,point,label,x,y,z\n", 0) == 0);
  CHECK(std::count(csv.begin(), csv.end(), '\n') == 1 + 201 * 20);
  RequireUsageError("minimize --figure1 --figure6", "one of --sweep, --figure1, --figure5, --figure6");
}

TEST_CASE("dissect minimize --figure5: per-batch SC by label configuration sums to the bound at the simplex") {
  const auto json = RunJson("minimize --figure5");
  CHECK(json["pass"] == true);
  REQUIRE(json["compositions"].size() == 12);
  CHECK(json["simplex_total"].get<double>() == Approx(25205.688636803963).epsilon(1e-13));
  CHECK(json["trained_total"].get<double>() >= 25205.688636803963 * (1 - 1e-12));
  long long batches = 0;
  for (const auto& row : json["compositions"]) batches += row["batches"].get<long long>();
  CHECK(batches == 2002);
  // [5, 4, 0] at the simplex: 13.597726095124795 (docs/theory.md), each of its batches alike.
  for (const auto& row : json["compositions"]) {
    if (row["composition"] == nlohmann::json::array({5, 4, 0})) {
      CHECK(row["simplex"].get<double>() == Approx(13.597726095124795).epsilon(1e-12));
      CHECK(row["simplex_spread"].get<double>() <= 1e-10);
    }
  }
}

TEST_CASE("dissect minimize --sweep: a small grid passes and prints a verdict") {
  const auto json = RunJson(
      "minimize --sweep --sweep-classes 2,3 --sweep-temperatures 1 --sweep-per-class 1,3 "
      "--sweep-seeds 2");
  CHECK(json["failures"] == 0);
  // 2 losses x 2 K x 4 h (K-1, K, 2K, 4K) x 1 tau x 2 n.
  CHECK(json["configurations"] == 2 * 2 * 4 * 1 * 2);
}

TEST_CASE("dissect minimize --out writes points, labels, W, trace and meta, and refuses a used folder") {
  const fs::path out = ScratchDir() / "minimize_out";
  fs::remove_all(out);
  const RunResult result = Run("minimize --loss ce --classes 3 --per-class 2 --dim 2 --radius 1 --out " + Quote(out));
  REQUIRE(result.exit_code == 0);
  const Eigen::MatrixXd points = dissect::theory::ReadNpyPoints(out / "points.npy");
  CHECK(points.rows() == 2);
  CHECK(points.cols() == 6);
  CHECK(dissect::theory::ReadNpyLabels(out / "labels.npy").size() == 6);
  CHECK(dissect::theory::ReadNpyMatrix(out / "W.npy").rows() == 3);
  const std::string trace = ReadFile(out / "trace.csv");
  CHECK(trace.rfind("iteration,stage,radius,loss,grad_norm,step_size,seconds\n", 0) == 0);
  CHECK(trace.find("\n0,lbfgs,1,") != std::string::npos);
  CHECK(nlohmann::json::parse(ReadFile(out / "meta.json")).contains("command_line"));
  CHECK(nlohmann::json::parse(ReadFile(out / "result.json")).contains("final_loss"));
  RequireUsageError("minimize --loss ce --classes 3 --per-class 2 --dim 2 --radius 1 --out " + Quote(out),
                    "already holds files");
  CHECK(Run("minimize --loss ce --classes 3 --per-class 2 --dim 2 --radius 1 --force --out " + Quote(out)).exit_code ==
        0);
}

TEST_CASE("dissect minimize: bad input exits 2 with a clear error") {
  RequireUsageError("minimize --per-class 2 --dim 2 --radius 1", "--classes is required");
  RequireUsageError("minimize --classes 3 --per-class 2 --radius 1", "--dim is required");
  RequireUsageError("minimize --classes 3 --dim 2 --radius 1", "--per-class");
  RequireUsageError("minimize --classes 1 --per-class 2 --dim 2 --radius 1", "--classes: expected a value >= 2, got 1");
  RequireUsageError("minimize --classes 3 --per-class 0 --dim 2 --radius 1",
                    "--per-class: expected a value >= 1, got 0");
  RequireUsageError("minimize --classes 3 --per-class 2 --dim 0 --radius 1", "--dim: expected a value >= 1, got 0");
  RequireUsageError("minimize --classes 3 --per-class 2 --dim 2 --temperature -1",
                    "--temperature: expected a value > 0, got -1");
  RequireUsageError("minimize --classes 3 --per-class 2 --dim 2 --temperature nan", "temperature");
  RequireUsageError("minimize --classes 3 --per-class 2 --dim 2", "give one of --radius and --temperature");
  RequireUsageError("minimize --classes 3 --per-class 2 --dim 2 --radius 1 --mode multiset", "batch_size (b) >= 2");
  RequireUsageError(
      "minimize --classes 3 --per-class 20 --dim 2 --radius 1 --mode multiset --batch-size 9 "
      "--max-batches 1000",
      "more than the limit of 1000");
  RequireUsageError("minimize --loss ce --classes 3 --per-class 2 --dim 2 --radius 1 --mode multiset --batch-size 4",
                    "CE is a per-sample mean");
  RequireUsageError("minimize --classes 3 --dim 2 --radius 1 --mode composition", "needs --composition");
  RequireUsageError("minimize --classes 3 --dim 2 --radius 1 --mode composition --composition 5,4",
                    "expected 3 class counts");
  RequireUsageError("minimize --classes 3 --dim 2 --radius 1 --class-counts 5,-1,2",
                    "--class-counts: expected a value >= 1, got -1");
  RequireUsageError("minimize --classes 3 --per-class 2 --dim 2 --radius 1 --weight-norm 0",
                    "--weight-norm: expected a value > 0, got 0");
  RequireUsageError(
      "minimize --classes 3 --per-class 2 --dim 2 --radius 1 --mode sampled --batch-size 4 "
      "--learning-rate -1",
      "--learning-rate: expected a value > 0, got -1");
  RequireUsageError("minimize --classes 3 --per-class 2 --dim 2 --radius 1 --gap-tolerance -1",
                    "--gap-tolerance: expected a value >= 0, got -1");
}

TEST_CASE("dissect minimize off a terminal: a line per stage, and a heartbeat every DISSECT_PROGRESS_SECONDS") {
  const std::string args = "minimize --classes 4 --per-class 3 --dim 3 --temperature 0.1";
  const RunResult stages = Run(args);
  REQUIRE(stages.exit_code == 0);
  for (const char* stage : {"seed 0 (1/1): continuation at radius 1, ",
                            "seed 0 (1/1): continuation at radius 2, ",
                            "seed 0 (1/1): lbfgs, ",
                            "seed 0 (1/1): evaluation, ",
                            "seed 0 (1/1): certificate, "}) {
    CHECK_THAT(stages.err, Catch::Contains(stage));
  }
  CHECK_THAT(stages.err, !Catch::Contains(" iteration "));  // no heartbeat within the default 30 s
  ::setenv("DISSECT_PROGRESS_SECONDS", "0.000001", 1);
  const RunResult heartbeat = Run(args);
  ::unsetenv("DISSECT_PROGRESS_SECONDS");
  REQUIRE(heartbeat.exit_code == 0);
  CHECK_THAT(heartbeat.err, Catch::Contains("seed 0 (1/1): continuation iteration 1, loss "));
  CHECK_THAT(heartbeat.err, Catch::Contains("seed 0 (1/1): lbfgs iteration "));
  CHECK(heartbeat.err.find('\r') == std::string::npos);  // plain lines, not a redrawn one
}

TEST_CASE("Flag rules: values once accepted without a word are usage errors naming the flag and the range") {
  RequireUsageError("train --train-limit -1", "--train-limit: expected a value >= 0, got -1 (0 means all images)");
  RequireUsageError("noise --test-limit -5", "--test-limit: expected a value >= 0, got -5");
  RequireUsageError("minimize --classes 3 --per-class 2 --dim 2 --radius 1 --restarts -1", "--restarts");
  RequireUsageError("minimize --classes 3 --per-class 2 --dim 2 --temperature 1e-300",
                    "--temperature: expected a value >= 0.00142857, got 1e-300 (below 1/700 the between-class terms");
  RequireUsageError("minimize --classes 3 --per-class 2 --dim 2 --radius 30",
                    "--radius: expected a value in (0, 26.4575], got 30");
  RequireUsageError("minimize --classes 3 --per-class 2 --class-counts 2,2,2 --dim 2 --radius 1",
                    "--per-class excludes --class-counts");
  RequireUsageError("minimize --figure1 --classes 5", "--classes excludes --figure1");
  RequireUsageError("minimize --sweep --dim 4", "--dim excludes --sweep");
  for (const char* command : {"minimize --classes 3 --per-class 2 --dim 2 --radius 1", "train", "noise", "reproduce"}) {
    RequireUsageError(std::string(command) + " --out ''", "--out: expected a folder, got an empty name");
  }
}

TEST_CASE("dissect minimize and train: a problem that cannot fit in memory is refused before any work") {
  // 10^8 points in 1,000 dimensions: 800 GB for the points alone (once std::bad_alloc after 17.6 s).
  const RunResult minimize = Run("minimize --classes 100000 --per-class 1000 --dim 1000 --radius 1");
  CHECK(minimize.exit_code == 2);
  CHECK_THAT(minimize.err,
             Catch::Contains("minimize: needs ") &&
                 Catch::Contains("(100000000 points in 1000 dimensions, full mode, estimated) but this "
                                 "machine has ") &&
                 Catch::Contains("of memory"));
  // A batch of 10^9 images of 784 values, 5 bytes each: 3.6 TiB (once LibTorch's allocator message after 49.7 s).
  const RunResult train = Run("train --batch-size 1000000000 --train-limit 500 --iterations 1");
  CHECK(train.exit_code == 2);
  CHECK_THAT(train.err,
             Catch::Contains("train: needs 3.6 TiB (at least: a batch of 1000000000 images of 1 x 28 x 28 "
                             "values, as uint8 and as float32) but this machine has "));
}

TEST_CASE(
    "dissect train: a short SC run writes metrics, checkpoint and embeddings that numpy-compatible readers load") {
  const fs::path dir = ScratchDir() / "train_out";
  fs::remove_all(dir);
  const nlohmann::json result = RunJson(
      "train --loss supcon --train-limit 3000 --test-limit 500 --iterations 40 --eval-every 20 --probe-iterations 50 "
      "--supcon-eval-batches 2 --threads 2 --out '" +
      dir.string() + "'");
  CHECK(result["status"] == "completed");
  CHECK(result["iterations_done"] == 40);
  CHECK(result["encoder"] == "mlp 784-256-256-128 post-ReLU (features >= 0)");
  CHECK(result["run"]["temperature"] == 0.1);
  for (const char* name : {"meta.json",
                           "metrics.csv",
                           "metrics.json",
                           "checkpoint.pt",
                           "train_embeddings.npy",
                           "train_labels.npy",
                           "test_embeddings.npy",
                           "test_labels.npy"}) {
    CHECK(fs::exists(dir / name));
  }
  CHECK(!fs::exists(dir / "classifier.npy"));  // SC has no classifier
  const nlohmann::json metrics = nlohmann::json::parse(ReadFile(dir / "metrics.json"));
  CHECK(metrics["status"] == "completed");
  REQUIRE(metrics["history"].size() == 2);
  CHECK(metrics["history"][1]["iteration"] == 40);
  CHECK(metrics["history"][1]["train_accuracy_classifier"].is_null());
  const std::string csv = ReadFile(dir / "metrics.csv");
  CHECK(csv.rfind("iteration,seconds,images_per_second,learning_rate,train_loss,loss,", 0) == 0);
  CHECK(std::count(csv.begin(), csv.end(), '\n') == 3);
  const Eigen::MatrixXd embeddings = dissect::theory::ReadNpyPoints(dir / "train_embeddings.npy");
  CHECK(embeddings.rows() == 128);
  CHECK(embeddings.cols() == 3000);
  CHECK((embeddings.colwise().norm().array() - 1.0).abs().maxCoeff() < 1e-6);  // SC representations are unit
  // A finished run in the folder is not overwritten without --force.
  const RunResult again = Run("train --iterations 1 --out '" + dir.string() + "'");
  CHECK(again.exit_code == 2);
  CHECK_THAT(again.err, Catch::Contains("--force"));
}

TEST_CASE("dissect train: bad input exits 2 with a clear error and starts no run") {
  RequireUsageError("train --data-dir /nonexistent/fashion", "/nonexistent/fashion");
  RequireUsageError("train --data cifar10", "--data-dir");
  RequireUsageError("train --data imagenet", "imagenet");
  RequireUsageError("train --loss supcon --temperature 0", "--temperature: expected a value > 0, got 0");
  RequireUsageError("train --loss supcon --temperature -1", "--temperature: expected a value > 0, got -1");
  RequireUsageError("train --iterations 0", "--iterations: expected a value >= 1, got 0");
  RequireUsageError("train --batch-size 0", "--batch-size: expected a value >= 1, got 0");
  RequireUsageError("train --lr nan", "--lr: expected a finite number, got 'nan'");
  RequireUsageError("train --supcon-memory-mb -5", "--supcon-memory-mb: expected a positive number, got '-5'");
  RequireUsageError("train --supcon-memory-mb nan", "expected a positive number, got 'nan'");
  RequireUsageError("train --supcon-memory-mb 12MB", "expected a positive number, got '12MB'");
  RequireUsageError("train --momentum 1.5", "--momentum: expected a value in [0, 1), got 1.5");
  RequireUsageError("train --model resnet18 --dim 128", "dim = 512 for resnet18");
  RequireUsageError("train --loss ce-fix --dim 4", "needs h >= K-1");
  RequireUsageError("train --device tpu", "auto, cpu, cuda");
  RequireUsageError("train --precision fp16", "fp16");
  RequireUsageError("train --resume", "--resume needs --out");
  const fs::path empty = ScratchDir() / "train_empty";
  fs::create_directories(empty);
  RequireUsageError("train --resume --out '" + empty.string() + "'", "holds no checkpoint.pt");
  const fs::path bad_data = ScratchDir() / "bad_idx";
  fs::create_directories(bad_data);
  for (const char* name :
       {"train-images-idx3-ubyte", "train-labels-idx1-ubyte", "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"}) {
    std::ofstream(bad_data / name) << "garbage";
  }
  RequireUsageError("train --data mnist --data-dir '" + bad_data.string() + "'", "train-images-idx3-ubyte");
  // Data-parallel flags.
  RequireUsageError("train --world-size 2 --rank 2", "rank in [0, 2)");
  RequireUsageError("train --world-size 0", "--world-size");
  RequireUsageError("train --world-size 2 --dist-timeout nan", "--dist-timeout: expected a finite number, got 'nan'");
  RequireUsageError("launch --grace 0 train", "--grace: expected a value > 0, got 0");
  RequireUsageError("train --world-size 2 --master node-7", "HOST:PORT");
  RequireUsageError("train --world-size 2 --master node-7:70000", "HOST:PORT");
  RequireUsageError("train --world-size 2 --batch-size 255", "--batch-size 255 is not divisible by --world-size 2");
  RequireUsageError("train --world-size 2 --dist-timeout 0", "--dist-timeout: expected a value > 0, got 0");
  RequireUsageError("train --world-size 2 --dist-backend mpi", "backend");
  RequireUsageError("launch --processes 2", "expected the command to run");
  RequireUsageError("launch --processes 2 minimize", "expected the command to run");
  RequireUsageError("launch --processes 2 train --rank 1", "--rank is set by the launcher");
}

TEST_CASE("dissect train: a rank whose master never answers fails within --dist-timeout, naming the address") {
  const RunResult result = Run("train --world-size 2 --rank 1 --master 127.0.0.1:9 --dist-timeout 2 --iterations 1");
  INFO(result.err);
  CHECK(result.exit_code != 0);
  CHECK_THAT(result.err, Catch::Contains("error: "));
  CHECK_THAT(result.err, Catch::Contains("127.0.0.1:9"));
  // c10d's own glog lines are kept out: the error says it once.
  CHECK_THAT(result.err, !Catch::Contains("InitGoogleLogging") && !Catch::Contains("[c10d]"));
  CHECK(result.out.empty());
}

// --- dissect reproduce ---------------------------------------------------------------------------------------------

TEST_CASE("dissect reproduce: the theory claims pass with their numbers, and a rerun reuses the finished parts") {
  const fs::path dir = ScratchDir() / "reproduce";
  fs::remove_all(dir);
  const RunResult first = Run("reproduce --claims theory --out " + Quote(dir) + " --json");
  INFO(first.err);
  REQUIRE(first.exit_code == 0);
  const nlohmann::json result = nlohmann::json::parse(first.out);
  CHECK(result["value"] == 0);
  REQUIRE(result["claims"].size() == 4);
  for (const auto& claim : result["claims"]) {
    INFO(claim.dump());
    CHECK(claim["verdict"] == "PASS");
    CHECK_FALSE(claim["measured"].get<std::string>().empty());
  }
  CHECK_THAT(result["claims"][1]["measured"].get<std::string>(), Catch::Contains("minimum 25205.6886368"));
  CHECK(result["claims"][3]["id"] == "1d");
  const std::string report = ReadFile(dir / "report.md");
  CHECK_THAT(report, Catch::Contains("| 1c | Figure 6"));
  CHECK_THAT(report, Catch::Contains("| 1d | Figure 1"));
  CHECK_THAT(report, Catch::Contains("| 5,4,0 | 180 | 13.597726 |"));
  const auto meta = nlohmann::json::parse(ReadFile(dir / "meta.json"));
  CHECK(meta["profile"] == "quick");
  CHECK(meta["parts"]["figure1"]["arguments"][0] == "minimize");
  for (const char* part : {"theory_sweep", "multiset_minimum", "figure1", "figure5", "figure6"}) {
    CHECK(fs::exists(dir / "parts" / (std::string(part) + ".json")));
  }
  const std::string figure5_csv = ReadFile(dir / "figure5.csv");
  CHECK(std::count(figure5_csv.begin(), figure5_csv.end(), '\n') == 13);  // header and 12 configurations
  CHECK(nlohmann::json::parse(ReadFile(dir / "figure5.json")).size() == 12);
  // Figures 1, 5 and 6 drawn by gnuplot (installed by the set-up): data and script always, pictures with gnuplot.
  for (const char* plot : {"figure1", "figure5", "figure6"}) {
    INFO(plot);
    CHECK(fs::exists(dir / "plots" / (std::string(plot) + ".gp")));
    if (std::system("command -v gnuplot > /dev/null 2>&1") == 0) {
      CHECK(fs::file_size(dir / "plots" / (std::string(plot) + ".png")) > 1000);
      CHECK_THAT(ReadFile(dir / "plots" / (std::string(plot) + ".svg")), Catch::Contains("<svg"));
    }
  }
  CHECK_THAT(ReadFile(dir / "plots" / "figure1.gp"), Catch::Contains("splot"));
  if (std::system("command -v gnuplot > /dev/null 2>&1") == 0) CHECK_THAT(report, Catch::Contains("![Figure 6"));
  const RunResult second = Run("reproduce --claims theory --out " + Quote(dir));
  CHECK(second.exit_code == 0);
  CHECK_THAT(second.err, Catch::Contains("figure6: reusing"));
  RequireUsageError("reproduce --profile paper --out " + Quote(dir), "needs --data-dir DIR with the CIFAR-10");
  const fs::path cifar = ScratchDir() / "fake_cifar";
  fs::create_directories(cifar);
  std::ofstream(cifar / "data_batch_1.bin") << "x";
  std::ofstream(cifar / "test_batch.bin") << "x";
  const RunResult paper = Run("reproduce --profile paper --data-dir " + Quote(cifar) + " --out " + Quote(dir));
  CHECK(paper.exit_code == 2);
  // Without CUDA it names the GPU; with one it goes on to the (corrupt) files, which the training then refuses.
  CHECK((paper.err.find("needs a GPU") != std::string::npos || paper.err.find("data_batch") != std::string::npos));
  RequireUsageError("reproduce --profile huge", "--profile");
  RequireUsageError("reproduce --threads 0 --out " + Quote(dir), "--threads: expected a value >= 1, got 0");
  RequireUsageError("reproduce --profile cpu --mnist-dir " + Quote(cifar) + " --out " + Quote(dir),
                    "holds no train-images-idx3-ubyte");
  RequireUsageError("reproduce --mnist-dir " + Quote(cifar) + " --out " + Quote(dir), "--profile cpu only");
  RequireUsageError("reproduce --claims everything --out " + Quote(dir), "--claims");
  std::ofstream(dir / "parts" / "figure5.json") << "{ truncated";
  const RunResult corrupt = Run("reproduce --claims theory --out " + Quote(dir));
  CHECK(corrupt.exit_code == 2);
  CHECK_THAT(corrupt.err, Catch::Contains("error: reproduce: ") && Catch::Contains("figure5.json is corrupt"));
  CHECK(Run("reproduce --claims theory --fresh --out " + Quote(dir)).exit_code == 0);
  // A part made with other arguments (another profile, say) is not reused: it runs again.
  const fs::path figure1 = dir / "parts" / "figure1.json";
  auto kept = nlohmann::json::parse(ReadFile(figure1));
  kept["arguments"] = nlohmann::json::array({"minimize", "--figure1", "--seed", "5"});
  std::ofstream(figure1) << kept.dump();
  const RunResult changed = Run("reproduce --claims theory --out " + Quote(dir));
  CHECK(changed.exit_code == 0);
  CHECK_THAT(changed.err, Catch::Contains("figure1: ") && Catch::Contains("was made with other arguments"));
  CHECK_THAT(changed.err, Catch::Contains("figure6: reusing"));
  // Nor is one made by another build of dissect (its results may have been computed differently).
  kept = nlohmann::json::parse(ReadFile(figure1));
  CHECK(kept["build"].get<std::string>().size() == 16);
  kept["build"] = "0123456789abcdef";
  std::ofstream(figure1) << kept.dump();
  const RunResult rebuilt = Run("reproduce --claims theory --out " + Quote(dir));
  CHECK(rebuilt.exit_code == 0);
  CHECK_THAT(rebuilt.err, Catch::Contains("figure1: ") && Catch::Contains("was made by another build of dissect"));
  CHECK(nlohmann::json::parse(ReadFile(figure1))["build"] != "0123456789abcdef");
}

// 31 trainings and 5 geometries (several minutes on 2 cores): tagged slow, run with "[.slow]".
TEST_CASE("dissect reproduce: the trained-encoder and correlation claims over seeds, with the accuracy table",
          "[.slow]") {
  const fs::path dir = ScratchDir() / "reproduce_trained";
  fs::remove_all(dir);
  const RunResult run = Run("reproduce --claims trained --out " + Quote(dir) + " --json");
  INFO(run.err);
  REQUIRE((run.exit_code == 0 || run.exit_code == 1));
  const nlohmann::json result = nlohmann::json::parse(run.out);
  REQUIRE(result["claims"].size() == 4);
  const std::vector<std::string> ids = {"2a", "2b", "2b-linear", "3"};
  int failed = 0;
  for (std::size_t i = 0; i < ids.size(); ++i) {
    const auto& claim = result["claims"][i];
    INFO(claim.dump());
    CHECK(claim["id"] == ids[i]);
    failed += claim["verdict"] == "FAIL" ? 1 : 0;
    // Every empirical claim carries its named test, interval and run count.
    for (const char* field : {"test", "estimate", "interval", "confidence", "runs", "power"})
      CHECK(claim.contains(field));
    CHECK(claim["interval"].size() == 2);
    if (claim["verdict"] == "INCONCLUSIVE") CHECK_FALSE(claim["decides"].get<std::string>().empty());
  }
  CHECK(result["claims"][0]["runs"] == 4);                                                    // quick: 4 seeds per arm
  CHECK_THAT(result["claims"][1]["expected"].get<std::string>(), Catch::Contains("0.5000"));  // post-ReLU target
  CHECK(run.exit_code == (failed > 0 ? 1 : 0));
  CHECK_THAT(result["claims"][3]["measured"].get<std::string>(), Catch::Contains("supcon: rho -"));
  const std::string table = ReadFile(dir / "accuracy_table.md");
  for (const char* row : {"| ce |", "| ce-fix |", "| supcon |", "| supcon (final linear) |"}) {
    CHECK_THAT(table, Catch::Contains(row));
  }
  const std::string csv = ReadFile(dir / "accuracy_table.csv");
  // header, 4 arms x 4 seeds, CE-fix, and 3 crop+flip runs
  CHECK(std::count(csv.begin(), csv.end(), '\n') == 1 + 16 + 1 + 3);
  CHECK_THAT(ReadFile(dir / "claims.csv"), Catch::Contains("\n3,"));
  CHECK_THAT(ReadFile(dir / "report.md"), Catch::Contains("## Test accuracy (%) of the trained encoders"));
  CHECK(fs::exists(dir / "plots" / "closeness_generalization.gp"));
  CHECK(fs::exists(dir / "plots" / "class_mean_similarity.gp"));
  // Claim 3's runs: 2 losses x 3 lengths x 2 seeds x 2 training-set sizes, as CSV and JSON.
  const std::string runs = ReadFile(dir / "correlation_runs.csv");
  CHECK(std::count(runs.begin(), runs.end(), '\n') == 1 + 24);
  CHECK_THAT(result["claims"][3]["measured"].get<std::string>(), Catch::Contains("over 12 runs"));
  // The box plots: angular similarity of each encoder from dissect geometry on its exported embeddings;
  // classifier rows for CE and CE-fix only (SC has no classifier).
  const auto boxes = nlohmann::json::parse(ReadFile(dir / "similarity_boxes.json"));
  REQUIRE(boxes.size() == 5);
  CHECK(boxes["ce"].contains("weight_similarity"));
  CHECK_FALSE(boxes["supcon"].contains("weight_similarity"));
  const auto& fixed = boxes["ce-fix"]["weight_similarity"];  // CE-fix: the classifier is the simplex itself
  CHECK(fixed["min"].get<double>() == Approx(boxes["ce-fix"]["simplex_similarity"].get<double>()).epsilon(1e-6));
  CHECK(fixed["max"].get<double>() == Approx(fixed["min"].get<double>()).epsilon(1e-6));  // float32 rows
  CHECK_THAT(ReadFile(dir / "similarity_boxes.csv"), Catch::Contains("\n\"ce\",weight_similarity,"));
  CHECK(fs::exists(dir / "plots" / "similarity_boxes.gp"));
  CHECK(fs::exists(dir / "accuracy_table.json"));
}

// 18 trainings to fit flipped labels (over 2 minutes on 2 cores): tagged slow, run with "[.slow]".
TEST_CASE("dissect reproduce: the label-noise claims over replicates, censored runs kept, the exit code counts FAILs",
          "[.slow]") {
  const fs::path dir = ScratchDir() / "reproduce_noise";
  fs::remove_all(dir);
  const RunResult run = Run("reproduce --claims noise --out " + Quote(dir) + " --json");
  INFO(run.err);
  REQUIRE((run.exit_code == 0 || run.exit_code == 1));
  const nlohmann::json result = nlohmann::json::parse(run.out);
  REQUIRE(result["claims"].size() == 3);
  int failed = 0;
  for (const auto& claim : result["claims"]) {
    INFO(claim.dump());
    failed += claim["verdict"] == "FAIL" ? 1 : 0;
    CHECK(claim["runs"] == 3);  // quick: 3 replicates
    CHECK_THAT(claim["measured"].get<std::string>(), Catch::Contains("SC kappa"));
    CHECK_THAT(claim["measured"].get<std::string>(), Catch::Contains("CE kappa"));
  }
  CHECK(result["value"] == failed);
  CHECK(run.exit_code == (failed > 0 ? 1 : 0));
  const auto noise = nlohmann::json::parse(ReadFile(dir / "parts" / "noise" / "noise.json"));
  REQUIRE(noise["runs"].size() == 18);  // 3 replicates x 3 fractions x 2 losses, censored ones included
  for (const auto& r : noise["runs"]) CHECK(r["criterion"] == "probe");
  CHECK(fs::exists(dir / "parts" / "noise" / "noise.svg"));
  CHECK(fs::exists(dir / "plots" / "label_noise.gp"));
}

// --- dissect geometry ---------------------------------------------------------------------------------------------

namespace {

// K = 4 classes of 6 points at the vertices of a unit simplex in R^5 (float64), W = the vertices as rows; written
// once into the scratch folder. Returns the arguments "--embeddings Z --labels y".
std::string WriteGeometrySimplex(bool with_weights) {
  // zeta_k = sqrt(4/3) (e_k - 1/4) in the first 4 coordinates: unit norm, cosine -1/3 (docs/theory.md).
  Eigen::MatrixXd vertices = Eigen::MatrixXd::Zero(5, 4);
  for (int k = 0; k < 4; ++k) {
    for (int d = 0; d < 4; ++d) vertices(d, k) = std::sqrt(4.0 / 3.0) * ((d == k ? 1.0 : 0.0) - 0.25);
  }
  Eigen::VectorXi labels(24);
  for (int i = 0; i < 24; ++i) labels[i] = i % 4;
  Eigen::MatrixXd points(5, 24);
  for (int i = 0; i < 24; ++i) points.col(i) = vertices.col(labels[i]);
  dissect::theory::WriteNpyPoints(ScratchDir() / "geometry_z.npy", points);
  dissect::theory::WriteNpyLabels(ScratchDir() / "geometry_y.npy", labels);
  dissect::theory::WriteNpyMatrix(ScratchDir() / "geometry_w.npy", vertices.transpose());
  std::string args = "geometry --embeddings " + Quote(ScratchDir() / "geometry_z.npy") + " --labels " +
                     Quote(ScratchDir() / "geometry_y.npy");
  if (with_weights) args += " --weights " + Quote(ScratchDir() / "geometry_w.npy");
  return args;
}

}  // namespace

TEST_CASE("dissect geometry --json: at a simplex the distances and NC metrics are 0 and the losses meet their bounds") {
  const auto json = RunJson(WriteGeometrySimplex(true) + " --batch-size 16 --batches 8");
  CHECK(json["num_points"] == 24);
  CHECK(json["dim"] == 5);
  CHECK(json["num_classes"] == 4);
  CHECK(json["dtype"] == "<f8");
  CHECK(json["balanced"] == true);
  CHECK(json["class_counts"] == nlohmann::json::array({6, 6, 6, 6}));
  const double simplex = 1.0 - std::acos(-1.0 / 3.0) / M_PI;
  CHECK(json["simplex_similarity"].get<double>() == Approx(simplex).epsilon(1e-14));
  for (const char* key : {"class_mean_similarity", "centered_class_mean_similarity", "weight_similarity"}) {
    CAPTURE(key);
    CHECK(json[key]["count"] == 6);
    CHECK(json[key]["min"].get<double>() == Approx(simplex).epsilon(1e-12));
    CHECK(json[key]["max"].get<double>() == Approx(simplex).epsilon(1e-12));
  }
  CHECK(json["sample_similarity"]["median"].get<double>() == Approx(1.0).epsilon(1e-7));
  for (const char* key : {"within_class_variability",
                          "equinorm",
                          "equiangularity",
                          "max_angle_equiangularity",
                          "self_duality",
                          "alignment",
                          "simplex_distance"}) {
    CAPTURE(key);
    CHECK(json[key].get<double>() == Approx(0.0).margin(1e-10));
  }
  CHECK(json["classifier_agreement"].get<double>() == 1.0);
  CHECK(json["cross_entropy_bound_applies"] == true);
  CHECK(json["cross_entropy_gap"].get<double>() == Approx(0.0).margin(1e-12));
  CHECK(json["temperature"].get<double>() == 0.1);  // the default
  CHECK(json["supcon_full_batch_is_bound"] == true);
  CHECK(json["supcon_full_batch_gap"].get<double>() == Approx(0.0).margin(1e-9));
  CHECK(json["uniformity_exact"] == true);
  CHECK(json["batch_size"] == 16);
  CHECK(json["num_batches"] == 8);
  CHECK(std::isfinite(json["supcon_iid_floor"].get<double>()));
  CHECK(json["simplex_distance_note"] == "ok");
}

TEST_CASE("dissect geometry: --radius 2 equals --temperature 0.25, float32 input, subsets and a table also work") {
  // Each run starts the whole binary (about a second with LibTorch loaded): few runs, each checking several things.
  const std::string args = WriteGeometrySimplex(false) + " --batch-size 8 --batches 4";
  const auto by_radius = RunJson(args + " --radius 2");
  CHECK(by_radius["temperature"].get<double>() == 0.25);
  CHECK_FALSE(by_radius.contains("weight_similarity"));  // no W given: no W fields
  CHECK_FALSE(by_radius.contains("cross_entropy"));
  CHECK(by_radius["uniformity_exact"] == true);
  CHECK(std::isfinite(by_radius["supcon_full_batch"].get<double>()));
  // The same scale by temperature, beyond the limits: uniformity on a subset, no full batch; the i.i.d. batches
  // depend on the seed only, so they agree exactly.
  const auto by_temperature = RunJson(args + " --temperature 0.25 --uniformity-limit 10 --full-batch-limit 5");
  CHECK(by_radius["supcon_batch_mean"].get<double>() == by_temperature["supcon_batch_mean"].get<double>());
  CHECK(by_radius["supcon_iid_floor"].get<double>() == by_temperature["supcon_iid_floor"].get<double>());
  CHECK(by_temperature["uniformity_exact"] == false);
  CHECK(by_temperature["uniformity_points"] == 10);
  CHECK(by_temperature["supcon_full_batch"].is_null());
  CHECK(by_temperature["supcon_full_batch_note"].get<std::string>().find("not computed") != std::string::npos);
  // A float32 file: four unit points in the plane, two classes.
  const std::string f32 = WriteRawNpy("geometry_f32.npy",
                                      "{'descr': '<f4', 'fortran_order': False, 'shape': (4, 2), }",
                                      std::string("\x00\x00\x80\x3f\x00\x00\x00\x00"   // (1, 0)
                                                  "\x00\x00\x00\x00\x00\x00\x80\x3f"   // (0, 1)
                                                  "\x00\x00\x80\xbf\x00\x00\x00\x00"   // (-1, 0)
                                                  "\x00\x00\x00\x00\x00\x00\x80\xbf",  // (0, -1)
                                                  32))
                              .string();
  Eigen::VectorXi labels(4);
  labels << 0, 1, 0, 1;
  dissect::theory::WriteNpyLabels(ScratchDir() / "geometry_y4.npy", labels);
  const auto small = RunJson("geometry --embeddings " + Quote(f32) + " --labels " +
                             Quote(ScratchDir() / "geometry_y4.npy") + " --batch-size 4 --batches 2");
  CHECK(small["dtype"] == "<f4");
  CHECK(small["num_points"] == 4);
  CHECK(small["max_point_norm"].get<double>() == 1.0);
  CHECK(small["alignment"].get<double>() == Approx(4.0).epsilon(1e-14));  // same-class points are antipodal
  const RunResult table = Run(args);
  CHECK(table.exit_code == 0);
  CHECK_THAT(table.out, Catch::Contains("distance to the nearest simplex (Procrustes)"));
  CHECK_THAT(table.out, Catch::Contains("NC1 Tr(Sigma_W Sigma_B^+)/K'"));
  CHECK(table.err.empty());  // no progress line when stderr is not a terminal
}

TEST_CASE(
    "dissect train and dissect geometry: one definition, the same class-mean similarity, spread and SC estimate") {
  // The same exported embeddings, the SC estimate's seed and sizes: every shared number agrees to rounding.
  for (const char* loss : {"supcon", "ce"}) {
    INFO(loss);
    const fs::path dir = ScratchDir() / (std::string("train_vs_geometry_") + loss);
    const nlohmann::json train = RunJson(std::string("train --loss ") + loss +
                                         " --train-limit 600 --test-limit 200 --iterations 40 --probe-iterations 0 "
                                         "--batch-size 128 --supcon-eval-batches 6 --threads 2 --force --out " +
                                         Quote(dir));
    std::string command = "geometry --embeddings " + Quote(dir / "train_embeddings.npy") + " --labels " +
                          Quote(dir / "train_labels.npy") + " --temperature 0.1 --batch-size 128 --batches 6";
    if (std::string(loss) == "supcon") command += " --seed " + train["supcon_estimate_seed"].get<std::string>();
    if (std::string(loss) == "ce") command += " --weights " + Quote(dir / "classifier.npy");
    const nlohmann::json geometry = RunJson(command);
    CHECK(train["class_mean_similarity"].get<double>() ==
          Approx(geometry["class_mean_similarity"]["mean"].get<double>()).epsilon(1e-12));
    CHECK(train["sample_mean_similarity"].get<double>() ==
          Approx(geometry["sample_similarity"]["mean"].get<double>()).epsilon(1e-12));
    CHECK(train["class_mean_norm_spread"].get<double>() ==
          Approx(geometry["class_mean_norm_spread"].get<double>()).epsilon(1e-10));
    if (std::string(loss) == "supcon") {
      CHECK(train["loss"].get<double>() == Approx(geometry["supcon_batch_mean"].get<double>()).epsilon(1e-12));
      CHECK(train["loss_standard_error"].get<double>() ==
            Approx(geometry["supcon_batch_standard_error"].get<double>()).epsilon(1e-9));
      CHECK(train["loss_bound"].get<double>() == Approx(geometry["supcon_iid_floor"].get<double>()).epsilon(1e-14));
    } else {
      CHECK(train["classifier_similarity"].get<double>() ==
            Approx(geometry["weight_similarity"]["mean"].get<double>()).epsilon(1e-6));  // float32 rows
      CHECK(train["loss"].get<double>() == Approx(geometry["cross_entropy"].get<double>()).epsilon(1e-9));
    }
  }
}

TEST_CASE("dissect geometry --run DIR: a training run's exports and its own temperature, and which one was used") {
  const fs::path dir = ScratchDir() / "geometry_run_tau05";
  const nlohmann::json train = RunJson(
      "train --loss supcon --temperature 0.5 --train-limit 600 --test-limit 200 "
      "--iterations 40 --probe-iterations 0 --batch-size 128 --supcon-eval-batches 6 "
      "--threads 2 --force --out " +
      Quote(dir));
  const std::string seed = train["supcon_estimate_seed"].get<std::string>();
  const nlohmann::json from_run =
      RunJson("geometry --run " + Quote(dir) + " --batch-size 128 --batches 6 --seed " + seed);
  CHECK(from_run["temperature"].get<double>() == 0.5);
  CHECK(from_run["temperature_source"] == "run");
  CHECK(from_run["embeddings"] == (dir / "train_embeddings.npy").string());
  CHECK(from_run["normalized"] == "yes: the SC figures use z / ||z||");
  CHECK(train["loss"].get<double>() == Approx(from_run["supcon_batch_mean"].get<double>()).epsilon(1e-12));
  const nlohmann::json test_split = RunJson("geometry --run " + Quote(dir) + " --split test");
  CHECK(test_split["num_points"] == 200);
  // Given wins, with a warning; without either, tau = 0.1 and the output says it was the default.
  const RunResult given = Run("geometry --run " + Quote(dir) + " --temperature 0.2 --json");
  REQUIRE(given.exit_code == 0);
  CHECK(nlohmann::json::parse(given.out)["temperature_source"] == "given");
  CHECK_THAT(given.err, Catch::Contains("warning: SC at the given tau = 0.2, not the run's tau = 0.5"));
  const nlohmann::json by_default = RunJson("geometry --embeddings " + Quote(dir / "train_embeddings.npy") +
                                            " --labels " + Quote(dir / "train_labels.npy"));
  CHECK(by_default["temperature"].get<double>() == Approx(0.1).epsilon(1e-15));
  CHECK(by_default["temperature_source"] == "default");
  RequireUsageError("geometry --run " + Quote(dir) + " --labels " + Quote(dir / "train_labels.npy"),
                    "give --run DIR or --embeddings/--labels/--weights, not both");
  RequireUsageError("geometry --run " + Quote(ScratchDir() / "no_such_run"), "no such folder");
  RequireUsageError("geometry --embeddings " + Quote(dir / "train_embeddings.npy"), "--labels y.npy, or --run DIR");
  RequireUsageError("geometry --embeddings " + Quote(dir / "train_embeddings.npy") + " --labels " +
                        Quote(dir / "train_labels.npy") + " --split test",
                    "--split belongs to --run");
  // A run folder without its exports, with a corrupt metrics.json, or with one that holds no settings.
  const fs::path broken = ScratchDir() / "geometry_run_broken";
  fs::remove_all(broken);
  fs::create_directories(broken);
  RequireUsageError("geometry --run " + Quote(broken), "train_embeddings.npy is missing (was the run exported?");
  fs::copy_file(dir / "train_embeddings.npy", broken / "train_embeddings.npy");
  fs::copy_file(dir / "train_labels.npy", broken / "train_labels.npy");
  RequireUsageError("geometry --run " + Quote(broken), "metrics.json is missing");
  std::ofstream(broken / "metrics.json") << "{\"run\": {\"loss\": ";
  RequireUsageError("geometry --run " + Quote(broken), "metrics.json is corrupt (not JSON)");
  std::ofstream(broken / "metrics.json") << "{\"history\": []}";
  RequireUsageError("geometry --run " + Quote(broken), "metrics.json holds no run settings");
}

TEST_CASE("dissect loss --normalize: one convention with dissect geometry, and a warning off the unit sphere") {
  // Points of norm 3: SC as given and SC on the unit sphere differ; geometry's full-batch SC is the normalized one.
  Eigen::MatrixXd points(2, 6);
  points << 3, 0, -3, 2.4, 0, -1.8, 0, 3, 0, 1.8, -3, 2.4;
  Eigen::VectorXi labels(6);
  labels << 0, 1, 2, 0, 1, 2;
  const fs::path z = ScratchDir() / "normalize_z.npy", y = ScratchDir() / "normalize_y.npy";
  dissect::theory::WriteNpyPoints(z, points);
  dissect::theory::WriteNpyLabels(y, labels);
  const std::string files = " --embeddings " + Quote(z) + " --labels " + Quote(y) + " --temperature 0.1";
  const RunResult as_given = Run("loss --loss supcon" + files + " --json");
  REQUIRE(as_given.exit_code == 0);
  CHECK_THAT(as_given.err, Catch::Contains("warning: the embeddings' norms lie in [3, 3], not at 1"));
  CHECK(nlohmann::json::parse(as_given.out)["normalized"] == "no: the embeddings as given");
  const RunResult normalized = Run("loss --loss supcon --normalize" + files + " --json");
  REQUIRE(normalized.exit_code == 0);
  CHECK(normalized.err.empty());
  const nlohmann::json value = nlohmann::json::parse(normalized.out);
  CHECK_THAT(value["normalized"].get<std::string>(), Catch::StartsWith("yes"));
  const nlohmann::json geometry = RunJson("geometry" + files + " --batch-size 6 --batches 2");
  CHECK(value["value"].get<double>() == Approx(geometry["supcon_full_batch"].get<double>()).epsilon(1e-12));
  CHECK(nlohmann::json::parse(as_given.out)["value"].get<double>() != Approx(value["value"].get<double>()));
  // A zero embedding has no direction.
  points.col(2).setZero();
  dissect::theory::WriteNpyPoints(ScratchDir() / "normalize_zero.npy", points);
  RequireUsageError("loss --loss supcon --normalize --embeddings " + Quote(ScratchDir() / "normalize_zero.npy") +
                        " --labels " + Quote(y) + " --temperature 0.1",
                    "embedding 2 has norm 0: --normalize needs a direction");
}

TEST_CASE("dissect geometry: bad input exits 2 with a clear error") {
  // One run per kind of input (missing file, N mismatch, W shape, temperature, NaN); the library's tests cover the
  // rest of each kind.
  const std::string ok = WriteGeometrySimplex(false);
  const std::string z = Quote(ScratchDir() / "geometry_z.npy");
  const std::string y = Quote(ScratchDir() / "geometry_y.npy");
  const fs::path missing = ScratchDir() / "geometry_missing.npy";
  RequireUsageError("geometry --embeddings " + Quote(missing) + " --labels " + y, missing.string() + ": no such file");
  dissect::theory::WriteNpyLabels(ScratchDir() / "geometry_y3.npy", Eigen::VectorXi::Zero(3));
  RequireUsageError("geometry --embeddings " + z + " --labels " + Quote(ScratchDir() / "geometry_y3.npy"),
                    "has 3 labels, but");
  dissect::theory::WriteNpyMatrix(ScratchDir() / "geometry_w_wide.npy", Eigen::MatrixXd::Ones(4, 6));
  RequireUsageError(ok + " --weights " + Quote(ScratchDir() / "geometry_w_wide.npy"), "expected (K, 5)");
  RequireUsageError(ok + " --temperature 0", "--temperature: expected a value > 0, got 0");
  Eigen::MatrixXd points = Eigen::MatrixXd::Ones(5, 24);
  points(3, 17) = std::nan("");
  dissect::theory::WriteNpyPoints(ScratchDir() / "geometry_nan.npy", points);
  RequireUsageError("geometry --embeddings " + Quote(ScratchDir() / "geometry_nan.npy") + " --labels " + y,
                    "non-finite value nan at row 17, column 3");
}

TEST_CASE("dissect noise: a small experiment writes noise.csv, noise.json, noise.svg and one log per run") {
  const fs::path dir = ScratchDir() / "noise_out";
  fs::remove_all(dir);
  const nlohmann::json result = RunJson(
      "noise --train-limit 200 --test-limit 200 --batch-size 64 --iterations 600 --eval-every 25 --probe-iterations 0 "
      "--fractions 0,0.5 --losses ce --criterion auto --replicates 2 --bootstrap 50 --threads 2 --out '" +
      dir.string() + "'");
  CHECK(result["train_images"] == 200);
  CHECK(result["replicates"] == 2);
  const auto& ce = result["analysis"]["curvature"]["ce"];
  CHECK(ce["runs"] == 4);
  CHECK(ce["usable_seeds"] == 0);  // no run at p = 1: no curvature, and the seeds say why
  CHECK_THAT(ce["seeds"][0]["note"].get<std::string>(), Catch::Contains("p = 0, 0.5 or 1"));
  CHECK(ce["power_law"]["shape"] == "insufficient data");
  CHECK(result["analysis"]["claims"].empty());  // the claims need both CE and SC
  for (const char* name : {"noise.csv",
                           "noise.json",
                           "noise.svg",
                           "noise.png",
                           "noise.gp",
                           "meta.json",
                           "run_ce_r0_p0.000.csv",
                           "run_ce_r1_p0.500.json"}) {
    CHECK(fs::exists(dir / name));
  }
  const nlohmann::json noise = nlohmann::json::parse(ReadFile(dir / "noise.json"));
  REQUIRE(noise["runs"].size() == 4);
  CHECK(noise["runs"][1]["num_flipped"] == 100);
  CHECK(noise["runs"][1]["criterion"] == "classifier");
  CHECK(noise["runs"][1]["reached"] == true);
  CHECK(noise["runs"][1]["censored"] == false);
  CHECK(noise["runs"][3]["replicate"] == 1);
  CHECK(noise["runs"][3]["flip_seed"] == 1);
  CHECK_THAT(ReadFile(dir / "noise.svg"), Catch::Contains("<svg") && Catch::Contains("Iterations to fit"));
  CHECK_THAT(ReadFile(dir / "noise.gp"), Catch::Contains("set key inside top left"));
}

TEST_CASE("dissect gpu-check: bad input exits 2 with a clear error before any check runs") {
  RequireUsageError("gpu-check --checks loss_parity,warp_drive", "unknown check 'warp_drive'");
  RequireUsageError("gpu-check --size huge", "huge");
  RequireUsageError("gpu-check --memory-gb 0", "--memory-gb");
  RequireUsageError("gpu-check --step-seconds nan", "--step-seconds");
  RequireUsageError("gpu-check --noise-seconds nan", "--noise-seconds");
  RequireUsageError("gpu-check --device tpu", "auto, cpu, cuda");
  RequireUsageError("gpu-check --checks label_noise --data-dir /nonexistent/dissect-data", "/nonexistent/dissect-data");
}

TEST_CASE("dissect noise: bad input exits 2 with a clear error") {
  RequireUsageError("noise --fractions 0,1.5", "--fractions: expected a value in [0, 1], got 1.5");
  RequireUsageError("noise --eval-every 0", "fit-detection cadence");
  RequireUsageError("noise --losses supcon --criterion classifier", "no classifier of its own");
  RequireUsageError("noise --criterion probe --probe-iterations 0", "probe iterations > 0");
  RequireUsageError("noise --losses sc", "sc");
  RequireUsageError("noise --profile tpu", "tpu");
  RequireUsageError("noise --replicates 0", "replicates");
  RequireUsageError("noise --iterations 100 --schedule-horizon 50", "schedule_horizon");
  RequireUsageError("noise --profile gpu --device cpu", "--data-dir");
}
