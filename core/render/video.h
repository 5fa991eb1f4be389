// MP4 videos from PNG frames through the ffmpeg executable (Debian package ffmpeg).
#pragma once

#include <string>

namespace ductile::render {

// Whether an ffmpeg executable runs (`ffmpeg -version`).
bool ffmpeg_available();

// Encodes every frame_NNNNN.png of `png_dir` (in name order) into `mp4` (H.264, yuv420p, odd sizes padded
// to even) at `fps` frames per second, written to a temporary name and renamed into place. Throws Error
// with ffmpeg's own message when it is missing or fails; the PNG files stay.
void encode_mp4(const std::string& png_dir, const std::string& mp4, double fps);

}  // namespace ductile::render
