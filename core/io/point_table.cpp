#include "core/io/point_table.h"

#include <string>

namespace ductile::io {

template <class T, int D>
PointTable particle_table(const State<T, D>& s, bool state) {
  PointTable t;
  t.names = {"x", "y", "z", "vx", "vy", "vz", "material", "object", "J"};
  if (state) {
    for (const char* m : {"F", "C"})
      for (int i = 0; i < D; ++i)
        for (int j = 0; j < D; ++j) t.names.push_back(m + std::to_string(i) + std::to_string(j));
    t.names.push_back("plastic");
  }
  const size_t nc = t.names.size();
  t.count = size_t(s.n);
  t.values.assign(t.count * nc, 0.0f);
  const bool has_object = s.object.size() == size_t(s.n);
  for (int p = 0; p < s.n; ++p) {
    float* row = &t.values[size_t(p) * nc];
    for (int d = 0; d < D; ++d) {
      row[d] = float(s.x[size_t(d) * s.n + p]);
      row[3 + d] = float(s.v[size_t(d) * s.n + p]);
    }
    row[6] = float(s.material[p]);
    row[7] = has_object ? float(s.object[p]) : 0.0f;
    row[8] = float(det(load_mat<T, D>(s.F.data(), s.n, p)));
    if (!state) continue;
    // the state columns: F and C row-major, then the plastic scalar
    for (int k = 0; k < D * D; ++k) {
      row[9 + k] = float(s.F[size_t(k) * s.n + p]);
      row[9 + D * D + k] = float(s.C[size_t(k) * s.n + p]);
    }
    row[9 + 2 * D * D] = float(s.plastic[p]);
  }
  return t;
}

template PointTable particle_table(const State<float, 2>&, bool);
template PointTable particle_table(const State<float, 3>&, bool);
template PointTable particle_table(const State<double, 2>&, bool);
template PointTable particle_table(const State<double, 3>&, bool);

}  // namespace ductile::io
