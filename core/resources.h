// Memory guards: what a run will need, estimated before anything large is allocated, checked against a
// process-wide limit (`--max-memory`, by default the memory the machine or its cgroup has available).
#pragma once

#include <cstdint>
#include <string>

namespace ductile {

// Bytes this process may still allocate: MemAvailable of /proc/meminfo, lowered by a cgroup limit (v2
// memory.max - memory.current, v1 memory.limit_in_bytes - memory.usage_in_bytes). 0 when unknown.
double available_memory_bytes();

// "4GB", "512MB", "1.5G", "800M", "64KiB", "123456" (bytes); K/M/G/T are powers of 1000, KiB/MiB/GiB/TiB of
// 1024. Throws Error naming `where` on anything else.
double parse_memory_size(const std::string& text, const std::string& where);
// "1.23 GB"
std::string format_bytes(double bytes);

// The limit the library checks before large allocations (scene sampling, simulator, tape). Unlimited (0)
// until a command sets it.
void set_memory_limit(double bytes);
double memory_limit();

// The limit a command's --max-memory option gives: empty: available_memory_bytes() (unlimited when unknown);
// "none": unlimited; else parse_memory_size().
double memory_limit_option(const std::string& text, const std::string& where);

// Throws Error "<what> needs N (<detail>), more than the memory limit of L (--max-memory); <advice>" when
// bytes exceed the limit; nothing when no limit is set.
void check_memory(const std::string& what, double bytes, const std::string& detail,
                  const std::string& advice);

// Bytes a Simulator<T, D> holds per particle (two particle buffers, the stress, the material batches) and
// per grid node (mass and momentum), plus the host copies of the State a command keeps.
double simulator_particle_bytes(int dim, int scalar_bytes);
double simulator_node_bytes(int dim, int scalar_bytes);

// What to try when a run does not fit.
inline const char* kMemoryAdvice =
    "use a coarser grid (a larger domain.dx), fewer particles (a smaller sampling.ppc or smaller objects), "
    "or "
    "for gradients a checkpoint policy that keeps fewer states (--checkpoint sqrt or budget:SIZE); "
    "--max-memory raises the limit";

}  // namespace ductile
