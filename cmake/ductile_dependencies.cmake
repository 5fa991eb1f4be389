# Finds every dependency from Debian's packages, PyPI's torch and /usr/local/cuda; no downloads.

# Eigen, JSON, CLI11, tinyobjloader, OpenMP.
find_package(Eigen3 3.3 REQUIRED NO_MODULE)
find_package(nlohmann_json 3.10 REQUIRED)
find_package(CLI11 REQUIRED)
find_package(tinyobjloader REQUIRED)
find_package(OpenMP REQUIRED)
find_package(ZLIB REQUIRED)  # PNG images (zlib1g-dev)

# OpenVDB: Debian ships only a Find module, and it needs Boost.Iostreams (libboost-iostreams-dev). OFF builds the
# *_novdb.cpp stubs instead (mesh and VDB shapes, VDB volumes and surface meshes then fail with a clear error):
# for a machine without OpenVDB's packages, such as the GPU machine of bench/gpu.sh.
if(DUCTILE_WITH_OPENVDB)
  if(EXISTS /usr/lib/x86_64-linux-gnu/cmake/OpenVDB)
    list(APPEND CMAKE_MODULE_PATH /usr/lib/x86_64-linux-gnu/cmake/OpenVDB)
  endif()
  find_package(OpenVDB QUIET)
  if(NOT OpenVDB_FOUND)
    message(FATAL_ERROR "OpenVDB not found: install libopenvdb-dev and libboost-iostreams-dev (scripts/setup.sh "
                        "does) or configure with -DDUCTILE_WITH_OPENVDB=OFF (no mesh or VDB shapes and outputs)")
  endif()
endif()
message(STATUS "ductile: OpenVDB ${DUCTILE_WITH_OPENVDB}")

# CUDA: AUTO builds it when nvcc exists (default /usr/local/cuda); architectures default to 90, never native.
set(DUCTILE_CUDA_ENABLED OFF)
if(NOT DUCTILE_WITH_CUDA STREQUAL "OFF")
  if(NOT CMAKE_CUDA_COMPILER AND EXISTS /usr/local/cuda/bin/nvcc)
    set(CMAKE_CUDA_COMPILER /usr/local/cuda/bin/nvcc)
  endif()
  include(CheckLanguage)
  check_language(CUDA)
  if(CMAKE_CUDA_COMPILER)
    if(NOT DEFINED CMAKE_CUDA_ARCHITECTURES)
      set(CMAKE_CUDA_ARCHITECTURES 90)
    endif()
    enable_language(CUDA)
    set(CMAKE_CUDA_STANDARD 17)
    find_package(CUDAToolkit REQUIRED)
    set(DUCTILE_CUDA_ENABLED ON)
  elseif(DUCTILE_WITH_CUDA STREQUAL "ON")
    message(FATAL_ERROR "DUCTILE_WITH_CUDA=ON but no nvcc was found (set CMAKE_CUDA_COMPILER)")
  endif()
endif()
message(STATUS "ductile: CUDA backend ${DUCTILE_CUDA_ENABLED}")

# LibTorch from the torch package on PyPI: ask the Python that has it for its CMake prefix.
set(DUCTILE_TORCH_ENABLED OFF)
if(DUCTILE_WITH_TORCH)
  if(NOT Torch_DIR)
    find_package(Python3 COMPONENTS Interpreter)
    if(Python3_Interpreter_FOUND)
      execute_process(COMMAND ${Python3_EXECUTABLE} -c "import torch;print(torch.utils.cmake_prefix_path)"
                      OUTPUT_VARIABLE DUCTILE_TORCH_PREFIX OUTPUT_STRIP_TRAILING_WHITESPACE ERROR_QUIET)
      if(DUCTILE_TORCH_PREFIX)
        list(APPEND CMAKE_PREFIX_PATH ${DUCTILE_TORCH_PREFIX})
      endif()
    endif()
  endif()
  set(TORCH_CUDA_ARCH_LIST "9.0" CACHE STRING "CUDA architectures for LibTorch extensions")
  # Torch's config looks for the CUDA toolkit when its wheel is a CUDA build; a CPU machine does not need it.
  find_package(Torch QUIET)
  if(Torch_FOUND)
    set(DUCTILE_TORCH_ENABLED ON)
    # A CUDA wheel's libraries need the wheel's own NVIDIA libraries (nccl, cudnn, ...), not older copies the
    # system may have: put their folders on the run path, which the linker also searches.
    get_filename_component(DUCTILE_TORCH_LIB_DIR "${TORCH_LIBRARY}" DIRECTORY)
    file(GLOB DUCTILE_TORCH_NVIDIA_DIRS "${DUCTILE_TORCH_LIB_DIR}/../../nvidia/*/lib")
    set(DUCTILE_TORCH_RPATH ${DUCTILE_TORCH_LIB_DIR} ${DUCTILE_TORCH_NVIDIA_DIRS})
  else()
    message(FATAL_ERROR "LibTorch not found: `pip install torch` (scripts/setup.sh does) or -DDUCTILE_WITH_TORCH=OFF")
  endif()
endif()
message(STATUS "ductile: LibTorch ${DUCTILE_TORCH_ENABLED}")
