// safetensors files read and written without LibTorch (core/io/safetensors.h): round trips, files of another
// writer (scripts/convert_weights.py, the layout of the reference implementation), and every kind of damage
// refused with an error naming the file and the tensor or key.
#include <doctest/doctest.h>

#include <cmath>
#include <cstdint>
#include <limits>
#include <string>

#include "core/error.h"
#include "core/io/safetensors.h"
#include "io/temp_dir.h"
#include "test_util.h"

using namespace ductile;
using ductile::test::error_of;

namespace {

// A file from a header's text and data bytes (the header length written in front).
std::string file_of(const std::string& header, const std::string& data = "") {
  std::string out;
  const uint64_t n = header.size();
  for (int k = 0; k < 8; ++k) out.push_back(char((n >> (8 * k)) & 0xff));
  return out + header + data;
}

// The parse error of bytes, which must name the file.
std::string refused(const std::string& bytes) {
  const std::string m = error_of([&] { io::parse_safetensors(bytes, "w.safetensors"); });
  CHECK_MESSAGE(m.rfind("w.safetensors: ", 0) == 0,
                "accepted, or an error not naming the file: '" << m << "'");
  return m;
}

io::SafeTensors sample() {
  io::SafeTensors t;
  t.metadata = {{"format", "test"}, {"note", "π ≈ 3.14"}};
  t.tensors["a"] = {"F32", {2, 3}, {1, -2.5, 3e-8, 0.1f, -0.0, 65504}};
  t.tensors["b.weight"] = {"F64", {3}, {0.1, 1e300, -4e-320}};
  t.tensors["empty"] = {"F64", {0, 5}, {}};
  t.tensors["scalar"] = {"F32", {}, {7}};
  return t;
}

}  // namespace

TEST_CASE("safetensors: a written file reads back bit for bit, in the reference layout") {
  test::TempDir dir;
  const io::SafeTensors t = sample();
  io::write_safetensors(dir.file("t.safetensors"), t);
  const std::string bytes = test::read_text(dir.file("t.safetensors"));
  // 8-byte little-endian header length, header padded with spaces to a multiple of 8, then the data
  uint64_t n = 0;
  for (int k = 7; k >= 0; --k) n = (n << 8) | uint8_t(bytes[size_t(k)]);
  CHECK((8 + n) % 8 == 0);
  CHECK(bytes[8] == '{');
  CHECK(bytes.size() == 8 + n + 6 * 4 + 3 * 8 + 0 + 4);
  const io::SafeTensors back = io::read_safetensors(dir.file("t.safetensors"));
  CHECK(back.metadata == t.metadata);
  REQUIRE(back.tensors.size() == t.tensors.size());
  for (const auto& [name, v] : t.tensors) {
    const io::SafeTensor& b = back.tensors.at(name);
    CHECK(b.dtype == v.dtype);
    CHECK(b.shape == v.shape);
    for (size_t k = 0; k < v.values.size(); ++k)
      CHECK(b.values[k] == (v.dtype == "F32" ? double(float(v.values[k])) : v.values[k]));
  }
  CHECK(std::signbit(back.tensors.at("a").values[4]));  // -0 kept
  // the same bytes again: the writer is deterministic
  CHECK(io::safetensors_bytes(back) == bytes);
}

TEST_CASE("safetensors: files written by scripts/convert_weights.py (numpy) read") {
  const std::string dir = std::string(DUCTILE_SOURCE_DIR) + "/fuzz/corpus/weights/";
  const io::SafeTensors z = io::read_safetensors(dir + "zero_size.safetensors");
  CHECK(z.metadata.at("x") == "y");
  CHECK(z.tensors.at("a").shape == std::vector<int64_t>{0, 3});
  CHECK(z.tensors.at("b").values == std::vector<double>{1, 1});
  CHECK(z.tensors.at("c").values == std::vector<double>{1.5});
  CHECK(io::read_safetensors(dir + "empty.safetensors").tensors.empty());
  const io::SafeTensors j = io::read_safetensors(dir + "jelly_3d.safetensors");
  CHECK(j.tensors.at("elastic.2.weight").shape == std::vector<int64_t>{64, 64});
  // our writer makes the same bytes as the numpy one
  CHECK(io::safetensors_bytes(j) == test::read_text(dir + "jelly_3d.safetensors"));
}

