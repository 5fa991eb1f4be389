// An optional side interface of materials: the tape's promise that each stress() it asks for is followed by a
// stress_vjp() of the same particles at the same F (and nothing else in between), so a model may keep per
// particle what its adjoint would otherwise recompute (fixed-corotated: the SVD of F). Analytic materials
// implement it on the CPU (materials/analytic.h); the tape finds it by dynamic_cast.
#pragma once

namespace ductile {

class KeepForVjp {
 public:
  virtual ~KeepForVjp() = default;
  // While on, stress() keeps what the next stress_vjp() of the same batch reuses.
  virtual void keep_for_vjp(bool on) const = 0;
  // Bytes kept per particle (0 when the model keeps nothing), for the tape's memory estimate.
  virtual int kept_bytes() const = 0;
};

}  // namespace ductile
