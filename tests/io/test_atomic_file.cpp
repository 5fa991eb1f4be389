#include <doctest/doctest.h>

#include <filesystem>

#include "core/error.h"
#include "core/io/atomic_file.h"
#include "io/temp_dir.h"

namespace fs = std::filesystem;
using namespace ductile;

// Only the final file remains in the directory: no path.tmp-<pid> left behind.
static int count_entries(const fs::path& dir) {
  int n = 0;
  for (const auto& e : fs::directory_iterator(dir)) (void)e, ++n;
  return n;
}

TEST_CASE("atomic write creates the file and leaves no temporary") {
  test::TempDir dir;
  const std::string path = dir.file("a.txt");
  io::write_file_atomic(path, std::string("hello"));
  CHECK(test::read_text(path) == "hello");
  CHECK(count_entries(dir.path()) == 1);
}

TEST_CASE("atomic write replaces existing content, including a longer one") {
  test::TempDir dir;
  const std::string path = dir.file("a.bin");
  io::write_file_atomic(path, std::string(1000, 'x'));
  const char bytes[3] = {'\0', '\1', '\2'};
  io::write_file_atomic(path, bytes, 3);
  CHECK(test::read_text(path) == std::string(bytes, 3));
  CHECK(count_entries(dir.path()) == 1);
}

TEST_CASE("an uncommitted AtomicFile removes its temporary and keeps the old file") {
  test::TempDir dir;
  const std::string path = dir.file("keep.txt");
  io::write_file_atomic(path, std::string("old"));
  {
    io::AtomicFile f(path);
    CHECK(f.tmp_path().find(path + ".tmp-") == 0);
    test::write_text(f.tmp_path(), "half written");
    // leaving the scope without commit(), as an exception would
  }
  CHECK(test::read_text(path) == "old");
  CHECK(count_entries(dir.path()) == 1);
}

TEST_CASE("atomic write into a missing directory fails with the path in the message") {
  test::TempDir dir;
  const std::string path = dir.file("no/such/dir/x.txt");
  try {
    io::write_file_atomic(path, std::string("x"));
    FAIL("expected an error");
  } catch (const Error& e) {
    CHECK(std::string(e.what()).find("no/such/dir/x.txt") != std::string::npos);
  }
}
