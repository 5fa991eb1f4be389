// controller.json: reading and writing.
#include "core/control/controller_file.h"

#include <cmath>
#include <fstream>
#include <sstream>

#include "core/error.h"
#include "core/io/atomic_file.h"

namespace ductile {

void save_controller_file(const std::string& path, const Controller& c,
                          const std::vector<std::string>& codesign,
                          const std::vector<double>& codesign_values) {
  nlohmann::json j = {{"format", 1},
                      {"type", c.type()},
                      {"actuators", c.actuators()},
                      {"settings", c.settings()},
                      {"parameters", c.parameters()}};
  for (size_t k = 0; k < codesign.size(); ++k) j["codesign"][codesign[k]] = codesign_values[k];
  io::write_file_atomic(path, j.dump(1) + "\n");
}

void load_controller_file(const std::string& path, Controller& c) {
  std::ifstream in(path);
  if (!in) fail(path, "cannot open the controller file");
  std::stringstream ss;
  ss << in.rdbuf();
  nlohmann::json j;
  try {
    j = nlohmann::json::parse(ss.str());
  } catch (const std::exception& e) {
    fail(path, std::string("not a controller file: ") + e.what());
  }
  if (!j.is_object() || !j.contains("type") || !j.contains("parameters") || !j["parameters"].is_array())
    fail(path, "not a controller file: expected an object with 'type' and 'parameters'");
  if (j["type"] != c.type())
    fail(path, "holds a '" + j["type"].dump() + "' controller; the scene's is '" + c.type() + "'");
  if (j["parameters"].size() != size_t(c.size()))
    fail(path, "holds " + std::to_string(j["parameters"].size()) +
                   " parameters; the scene's controller has " + std::to_string(c.size()) +
                   " (same type, other settings or number of actuators?)");
  std::vector<double> p;
  for (size_t i = 0; i < j["parameters"].size(); ++i) {
    const auto& v = j["parameters"][i];
    if (!v.is_number() || !std::isfinite(v.get<double>()))
      fail(path, "parameter " + std::to_string(i) + " is not a finite number");
    p.push_back(v.get<double>());
  }
  c.set_parameters(p);
}

}  // namespace ductile
