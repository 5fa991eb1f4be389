// Readers of third-party formats whose library is not hardened against hostile files (OpenVDB 10 overflows a
// heap buffer on a damaged compressed VDB: docs/RELIABILITY.md) first read the file in a child process. A
// crash, sanitizer report or hang there becomes a ductile::Error naming the file; only a file the child read
// without crashing is then read in-process.
#pragma once

#include <functional>
#include <string>

namespace ductile::io {

// Runs `read` in a forked child process with a time limit. Returns when the child read the file; rethrows, as
// a ductile::Error, the message of an exception `read` threw there; throws a ductile::Error naming `path` and
// `what` when the child died by a signal, aborted (a sanitizer report) or ran over `seconds`.
// The child is a fork of this process with one thread: `read` must not use a thread pool whose threads run
// here (it would wait for them forever); stop such a pool first, as io::VdbCleanCopy stops TBB's
// (io::stop_tbb_workers), or limit it to the calling thread inside `read`, as the LibTorch readers do.
void vet_in_child(const std::string& path, const std::string& what, const std::function<void()>& read,
                  double seconds = 60);

}  // namespace ductile::io
