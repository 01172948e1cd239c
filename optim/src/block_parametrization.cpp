#include "dissect/optim/block_parametrization.hpp"

#include <fmt/format.h>
#include <cmath>
#include <dissect/theory/check.hpp>

namespace dissect::optim {
namespace {

using theory::ThrowInvalidArgument;

// Below this ||u|| the sine map uses its Taylor expansion sin(s)/s = 1 - s^2/6.
constexpr double kSmallNorm = 1e-6;

double SinOverS(double s) { return s < kSmallNorm ? 1.0 - s * s / 6.0 : std::sin(s) / s; }

}  // namespace

void ValidateBlocks(const std::vector<Block>& blocks, Eigen::Index total_size) {
  Eigen::Index next = 0;
  for (std::size_t b = 0; b < blocks.size(); ++b) {
    const Block& block = blocks[b];
    if (block.offset != next || block.size < 1 || !(block.radius > 0.0) || !std::isfinite(block.radius)) {
      ThrowInvalidArgument("ValidateBlocks",
                           fmt::format("expected block {} at offset {} with size >= 1 and radius > 0, got offset {}, "
                                       "size {}, radius {}",
                                       b,
                                       next,
                                       block.offset,
                                       block.size,
                                       block.radius));
    }
    next += block.size;
  }
  if (next != total_size) {
    ThrowInvalidArgument("ValidateBlocks",
                         fmt::format("expected blocks covering {} entries, got {}", total_size, next));
  }
}

Eigen::VectorXd PointsFromParameters(const std::vector<Block>& blocks, const Eigen::Ref<const Eigen::VectorXd>& u) {
  Eigen::VectorXd z(u.size());
  for (const Block& block : blocks) {
    const auto ub = u.segment(block.offset, block.size);
    const double s = ub.norm();
    if (block.kind == BlockKind::kSphere) {
      if (!(s > 0.0)) ThrowInvalidArgument("PointsFromParameters", "a sphere block has parameters of norm 0");
      z.segment(block.offset, block.size) = (block.radius / s) * ub;
    } else {
      z.segment(block.offset, block.size) = (block.radius * SinOverS(s)) * ub;
    }
  }
  return z;
}

Eigen::VectorXd ParametersFromPoints(const std::vector<Block>& blocks, const Eigen::Ref<const Eigen::VectorXd>& z) {
  Eigen::VectorXd u(z.size());
  for (const Block& block : blocks) {
    const auto zb = z.segment(block.offset, block.size);
    const double norm = zb.norm();
    if (block.kind == BlockKind::kSphere) {
      if (!(norm > 0.0)) ThrowInvalidArgument("ParametersFromPoints", "a point on a sphere has norm 0");
      u.segment(block.offset, block.size) = zb / norm;
    } else {
      const double ratio = norm / block.radius;
      if (ratio > 1.0 + 1e-12) {
        ThrowInvalidArgument("ParametersFromPoints",
                             fmt::format("expected a point in the ball of radius {}, got norm {}", block.radius, norm));
      }
      const double s = std::asin(std::min(1.0, ratio));
      u.segment(block.offset, block.size) = zb / (block.radius * SinOverS(s));
    }
  }
  return u;
}

Eigen::VectorXd PullBackGradient(const std::vector<Block>& blocks,
                                 const Eigen::Ref<const Eigen::VectorXd>& u,
                                 const Eigen::Ref<const Eigen::VectorXd>& gradient_z) {
  Eigen::VectorXd gradient_u(u.size());
  for (const Block& block : blocks) {
    const auto ub = u.segment(block.offset, block.size);
    const auto gb = gradient_z.segment(block.offset, block.size);
    auto out = gradient_u.segment(block.offset, block.size);
    const double s = ub.norm();
    if (block.kind == BlockKind::kSphere) {
      // dz = (rho/s) (I - u u^T/s^2) du, symmetric.
      const double radial = ub.dot(gb) / (s * s);
      out = (block.radius / s) * (gb - radial * ub);
    } else if (s < kSmallNorm) {
      out = block.radius * gb;  // dz = rho du at u = 0
    } else {
      // z = rho sin(s) u/s: dz = rho [cos(s) uhat uhat^T + sin(s)/s (I - uhat uhat^T)] du, symmetric.
      const double radial = ub.dot(gb) / (s * s);
      out = block.radius * (SinOverS(s) * (gb - radial * ub) + std::cos(s) * radial * ub);
    }
  }
  return gradient_u;
}

double TangentialGradientNorm(const std::vector<Block>& blocks,
                              const Eigen::Ref<const Eigen::VectorXd>& z,
                              const Eigen::Ref<const Eigen::VectorXd>& gradient_z) {
  double sum_squares = 0.0;
  for (const Block& block : blocks) {
    const auto zb = z.segment(block.offset, block.size);
    const auto gb = gradient_z.segment(block.offset, block.size);
    const double norm2 = zb.squaredNorm();
    if (norm2 == 0.0) {
      sum_squares += gb.squaredNorm();
    } else {
      sum_squares += (gb - (zb.dot(gb) / norm2) * zb).squaredNorm();
    }
  }
  return std::sqrt(sum_squares);
}

void NormalizeSphereParameters(const std::vector<Block>& blocks, Eigen::Ref<Eigen::VectorXd> u) {
  for (const Block& block : blocks) {
    if (block.kind != BlockKind::kSphere) continue;
    auto ub = u.segment(block.offset, block.size);
    const double s = ub.norm();
    if (s > 0.0) ub /= s;
  }
}

}  // namespace dissect::optim
