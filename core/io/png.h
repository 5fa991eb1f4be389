// PNG images (8-bit RGB, zlib-compressed) for rendered frames and plots, and a strict reader for tests and
// tools. Format: W3C PNG specification (2nd edition), chunks IHDR, IDAT, IEND; filter type 0 per row.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace ductile::io {

// An 8-bit RGB image, rows top to bottom, 3 bytes per pixel.
struct Rgb8Image {
  int width = 0, height = 0;
  std::vector<uint8_t> rgb;  // width * height * 3
};

// The bytes of a PNG file holding `img` (every row filtered with "Up", deflate level `level` 0..9).
std::string png_bytes(const Rgb8Image& img, int level = 6);
// Writes png_bytes() to `path` atomically; throws Error naming the file on failure.
void write_png(const std::string& path, const Rgb8Image& img, int level = 6);

// Decodes a non-interlaced 8-bit PNG of colour type 0 (grey), 2 (RGB) or 6 (RGBA) to RGB (alpha dropped).
// Checks signature, chunk lengths and CRCs, the image size (at most 2^26 pixels) and the inflated length;
// errors name `name` and what is wrong.
Rgb8Image parse_png(const std::string& bytes, const std::string& name);
Rgb8Image read_png(const std::string& path);

}  // namespace ductile::io
