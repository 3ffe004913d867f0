// typenet/io.hpp — the io component: weight files in and out.
//
// load_weights / save_weights for safetensors and PyTorch's torch.save files
// (zip and legacy), the checkpoint records behind them, and durable file
// writes. Builds on nn.hpp; needs nlohmann-json and zlib. CMake target:
// typenet::io.
#pragma once

#include "typenet/nn.hpp"

#include "typenet/io/checkpoint.hpp"
#include "typenet/io/durable_file.hpp"
#include "typenet/io/errors.hpp"
#include "typenet/io/mapped_file.hpp"
#include "typenet/io/safetensors.hpp"
#include "typenet/io/torch_file.hpp"
#include "typenet/io/weight_file.hpp"
#include "typenet/io/weights.hpp"
