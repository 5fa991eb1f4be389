// Checkpoint files of long runs (`simulate`, `fit`, `optimize`): a JSON document of metadata and named binary
// arrays, written atomically (a kill at any moment leaves the previous checkpoint whole) and read with every
// length checked against the file, and a checksum, before anything is allocated.
#pragma once

#include <cstdint>
#include <cstring>
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "core/error.h"

namespace ductile::io {

struct CheckpointFile {
  std::string kind;     // what wrote it ("simulate", "fit", ...): a reader refuses another kind's file
  nlohmann::json meta;  // small values: counters, the scene's digest, histories
  std::map<std::string, std::string> arrays;  // name -> raw bytes (host byte order)

  // Stores a vector's bytes under `name`.
  template <class T>
  void put(const std::string& name, const std::vector<T>& v) {
    arrays[name].assign(reinterpret_cast<const char*>(v.data()), v.size() * sizeof(T));
  }
  // The array `name` as elements of T; throws Error naming `file` when absent or of another element size.
  template <class T>
  std::vector<T> get(const std::string& name, const std::string& file) const {
    auto it = arrays.find(name);
    if (it == arrays.end()) fail(file, "checkpoint has no array '" + name + "'");
    if (it->second.size() % sizeof(T))
      fail(file, "checkpoint array '" + name + "' has " + std::to_string(it->second.size()) +
                     " bytes, not a multiple of " + std::to_string(sizeof(T)));
    std::vector<T> v(it->second.size() / sizeof(T));
    if (!v.empty()) std::memcpy(v.data(), it->second.data(), it->second.size());
    return v;
  }
};

// The bytes of a checkpoint file, and the checkpoint those bytes hold (`name` stands for the file in errors).
std::string checkpoint_bytes(const CheckpointFile& c);
CheckpointFile parse_checkpoint(const std::string& bytes, const std::string& name);

// Writes a checkpoint atomically; reads one, refusing a file of another kind, truncated or corrupted, with an
// Error naming the file.
void write_checkpoint(const std::string& path, const CheckpointFile& c);
CheckpointFile read_checkpoint(const std::string& path, const std::string& kind);

// A 64-bit FNV-1a digest (of a scene's text, to refuse resuming a different scene).
uint64_t fnv1a64(const std::string& bytes);

}  // namespace ductile::io
