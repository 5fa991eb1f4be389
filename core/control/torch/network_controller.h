// The closed-loop controller network (LibTorch); registered as controller type "network".
#pragma once

namespace ductile {

// Adds "network" to the ControllerRegistry (called by apps/main.cpp and tests/main.cpp in builds with
// LibTorch).
void register_network_controller();

}  // namespace ductile
