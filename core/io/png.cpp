// PNG: W3C Portable Network Graphics Specification (Second Edition), sections 5 (chunks), 9 (filters) and
// 10 (zlib compression); CRC-32 and deflate come from zlib.
#include "core/io/png.h"

#include <zlib.h>

#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>

#include "core/error.h"
#include "core/io/atomic_file.h"

namespace ductile::io {

namespace {

const unsigned char kSignature[8] = {137, 80, 78, 71, 13, 10, 26, 10};

void put_u32(std::string& out, uint32_t v) {
  const char b[4] = {char(v >> 24), char((v >> 16) & 0xff), char((v >> 8) & 0xff), char(v & 0xff)};
  out.append(b, 4);
}

uint32_t get_u32(const unsigned char* p) {
  return (uint32_t(p[0]) << 24) | (uint32_t(p[1]) << 16) | (uint32_t(p[2]) << 8) | uint32_t(p[3]);
}

// One chunk: length, type, data, CRC of type and data.
void put_chunk(std::string& out, const char type[4], const std::string& data) {
  put_u32(out, uint32_t(data.size()));
  std::string body(type, 4);
  body += data;
  out += body;
  put_u32(out, uint32_t(crc32(0L, reinterpret_cast<const Bytef*>(body.data()), uInt(body.size()))));
}

// Paeth predictor (PNG spec 9.4).
int paeth(int a, int b, int c) {
  const int p = a + b - c, pa = std::abs(p - a), pb = std::abs(p - b), pc = std::abs(p - c);
  return (pa <= pb && pa <= pc) ? a : (pb <= pc ? b : c);
}

}  // namespace

std::string png_bytes(const Rgb8Image& img, int level) {
  if (img.width <= 0 || img.height <= 0 || img.rgb.size() != size_t(img.width) * size_t(img.height) * 3)
    fail("png", "image of " + std::to_string(img.width) + "x" + std::to_string(img.height) + " with " +
                    std::to_string(img.rgb.size()) + " bytes is not a valid RGB image");
  // rows with filter byte 2 ("Up": difference to the row above), which compresses smooth renders well
  const size_t row = size_t(img.width) * 3;
  std::string raw((row + 1) * size_t(img.height), '\0');
  for (int y = 0; y < img.height; ++y) {
    unsigned char* dst = reinterpret_cast<unsigned char*>(&raw[(row + 1) * size_t(y)]);
    const uint8_t* cur = &img.rgb[row * size_t(y)];
    const uint8_t* up = y > 0 ? &img.rgb[row * size_t(y - 1)] : nullptr;  // the row above
    dst[0] = 2;
    for (size_t i = 0; i < row; ++i) dst[1 + i] = uint8_t(cur[i] - (up ? up[i] : 0));
  }
  uLongf zlen = compressBound(uLong(raw.size()));
  std::string z(zlen, '\0');
  if (compress2(reinterpret_cast<Bytef*>(&z[0]), &zlen, reinterpret_cast<const Bytef*>(raw.data()),
                uLong(raw.size()), level) != Z_OK)
    fail("png", "zlib compression failed");
  z.resize(zlen);
  std::string out(reinterpret_cast<const char*>(kSignature), 8);
  std::string ihdr;
  put_u32(ihdr, uint32_t(img.width));
  put_u32(ihdr, uint32_t(img.height));
  ihdr += std::string("\x08\x02\x00\x00\x00", 5);  // 8 bits, RGB, deflate, filter 0, no interlace
  put_chunk(out, "IHDR", ihdr);
  put_chunk(out, "IDAT", z);
  put_chunk(out, "IEND", "");
  return out;
}

void write_png(const std::string& path, const Rgb8Image& img, int level) {
  const std::string bytes = png_bytes(img, level);
  write_file_atomic(path, bytes.data(), bytes.size());
}

Rgb8Image parse_png(const std::string& bytes, const std::string& name) {
  auto bad = [&](const std::string& what) { fail(name, "not a readable PNG: " + what); };
  const auto* p = reinterpret_cast<const unsigned char*>(bytes.data());
  const size_t n = bytes.size();
  if (n < 8 || std::memcmp(p, kSignature, 8) != 0) bad("missing PNG signature");
  size_t pos = 8;
  int w = 0, h = 0, channels = 0;
  bool have_header = false, have_end = false;
  std::string z;
  // chunks: IHDR first, IDATs concatenated, IEND last; ancillary chunks skipped
  while (pos < n && !have_end) {
    if (n - pos < 12) bad("truncated chunk at byte " + std::to_string(pos));
    const uint32_t len = get_u32(p + pos);
    if (len > n - pos - 12) bad("chunk at byte " + std::to_string(pos) + " runs past the end of the file");
    const std::string type(reinterpret_cast<const char*>(p + pos + 4), 4);
    const unsigned char* data = p + pos + 8;
    if (uint32_t(crc32(0L, p + pos + 4, uInt(len + 4))) != get_u32(data + len))
      bad("CRC mismatch in chunk '" + type + "'");
    if (!have_header && type != "IHDR") bad("first chunk is '" + type + "', not IHDR");
    if (type == "IHDR") {
      if (have_header || len != 13) bad("malformed IHDR");
      w = int(std::min<uint32_t>(get_u32(data), 1u << 30));
      h = int(std::min<uint32_t>(get_u32(data + 4), 1u << 30));
      if (w <= 0 || h <= 0 || double(w) * double(h) > double(1 << 26))
        bad("image size " + std::to_string(w) + "x" + std::to_string(h) + " out of range");
      if (data[8] != 8) bad("bit depth " + std::to_string(data[8]) + " (only 8 is read)");
      channels = data[9] == 0 ? 1 : data[9] == 2 ? 3 : data[9] == 6 ? 4 : 0;
      if (!channels) bad("colour type " + std::to_string(data[9]) + " (only grey, RGB and RGBA are read)");
      if (data[10] != 0 || data[11] != 0 || data[12] != 0)
        bad("unsupported compression, filter or interlace");
      have_header = true;
    } else if (type == "IDAT") {
      z.append(reinterpret_cast<const char*>(data), len);
    } else if (type == "IEND") {
      have_end = true;
    }
    pos += size_t(len) + 12;
  }
  if (!have_header) bad("no IHDR chunk");
  if (!have_end) bad("no IEND chunk");
  // inflate exactly the expected number of bytes
  const size_t row = size_t(w) * size_t(channels);
  std::string raw((row + 1) * size_t(h), '\0');
  uLongf rlen = uLongf(raw.size());
  const int zr = uncompress(reinterpret_cast<Bytef*>(&raw[0]), &rlen,
                            reinterpret_cast<const Bytef*>(z.data()), uLong(z.size()));
  if (zr != Z_OK) bad("image data does not inflate (zlib error " + std::to_string(zr) + ")");
  if (rlen != raw.size())
    bad("image data holds " + std::to_string(rlen) + " bytes, expected " + std::to_string(raw.size()));
  // undo the filters (PNG spec 9.2), bytes-per-pixel = channels
  std::vector<uint8_t> pix(row * size_t(h));
  for (int y = 0; y < h; ++y) {
    const auto* src = reinterpret_cast<const unsigned char*>(&raw[(row + 1) * size_t(y)]);
    const int f = src[0];
    uint8_t* cur = &pix[row * size_t(y)];
    const uint8_t* up = y > 0 ? cur - row : nullptr;
    for (size_t i = 0; i < row; ++i) {
      const int a = i >= size_t(channels) ? cur[i - size_t(channels)] : 0;
      const int b = up ? up[i] : 0;
      const int c = (up && i >= size_t(channels)) ? up[i - size_t(channels)] : 0;
      int pred = 0;
      switch (f) {
        case 0:
          pred = 0;
          break;
        case 1:
          pred = a;
          break;
        case 2:
          pred = b;
          break;
        case 3:
          pred = (a + b) / 2;
          break;
        case 4:
          pred = paeth(a, b, c);
          break;
        default:
          bad("row " + std::to_string(y) + " has filter type " + std::to_string(f));
      }
      cur[i] = uint8_t(src[1 + i] + pred);
    }
  }
  Rgb8Image img;
  img.width = w;
  img.height = h;
  img.rgb.resize(size_t(w) * size_t(h) * 3);
  for (size_t k = 0; k < size_t(w) * size_t(h); ++k)
    for (int c = 0; c < 3; ++c)
      img.rgb[k * 3 + size_t(c)] = pix[k * size_t(channels) + size_t(channels == 1 ? 0 : c)];
  return img;
}

Rgb8Image read_png(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) fail(path, "cannot open");
  std::ostringstream ss;
  ss << in.rdbuf();
  return parse_png(ss.str(), path);
}

}  // namespace ductile::io
