#include "core/render/colormap.h"

#include <algorithm>
#include <cmath>

namespace ductile::render {

namespace {

// sRGB component (0..255) to linear [0, 1].
float lin(int c) {
  const float s = c / 255.0f;
  return s <= 0.04045f ? s / 12.92f : std::pow((s + 0.055f) / 1.055f, 2.4f);
}

}  // namespace

void category_color(int k, float rgb[3]) {
  // matplotlib's tab10
  static const int kPal[10][3] = {{31, 119, 180},  {255, 127, 14}, {44, 160, 44},   {214, 39, 40},
                                  {148, 103, 189}, {140, 86, 75},  {227, 119, 194}, {127, 127, 127},
                                  {188, 189, 34},  {23, 190, 207}};
  const int* c = kPal[((k % 10) + 10) % 10];
  for (int i = 0; i < 3; ++i) rgb[i] = lin(c[i]);
}

void turbo_color(double t, float rgb[3]) {
  t = std::clamp(std::isfinite(t) ? t : 0.0, 0.0, 1.0);
  const double t2 = t * t, t3 = t2 * t, t4 = t3 * t, t5 = t4 * t;
  const double r = 0.13572138 + 4.61539260 * t - 42.66032258 * t2 + 132.13108234 * t3 - 152.94239396 * t4 +
                   59.28637943 * t5;
  const double g =
      0.09140261 + 2.19418839 * t + 4.84296658 * t2 - 14.18503333 * t3 + 4.27729857 * t4 + 2.82956604 * t5;
  const double b = 0.10667330 + 12.64194608 * t - 60.58204836 * t2 + 110.36276771 * t3 - 89.90310912 * t4 +
                   27.34824973 * t5;
  // the fit gives sRGB-encoded values
  rgb[0] = lin(int(std::lround(std::clamp(r, 0.0, 1.0) * 255)));
  rgb[1] = lin(int(std::lround(std::clamp(g, 0.0, 1.0) * 255)));
  rgb[2] = lin(int(std::lround(std::clamp(b, 0.0, 1.0) * 255)));
}

void diverging_color(double t, float rgb[3]) {
  t = std::clamp(std::isfinite(t) ? t : 0.5, 0.0, 1.0);
  const int lo[3] = {59, 76, 192}, mid[3] = {221, 221, 221}, hi[3] = {180, 4, 38};
  for (int i = 0; i < 3; ++i) {
    const double a = t < 0.5 ? lin(lo[i]) : lin(mid[i]), b = t < 0.5 ? lin(mid[i]) : lin(hi[i]);
    const double s = t < 0.5 ? 2 * t : 2 * t - 1;
    rgb[i] = float(a + (b - a) * s);
  }
}

}  // namespace ductile::render
