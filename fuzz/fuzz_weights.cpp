// libFuzzer harness: neural material weights files (materials/neural_weights_file.h) as configure("weights")
// reads them, for a 2D and a 3D material: the safetensors container (core/io/safetensors.h), the architecture
// in its metadata and every expected tensor's shape and values. Beside the rule that only a ductile::Error
// may escape, a file the container reader accepts must survive a write and a second read unchanged.
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "core/io/safetensors.h"
#include "fuzz/fuzz_util.h"
#include "materials/neural_weights_file.h"

namespace {

bool same(double a, double b) {
  return a == b || (std::isnan(a) && std::isnan(b));
}

// parse(bytes(t)) == t
void check_round_trip(const ductile::io::SafeTensors& t) {
  const ductile::io::SafeTensors back =
      ductile::io::parse_safetensors(ductile::io::safetensors_bytes(t), "again");
  bool ok = back.metadata == t.metadata && back.tensors.size() == t.tensors.size();
  for (auto a = t.tensors.begin(), b = back.tensors.begin(); ok && a != t.tensors.end(); ++a, ++b) {
    ok = a->first == b->first && a->second.dtype == b->second.dtype && a->second.shape == b->second.shape &&
         a->second.values.size() == b->second.values.size();
    for (size_t k = 0; ok && k < a->second.values.size(); ++k)
      ok = same(a->second.values[k], b->second.values[k]);
  }
  if (!ok) {
    std::fprintf(stderr, "fuzz: a safetensors file read, written and read again changed\n");
    std::abort();
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string bytes(reinterpret_cast<const char*>(data), size);
  ductile::fuzz::expect_clean(
      [&] { check_round_trip(ductile::io::parse_safetensors(bytes, "fuzz.safetensors")); });
  for (int D : {2, 3})
    ductile::fuzz::expect_clean([&] { ductile::neural::parse_weights_file(bytes, "fuzz.safetensors", D); });
  return 0;
}
