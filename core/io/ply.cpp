// PLY format: http://paulbourke.net/dataformats/ply/ (Turk, 1994).
#include "core/io/ply.h"

#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>

#include "core/error.h"
#include "core/io/atomic_file.h"

namespace ductile::io {

namespace {

// Appends a float as 4 little-endian bytes whatever the host's byte order.
void put_float_le(std::string& out, float f) {
  uint32_t u;
  std::memcpy(&u, &f, 4);
  char b[4] = {char(u & 0xff), char((u >> 8) & 0xff), char((u >> 16) & 0xff), char((u >> 24) & 0xff)};
  out.append(b, 4);
}

// Scalar property types of the PLY format: names (old and sized spellings) and sizes in bytes.
enum class Scalar { kI8, kU8, kI16, kU16, kI32, kU32, kF32, kF64 };
struct ScalarName {
  const char* name;
  Scalar type;
  int size;
};
const ScalarName kScalars[] = {
    {"char", Scalar::kI8, 1},    {"int8", Scalar::kI8, 1},     {"uchar", Scalar::kU8, 1},
    {"uint8", Scalar::kU8, 1},   {"short", Scalar::kI16, 2},   {"int16", Scalar::kI16, 2},
    {"ushort", Scalar::kU16, 2}, {"uint16", Scalar::kU16, 2},  {"int", Scalar::kI32, 4},
    {"int32", Scalar::kI32, 4},  {"uint", Scalar::kU32, 4},    {"uint32", Scalar::kU32, 4},
    {"float", Scalar::kF32, 4},  {"float32", Scalar::kF32, 4}, {"double", Scalar::kF64, 8},
    {"float64", Scalar::kF64, 8}};

const ScalarName* find_scalar(const std::string& s) {
  for (const auto& k : kScalars)
    if (s == k.name) return &k;
  return nullptr;
}

// Reads one little-endian scalar at p and converts it to float.
float load_scalar_le(const unsigned char* p, Scalar t) {
  uint64_t u = 0;
  int size = 0;
  switch (t) {
    case Scalar::kI8:
    case Scalar::kU8:
      size = 1;
      break;
    case Scalar::kI16:
    case Scalar::kU16:
      size = 2;
      break;
    case Scalar::kI32:
    case Scalar::kU32:
    case Scalar::kF32:
      size = 4;
      break;
    case Scalar::kF64:
      size = 8;
      break;
  }
  for (int i = size - 1; i >= 0; --i) u = (u << 8) | p[i];
  switch (t) {
    case Scalar::kI8:
      return float(int8_t(uint8_t(u)));
    case Scalar::kU8:
      return float(uint8_t(u));
    case Scalar::kI16:
      return float(int16_t(uint16_t(u)));
    case Scalar::kU16:
      return float(uint16_t(u));
    case Scalar::kI32:
      return float(int32_t(uint32_t(u)));
    case Scalar::kU32:
      return float(uint32_t(u));
    case Scalar::kF32: {
      uint32_t v = uint32_t(u);
      float f;
      std::memcpy(&f, &v, 4);
      return f;
    }
    case Scalar::kF64: {
      double d;
      std::memcpy(&d, &u, 8);
      return float(d);
    }
  }
  return 0;
}

struct Property {
  std::string name;
  const ScalarName* type = nullptr;  // null for list properties
};
struct Element {
  std::string name;
  uint64_t count = 0;
  int line = 0;  // header line that declared it
  std::vector<Property> props;
  bool has_list() const {
    for (const auto& p : props)
      if (!p.type) return true;
    return false;
  }
  uint64_t row_bytes() const {
    uint64_t b = 0;
    for (const auto& p : props) b += uint64_t(p.type ? p.type->size : 0);
    return b;
  }
};

std::vector<std::string> split_words(const std::string& line) {
  std::vector<std::string> w;
  std::istringstream is(line);
  std::string s;
  while (is >> s) w.push_back(s);
  return w;
}

// A non-negative decimal count, or false when the text is not one (or overflows 64 bits).
bool parse_count(const std::string& s, uint64_t& out) {
  if (s.empty() || s.size() > 19) return false;
  out = 0;
  for (char c : s) {
    if (c < '0' || c > '9') return false;
    out = out * 10 + uint64_t(c - '0');
  }
  return true;
}

}  // namespace

std::string ply_bytes(const PointTable& t, const std::vector<std::string>& comments) {
  const size_t nc = t.names.size();
  if (t.values.size() != t.count * nc)
    fail("PLY writer", "table has " + std::to_string(t.values.size()) + " values for " +
                           std::to_string(t.count) + " rows of " + std::to_string(nc) + " columns");
  std::string out = "ply\nformat binary_little_endian 1.0\n";
  // one comment per line: line breaks inside a comment would end the header's line early
  for (std::string c : comments) {
    for (char& ch : c)
      if (ch == '\n' || ch == '\r') ch = ' ';
    out += "comment " + c + "\n";
  }
  out += "element vertex " + std::to_string(t.count) + "\n";
  for (const auto& n : t.names) out += "property float " + n + "\n";
  out += "end_header\n";
  out.reserve(out.size() + t.values.size() * 4);
  for (float f : t.values) put_float_le(out, f);
  return out;
}

void write_ply(const std::string& path, const PointTable& t, const std::vector<std::string>& comments) {
  write_file_atomic(path, ply_bytes(t, comments));
}

PointTable read_ply(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) fail(path, "cannot open for reading");
  std::ostringstream ss;
  ss << in.rdbuf();
  if (in.bad()) fail(path, "read failed");
  return parse_ply(ss.str(), path);
}

