// Atomic file replacement: write beside the target, flush to disk, then rename over it, so a crash or a full
// disk never leaves a half-written file under the final name.
#pragma once

#include <cstddef>
#include <string>

namespace ductile::io {

// A temporary file next to `path` (path.tmp-<pid>) that becomes `path` on commit(); removed if never
// committed. Writers that need a file name (OpenVDB) write to tmp_path() and then commit().
class AtomicFile {
 public:
  explicit AtomicFile(std::string path);
  ~AtomicFile();
  AtomicFile(const AtomicFile&) = delete;
  AtomicFile& operator=(const AtomicFile&) = delete;

  const std::string& path() const { return path_; }
  const std::string& tmp_path() const { return tmp_; }
  // Flushes the temporary file to disk and renames it over path(); throws Error on failure.
  void commit();

 private:
  std::string path_, tmp_;
  bool committed_ = false;
};

// Writes bytes (or text) to `path` atomically; throws Error naming the file on failure.
void write_file_atomic(const std::string& path, const void* data, size_t bytes);
void write_file_atomic(const std::string& path, const std::string& text);

}  // namespace ductile::io
