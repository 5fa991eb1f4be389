// 3D Gaussian Splatting point clouds (Kerbl et al., SIGGRAPH 2023; the PLY layout of their reference code and
// of splat viewers): per Gaussian x y z, nx ny nz, f_dc_0..2, f_rest_*, opacity (logit), scale_0..2 (log of
// the standard deviations), rot_0..3 (quaternion w x y z, not necessarily normalized). Covariance
// Sigma = R S S^T R^T with S = diag(exp(scale)), R the rotation of the normalized quaternion.
#pragma once

#include <array>
#include <string>
#include <vector>

#include "core/io/point_table.h"

namespace ductile::io {

using Mat3d = std::array<std::array<double, 3>, 3>;

// Reads a 3DGS PLY (any scalar types; see read_ply) and checks it: the columns x y z scale_0..2 rot_0..3 must
// exist, every value must be finite, no quaternion may be zero, log-scales must lie in [-30, 30]. Errors name
// the file and the vertex ("splats.ply: vertex 12: rot_0..3 is the zero quaternion").
PointTable read_gaussians(const std::string& path);
// The same checks on a table read elsewhere; `name` stands for the file in messages.
void check_gaussians(const PointTable& t, const std::string& name);

// Covariance of row r of a checked table.
Mat3d gaussian_covariance(const PointTable& t, size_t r);
// Covariance from log-scales and a quaternion (w, x, y, z).
Mat3d covariance_of(const double log_scale[3], const double quat_wxyz[4]);
// Log-scales and a unit quaternion (w >= 0) of a symmetric positive semi-definite matrix (eigenvalues clamped
// at 1e-30 before the log): the inverse of covariance_of up to the order and signs of the axes.
void decompose_covariance(const Mat3d& sigma, double log_scale[3], double quat_wxyz[4]);

// The Gaussians `rows` of `src` after deformation: row k moves to position x[k] (3 per row) and its
// covariance becomes F_k A Sigma A^T F_k^T (A: the placement's linear part, F: 9 per row, row-major). Every
// other column is copied unchanged. A row whose A and F are both exactly the identity keeps its scale and
// rotation bit for bit.
PointTable deform_gaussians(const PointTable& src, const std::vector<int>& rows, const Mat3d& A,
                            const std::vector<float>& x, const std::vector<float>& F);

}  // namespace ductile::io
