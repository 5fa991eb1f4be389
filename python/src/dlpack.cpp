#include "python/src/dlpack.h"

namespace ductile::python {

namespace {

// DLPack 0.x structures (dlpack.h, Apache-2.0): the layout of the legacy capsule.
struct DLDevice {
  int32_t device_type;
  int32_t device_id;
};
struct DLDataType {
  uint8_t code;
  uint8_t bits;
  uint16_t lanes;
};
struct DLTensor {
  void* data;
  DLDevice device;
  int32_t ndim;
  DLDataType dtype;
  int64_t* shape;
  int64_t* strides;
  uint64_t byte_offset;
};
struct DLManagedTensor {
  DLTensor dl_tensor;
  void* manager_ctx;
  void (*deleter)(DLManagedTensor*);
};

// What a capsule owns: the shape and strides it points to, and a reference to the memory's owner.
struct Context {
  std::vector<int64_t> shape, strides;
  PyObject* owner = nullptr;
};

void delete_managed(DLManagedTensor* t) {
  auto* ctx = static_cast<Context*>(t->manager_ctx);
  {
    // the consumer may free its tensor on any thread
    PyGILState_STATE s = PyGILState_Ensure();
    Py_XDECREF(ctx->owner);
    PyGILState_Release(s);
  }
  delete ctx;
  delete t;
}

// A capsule never consumed (still named "dltensor") frees its tensor itself.
void capsule_destructor(PyObject* cap) {
  if (!PyCapsule_IsValid(cap, "dltensor")) return;
  auto* t = static_cast<DLManagedTensor*>(PyCapsule_GetPointer(cap, "dltensor"));
  if (t && t->deleter) t->deleter(t);
}

}  // namespace

py::tuple DeviceArray::dlpack_device() const {
  return py::make_tuple(device == Device::kCpu ? 1 : 2, 0);
}

py::capsule DeviceArray::capsule() const {
  auto* ctx = new Context{shape, strides, owner.inc_ref().ptr()};
  auto* t = new DLManagedTensor{};
  t->dl_tensor.data = data;
  t->dl_tensor.device = {device == Device::kCpu ? 1 : 2, 0};
  t->dl_tensor.ndim = int32_t(shape.size());
  t->dl_tensor.dtype = {code, bits, 1};
  t->dl_tensor.shape = ctx->shape.data();
  t->dl_tensor.strides = ctx->strides.data();
  t->dl_tensor.byte_offset = 0;
  t->manager_ctx = ctx;
  t->deleter = delete_managed;
  PyObject* cap = PyCapsule_New(t, "dltensor", capsule_destructor);
  if (!cap) {
    delete_managed(t);
    throw py::error_already_set();
  }
  return py::reinterpret_steal<py::capsule>(cap);
}

void bind_device_array(py::module_& m) {
  py::class_<DeviceArray>(m, "DeviceArray",
                          "A zero-copy view of simulator memory; torch.from_dlpack(a) shares it (no copy).")
      .def("__dlpack__", [](const DeviceArray& a, py::args, py::kwargs) { return a.capsule(); })
      .def("__dlpack_device__", &DeviceArray::dlpack_device)
      .def_property_readonly("shape", [](const DeviceArray& a) { return a.shape; });
}

}  // namespace ductile::python
