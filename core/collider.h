// Host-side colliders: shape, surface, friction and kinematic motion; evaluated into ColliderData per step.
#pragma once

#include <array>
#include <string>
#include <vector>

#include "kernels/collider.h"

namespace ductile {

struct DenseSdf;

// One keyframe of a collider's pose: position of its frame origin and rotation (axis-angle, radians).
struct Keyframe {
  double t = 0;
  double position[3] = {0, 0, 0};
  double rotation[3] = {0, 0, 0};  // axis * angle
};

// Kinematic motion: constant linear and angular velocity about the frame origin, or piecewise-linear
// keyframes (held constant outside their time range).
struct Motion {
  enum class Kind { kStatic, kConstant, kKeyframes } kind = Kind::kStatic;
  double velocity[3] = {0, 0, 0};          // [m/s]
  double angular_velocity[3] = {0, 0, 0};  // [rad/s]
  std::vector<Keyframe> keys;
};

// The gradient of a collider's motion parameters: for "constant" motion its velocity, angular velocity and
// start position, for "static" its position, for "keyframes" each key's position and rotation; for every
// collider its rest orientation (Collider::rotation) and friction coefficient. Angular entries are 3-vectors;
// 2D uses entry 2 (about z) only.
struct ColliderGradient {
  double velocity[3] = {0, 0, 0};
  double position[3] = {0, 0, 0};
  double angular_velocity[3] = {0, 0, 0};
  double rotation[3] = {0, 0, 0};
  std::vector<std::array<double, 3>> key_position, key_rotation;
  double friction = 0;
};

// The adjoints of what at(t) returns (the grid update's adjoint gives them per collider and step): linear
// velocity lin, translation t, angular velocity omega (2D: entry 2) and rotation R (the D x D block, as a
// general matrix).
struct ColliderAdjoint {
  double lin[3] = {0, 0, 0};
  double t[3] = {0, 0, 0};
  double omega[3] = {0, 0, 0};
  double R[3][3] = {{0, 0, 0}, {0, 0, 0}, {0, 0, 0}};
};

template <class T, int D>
struct Collider {
  std::string name;
  ColliderData<T, D> shape;  // shape, surface, friction and parameters; pose fields are the rest pose
  Motion motion;
  std::vector<T> sdf;  // sampled SDF values for kSdf (shape.sdf points here on the host)
  double active_from = -1e300, active_until = 1e300;  // [s]
  // The rest orientation: shape.R = rot(rotation) frame, with `rotation` an axis-angle vector [rad] (2D:
  // entry 2, about z) and `frame` the shape's own fixed turn (a cylinder's axis). A box's or cylinder's
  // rotation is its rotate_deg; a plane's normal and a mesh's rotate_deg are part of the shape itself, so
  // their rotation starts at 0. Change it with set_rotation, which keeps shape.R in step.
  double rotation[3] = {0, 0, 0};
  double frame[3][3] = {{1, 0, 0}, {0, 1, 0}, {0, 0, 1}};

  // The kernel data at time t: pose and velocities from the motion. Outside [active_from, active_until]
  // the collider becomes a point far away, so that it touches nothing.
  ColliderData<T, D> at(double t) const;
  // Sets the rest orientation's axis-angle vector and shape.R = rot(w) frame.
  void set_rotation(const double w[3]);
  // Adjoint of at(t): adds the adjoints of its pose and velocities (a) to the parameters in g: the motion's
  // (velocity, angular velocity and start position; key positions and rotations through the interpolation;
  // a static position), the rest orientation's axis-angle vector. Outside the active window nothing depends
  // on them.
  void adj_at(double t, const ColliderAdjoint& a, ColliderGradient& g) const;
};

// Makes `c` an SDF collider: copies the dense field (its coordinates are the collider's local frame, which
// the pose and motion then move) into c.sdf and c.shape (sdf_res, sdf_origin, sdf_dx) and sets shape kSdf. 3D
// copies the field as is. 2D takes the slice z = slice_z of the 3D field on its x-y lattice: the sign is that
// of the cross-section, the distances are those to the 3D surface (exact where its nearest point lies in the
// slice). Throws Error naming the collider when the field is empty or the slice misses the shape.
template <class T, int D>
void fill_collider_sdf(Collider<T, D>& c, const DenseSdf& sdf, double slice_z = 0);

}  // namespace ductile
