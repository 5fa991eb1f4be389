#include "core/torch_plugin.h"

#include <dlfcn.h>

#include <cstdlib>
#include <exception>
#include <filesystem>
#include <mutex>
#include <stdexcept>

namespace ductile {

namespace {

enum class PluginState { kUnloaded, kLoading, kLoaded, kFailed };

struct Plugin {
  std::recursive_mutex mutex;  // recursive: the registration calls back into the registries on this thread
  PluginState state = PluginState::kUnloaded;
  std::string version, error;
};

Plugin& plugin() {
  static Plugin* p = new Plugin();  // never destroyed: the registries may ask during static destruction
  return *p;
}

// The plugin file: DUCTILE_TORCH_PLUGIN from the environment, else libductile_torch.so beside the executable
// (a copied program and its plugin), else the one this build made ("" in a build without LibTorch).
std::string plugin_path() {
  if (const char* env = std::getenv("DUCTILE_TORCH_PLUGIN"); env && *env) return env;
#ifdef DUCTILE_TORCH_PLUGIN
  std::error_code ec;
  const std::filesystem::path exe = std::filesystem::read_symlink("/proc/self/exe", ec);
  const std::filesystem::path beside = exe.parent_path() / "libductile_torch.so";
  if (!ec && std::filesystem::is_regular_file(beside, ec)) return beside.string();
  return DUCTILE_TORCH_PLUGIN;
#else
  return "";
#endif
}

// Runs the entry point `init` of `what` (the plugin's file, or the linked half) under p's lock.
bool register_with(Plugin& p, TorchPluginInit init, const std::string& what) {
  p.state = PluginState::kLoading;
  try {
    p.version = init();
  } catch (const std::exception& e) {
    p.error = "LibTorch's half (" + what + ") failed to register: " + e.what();
    p.state = PluginState::kFailed;
    return false;
  }
  p.state = PluginState::kLoaded;
  return true;
}

}  // namespace

bool load_torch_plugin() {
  Plugin& p = plugin();
  std::lock_guard<std::recursive_mutex> lock(p.mutex);
  if (p.state != PluginState::kUnloaded) return p.state == PluginState::kLoaded;
  const std::string path = plugin_path();
  if (path.empty()) {
    p.state = PluginState::kFailed;  // a build without LibTorch: nothing to load, nothing to report
    return false;
  }
  // RTLD_GLOBAL: the plugin's LibTorch serves later loads (libtorch_cuda.so); the plugin resolves the
  // library's symbols against the executable, which exports them
  void* handle = dlopen(path.c_str(), RTLD_NOW | RTLD_GLOBAL);
  if (!handle) {
    const char* e = dlerror();
    p.error = "LibTorch plugin " + path + " failed to load: " + (e ? e : "unknown error");
    p.state = PluginState::kFailed;
    return false;
  }
  auto init = reinterpret_cast<TorchPluginInit>(dlsym(handle, "ductile_torch_plugin_init"));
  if (!init) {
    p.error = "LibTorch plugin " + path + " has no entry point ductile_torch_plugin_init";
    p.state = PluginState::kFailed;
    return false;
  }
  return register_with(p, init, path);
}

std::string torch_plugin_error() {
  Plugin& p = plugin();
  std::lock_guard<std::recursive_mutex> lock(p.mutex);
  return p.error;
}

std::string torch_plugin_version() {
  Plugin& p = plugin();
  std::lock_guard<std::recursive_mutex> lock(p.mutex);
  return p.version;
}

void use_linked_torch(TorchPluginInit init) {
  Plugin& p = plugin();
  std::lock_guard<std::recursive_mutex> lock(p.mutex);
  if (p.state == PluginState::kLoaded) return;
  if (!register_with(p, init, "linked")) throw std::runtime_error(p.error);
}

}  // namespace ductile
