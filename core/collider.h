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

// The gradient of a collider's motion parameters: for "constant" motion its velocity and start position,
// for "static" its position, for "keyframes" each key's position; and its friction coefficient.
struct ColliderGradient {
  double velocity[3] = {0, 0, 0};
  double position[3] = {0, 0, 0};
  std::vector<std::array<double, 3>> key_position;
  double friction = 0;
};

template <class T, int D>
struct Collider {
  std::string name;
  ColliderData<T, D> shape;  // shape, surface, friction and parameters; pose fields are the rest pose
  Motion motion;
  std::vector<T> sdf;  // sampled SDF values for kSdf (shape.sdf points here on the host)
  double active_from = -1e300, active_until = 1e300;  // [s]

  // The kernel data at time t: pose and velocities from the motion. Outside [active_from, active_until]
  // the collider becomes a point far away, so that it touches nothing.
  ColliderData<T, D> at(double t) const;
  // Adjoint of at(t) for the translation and linear velocity: adds the adjoints of the pose's translation
  // (adj_t) and velocity (adj_lin), D components each, to the motion's parameters in g. Rotations are not
  // differentiated; outside the active window nothing depends on the motion.
  void adj_at(double t, const double* adj_lin, const double* adj_t, ColliderGradient& g) const;
};

// Makes `c` an SDF collider: copies the dense field (its coordinates are the collider's local frame, which
// the pose and motion then move) into c.sdf and c.shape (sdf_res, sdf_origin, sdf_dx) and sets shape kSdf. 3D
// copies the field as is. 2D takes the slice z = slice_z of the 3D field on its x-y lattice: the sign is that
// of the cross-section, the distances are those to the 3D surface (exact where its nearest point lies in the
// slice). Throws Error naming the collider when the field is empty or the slice misses the shape.
template <class T, int D>
void fill_collider_sdf(Collider<T, D>& c, const DenseSdf& sdf, double slice_z = 0);

}  // namespace ductile
