// Colour maps for rendered particles: categorical colours for materials and objects, "turbo" for magnitudes
// and a diverging blue-white-red map for values around a centre.
#pragma once

namespace ductile::render {

// Linear RGB in [0, 1] of category k (a 10-colour palette, repeating).
void category_color(int k, float rgb[3]);
// Turbo (A. Mikhailov, Google 2019; polynomial fit) at t in [0, 1] (clamped), linear RGB.
void turbo_color(double t, float rgb[3]);
// Blue (t = 0) - white (0.5) - red (1), linear RGB (Moreland's cool-warm end points).
void diverging_color(double t, float rgb[3]);

}  // namespace ductile::render
