#include "core/io/checkpoint_file.h"

#include <fstream>
#include <sstream>

#include "core/io/atomic_file.h"

namespace ductile::io {

namespace {

constexpr char kMagic[] = "DUCTILE-CHECKPOINT\n";
constexpr uint32_t kVersion = 1;

template <class U>
void put_int(std::string& out, U v) {
  out.append(reinterpret_cast<const char*>(&v), sizeof v);
}

// Reads the file's fields in order; every length is checked against what is left before it is used.
struct Cursor {
  const std::string& bytes;
  const std::string& name;
  size_t pos = 0;
  size_t left() const { return bytes.size() - pos; }
  template <class U>
  U get_int(const char* what) {
    if (left() < sizeof(U)) fail(name, std::string("checkpoint truncated (in ") + what + ")");
    U v;
    std::memcpy(&v, bytes.data() + pos, sizeof v);
    pos += sizeof v;
    return v;
  }
  std::string get_bytes(uint64_t n, const char* what) {
    if (n > left())
      fail(name, std::string("checkpoint truncated: ") + what + " of " + std::to_string(n) + " bytes, " +
                     std::to_string(left()) + " left");
    std::string s = bytes.substr(pos, size_t(n));
    pos += size_t(n);
    return s;
  }
};

}  // namespace

uint64_t fnv1a64(const std::string& bytes) {
  uint64_t h = 1469598103934665603ull;
  for (unsigned char c : bytes) h = (h ^ c) * 1099511628211ull;
  return h;
}

std::string checkpoint_bytes(const CheckpointFile& c) {
  std::string out(kMagic);
  put_int(out, kVersion);
  for (const std::string& s : {c.kind, c.meta.dump()}) {
    put_int(out, uint64_t(s.size()));
    out += s;
  }
  put_int(out, uint64_t(c.arrays.size()));
  for (const auto& [name, data] : c.arrays) {
    put_int(out, uint64_t(name.size()));
    out += name;
    put_int(out, uint64_t(data.size()));
    out += data;
  }
  put_int(out, fnv1a64(out));
  return out;
}

CheckpointFile parse_checkpoint(const std::string& bytes, const std::string& name) {
  const size_t magic = sizeof kMagic - 1;
  if (bytes.compare(0, magic, kMagic) != 0) fail(name, "not a ductile checkpoint file");
  if (bytes.size() < magic + 8) fail(name, "checkpoint truncated");
  uint64_t sum;
  std::memcpy(&sum, bytes.data() + bytes.size() - 8, 8);
  const std::string body = bytes.substr(0, bytes.size() - 8);
  if (sum != fnv1a64(body)) fail(name, "checkpoint corrupted (checksum mismatch)");
  Cursor in{body, name, magic};
  const uint32_t version = in.get_int<uint32_t>("version");
  if (version != kVersion)
    fail(name,
         "checkpoint version " + std::to_string(version) + ", this build reads " + std::to_string(kVersion));
  CheckpointFile c;
  c.kind = in.get_bytes(in.get_int<uint64_t>("kind"), "kind");
  const std::string meta = in.get_bytes(in.get_int<uint64_t>("metadata"), "metadata");
  c.meta = nlohmann::json::parse(meta, nullptr, false);
  if (c.meta.is_discarded()) fail(name, "checkpoint metadata is not JSON");
  const uint64_t count = in.get_int<uint64_t>("array count");
  for (uint64_t k = 0; k < count; ++k) {
    std::string key = in.get_bytes(in.get_int<uint64_t>("array name"), "array name");
    c.arrays[key] = in.get_bytes(in.get_int<uint64_t>("array"), "array");
  }
  if (in.left()) fail(name, "checkpoint has " + std::to_string(in.left()) + " trailing bytes");
  return c;
}

void write_checkpoint(const std::string& path, const CheckpointFile& c) {
  const std::string bytes = checkpoint_bytes(c);
  write_file_atomic(path, bytes);
}

CheckpointFile read_checkpoint(const std::string& path, const std::string& kind) {
  std::ifstream f(path, std::ios::binary);
  if (!f) fail(path, "cannot open the checkpoint");
  std::stringstream buf;
  buf << f.rdbuf();
  CheckpointFile c = parse_checkpoint(buf.str(), path);
  if (c.kind != kind) fail(path, "a checkpoint of '" + c.kind + "', not of '" + kind + "'");
  return c;
}

}  // namespace ductile::io
