// safetensors files (https://github.com/huggingface/safetensors): an 8-byte little-endian header length N, N
// bytes of a JSON object mapping each tensor's name to {"dtype", "shape", "data_offsets": [begin, end]} (plus
// an optional "__metadata__" map of strings), then the tensors' raw little-endian bytes. Read without
// LibTorch and with every length, offset and count checked before use (docs/RELIABILITY.md): the header
// length against the file and a 100 MB cap, one JSON object without duplicate keys or nesting beyond the
// format's, dtype F32 or F64 (others refused by name), shape product times the dtype's size equal to the byte
// range, and the byte ranges ordered, non-overlapping and covering the data exactly. Allocation never exceeds
// a small multiple of the file's size. Errors name the file and the tensor or key.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace ductile::io {

struct SafeTensor {
  std::string dtype = "F64";   // "F32" or "F64": the precision stored in the file
  std::vector<int64_t> shape;  // row-major; [] is a scalar
  std::vector<double> values;  // product of shape entries (F32 values are exact in a double)
};

struct SafeTensors {
  std::map<std::string, std::string> metadata;  // "__metadata__"
  std::map<std::string, SafeTensor> tensors;
};

// The largest header this reader accepts (the reference implementation's limit).
constexpr uint64_t kSafetensorsMaxHeader = 100'000'000;

// The tensors and metadata that bytes hold (`name` stands for the file in errors).
SafeTensors parse_safetensors(const std::string& bytes, const std::string& name);
// The bytes of a file holding t: the header padded with spaces to a multiple of 8 bytes, tensors in name
// order. Throws Error when a tensor's values do not match its shape or its dtype is not F32/F64.
std::string safetensors_bytes(const SafeTensors& t);

// Reads a file (Error naming it when it cannot be read or is not a valid safetensors file); writes one
// atomically.
SafeTensors read_safetensors(const std::string& path);
void write_safetensors(const std::string& path, const SafeTensors& t);

// A whole file's bytes (Error naming it when it is missing, not a regular file or unreadable).
std::string read_file_bytes(const std::string& path);

// s as an error message quotes it: at most 80 characters (a hostile file's names can be megabytes long).
std::string clipped(const std::string& s);

// Whether bytes start like a zip archive ("PK\3\4"): a LibTorch archive or TorchScript module.
bool is_zip_archive(const std::string& bytes);

}  // namespace ductile::io
