// NumPy arrays to and from the library's structure-of-arrays fields (component c of particle p at
// [c * n + p]); Python sees particles as rows: [n, D] vectors and [n, D, D] matrices.
#pragma once

#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>

#include <cmath>
#include <string>
#include <vector>

#include "core/error.h"

namespace ductile::python {

namespace py = pybind11;

// "(3, 2)"
inline std::string shape_text(const py::array& a) {
  std::string s = "(";
  for (py::ssize_t i = 0; i < a.ndim(); ++i) s += (i ? ", " : "") + std::to_string(a.shape(i));
  return s + (a.ndim() == 1 ? ",)" : ")");
}

// An SoA field of `width` components as a new [n, width...] array (`shape` gives the trailing dimensions).
template <class T, class S>
py::array_t<T> soa_to_rows(const std::vector<S>& soa, int n, std::vector<py::ssize_t> tail) {
  py::ssize_t width = 1;
  for (auto t : tail) width *= t;
  tail.insert(tail.begin(), py::ssize_t(n));
  py::array_t<T> r(tail);
  T* o = r.mutable_data();
  for (py::ssize_t c = 0; c < width; ++c)
    for (int p = 0; p < n; ++p) o[size_t(p) * width + c] = T(soa[size_t(c) * n + p]);
  return r;
}

// A [n, width...] array (any float type) as an SoA field of doubles; throws Error naming `what` and the
// shape expected when it does not match, or the entry that is not finite.
inline std::vector<double> rows_to_soa(const py::handle& h, int n, std::vector<py::ssize_t> tail,
                                       const std::string& what, const std::string& row = "particle") {
  auto a = py::array_t<double, py::array::c_style | py::array::forcecast>::ensure(h);
  std::vector<py::ssize_t> want = tail;
  want.insert(want.begin(), py::ssize_t(n));
  std::string want_text = "(";
  for (size_t i = 0; i < want.size(); ++i) want_text += (i ? ", " : "") + std::to_string(want[i]);
  want_text += ")";
  if (!a) fail(what, "expected an array of shape " + want_text);
  bool ok = a.ndim() == py::ssize_t(want.size());
  for (size_t i = 0; ok && i < want.size(); ++i) ok = a.shape(py::ssize_t(i)) == want[i];
  if (!ok) fail(what, "expected shape " + want_text + ", got " + shape_text(a));
  const py::ssize_t width = a.size() / std::max(n, 1);
  std::vector<double> soa(size_t(a.size()));
  const double* d = a.data();
  for (int p = 0; p < n; ++p)
    for (py::ssize_t c = 0; c < width; ++c) {
      const double x = d[size_t(p) * width + c];
      if (!std::isfinite(x))
        fail(what, "entry " + std::to_string(c) + " of " + row + " " + std::to_string(p) + " is " +
                       std::to_string(x));
      soa[size_t(c) * n + p] = x;
    }
  return soa;
}

// A 1-D array of `count` finite doubles.
inline std::vector<double> flat_values(const py::handle& h, size_t count, const std::string& what) {
  auto a = py::array_t<double, py::array::c_style | py::array::forcecast>::ensure(h);
  if (!a || size_t(a.size()) != count)
    fail(what, "expected " + std::to_string(count) + " value(s), got " +
                   (a ? std::to_string(a.size()) : std::string("something that is not an array")));
  std::vector<double> v(a.data(), a.data() + count);
  for (size_t i = 0; i < count; ++i)
    if (!std::isfinite(v[i])) fail(what, "entry " + std::to_string(i) + " is " + std::to_string(v[i]));
  return v;
}

}  // namespace ductile::python
