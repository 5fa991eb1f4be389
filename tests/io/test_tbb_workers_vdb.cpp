// OpenVDB's TBB workers are stopped before a VDB file is read in a forked child (io::stop_tbb_workers): a
// child forked while they run inherits a scheduler without its threads, and OpenVDB's writer there waited for
// them forever (2 of about 300 runs of the VDB round trip, four at a time on two cores).
#include <doctest/doctest.h>
#include <oneapi/tbb/parallel_for.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <mutex>
#include <set>
#include <string>
#include <thread>

#include "core/io/vdb_volume.h"
#include "test_util.h"

using namespace ductile;

namespace {

long thread_id() {
  return long(::syscall(SYS_gettid));
}

bool thread_alive(long tid) {
  return std::filesystem::exists("/proc/self/task/" + std::to_string(tid));
}

// Whether thread tid leaves /proc within `seconds` (a joined thread's entry goes a moment after the join).
bool thread_gone_within(long tid, double seconds) {
  const auto end = std::chrono::steady_clock::now() + std::chrono::duration<double>(seconds);
  while (thread_alive(tid)) {
    if (std::chrono::steady_clock::now() > end) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  return true;
}

}  // namespace

TEST_CASE("isolated read: TBB's workers are joined before a VDB file is read in a child" *
          doctest::skip(!test::have_openvdb())) {
  // put TBB's workers to work: every thread that runs an iteration is noted
  std::mutex m;
  std::set<long> ran;
  oneapi::tbb::parallel_for(0, 256, [&](int) {
    {
      const std::lock_guard<std::mutex> lock(m);
      ran.insert(thread_id());
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  });
  ran.erase(thread_id());
  if (ran.empty()) MESSAGE("no TBB worker ran an iteration (one core?): nothing to join");
  for (long tid : ran) REQUIRE(thread_alive(tid));  // idle workers wait for more work
  io::stop_tbb_workers("f.vdb");
  for (long tid : ran) CHECK(thread_gone_within(tid, 5));
  // the scheduler starts again when next needed
  int sum = 0;
  oneapi::tbb::parallel_for(0, 64, [&](int i) {
    const std::lock_guard<std::mutex> lock(m);
    sum += i;
  });
  CHECK(sum == 64 * 63 / 2);
  // and a VDB file still reads (in a child, after the workers stopped again)
  CHECK_FALSE(io::read_vdb_info(std::string(DUCTILE_SOURCE_DIR) + "/assets/levelsets/sphere.vdb").empty());
}
