// A validated scene document to a Model (grid, walls, time step, materials, colliders) and the initial
// particles (sampled objects with their mass, volume and velocity).
#include <cmath>

#include "core/error.h"
#include "core/resources.h"
#include "core/scene_gaussians.h"
#include "materials/registry.h"

namespace ductile {

namespace {

using scene_detail::child;
using scene_detail::json;

Surface surface_of(const std::string& s) {
  return s == "sticky" ? Surface::kSticky : (s == "slip" ? Surface::kSlip : Surface::kSeparate);
}

template <class T, int D>
Vec<T, D> vec_of(const json& v) {
  Vec<T, D> r;
  for (int d = 0; d < D; ++d) r[d] = T(v.at(size_t(d)).get<double>());
  return r;
}

// One object's sampled points before velocities: the solid it came from and its material.
struct Sampled {
  SolidShape solid;
  std::shared_ptr<const DenseSdf> sdf;
  std::vector<std::array<double, 3>> points;
  int material = 0;
  double vol = 0;            // per particle [m^D]
  std::vector<double> vols;  // per point when they differ (Gaussians)
  std::vector<int> source;   // Gaussians: the file row of each point
  bool carves = true;        // whether the object removes earlier objects' particles inside it
  std::shared_ptr<scene_detail::PlacedGaussians> splats;
};

// Lattice points inside a solid's bounding box (clipped to the lattice): an upper bound of what it samples.
double lattice_points_in_bounds(const SolidShape& solid, const Lattice& lat) {
  double lo[3], hi[3];
  if (!solid.bounds(lo, hi)) return 0;
  double count = 1;
  for (int d = 0; d < lat.dim; ++d) {
    const double a = std::max(0.0, std::floor((lo[d] - lat.origin[d]) / lat.h) - 1);
    const double b = std::min(double(lat.count[d]), std::ceil((hi[d] - lat.origin[d]) / lat.h) + 2);
    count *= std::max(0.0, b - a);
  }
  return count;
}

}  // namespace

template <class T, int D>
SceneData<T, D> build_scene(const SceneDocument& doc) {
  if (doc.dim != D)
    fail("", "the scene is " + std::to_string(doc.dim) + "D but was built as " + std::to_string(D) + "D");
  const json& j = doc.json;
  SceneData<T, D> out;
  Model<T, D>& m = out.model;
  // grid, walls, time and gravity
  const json& dom = j.at("domain");
  const double dx = dom.at("dx").get<double>();
  m.set_grid(vec_of<T, D>(dom.at("min")), vec_of<T, D>(dom.at("max")), T(dx));
  const json& b = dom.at("boundary");
  m.walls.cells = b.at("cells").get<int>();
  m.walls.surface = surface_of(b.at("surface").get<std::string>());
  m.walls.friction = T(b.at("friction").get<double>());
  m.dt = T(doc.dt);
  m.steps_per_frame = doc.steps_per_frame;
  m.frames = doc.frames;
  m.gravity = vec_of<T, D>(j.at("gravity"));
  const std::string policy = b.at("policy").get<std::string>();
  m.boundary_policy = policy == "clamp"    ? BoundaryPolicy::kClamp
                      : policy == "delete" ? BoundaryPolicy::kDelete
                                           : BoundaryPolicy::kError;
  // materials, values in their spec order
  const auto& reg = MaterialRegistry::instance();
  std::vector<std::string> mat_names;
  std::vector<double> density;
  for (size_t mi = 0; mi < j.at("materials").size(); ++mi) {
    const json& mj = j.at("materials")[mi];
    const std::string model = mj.at("model").get<std::string>();
    auto mat = reg.make<T, D>(model);
    const std::vector<ParamSpec>& specs = mat->specs();
    mat->values().resize(specs.size());
    for (size_t k = 0; k < specs.size(); ++k) mat->values()[k] = T(mj.at(specs[k].name).get<double>());
    scene_detail::configure_files(*mat, mj, reg.get(model).file_keys, "/materials/" + std::to_string(mi));
    density.push_back(mj.at("density").get<double>());
    mat_names.push_back(mj.at("name").get<std::string>());
    m.material_names.push_back(mat_names.back());
    m.materials.push_back(std::move(mat));
  }
  for (size_t i = 0; i < j.at("colliders").size(); ++i)
    m.colliders.push_back(scene_detail::build_collider<T, D>(doc, i));
  // sample every object on a lattice anchored at the domain's min corner
  double lo[3] = {0, 0, 0}, hi[3] = {0, 0, 0};
  for (int d = 0; d < D; ++d) lo[d] = dom["min"][d].get<double>(), hi[d] = dom["max"][d].get<double>();
  const json& objs = j.at("objects");
  std::vector<Sampled> sampled(objs.size());
  double points_bound = 0;
  for (size_t i = 0; i < objs.size(); ++i) {
    const json& o = objs[i];
    const std::string ptr = child("/objects", i);
    Sampled& s = sampled[i];
    const json& shape = o.at("shape");
    const std::string type = shape.at("type").get<std::string>();
    if (type == "gaussians") {
      // one particle per Gaussian (the file's size bounded the allocation); they carve nothing: a cloud of
      // centres has no inside
      s.splats = std::make_shared<scene_detail::PlacedGaussians>(
          scene_detail::load_placed_gaussians(shape, child(ptr, "shape")));
      s.points = s.splats->centers;
      s.vols = scene_detail::gaussian_particle_volumes(s.points, lo, dx);
      s.source.resize(s.points.size());
      for (size_t k = 0; k < s.source.size(); ++k) s.source[k] = int(k);
      s.carves = false;
    } else {
      if (type == "mesh" || type == "vdb")
        s.sdf = scene_detail::shape_sdf(doc, shape, child(ptr, "shape"), false);
      s.solid = scene_detail::object_solid(shape, D, s.sdf.get());
      const json& smp = o.at("sampling");
      const int ppc = smp.at("ppc").get<int>();
      Lattice lat = domain_lattice(D, lo, hi, dx, ppc);
      lat.jitter = smp.at("method").get<std::string>() == "jittered";
      lat.seed = mix64(uint64_t(smp.at("seed").get<int>())) ^ mix64(0x5eed0000ull + i);
      // bounded allocation: the lattice points in the shape's bounds (an upper bound of its particles) must
      // fit
      points_bound += lattice_points_in_bounds(s.solid, lat);
      check_memory(child(ptr, "sampling"), points_bound * sizeof(s.points[0]),
                   "sampling up to " + scene_detail::show_number(points_bound) + " lattice points",
                   kMemoryAdvice);
      s.points = sample_solid(s.solid, lat);
      if (s.points.empty())
        fail(child(ptr, "shape"), "no particles: the shape holds no point of the particle lattice (spacing " +
                                      scene_detail::show_number(lat.h) + " m)");
      s.vol = std::pow(dx, D) / ppc;
    }
    const std::string mat = o.at("material").get<std::string>();
    for (size_t k = 0; k < mat_names.size(); ++k)
      if (mat_names[k] == mat) s.material = int(k);
  }
  // overlaps: a later object replaces the particles of earlier ones inside it
  for (size_t i = 0; i < sampled.size(); ++i) {
    auto& pts = sampled[i].points;
    auto& vols = sampled[i].vols;
    auto& src = sampled[i].source;
    size_t keep = 0;
    for (size_t p = 0; p < pts.size(); ++p) {
      bool covered = false;
      for (size_t k = i + 1; k < sampled.size() && !covered; ++k)
        covered = sampled[k].carves && sampled[k].solid.inside(pts[p].data());
      if (covered) continue;
      if (!vols.empty()) vols[keep] = vols[p];
      if (!src.empty()) src[keep] = src[p];
      pts[keep++] = pts[p];
    }
    if (!vols.empty()) vols.resize(keep);
    if (!src.empty()) src.resize(keep);
    if (keep == 0)
      out.warnings.push_back(child("/objects", i) +
                             ": every particle lies inside later objects; the object is empty");
    pts.resize(keep);
  }
  // particles: position, mass, volume, material, object and velocity (linear + angular about the centre of
  // mass)
  size_t total = 0;
  for (const auto& s : sampled) total += s.points.size();
  if (total > size_t(std::numeric_limits<int>::max()))
    fail("/objects", "too many particles: " + std::to_string(total));
  // the simulation's particles and grid (core/resources.h) before the state is allocated
  const double nodes = double(m.grid.num_nodes());
  check_memory(
      "scene",
      double(total) * simulator_particle_bytes(D, sizeof(T)) + nodes * simulator_node_bytes(D, sizeof(T)),
      std::to_string(total) + " particles, " + scene_detail::show_number(nodes) + " grid nodes",
      kMemoryAdvice);
  State<T, D>& st = out.state;
  st.resize(int(total));
  const int n = st.n;
  int p = 0;
  for (size_t i = 0; i < sampled.size(); ++i) {
    const json& o = objs[i];
    const Sampled& s = sampled[i];
    out.object_names.push_back(o.at("name").get<std::string>());
    double com[3] = {0, 0, 0};
    for (const auto& x : s.points)
      for (int d = 0; d < 3; ++d) com[d] += x[size_t(d)] / double(s.points.size());
    double v[3] = {0, 0, 0}, w[3] = {0, 0, 0};
    for (int d = 0; d < D; ++d) v[d] = o.at("velocity")[size_t(d)].get<double>();
    const json& wj = o.at("angular_velocity");
    if (D == 2)
      w[2] = wj.get<double>();
    else
      for (int d = 0; d < 3; ++d) w[d] = wj[size_t(d)].get<double>();
    if (s.splats) {
      SplatObject so;
      so.object = int(i);
      so.file = o.at("shape").at("file").get<std::string>();
      so.gaussians = std::make_shared<const io::PointTable>(std::move(s.splats->table));
      so.A = s.splats->A;
      so.first_particle = p;
      so.rows = s.source;
      out.splats.push_back(std::move(so));
    }
    for (size_t k = 0; k < s.points.size(); ++k) {
      const auto& x = s.points[k];
      const double vol = s.vols.empty() ? s.vol : s.vols[k];
      const double r[3] = {x[0] - com[0], x[1] - com[1], x[2] - com[2]};
      const double vel[3] = {v[0] + w[1] * r[2] - w[2] * r[1], v[1] + w[2] * r[0] - w[0] * r[2],
                             v[2] + w[0] * r[1] - w[1] * r[0]};
      for (int d = 0; d < D; ++d) {
        st.x[size_t(d) * n + p] = T(x[size_t(d)]);
        st.v[size_t(d) * n + p] = T(vel[d]);
      }
      st.mass[p] = T(density[size_t(s.material)] * vol);
      st.vol0[p] = T(vol);
      st.material[p] = s.material;
      st.object[p] = int32_t(i);
      ++p;
    }
  }
  return out;
}

template SceneData<float, 2> build_scene<float, 2>(const SceneDocument&);
template SceneData<float, 3> build_scene<float, 3>(const SceneDocument&);
template SceneData<double, 2> build_scene<double, 2>(const SceneDocument&);
template SceneData<double, 3> build_scene<double, 3>(const SceneDocument&);

}  // namespace ductile
