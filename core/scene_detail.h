// Internals of scene loading shared by the core/scene_*.cpp files: typed reads of JSON values that fill
// defaults and fail with the value's JSON pointer, the validation context, and shape helpers.
#pragma once

#include <limits>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "core/level_set.h"
#include "core/sampling.h"
#include "core/scene.h"

namespace ductile::scene_detail {

using json = nlohmann::json;
constexpr double kInf = std::numeric_limits<double>::infinity();

// ---- JSON pointers and messages

// ptr + "/" + key with '~' and '/' escaped as RFC 6901 says.
std::string child(const std::string& ptr, const std::string& key);
std::string child(const std::string& ptr, size_t index);
// A value as it appears in JSON, shortened when long.
std::string show(const json& v);
// A number as JSON writes it (0.5, 1e-05).
std::string show_number(double v);
// Throws Error "<ptr>: <what>" (the root is written "/").
[[noreturn]] void fail_at(const std::string& ptr, const std::string& what);

// ---- Typed reads: each validates obj[key] (at pointer ptr/key), writes the default when the key is missing
// and a default is given, and fails with "missing required key" otherwise.

// Admissible range of a number; open ends are exclusive.
struct Range {
  double lo = -kInf, hi = kInf;
  bool lo_open = false, hi_open = false;
  const char* meaning = nullptr;  // shown in parentheses after the expectation
};
inline Range positive() {
  return {0, kInf, true, false};
}
inline Range non_negative() {
  return {0, kInf, false, false};
}

void expect_object(const json& j, const std::string& ptr);
// Fails on the first key of object j that is not in `allowed`, listing the allowed ones.
void check_keys(const json& j, const std::string& ptr, const std::vector<std::string>& allowed);
double check_number(const json& v, const std::string& ptr, const Range& r);
double get_number(json& obj, const std::string& ptr, const char* key, const Range& r,
                  std::optional<double> def = std::nullopt);
int get_int(json& obj, const std::string& ptr, const char* key, int lo, int hi,
            std::optional<int> def = std::nullopt);
bool get_bool(json& obj, const std::string& ptr, const char* key, std::optional<bool> def = std::nullopt);
std::string get_string(json& obj, const std::string& ptr, const char* key,
                       std::optional<std::string> def = std::nullopt);
std::string get_choice(json& obj, const std::string& ptr, const char* key,
                       const std::vector<std::string>& choices,
                       std::optional<std::string> def = std::nullopt);
// An array of n numbers, each in r.
std::vector<double> get_vec(json& obj, const std::string& ptr, const char* key, int n, const Range& r,
                            std::optional<std::vector<double>> def = std::nullopt);
// An angular quantity: a number (about z) in 2D, an array of 3 numbers in 3D; returned as 3 components.
std::vector<double> get_angular(json& obj, const std::string& ptr, const char* key, int dim,
                                std::optional<double> def = std::nullopt);
// A section obj[key] that must be an object; an optional one missing is created empty.
json& get_section(json& obj, const std::string& ptr, const char* key, bool required);
// A list obj[key] that must be an array (of at least min_items); an optional one missing is created empty.
json& get_list(json& obj, const std::string& ptr, const char* key, bool required, size_t min_items = 0);
// A file path relative to base_dir, made absolute in place; fails with "cannot open <abs>" when unreadable.
std::string get_file(json& obj, const std::string& ptr, const char* key, const std::string& base_dir);

// ---- Validation of the sections, in the order they depend on each other

struct Context {
  SceneDocument* doc = nullptr;
  int dim = 3;
  double dx = 0;
  double lo[3] = {0, 0, 0}, hi[3] = {0, 0, 0};  // the domain, max rounded up to whole cells
  std::vector<std::string> materials;           // declared material names
  std::vector<double> material_density;
  double wave_speed = 0;  // largest material wave speed [m/s]
  double speed = 0;       // largest initial object or collider speed [m/s]
};

void validate_domain(json& root, Context& ctx);
void validate_materials(json& root, Context& ctx);
// Hands a material the files its scene entry m (at pointer ptr) names; a failure names the key's pointer.
template <class T, int D>
void configure_files(Material<T, D>& mat, const json& m, const std::vector<std::string>& files,
                     const std::string& ptr);
void validate_objects(json& root, Context& ctx);
void validate_colliders(json& root, Context& ctx);
void validate_time(json& root, Context& ctx);
void validate_outputs(json& root, Context& ctx);
// "camera" (core/scene_camera.cpp): optional, left absent when not given
void validate_camera(json& root, Context& ctx);
// "loss" and "gradient" (core/scene_gradient.cpp)
void validate_losses(json& root, Context& ctx);
void validate_gradient(json& root, Context& ctx);
// "actuators", "controller", "objective" and "optimize" (core/control/robot_scene.cpp)
void validate_robot(json& root, Context& ctx);

// ---- Shapes (normalized JSON -> geometry)

// Placement of a mesh or vdb shape; with `at_origin` the translation is left out (colliders keep it in their
// pose so that keyframes move the mesh's own origin).
Placement placement_of(const json& shape, bool at_origin = false);
// Loads the SDF of a mesh or vdb shape with voxel size shape["sdf_dx"], failing with the shape's pointer.
std::shared_ptr<const DenseSdf> load_shape_sdf(const json& shape, const std::string& ptr, bool at_origin);
// The SDF of a shape from the document's cache, loading it when absent.
std::shared_ptr<const DenseSdf> shape_sdf(const SceneDocument& doc, const json& shape, const std::string& ptr,
                                          bool at_origin);
// The solid of an object's normalized shape (sdf shapes keep a pointer into `sdf`).
SolidShape object_solid(const json& shape, int dim, const DenseSdf* sdf);
// Rotation matrix (row-major, local -> world) of "rotate_deg": degrees about z in 2D, Euler XYZ in 3D.
void rotation_of(const std::vector<double>& deg3, int dim, double R[3][3]);
// Axis-angle vector (radians) of a rotation matrix.
void axis_angle_of(const double R[3][3], double w[3]);

// ---- Building (validated JSON -> model pieces)

// Collider `index` of the scene in its rest pose, with its motion and active window.
template <class T, int D>
Collider<T, D> build_collider(const SceneDocument& doc, size_t index);

}  // namespace ductile::scene_detail
