// Scene paths ("/materials/0/E", "materials.0.E", "materials.jelly.E") and `--set path=value` overrides.
#include <cctype>

#include "core/error.h"
#include "core/scene_detail.h"

namespace ductile {

namespace {

using scene_detail::child;
using scene_detail::json;

// The tokens of a path: a JSON pointer (with ~1 and ~0 unescaped) or a dotted path.
std::vector<std::string> split_path(const std::string& path) {
  std::vector<std::string> out;
  if (path.empty() || path == "/" || path == ".") fail("", "empty path");
  if (path[0] == '/') {
    std::string tok;
    for (size_t i = 1; i <= path.size(); ++i) {
      if (i == path.size() || path[i] == '/') {
        out.push_back(tok);
        tok.clear();
      } else if (path[i] == '~' && i + 1 < path.size() && (path[i + 1] == '0' || path[i + 1] == '1')) {
        tok += path[++i] == '0' ? '~' : '/';
      } else {
        tok += path[i];
      }
    }
  } else {
    size_t start = 0;
    while (true) {
      size_t dot = path.find('.', start);
      out.push_back(path.substr(start, dot == std::string::npos ? std::string::npos : dot - start));
      if (dot == std::string::npos) break;
      start = dot + 1;
    }
  }
  for (const auto& t : out)
    if (t.empty()) fail("", "empty name in path '" + path + "'");
  return out;
}

bool is_index(const std::string& s) {
  if (s.empty() || s.size() > 9) return false;
  for (char c : s)
    if (!std::isdigit(static_cast<unsigned char>(c))) return false;
  return true;
}

}  // namespace

std::string resolve_scene_path(const json& doc, const std::string& path, bool create) {
  const std::vector<std::string> toks = split_path(path);
  const json* node = &doc;
  std::string ptr;
  for (size_t i = 0; i < toks.size(); ++i) {
    const std::string& t = toks[i];
    const std::string where = ptr.empty() ? "/" : ptr;
    if (node->is_array()) {
      // an index, or the item whose "name" is t
      size_t index = node->size();
      if (is_index(t)) {
        index = std::stoul(t);
        if (index >= node->size())
          fail(where, "index " + t + " out of range (" + std::to_string(node->size()) + " items)");
      } else {
        std::string names;
        for (size_t k = 0; k < node->size() && index == node->size(); ++k) {
          const json& item = (*node)[k];
          if (item.is_object() && item.contains("name") && item["name"] == t)
            index = k;
          else if (item.is_object() && item.contains("name"))
            names += (names.empty() ? "" : ", ") + scene_detail::show(item["name"]);
        }
        if (index == node->size()) fail(where, "no item named '" + t + "' (names: " + names + ")");
      }
      ptr = child(ptr, index);
      node = &(*node)[index];
    } else if (node->is_object()) {
      if (!node->contains(t)) {
        if (!create) fail(child(ptr, t), "no such key");
        // a new key; anything below it is new as well
        for (size_t k = i; k < toks.size(); ++k) ptr = child(ptr, toks[k]);
        return ptr;
      }
      ptr = child(ptr, t);
      node = &(*node)[t];
    } else {
      fail(where, "cannot select '" + t + "' inside " + scene_detail::show(*node));
    }
  }
  return ptr;
}

void apply_scene_override(json& doc, const std::string& assignment) {
  const size_t eq = assignment.find('=');
  if (eq == std::string::npos || eq == 0) fail("--set " + assignment, "expected path=value");
  const std::string path = assignment.substr(0, eq), text = assignment.substr(eq + 1);
  try {
    const std::string ptr = resolve_scene_path(doc, path, true);
    json value;
    try {
      value = json::parse(text);
    } catch (const json::parse_error&) {
      value = text;  // a bare string
    } catch (const json::out_of_range&) {
      fail("value", "'" + text + "' is a number beyond a double's range");
    }
    doc[json::json_pointer(ptr)] = value;
  } catch (const Error& e) {
    fail("--set " + assignment, e.what());
  }
}

}  // namespace ductile
