#include "core/resources.h"

#include <cctype>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <sstream>

#include "core/error.h"

namespace ductile {

namespace {

double g_limit = 0;

// The first number of a file (e.g. a cgroup counter); -1 when absent or "max".
double read_number(const char* path) {
  std::ifstream f(path);
  std::string s;
  if (!(f >> s) || s == "max") return -1;
  char* end = nullptr;
  const double v = std::strtod(s.c_str(), &end);
  return end != s.c_str() ? v : -1;
}

// MemAvailable of /proc/meminfo in bytes (-1 when absent).
double meminfo_available() {
  std::ifstream f("/proc/meminfo");
  std::string key, unit;
  double kb = 0;
  while (f >> key >> kb) {
    std::getline(f, unit);
    if (key == "MemAvailable:") return kb * 1024.0;
  }
  return -1;
}

}  // namespace

double available_memory_bytes() {
  double avail = meminfo_available();
  // a cgroup may allow less than the machine has: its limit minus what the group already uses
  const double v2 = read_number("/sys/fs/cgroup/memory.max");
  const double v1 = read_number("/sys/fs/cgroup/memory/memory.limit_in_bytes");
  double room = -1;
  if (v2 > 0)
    room = v2 - std::max(0.0, read_number("/sys/fs/cgroup/memory.current"));
  else if (v1 > 0 && v1 < 1e18)
    room = v1 - std::max(0.0, read_number("/sys/fs/cgroup/memory/memory.usage_in_bytes"));
  if (room > 0 && (avail < 0 || room < avail)) avail = room;
  return avail > 0 ? avail : 0;
}

double parse_memory_size(const std::string& text, const std::string& where) {
  char* end = nullptr;
  const double v = std::strtod(text.c_str(), &end);
  std::string unit = end ? std::string(end) : "?";
  for (char& c : unit) c = char(std::toupper(static_cast<unsigned char>(c)));
  double scale = -1;
  const char* units[] = {"", "K", "M", "G", "T"};
  for (int k = 0; k < 5; ++k) {
    const std::string u = units[k];
    if (unit == u || unit == u + "B") scale = std::pow(1000.0, k);
    if (k > 0 && unit == u + "IB") scale = std::pow(1024.0, k);
  }
  if (end == text.c_str() || scale < 0 || !(v > 0) || !std::isfinite(v))
    fail(where, "'" + text + "': expected a memory size like 4GB, 512MB, 1.5G or 2GiB");
  return v * scale;
}

std::string format_bytes(double bytes) {
  char buf[32];
  if (bytes >= 1e9)
    std::snprintf(buf, sizeof buf, "%.3g GB", bytes / 1e9);
  else if (bytes >= 1e6)
    std::snprintf(buf, sizeof buf, "%.3g MB", bytes / 1e6);
  else
    std::snprintf(buf, sizeof buf, "%.3g kB", bytes / 1e3);
  return buf;
}

double memory_limit_option(const std::string& text, const std::string& where) {
  if (text.empty()) return available_memory_bytes();
  if (text == "none") return 0;
  return parse_memory_size(text, where);
}

void set_memory_limit(double bytes) {
  g_limit = bytes > 0 ? bytes : 0;
}
double memory_limit() {
  return g_limit;
}

void check_memory(const std::string& what, double bytes, const std::string& detail,
                  const std::string& advice) {
  if (g_limit <= 0 || bytes <= g_limit) return;
  fail(what, "needs about " + format_bytes(bytes) + (detail.empty() ? "" : " (" + detail + ")") +
                 ", more than the memory limit of " + format_bytes(g_limit) + " (--max-memory); " + advice);
}

double simulator_particle_bytes(int D, int s) {
  // per buffer: x, v (D), C, F (D*D), plastic, mass, vol0 (s bytes each), material and id (4 bytes); two
  // buffers, the stress tau (D*D), a batch index (4), the backend's sort keys and order (8 + 8 + 4), and the
  // command's host State (the buffer's fields plus the object index)
  const double buffer = double(2 * D + 2 * D * D + 3) * s + 8;
  return 3 * buffer + double(D * D) * s + 4 + 20 + 4;
}

double simulator_node_bytes(int D, int s) {
  return double(1 + D) * s;
}

}  // namespace ductile
