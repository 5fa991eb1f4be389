// Preview images, deformed splats and surface meshes per frame of `ductile simulate`.
#include "apps/visual_outputs.h"

#include <chrono>
#include <cmath>
#include <cstdio>
#include <regex>

#include "core/io/gaussian_splats.h"
#include "core/io/ply.h"
#include "core/io/png.h"
#include "core/io/vdb_mesh.h"
#include "core/render/frame_render.h"
#include "core/render/video.h"

namespace fs = std::filesystem;

namespace ductile::app {

namespace {

std::string numbered(int frame, const char* ext) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "frame_%05d.%s", frame, ext);
  return buf;
}

int remove_frames(const fs::path& dir, const char* ext) {
  if (!fs::is_directory(dir)) return 0;
  const std::regex pattern(std::string("frame_[0-9]{5}\\.") + ext);
  int removed = 0;
  for (const auto& e : fs::directory_iterator(dir))
    if (e.is_regular_file() && std::regex_match(e.path().filename().string(), pattern)) {
      fs::remove(e.path());
      ++removed;
    }
  return removed;
}

double seconds_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

}  // namespace

template <int D>
VisualOutputs<D>::VisualOutputs(const SceneDocument& doc, const SceneData<float, D>& data,
                                const fs::path& out, bool preview)
    : doc_(doc),
      out_(out),
      splats_(data.splats),
      object_names_(data.object_names),
      initial_n_(data.state.n),
      mesh_(doc.outputs.mesh && D == 3),
      preview_(preview) {
  for (const auto& o : doc.json.at("objects")) object_ppc_.push_back(o.at("sampling").value("ppc", 8));
  if (preview_) {
    render::FrameRenderSettings s;
    renderer_ = std::make_unique<render::FrameRenderer>(doc, s);
    const io::PointTable first = io::particle_table(data.state);
    renderer_->frame_content({&first});  // the automatic camera frames the initial particles and the floor
  }
}

template <int D>
VisualOutputs<D>::~VisualOutputs() = default;

template <int D>
int VisualOutputs<D>::prepare() {
  int removed = 0;
  removed += remove_frames(out_ / "render", "png");
  removed += remove_frames(out_ / "splats", "ply");
  removed += remove_frames(out_ / "meshes", "obj");
  return removed;
}

template <int D>
void VisualOutputs<D>::write(int frame, const State<float, D>& st) {
  if (frames_++ == 0) {
    // directories on the first frame (also for a resumed run, which skips prepare())
    if (preview_) fs::create_directories(out_ / "render");
    if (!splats_.empty() && D == 3) fs::create_directories(out_ / "splats");
    if (mesh_) fs::create_directories(out_ / "meshes");
  }
  if (preview_) {
    const auto t0 = std::chrono::steady_clock::now();
    const io::Rgb8Image img =
        renderer_->render(io::particle_table(st), st.time, "frame " + std::to_string(frame));
    render_s_ += seconds_since(t0);
    io::write_png((out_ / "render" / numbered(frame, "png")).string(), img);
  }
  if constexpr (D == 3) {
    const int n = st.n;
    if (!splats_.empty() && n == initial_n_) {
      // each Gaussian follows its particle: position x_p, covariance F_p A Sigma A^T F_p^T
      const auto t0 = std::chrono::steady_clock::now();
      for (size_t k = 0; k < splats_.size(); ++k) {
        const SplatObject& so = splats_[k];
        std::vector<float> x(3 * so.rows.size()), F(9 * so.rows.size());
        for (size_t r = 0; r < so.rows.size(); ++r) {
          const size_t p = size_t(so.first_particle) + r;
          for (int d = 0; d < 3; ++d) x[3 * r + size_t(d)] = st.x[size_t(d) * size_t(n) + p];
          for (int e = 0; e < 9; ++e) F[9 * r + size_t(e)] = st.F[size_t(e) * size_t(n) + p];
        }
        const io::PointTable t = io::deform_gaussians(*so.gaussians, so.rows, so.A, x, F);
        const std::string name = splats_.size() == 1
                                     ? numbered(frame, "ply")
                                     : object_names_[size_t(so.object)] + "_" + numbered(frame, "ply");
        io::write_ply((out_ / "splats" / name).string(), t,
                      {"ductile frame " + std::to_string(frame) + " time " + std::to_string(st.time),
                       "gaussians of " + so.file});
      }
      splat_s_ += seconds_since(t0);
    }
    if (mesh_) {
      // one surface per object, as named groups of one OBJ
      const auto t0 = std::chrono::steady_clock::now();
      const double dx = doc_.json.at("domain").at("dx").get<double>();
      io::NamedMeshes groups;
      for (size_t o = 0; o < object_names_.size(); ++o) {
        std::vector<float> xyz;
        for (int p = 0; p < n; ++p)
          if (st.object[size_t(p)] == int(o))
            for (int d = 0; d < 3; ++d) xyz.push_back(st.x[size_t(d) * size_t(n) + size_t(p)]);
        if (xyz.empty()) continue;
        const double spacing = dx / std::cbrt(double(object_ppc_[o]));
        const double radius = doc_.outputs.mesh_radius > 0 ? doc_.outputs.mesh_radius : spacing;
        const double voxel = doc_.outputs.mesh_voxel > 0 ? doc_.outputs.mesh_voxel : radius / 2;
        groups.emplace_back(object_names_[o], io::particle_surface(xyz, radius, voxel));
      }
      io::write_obj((out_ / "meshes" / numbered(frame, "obj")).string(), groups,
                    "ductile frame " + std::to_string(frame) + " time " + std::to_string(st.time));
      mesh_s_ += seconds_since(t0);
    }
  }
}

template <int D>
void VisualOutputs<D>::finish(std::vector<std::string>& notes) {
  if (frames_ == 0) return;
  char line[256];
  if (!splats_.empty()) {
    std::snprintf(line, sizeof line, "wrote deformed Gaussian splats to %s (%.3g s per frame)",
                  (out_ / "splats").c_str(), splat_s_ / frames_);
    notes.push_back(line);
  }
  if (mesh_) {
    std::snprintf(line, sizeof line, "wrote OBJ surface meshes to %s (%.3g s per frame)",
                  (out_ / "meshes").c_str(), mesh_s_ / frames_);
    notes.push_back(line);
  }
  if (!preview_) return;
  std::snprintf(line, sizeof line, "preview images in %s (%.3g s per frame)", (out_ / "render").c_str(),
                render_s_ / frames_);
  notes.push_back(line);
  const int every = std::max(1, doc_.outputs.every_n_frames);
  const double fps = std::clamp(1.0 / (doc_.frame_dt * every), 1.0, 120.0);
  const fs::path mp4 = out_ / "render" / "video.mp4";
  try {
    render::encode_mp4((out_ / "render").string(), mp4.string(), fps);
    notes.push_back("video: " + mp4.string());
  } catch (const std::exception& e) {
    notes.push_back(std::string("no video: ") + e.what());
  }
}

template class VisualOutputs<2>;
template class VisualOutputs<3>;

}  // namespace ductile::app
