// ductile._core: the C++ half of the Python module (docs/PYTHON.md). The Python package ductile/ wraps it in
// torch tensors and a torch.autograd.Function; nothing here includes LibTorch's headers.
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include "core/error.h"
#include "core/scene.h"
#include "core/torch_plugin.h"
#include "materials/registry.h"
#include "python/src/dlpack.h"
#include "python/src/python_material.h"
#include "python/src/rollout.h"
#include "python/src/simulator.h"

namespace py = pybind11;
using namespace ductile;
using namespace ductile::python;

namespace {

std::vector<std::string> strings(const py::object& o) {
  return o.is_none() ? std::vector<std::string>{} : o.cast<std::vector<std::string>>();
}

}  // namespace

PYBIND11_MODULE(_core, m) {
  m.doc() = "ductile's C++ core: scenes, the simulator and the differentiable tape";
  m.attr("__version__") = DUCTILE_VERSION;
  m.attr("torch_version") = DUCTILE_TORCH_VERSION;  // the torch package this module was built against
  m.attr("cuda_available") = cuda_available();
  py::register_exception<Error>(m, "Error", PyExc_RuntimeError);
#ifdef DUCTILE_WITH_TORCH
  // LibTorch's half is linked into this module (Python has loaded torch already): no plugin to load
  use_linked_torch(ductile_torch_plugin_init);
#endif
  register_python_material();
  m.def(
      "material_models", [] { return MaterialRegistry::instance().names(); },
      "The material model names a scene may use.");

  py::class_<SceneDocument>(m, "SceneDocument", "A validated scene (defaults filled in)")
      .def_property_readonly("json_text", [](const SceneDocument& d) { return d.json.dump(); })
      .def_readonly("path", &SceneDocument::path)
      .def_readonly("base_dir", &SceneDocument::base_dir)
      .def_readonly("dim", &SceneDocument::dim)
      .def_readonly("dt", &SceneDocument::dt)
      .def_readonly("frame_dt", &SceneDocument::frame_dt)
      .def_readonly("steps_per_frame", &SceneDocument::steps_per_frame)
      .def_readonly("frames", &SceneDocument::frames)
      .def_readonly("warnings", &SceneDocument::warnings);
  m.def(
      "load_scene_file",
      [](const std::string& path, const py::object& overrides) {
        return load_scene_file(path, strings(overrides));
      },
      py::arg("path"), py::arg("overrides") = py::none());
  m.def(
      "load_scene_text",
      [](const std::string& text, const std::string& base_dir, const py::object& overrides,
         const std::string& name) { return load_scene_text(text, base_dir, strings(overrides), name); },
      py::arg("text"), py::arg("base_dir"), py::arg("overrides") = py::none(), py::arg("name") = "<python>");

  bind_device_array(m);

  py::class_<PySimulator>(m, "Simulator")
      .def(py::init(&make_simulator), py::arg("scene"), py::arg("dtype"), py::arg("backend"),
           py::arg("bridges"))
      .def("step", &PySimulator::step, py::arg("n") = 1)
      .def_property_readonly("time", &PySimulator::time)
      .def_property_readonly("steps", &PySimulator::steps)
      .def_property_readonly("particles", &PySimulator::particles)
      .def("state", &PySimulator::state)
      .def("set_state", &PySimulator::set_state, py::arg("x") = py::none(), py::arg("v") = py::none())
      .def("storage", [](py::object self) { return self.cast<PySimulator&>().storage(self); })
      .def("write_ply", &PySimulator::write_ply, py::arg("path"))
      .def("run", &PySimulator::run, py::arg("frames"), py::arg("out_dir"), py::arg("every") = 1);

  py::class_<Rollout>(m, "Rollout")
      .def(py::init(&make_rollout), py::arg("scene"), py::arg("dtype"), py::arg("backend"),
           py::arg("checkpoint"), py::arg("bridges"))
      .def("initial", &Rollout::initial)
      .def("actuators", &Rollout::actuators)
      .def("forward", &Rollout::forward, py::arg("steps"), py::arg("x0"), py::arg("v0"), py::arg("params"),
           py::arg("force"), py::arg("actuation"), py::arg("record"))
      .def("backward", &Rollout::backward, py::arg("seeds"), py::arg("wrt"))
      .def("stats", &Rollout::stats);
}