TEST_CASE("safetensors: damaged or hostile files are refused with an error naming the file and the tensor") {
  const std::string good = io::safetensors_bytes(sample());
  // truncated anywhere
  for (size_t k = 0; k < good.size(); k += 7) refused(good.substr(0, k));
  CHECK(refused(good.substr(0, 5)).find("truncated: 5 bytes") != std::string::npos);
  CHECK(refused(good.substr(0, good.size() - 1))
            .find("tensor 'scalar': data_offsets [48, 52] outside the file's 51") != std::string::npos);
  // header length beyond the file, or huge
  std::string big = good;
  big[7] = char(0x7f);
  CHECK(refused(big).find("header length") != std::string::npos);
  CHECK(refused(file_of(std::string(200, ' '))).find("starting with '{'") != std::string::npos);
  // not JSON, not an object, repeated keys, nesting deeper than the format
  CHECK(refused(file_of("{\"a\": ")).find("not valid JSON") != std::string::npos);
  CHECK(refused(file_of("{}x")).find("not valid JSON") != std::string::npos);
  CHECK(refused(file_of("{\"a\": 1}")).find("tensor 'a': header entry must be an object") !=
        std::string::npos);
  const std::string e = R"("dtype": "F32", "shape": [1], "data_offsets": [0, 4])";
  CHECK(
      refused(file_of("{\"a\": {" + e + "}, \"a\": {" + e + "}}", "abcdabcd")).find("repeats the key 'a'") !=
      std::string::npos);
  CHECK(refused(file_of(R"({"a": {"dtype": "F32", "dtype": "F64", "shape": [1], "data_offsets": [0, 4]}})",
                        "abcd"))
            .find("repeats the key 'dtype'") != std::string::npos);
  CHECK(refused(file_of("{\"a\": {\"shape\": [[[1]]]}}")).find("nests deeper") != std::string::npos);
  CHECK(refused(file_of("{\"a\": " + std::string(100000, '[') + std::string(100000, ']') + "}"))
            .find("nests deeper") != std::string::npos);  // refused at the fourth level, without recursion
  // entries: unknown or missing keys, dtypes, shapes, offsets
  CHECK(
      refused(file_of("{\"t\": {" + e + ", \"x\": 1}}", "abcd")).find("tensor 't': unknown header key 'x'") !=
      std::string::npos);
  CHECK(refused(file_of(R"({"t": {"dtype": "F32", "shape": [1]}})", "abcd")).find("no 'data_offsets'") !=
        std::string::npos);
  CHECK(refused(file_of(R"({"t": {"dtype": "F16", "shape": [2], "data_offsets": [0, 4]}})", "abcd"))
            .find("tensor 't': dtype F16 is not read here") != std::string::npos);
  CHECK(refused(file_of(R"({"t": {"dtype": "Q7", "shape": [1], "data_offsets": [0, 4]}})", "abcd"))
            .find("dtype 'Q7' (unknown)") != std::string::npos);
  CHECK(refused(file_of(R"({"t": {"dtype": "F32", "shape": [2], "data_offsets": [0, 4]}})", "abcd"))
            .find("tensor 't': shape [2] of F32 needs 8 bytes, data_offsets give 4") != std::string::npos);
  CHECK(refused(file_of(R"({"t": {"dtype": "F32", "shape": [-1], "data_offsets": [0, 4]}})", "abcd"))
            .find("tensor 't': shape[0] must be a non-negative integer") != std::string::npos);
  CHECK(refused(file_of(R"({"t": {"dtype": "F32", "shape": [1.0], "data_offsets": [0, 4]}})", "abcd"))
            .find("shape[0] must be a non-negative integer") != std::string::npos);
  CHECK(refused(file_of(R"({"t": {"dtype": "F64", "shape": [4294967296, 4294967296, 4294967296],
                              "data_offsets": [0, 8]}})",
                        "abcdabcd"))
            .find("needs over 2^64 bytes, data_offsets give 8") != std::string::npos);
  CHECK(refused(file_of(R"({"t": {"dtype": "F32", "shape": [1], "data_offsets": [4, 8]}})", "abcd"))
            .find("tensor 't': data_offsets [4, 8] outside the file's 4 data bytes") != std::string::npos);
  CHECK(refused(file_of(R"({"t": {"dtype": "F32", "shape": [1], "data_offsets": [0, 4, 8]}})", "abcd"))
            .find("'data_offsets' must be [begin, end]") != std::string::npos);
  // ranges: overlapping, with a gap, or leaving bytes of no tensor
  CHECK(refused(file_of(R"({"s": {"dtype": "F32", "shape": [2], "data_offsets": [0, 8]},
                           "t": {"dtype": "F32", "shape": [1], "data_offsets": [4, 8]}})",
                        "abcdabcd"))
            .find("overlap") != std::string::npos);
  CHECK(refused(file_of(R"({"t": {"dtype": "F32", "shape": [1], "data_offsets": [4, 8]}})", "abcdabcd"))
            .find("tensor 't': data_offsets [4, 8] leave a gap") != std::string::npos);
  CHECK(refused(file_of(R"({"t": {"dtype": "F32", "shape": [1], "data_offsets": [0, 4]}})", "abcdabcd"))
            .find("4 data bytes after the last tensor belong to none") != std::string::npos);
  // metadata of strings only
  CHECK(refused(file_of(R"({"__metadata__": {"width": 64}})"))
            .find("'__metadata__' entry 'width' must be a string") != std::string::npos);
  CHECK(refused(file_of(R"({"__metadata__": ["a"]})")).find("'__metadata__' must be an object") !=
        std::string::npos);
  // not UTF-8
  CHECK(refused(file_of("{\"\xff\": {}}")).find("not valid JSON") != std::string::npos);
  // a missing file, and the zip magic of LibTorch archives
  CHECK(error_of([] {
          io::read_safetensors("/nonexistent/w.safetensors");
        }).find("/nonexistent/w.safetensors") == 0);
  CHECK(io::is_zip_archive(std::string("PK\x03\x04rest", 8)));
  CHECK(!io::is_zip_archive(good));
}
