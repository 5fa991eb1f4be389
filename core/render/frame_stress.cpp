#include "core/render/frame_stress.h"

#include <cmath>

#include "core/error.h"
#include "core/scene_detail.h"
#include "materials/registry.h"

namespace ductile::render {

struct StressEvaluator::Impl {
  int dim = 3;
  std::vector<std::unique_ptr<Material<float, 2>>> m2;
  std::vector<std::unique_ptr<Material<float, 3>>> m3;

  template <int D>
  std::vector<std::unique_ptr<Material<float, D>>>& mats() {
    if constexpr (D == 2)
      return m2;
    else
      return m3;
  }

  // The scene's materials, parameters in their spec order, files configured (as build_scene does).
  template <int D>
  void load(const SceneDocument& doc) {
    const auto& reg = MaterialRegistry::instance();
    const auto& list = doc.json.at("materials");
    for (size_t i = 0; i < list.size(); ++i) {
      const auto& mj = list[i];
      const std::string model = mj.at("model").get<std::string>();
      auto mat = reg.make<float, D>(model);
      const auto& specs = mat->specs();
      mat->values().resize(specs.size());
      for (size_t k = 0; k < specs.size(); ++k) mat->values()[k] = float(mj.at(specs[k].name).template get<double>());
      scene_detail::configure_files(*mat, mj, reg.get(model).file_keys, "/materials/" + std::to_string(i));
      mats<D>().push_back(std::move(mat));
    }
  }

  template <int D>
  std::vector<double> evaluate(const io::PointTable& t, const std::string& name) {
    const int n = int(t.count);
    int cF[D][D];
    for (int i = 0; i < D; ++i)
      for (int j = 0; j < D; ++j) {
        const std::string col = "F" + std::to_string(i) + std::to_string(j);
        cF[i][j] = t.column(col);
        if (cF[i][j] < 0)
          fail(name,
               "has no '" + col +
                   "' column: colouring by stress needs frames written with the scene's outputs.state = "
                   "true (or a 'stress' column)");
      }
    const int cm = t.column("material"), cp = t.column("plastic");
    if (cm < 0) fail(name, "has no 'material' column");
    State<float, D> s;
    s.resize(n);
    std::vector<std::vector<int32_t>> batches(mats<D>().size());
    for (int p = 0; p < n; ++p) {
      for (int i = 0; i < D; ++i)
        for (int j = 0; j < D; ++j) s.F[size_t(i * D + j) * n + p] = t.at(size_t(p), cF[i][j]);
      if (cp >= 0) s.plastic[p] = t.at(size_t(p), cp);
      const float m = t.at(size_t(p), cm);
      if (!(m >= 0 && m < float(batches.size())))
        fail(name, "row " + std::to_string(p) + ": material index " + std::to_string(m) + " out of range");
      s.material[p] = int32_t(m);
      batches[size_t(m)].push_back(p);
    }
    std::vector<float> tau(size_t(D * D) * size_t(n), 0.0f);
    for (size_t m = 0; m < batches.size(); ++m) {
      if (batches[m].empty()) continue;
      Status st;
      mats<D>()[m]->stress(Device::kCpu, s.view(), MaterialBatch{batches[m].data(), int(batches[m].size())},
                           tau.data(), &st);
    }
    std::vector<double> vm(static_cast<size_t>(n));
    for (int p = 0; p < n; ++p) {
      const Mat<float, D> F = load_mat<float, D>(s.F.data(), n, p);
      const double J = det(F);
      double sig[D][D], tr = 0;
      for (int i = 0; i < D; ++i)
        for (int j = 0; j < D; ++j) sig[i][j] = tau[size_t(i * D + j) * n + p] / J;
      for (int i = 0; i < D; ++i) tr += sig[i][i];
      double ss = 0;
      for (int i = 0; i < D; ++i)
        for (int j = 0; j < D; ++j) {
          const double dev = sig[i][j] - (i == j ? tr / D : 0.0);
          ss += dev * dev;
        }
      vm[size_t(p)] = std::sqrt(1.5 * ss);
    }
    return vm;
  }
};

StressEvaluator::StressEvaluator(const SceneDocument& doc) : impl_(std::make_unique<Impl>()) {
  impl_->dim = doc.dim;
  if (doc.dim == 2)
    impl_->load<2>(doc);
  else
    impl_->load<3>(doc);
}

StressEvaluator::~StressEvaluator() = default;

std::vector<double> StressEvaluator::von_mises(const io::PointTable& t, const std::string& name) const {
  return impl_->dim == 2 ? impl_->evaluate<2>(t, name) : impl_->evaluate<3>(t, name);
}

}  // namespace ductile::render
