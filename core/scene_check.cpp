// Typed reads of scene values: defaults, ranges and messages that name the JSON pointer of the value.
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "core/error.h"
#include "core/scene_detail.h"

namespace ductile::scene_detail {

namespace fs = std::filesystem;

std::string child(const std::string& ptr, const std::string& key) {
  std::string k;
  for (char c : key) {
    if (c == '~')
      k += "~0";
    else if (c == '/')
      k += "~1";
    else
      k += c;
  }
  return ptr + "/" + k;
}

std::string child(const std::string& ptr, size_t index) {
  return ptr + "/" + std::to_string(index);
}

std::string show(const json& v) {
  std::string s = v.dump();
  if (s.size() > 60) s = s.substr(0, 57) + "...";
  return s;
}

std::string show_number(double v) {
  // the shortest %g form that reads back as v
  char buf[32];
  for (int prec = 1; prec <= 17; ++prec) {
    std::snprintf(buf, sizeof buf, "%.*g", prec, v);
    if (std::strtod(buf, nullptr) == v) break;
  }
  return buf;
}

void fail_at(const std::string& ptr, const std::string& what) {
  fail(ptr.empty() ? "/" : ptr, what);
}

namespace {

// "a number > 0", "a number in [0, 1]" ... for a range, and the bound a value breaks.
std::string describe(const Range& r) {
  std::string lo = (r.lo_open ? "> " : ">= ") + show_number(r.lo);
  std::string hi = (r.hi_open ? "< " : "<= ") + show_number(r.hi);
  std::string s;
  if (std::isinf(r.lo) && std::isinf(r.hi))
    s = "a number";
  else if (std::isinf(r.hi))
    s = "a number " + lo;
  else if (std::isinf(r.lo))
    s = "a number " + hi;
  else
    s = "a number in " + std::string(r.lo_open ? "(" : "[") + show_number(r.lo) + ", " + show_number(r.hi) +
        (r.hi_open ? ")" : "]");
  if (r.meaning) s += std::string(" (") + r.meaning + ")";
  return s;
}

std::string broken_bound(const Range& r, double v) {
  std::string s;
  if (v < r.lo || (r.lo_open && v == r.lo))
    s = std::string("a number ") + (r.lo_open ? "> " : ">= ") + show_number(r.lo);
  else
    s = std::string("a number ") + (r.hi_open ? "< " : "<= ") + show_number(r.hi);
  if (r.meaning) s += std::string(" (") + r.meaning + ")";
  return s;
}

std::string join(const std::vector<std::string>& v, const char* quote = "") {
  std::string s;
  for (const auto& x : v) s += (s.empty() ? "" : ", ") + std::string(quote) + x + quote;
  return s;
}

}  // namespace

void expect_object(const json& j, const std::string& ptr) {
  if (!j.is_object()) fail_at(ptr, "expected an object, got " + show(j));
}

void check_keys(const json& j, const std::string& ptr, const std::vector<std::string>& allowed) {
  expect_object(j, ptr);
  for (auto it = j.begin(); it != j.end(); ++it) {
    bool ok = false;
    for (const auto& a : allowed) ok = ok || a == it.key();
    if (!ok) fail_at(child(ptr, it.key()), "unknown key (allowed here: " + join(allowed) + ")");
  }
}

// The value at obj[key], or nullptr after writing the default; fails when required and missing.
template <class V>
static json* value_or_default(json& obj, const std::string& ptr, const char* key,
                              const std::optional<V>& def) {
  if (obj.contains(key)) return &obj[key];
  if (!def) fail_at(ptr, std::string("missing required key '") + key + "'");
  obj[key] = *def;
  return nullptr;
}

double check_number(const json& v, const std::string& ptr, const Range& r) {
  if (!v.is_number()) fail_at(ptr, "expected " + describe(r) + ", got " + show(v));
  const double x = v.get<double>();
  if (!std::isfinite(x)) fail_at(ptr, "expected a finite number, got " + show(v));
  if (x < r.lo || x > r.hi || (r.lo_open && x == r.lo) || (r.hi_open && x == r.hi))
    fail_at(ptr, "expected " + broken_bound(r, x) + ", got " + show(v));
  return x;
}

double get_number(json& obj, const std::string& ptr, const char* key, const Range& r,
                  std::optional<double> def) {
  const json* v = value_or_default(obj, ptr, key, def);
  return v ? check_number(*v, child(ptr, key), r) : *def;
}

int get_int(json& obj, const std::string& ptr, const char* key, int lo, int hi, std::optional<int> def) {
  const json* v = value_or_default(obj, ptr, key, def);
  if (!v) return *def;
  std::string expect = "an integer >= " + std::to_string(lo);
  if (hi < std::numeric_limits<int>::max())
    expect = "an integer in [" + std::to_string(lo) + ", " + std::to_string(hi) + "]";
  const bool integral = v->is_number_integer() || (v->is_number_float() && std::isfinite(v->get<double>()) &&
                                                   v->get<double>() == std::floor(v->get<double>()));
  if (!integral) fail_at(child(ptr, key), "expected " + expect + ", got " + show(*v));
  const double x = v->get<double>();
  if (x < lo || x > hi) fail_at(child(ptr, key), "expected " + expect + ", got " + show(*v));
  obj[key] = int(x);
  return int(x);
}

bool get_bool(json& obj, const std::string& ptr, const char* key, std::optional<bool> def) {
  const json* v = value_or_default(obj, ptr, key, def);
  if (!v) return *def;
  if (!v->is_boolean()) fail_at(child(ptr, key), "expected true or false, got " + show(*v));
  return v->get<bool>();
}

std::string get_string(json& obj, const std::string& ptr, const char* key, std::optional<std::string> def) {
  const json* v = value_or_default(obj, ptr, key, def);
  if (!v) return *def;
  if (!v->is_string()) fail_at(child(ptr, key), "expected a string, got " + show(*v));
  return v->get<std::string>();
}

std::string get_choice(json& obj, const std::string& ptr, const char* key,
                       const std::vector<std::string>& choices, std::optional<std::string> def) {
  const json* v = value_or_default(obj, ptr, key, def);
  if (!v) return *def;
  if (v->is_string())
    for (const auto& c : choices)
      if (c == v->get<std::string>()) return c;
  fail_at(child(ptr, key), "expected one of " + join(choices, "\"") + ", got " + show(*v));
}

std::vector<double> get_vec(json& obj, const std::string& ptr, const char* key, int n, const Range& r,
                            std::optional<std::vector<double>> def) {
  const json* v = value_or_default(obj, ptr, key, def);
  if (!v) return *def;
  const std::string p = child(ptr, key);
  if (!v->is_array() || int(v->size()) != n)
    fail_at(p, "expected an array of " + std::to_string(n) + " numbers, got " + show(*v));
  std::vector<double> out;
  for (int i = 0; i < n; ++i) out.push_back(check_number((*v)[i], child(p, size_t(i)), r));
  return out;
}

std::vector<double> get_angular(json& obj, const std::string& ptr, const char* key, int dim,
                                std::optional<double> def) {
  if (!obj.contains(key)) {
    if (!def) fail_at(ptr, std::string("missing required key '") + key + "'");
    obj[key] = dim == 2 ? json(*def) : json::array({*def, *def, *def});
    return {dim == 2 ? 0.0 : *def, dim == 2 ? 0.0 : *def, *def};
  }
  const json& v = obj[key];
  const std::string p = child(ptr, key);
  if (dim == 2) {
    if (!v.is_number()) fail_at(p, "expected a number (about z in 2D), got " + show(v));
    return {0, 0, check_number(v, p, Range{})};
  }
  return get_vec(obj, ptr, key, 3, Range{});
}

json& get_section(json& obj, const std::string& ptr, const char* key, bool required) {
  if (!obj.contains(key)) {
    if (required) fail_at(ptr, std::string("missing required key '") + key + "'");
    obj[key] = json::object();
  }
  expect_object(obj[key], child(ptr, key));
  return obj[key];
}

json& get_list(json& obj, const std::string& ptr, const char* key, bool required, size_t min_items) {
  if (!obj.contains(key)) {
    if (required) fail_at(ptr, std::string("missing required key '") + key + "'");
    obj[key] = json::array();
  }
  json& v = obj[key];
  if (!v.is_array() || v.size() < min_items)
    fail_at(child(ptr, key),
            std::string("expected ") + (min_items ? "a non-empty array" : "an array") + ", got " + show(v));
  return v;
}

std::string get_file(json& obj, const std::string& ptr, const char* key, const std::string& base_dir) {
  const std::string rel = get_string(obj, ptr, key);
  if (rel.empty()) fail_at(child(ptr, key), "expected a file name, got \"\"");
  fs::path p(rel);
  if (p.is_relative()) p = fs::path(base_dir) / p;
  const std::string abs = p.lexically_normal().string();
  std::ifstream in(abs, std::ios::binary);
  if (!in || fs::is_directory(abs)) fail_at(child(ptr, key), "cannot open " + abs);
  obj[key] = abs;
  return abs;
}

}  // namespace ductile::scene_detail
