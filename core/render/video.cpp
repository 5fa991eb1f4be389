#include "core/render/video.h"

#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "core/error.h"

namespace fs = std::filesystem;

namespace ductile::render {

namespace {

// Single-quoted for /bin/sh.
std::string quote(const std::string& s) {
  std::string r = "'";
  for (char c : s) r += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return r + "'";
}

}  // namespace

bool ffmpeg_available() {
  return std::system("ffmpeg -version >/dev/null 2>&1") == 0;
}

void encode_mp4(const std::string& png_dir, const std::string& mp4, double fps) {
  if (!ffmpeg_available())
    fail(mp4,
         "cannot make the video: ffmpeg is not installed or not on PATH (install the Debian package "
         "ffmpeg); the PNG frames are in " +
             png_dir);
  if (!(fps > 0 && fps <= 1000)) fail(mp4, "frame rate " + std::to_string(fps) + " out of range (0, 1000]");
  const std::string tmp = mp4 + ".tmp-" + std::to_string(::getpid()) + ".mp4";
  const std::string log = mp4 + ".ffmpeg.log";
  char rate[32];
  std::snprintf(rate, sizeof rate, "%.6g", fps);
  const std::string cmd = "ffmpeg -nostdin -y -loglevel error -framerate " + std::string(rate) +
                          " -pattern_type glob -i " + quote((fs::path(png_dir) / "frame_*.png").string()) +
                          " -vf 'pad=ceil(iw/2)*2:ceil(ih/2)*2' -c:v libx264 -pix_fmt yuv420p -crf 18 " +
                          "-movflags +faststart " + quote(tmp) + " >" + quote(log) + " 2>&1";
  const int rc = std::system(cmd.c_str());
  std::ifstream in(log);
  std::stringstream ss;
  ss << in.rdbuf();
  std::error_code ec;
  fs::remove(log, ec);
  if (rc != 0) {
    fs::remove(tmp, ec);
    std::string msg = ss.str();
    while (!msg.empty() && (msg.back() == '\n' || msg.back() == '\r')) msg.pop_back();
    fail(mp4, "ffmpeg failed (exit status " + std::to_string(rc) + "): " + msg + "; the PNG frames are in " +
                  png_dir);
  }
  fs::rename(tmp, mp4, ec);
  if (ec) fail(mp4, "cannot rename " + tmp + ": " + ec.message());
}

}  // namespace ductile::render
