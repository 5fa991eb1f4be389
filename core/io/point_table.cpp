#include "core/io/point_table.h"

namespace ductile::io {

template <class T, int D>
PointTable particle_table(const State<T, D>& s) {
  PointTable t;
  t.names = {"x", "y", "z", "vx", "vy", "vz", "material", "object", "J"};
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
  }
  return t;
}

template PointTable particle_table(const State<float, 2>&);
template PointTable particle_table(const State<float, 3>&);
template PointTable particle_table(const State<double, 2>&);
template PointTable particle_table(const State<double, 3>&);

}  // namespace ductile::io