PointTable parse_ply(const std::string& bytes, const std::string& name) {
  auto at_line = [&](int line, const std::string& what) {
    fail(name + ": line " + std::to_string(line), what);
  };
  // header: lines up to end_header
  size_t pos = 0;
  int line_no = 0;
  bool ascii = false, have_format = false, have_end = false;
  std::vector<Element> elements;
  while (!have_end) {
    if (pos >= bytes.size()) at_line(line_no + 1, "unexpected end of file in the header (no end_header)");
    size_t eol = bytes.find('\n', pos);
    if (eol == std::string::npos)
      at_line(line_no + 1, "unexpected end of file in the header (no end_header)");
    std::string line = bytes.substr(pos, eol - pos);
    if (!line.empty() && line.back() == '\r') line.pop_back();
    pos = eol + 1;
    ++line_no;
    if (line_no == 1) {
      if (line != "ply") at_line(1, "not a PLY file (expected 'ply', found '" + line.substr(0, 40) + "')");
      continue;
    }
    auto w = split_words(line);
    if (w.empty()) continue;
    const std::string& key = w[0];
    if (key == "comment" || key == "obj_info") continue;
    if (key == "format") {
      if (w.size() != 3 || w[2] != "1.0") at_line(line_no, "expected 'format <encoding> 1.0'");
      if (w[1] == "ascii") {
        ascii = true;
      } else if (w[1] != "binary_little_endian") {
        at_line(line_no, "encoding '" + w[1] + "' is not supported (binary_little_endian or ascii)");
      }
      have_format = true;
    } else if (key == "element") {
      uint64_t count = 0;
      if (w.size() != 3 || !parse_count(w[2], count)) at_line(line_no, "expected 'element <name> <count>'");
      for (const auto& e : elements)
        if (e.name == w[1]) at_line(line_no, "element '" + w[1] + "' declared twice");
      elements.push_back({w[1], count, line_no, {}});
    } else if (key == "property") {
      if (elements.empty()) at_line(line_no, "property before any element");
      Property p;
      if (w.size() == 5 && w[1] == "list") {
        if (!find_scalar(w[2]) || !find_scalar(w[3])) at_line(line_no, "unknown type in list property");
        p.name = w[4];
      } else if (w.size() == 3) {
        p.type = find_scalar(w[1]);
        if (!p.type) at_line(line_no, "unknown property type '" + w[1] + "'");
        p.name = w[2];
      } else {
        at_line(line_no, "expected 'property <type> <name>' or 'property list <type> <type> <name>'");
      }
      for (const auto& q : elements.back().props)
        if (q.name == p.name) at_line(line_no, "property '" + p.name + "' declared twice");
      elements.back().props.push_back(p);
    } else if (key == "end_header") {
      have_end = true;
    } else {
      at_line(line_no, "unknown header keyword '" + key + "'");
    }
  }
  if (!have_format) at_line(line_no, "no 'format' line in the header");

  // the vertex element: only scalar properties; elements before it must be skippable
  size_t vi = 0;
  while (vi < elements.size() && elements[vi].name != "vertex") ++vi;
  if (vi == elements.size()) at_line(line_no, "no 'element vertex' in the header");
  const Element& ve = elements[vi];
  if (ve.has_list())
    at_line(ve.line, "element vertex has a list property; only scalar properties are supported");
  if (ve.props.empty()) at_line(ve.line, "element vertex has no properties");
  const uint64_t remaining = bytes.size() - pos;
  PointTable t;
  for (const auto& p : ve.props) t.names.push_back(p.name);
  const size_t nc = t.names.size();

  if (!ascii) {
    // skip fixed-size elements before the vertex element, bounding every count by the bytes left
    uint64_t offset = 0;
    for (size_t k = 0; k < vi; ++k) {
      const Element& e = elements[k];
      if (e.has_list())
        at_line(e.line, "element '" + e.name + "' before vertex has a list property (unsupported)");
      uint64_t rb = e.row_bytes();
      if (rb && e.count > (remaining - offset) / rb)
        at_line(e.line, "element '" + e.name + "' exceeds the file");
      offset += e.count * rb;
    }
    const uint64_t rb = ve.row_bytes();
    const uint64_t avail = remaining - offset;
    if (ve.count > avail / rb)
      at_line(ve.line, "element vertex declares " + std::to_string(ve.count) + " vertices of " +
                           std::to_string(rb) + " bytes, but only " + std::to_string(avail) +
                           " bytes follow the header (truncated file?)");
    t.count = size_t(ve.count);
    t.values.resize(t.count * nc);
    const auto* p = reinterpret_cast<const unsigned char*>(bytes.data()) + pos + offset;
    for (size_t i = 0; i < t.count; ++i)
      for (size_t k = 0; k < nc; ++k) {
        t.values[i * nc + k] = load_scalar_le(p, ve.props[k].type->type);
        p += ve.props[k].type->size;
      }
    return t;
  }

  // ASCII: one element instance per line; each value takes at least two bytes (digit and separator)
  auto next_line = [&](std::string& out) {
    if (pos >= bytes.size()) return false;
    size_t eol = bytes.find('\n', pos);
    if (eol == std::string::npos) eol = bytes.size();
    out = bytes.substr(pos, eol - pos);
    pos = eol + 1;
    ++line_no;
    return true;
  };
  std::string line;
  for (size_t k = 0; k < vi; ++k)
    for (uint64_t i = 0; i < elements[k].count; ++i)
      if (!next_line(line)) at_line(line_no, "unexpected end of file in element '" + elements[k].name + "'");
  const uint64_t avail = bytes.size() > pos ? bytes.size() - pos : 0;
  if (ve.count > (avail + 1) / (2 * nc))
    at_line(ve.line, "element vertex declares " + std::to_string(ve.count) + " vertices, but only " +
                         std::to_string(avail) + " bytes follow (truncated file?)");
  t.count = size_t(ve.count);
  t.values.resize(t.count * nc);
  for (size_t i = 0; i < t.count; ++i) {
    if (!next_line(line)) at_line(line_no + 1, "unexpected end of file in element vertex");
    const char* s = line.c_str();
    for (size_t k = 0; k < nc; ++k) {
      char* end = nullptr;
      double v = std::strtod(s, &end);
      if (end == s)
        at_line(line_no, "expected " + std::to_string(nc) + " numbers, found " + std::to_string(k));
      t.values[i * nc + k] = float(v);
      s = end;
    }
  }
  return t;
}

}  // namespace ductile::io
