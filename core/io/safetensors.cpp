// safetensors files, read and written without LibTorch (safetensors.h).
#include "core/io/safetensors.h"

#include <algorithm>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <limits>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>
#include <tuple>

#include "core/error.h"
#include "core/io/atomic_file.h"

namespace ductile::io {

namespace {

using nlohmann::json;

// Little-endian unsigned integers of n bytes, whatever the host's byte order.
uint64_t get_le(const char* p, int n) {
  uint64_t v = 0;
  for (int k = n - 1; k >= 0; --k) v = (v << 8) | uint64_t(static_cast<unsigned char>(p[k]));
  return v;
}
void put_le(std::string& out, uint64_t v, int n) {
  for (int k = 0; k < n; ++k) out.push_back(char((v >> (8 * k)) & 0xff));
}

int dtype_size(const std::string& d) {
  return d == "F32" ? 4 : d == "F64" ? 8 : 0;
}

// The dtypes of the format that this reader refuses (by name, so that a half-precision file gets a clear
// word).
bool known_dtype(const std::string& d) {
  static const std::set<std::string> k = {
      "BOOL", "U8",      "I8",      "I16",     "U16", "F16", "BF16",    "I32",     "U32", "I64",
      "U64",  "F8_E5M2", "F8_E4M3", "F8_E8M0", "C64", "F4",  "F6_E2M3", "F6_E3M2", "U1",  "F8_E4M3FN"};
  return k.count(d) > 0;
}

// The header as JSON: one object, no key twice in an object, nothing nested deeper than a tensor's shape.
json parse_header(const std::string& text, const std::string& name) {
  std::vector<std::set<std::string>> keys;
  const json::parser_callback_t cb = [&](int depth, json::parse_event_t ev, json& parsed) {
    if (ev == json::parse_event_t::object_start || ev == json::parse_event_t::array_start) {
      if (depth > 2)
        fail(name, "safetensors header nests deeper than its format (name -> {dtype, shape, data_offsets})");
      if (ev == json::parse_event_t::object_start) keys.emplace_back();
    } else if (ev == json::parse_event_t::key && !keys.empty()) {
      const std::string& k = parsed.get_ref<const std::string&>();
      if (!keys.back().insert(k).second)
        fail(name, "safetensors header repeats the key '" + clipped(k) + "'");
    } else if (ev == json::parse_event_t::object_end && !keys.empty()) {
      keys.pop_back();
    }
    return true;
  };
  try {
    return json::parse(text, cb);
  } catch (const json::exception& e) {
    fail(name, std::string("safetensors header is not valid JSON: ") + e.what());
  }
}

// A non-negative integer of the header (a shape entry or an offset).
uint64_t get_count(const json& v, const std::string& name, const std::string& what) {
  if (!v.is_number_unsigned())
    fail(name, what + " must be a non-negative integer, got " + clipped(v.dump(-1, ' ', true)));
  return v.get<uint64_t>();
}

struct Entry {
  std::string key;
  SafeTensor t;
  uint64_t begin = 0, end = 0;
};

// One tensor's header entry, checked on its own: dtype, shape, offsets within the data, size.
Entry parse_entry(const std::string& key, const json& v, uint64_t data_size, const std::string& name) {
  const std::string where = "tensor '" + clipped(key) + "'";
  if (key.empty()) fail(name, "a tensor has an empty name");
  if (!v.is_object()) fail(name, where + ": header entry must be an object {dtype, shape, data_offsets}");
  for (const auto& [k, _] : v.items())
    if (k != "dtype" && k != "shape" && k != "data_offsets")
      fail(name, where + ": unknown header key '" + clipped(k) + "' (dtype, shape, data_offsets)");
  for (const char* k : {"dtype", "shape", "data_offsets"})
    if (!v.contains(k)) fail(name, where + ": header entry has no '" + k + "'");
  Entry e;
  e.key = key;
  if (!v["dtype"].is_string()) fail(name, where + ": 'dtype' must be a string");
  e.t.dtype = v["dtype"].get<std::string>();
  const int size = dtype_size(e.t.dtype);
  if (!size)
    fail(name, where + ": dtype " +
                   (known_dtype(e.t.dtype) ? e.t.dtype : "'" + clipped(e.t.dtype) + "' (unknown)") +
                   " is not read here; weights must be F32 or F64");
  const json& shape = v["shape"];
  if (!shape.is_array()) fail(name, where + ": 'shape' must be an array of sizes");
  if (shape.size() > 8) fail(name, where + ": " + std::to_string(shape.size()) + " dimensions (at most 8)");
  // the element count, saturated at the largest uint64 (then it cannot match any byte range of the file)
  uint64_t count = 1;
  bool zero = false;
  for (size_t k = 0; k < shape.size(); ++k) {
    const uint64_t n = get_count(shape[k], name, where + ": shape[" + std::to_string(k) + "]");
    if (n > uint64_t(std::numeric_limits<int64_t>::max())) fail(name, where + ": shape entry too large");
    e.t.shape.push_back(int64_t(n));
    zero = zero || n == 0;
    count = (n != 0 && count > std::numeric_limits<uint64_t>::max() / n)
                ? std::numeric_limits<uint64_t>::max()
                : count * n;
  }
  if (zero) count = 0;
  const json& off = v["data_offsets"];
  if (!off.is_array() || off.size() != 2) fail(name, where + ": 'data_offsets' must be [begin, end]");
  e.begin = get_count(off[0], name, where + ": data_offsets[0]");
  e.end = get_count(off[1], name, where + ": data_offsets[1]");
  if (e.begin > e.end || e.end > data_size)
    fail(name, where + ": data_offsets [" + std::to_string(e.begin) + ", " + std::to_string(e.end) +
                   "] outside the file's " + std::to_string(data_size) + " data bytes");
  const uint64_t bytes = e.end - e.begin;
  const bool overflow = count > std::numeric_limits<uint64_t>::max() / uint64_t(size);
  if (overflow || count * uint64_t(size) != bytes)
    fail(name, where + ": shape " + clipped(shape.dump()) + " of " + e.t.dtype + " needs " +
                   (overflow ? "over 2^64" : std::to_string(count * uint64_t(size))) +
                   " bytes, data_offsets give " + std::to_string(bytes));
  return e;
}

}  // namespace

std::string clipped(const std::string& s) {
  return s.size() <= 80 ? s : s.substr(0, 77) + "...";
}

bool is_zip_archive(const std::string& bytes) {
  return bytes.size() >= 4 && bytes.compare(0, 4, "PK\x03\x04") == 0;
}

SafeTensors parse_safetensors(const std::string& bytes, const std::string& name) {
  if (bytes.size() < 8)
    fail(name, "truncated: " + std::to_string(bytes.size()) +
                   " bytes, a safetensors file starts with an 8-byte header length");
  const uint64_t n = get_le(bytes.data(), 8);
  if (n > bytes.size() - 8)
    fail(name, "safetensors header length " + std::to_string(n) + " exceeds the " +
                   std::to_string(bytes.size() - 8) +
                   " bytes that follow it (truncated, or not a safetensors file)");
  if (n > kSafetensorsMaxHeader)
    fail(name, "safetensors header of " + std::to_string(n) + " bytes (at most " +
                   std::to_string(kSafetensorsMaxHeader) + ")");
  if (n < 2 || bytes[8] != '{') fail(name, "safetensors header must be a JSON object starting with '{'");
  const json header = parse_header(bytes.substr(8, size_t(n)), name);
  if (!header.is_object()) fail(name, "safetensors header must be a JSON object");
  const uint64_t data_size = bytes.size() - 8 - n;
  const char* data = bytes.data() + 8 + n;

  SafeTensors r;
  std::vector<Entry> entries;
  for (const auto& [key, v] : header.items()) {
    if (key == "__metadata__") {
      if (!v.is_object()) fail(name, "'__metadata__' must be an object of strings");
      for (const auto& [mk, mv] : v.items()) {
        if (!mv.is_string()) fail(name, "'__metadata__' entry '" + clipped(mk) + "' must be a string");
        r.metadata[mk] = mv.get<std::string>();
      }
      continue;
    }
    entries.push_back(parse_entry(key, v, data_size, name));
  }
  // the byte ranges in order: each starts where the one before ended, the last ends with the file
  std::sort(entries.begin(), entries.end(), [](const Entry& a, const Entry& b) {
    return std::tie(a.begin, a.end) < std::tie(b.begin, b.end);
  });
  uint64_t at = 0;
  for (const Entry& e : entries) {
    if (e.begin != at)
      fail(name, "tensor '" + clipped(e.key) + "': data_offsets [" + std::to_string(e.begin) + ", " +
                     std::to_string(e.end) + "] " + (e.begin < at ? "overlap" : "leave a gap before") +
                     " the data of another tensor (byte " + std::to_string(at) + ")");
    at = e.end;
  }
  if (at != data_size)
    fail(name, std::to_string(data_size - at) + " data bytes after the last tensor belong to none (" +
                   std::to_string(data_size) + " data bytes, tensors cover " + std::to_string(at) + ")");
  // the values, converted from little-endian F32/F64
  for (Entry& e : entries) {
    const int size = dtype_size(e.t.dtype);
    const size_t count = size_t((e.end - e.begin) / uint64_t(size));
    e.t.values.resize(count);
    const char* p = data + e.begin;
    for (size_t k = 0; k < count; ++k, p += size) {
      const uint64_t bits = get_le(p, size);
      if (size == 4) {
        float f;
        const uint32_t b32 = uint32_t(bits);
        std::memcpy(&f, &b32, 4);
        e.t.values[k] = double(f);
      } else {
        std::memcpy(&e.t.values[k], &bits, 8);
      }
    }
    r.tensors.emplace(e.key, std::move(e.t));
  }
  return r;
}

std::string safetensors_bytes(const SafeTensors& t) {
  json header = json::object();
  if (!t.metadata.empty()) header["__metadata__"] = t.metadata;
  uint64_t at = 0;
  for (const auto& [key, v] : t.tensors) {
    const int size = dtype_size(v.dtype);
    if (!size) fail("safetensors: tensor '" + key + "'", "dtype '" + v.dtype + "' (F32 or F64 only)");
    uint64_t count = 1;
    for (int64_t n : v.shape) count *= uint64_t(n);
    if (count != v.values.size())
      fail("safetensors: tensor '" + key + "'", std::to_string(v.values.size()) + " values for its shape");
    header[key] = {
        {"dtype", v.dtype}, {"shape", v.shape}, {"data_offsets", {at, at + count * uint64_t(size)}}};
    at += count * uint64_t(size);
  }
  std::string text;
  try {
    text = header.dump();
  } catch (const json::exception& e) {
    fail("safetensors", std::string("a name is not UTF-8: ") + e.what());
  }
  while ((8 + text.size()) % 8) text.push_back(' ');
  std::string out;
  out.reserve(8 + text.size() + size_t(at));
  put_le(out, text.size(), 8);
  out += text;
  for (const auto& [key, v] : t.tensors)
    for (double x : v.values) {
      if (v.dtype == "F32") {
        const float f = float(x);
        uint32_t b;
        std::memcpy(&b, &f, 4);
        put_le(out, b, 4);
      } else {
        uint64_t b;
        std::memcpy(&b, &x, 8);
        put_le(out, b, 8);
      }
    }
  return out;
}

std::string read_file_bytes(const std::string& path) {
  std::error_code ec;
  if (!std::filesystem::is_regular_file(path, ec)) fail(path, "no such file (or not a regular file)");
  std::ifstream f(path, std::ios::binary);
  if (!f) fail(path, "cannot open the file");
  std::ostringstream buf;
  buf << f.rdbuf();
  if (f.bad()) fail(path, "cannot read the file");
  return buf.str();
}

SafeTensors read_safetensors(const std::string& path) {
  return parse_safetensors(read_file_bytes(path), path);
}

void write_safetensors(const std::string& path, const SafeTensors& t) {
  write_file_atomic(path, safetensors_bytes(t));
}

}  // namespace ductile::io
