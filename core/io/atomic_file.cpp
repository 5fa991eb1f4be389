#include "core/io/atomic_file.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>

#include "core/error.h"

namespace ductile::io {

namespace {

std::string errno_text() {
  return std::strerror(errno);
}

// Flushes a file's contents to disk.
void fsync_path(const std::string& path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) fail(path, "cannot open to flush: " + errno_text());
  int rc = ::fsync(fd);
  int err = errno;
  ::close(fd);
  if (rc != 0) fail(path, "cannot flush to disk: " + std::string(std::strerror(err)));
}

// Flushes the directory entry of a rename (best effort: some file systems refuse fsync on directories).
void fsync_parent_dir(const std::string& path) {
  size_t slash = path.find_last_of('/');
  std::string dir = slash == std::string::npos ? "." : (slash == 0 ? "/" : path.substr(0, slash));
  int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return;
  ::fsync(fd);
  ::close(fd);
}

}  // namespace

AtomicFile::AtomicFile(std::string path)
    : path_(std::move(path)), tmp_(path_ + ".tmp-" + std::to_string(::getpid())) {}

AtomicFile::~AtomicFile() {
  if (!committed_) ::unlink(tmp_.c_str());
}

void AtomicFile::commit() {
  fsync_path(tmp_);
  if (::rename(tmp_.c_str(), path_.c_str()) != 0)
    fail(path_, "cannot rename " + tmp_ + " over it: " + errno_text());
  committed_ = true;
  fsync_parent_dir(path_);
}

void write_file_atomic(const std::string& path, const void* data, size_t bytes) {
  AtomicFile f(path);
  int fd = ::open(f.tmp_path().c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) fail(f.tmp_path(), "cannot create: " + errno_text());
  // write all bytes, resuming after partial writes and signals
  const char* p = static_cast<const char*>(data);
  size_t left = bytes;
  while (left > 0) {
    ssize_t w = ::write(fd, p, left);
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) {
      std::string why = errno_text();
      ::close(fd);
      fail(f.tmp_path(), "write failed: " + why);
    }
    p += w;
    left -= size_t(w);
  }
  if (::close(fd) != 0) fail(f.tmp_path(), "close failed: " + errno_text());
  f.commit();
}

void write_file_atomic(const std::string& path, const std::string& text) {
  write_file_atomic(path, text.data(), text.size());
}

}  // namespace ductile::io
