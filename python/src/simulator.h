// The forward simulator for Python (core/simulator.h behind one precision-free interface): steps, the
// particle state as NumPy arrays that torch.from_numpy shares, zero-copy DLPack views of the device storage,
// PLY frames and whole runs written like `ductile simulate`.
#pragma once

#include <pybind11/pybind11.h>

#include <memory>
#include <string>

#include "core/scene.h"
#include "python/src/dlpack.h"

namespace ductile::python {

namespace py = pybind11;

class PySimulator {
 public:
  virtual ~PySimulator() = default;
  virtual void step(int64_t n) = 0;
  virtual double time() const = 0;
  virtual int64_t steps() const = 0;
  virtual int particles() const = 0;
  // One host copy of the state in the scene's particle order; the arrays are views of that copy: x, v [n, D],
  // C, F [n, D, D], plastic, mass, vol0 [n] and material, object [n] (int32).
  virtual py::dict state() const = 0;
  // Replaces positions and/or velocities ([n, D], None keeps them).
  virtual void set_state(const py::object& x, const py::object& v) = 0;
  // Views of the device storage, no copy: the same fields (x, v as [D, n], C, F as [D, D, n]) plus id [n]
  // (slot q holds particle id[q]). `owner` is kept alive by every view.
  virtual py::dict storage(const py::object& owner) const = 0;
  // The current state as a PLY file (atomic), like `ductile simulate`'s frames.
  virtual void write_ply(const std::string& path) const = 0;
  // Runs `frames` frames and writes DIR/scene.json, DIR/particles/frame_NNNNN.ply (frame 0 and every
  // `every`-th frame after it) and DIR/summary.json; returns the summary's path.
  virtual std::string run(int frames, const std::string& out_dir, int every) = 0;
};

std::unique_ptr<PySimulator> make_simulator(const SceneDocument& doc, const std::string& dtype,
                                            const std::string& backend, const py::dict& bridges);

}  // namespace ductile::python
