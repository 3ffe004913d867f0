// typenet/nn/summary.hpp — a table of a network's layers, computed from its type.
//
// Every figure comes from the types: output shapes, parameter counts and
// forward FLOPs per sample (a multiply-add counts two). Containers list their
// children indented, with their keys as in the state dict.
#pragma once

#include <algorithm>
#include <cstdint>
#include <iomanip>
#include <sstream>
#include <string>
#include <vector>

#include "typenet/core/layer.hpp"

namespace typenet {

/// The row of a layer without children.
template <class L, class In>
void summarize_leaf(std::vector<summary_row>& rows, const std::string& name, int depth) {
  std::int64_t flops = -1;  // depends on the run-time extents
  if constexpr (In::is_static && output_shape_t<L, In>::is_static) flops = L::template flops<In>;
  rows.push_back({name, L::type_name(), output_shape_t<L, In>::str(), parameters_t<L, In>::count,
                  flops, depth});
}

template <class L, class In>
void summarize(std::vector<summary_row>& rows, const std::string& name, int depth) {
  if constexpr (requires { L::template summarize<In>(rows, name, depth); }) {
    L::template summarize<In>(rows, name, depth);
  } else {
    summarize_leaf<L, In>(rows, name, depth);
  }
}

template <class Net, class In>
std::vector<summary_row> summary_rows() {
  std::vector<summary_row> rows;
  summarize<Net, In>(rows, "", 0);
  return rows;
}

inline std::string format_summary(const std::vector<summary_row>& rows) {
  std::size_t name_w = 4, type_w = 5, shape_w = 6;
  for (const auto& r : rows) {
    name_w = std::max(name_w, r.name.size() + 2 * r.depth);
    type_w = std::max(type_w, std::min<std::size_t>(r.type.size(), 48));
    shape_w = std::max(shape_w, r.output_shape.size());
  }
  std::ostringstream out;
  out << std::left << std::setw(int(name_w) + 2) << "name" << std::setw(int(type_w) + 2) << "layer"
      << std::setw(int(shape_w) + 2) << "output" << std::right << std::setw(14) << "parameters"
      << std::setw(16) << "FLOPs/sample"
      << "\n";
  std::int64_t params = 0, flops = 0;
  bool flops_known = true;
  for (const auto& r : rows) {
    std::string type = r.type.size() > 48 ? r.type.substr(0, 45) + "..." : r.type;
    out << std::left << std::setw(int(name_w) + 2) << (std::string(2 * r.depth, ' ') + r.name)
        << std::setw(int(type_w) + 2) << type << std::setw(int(shape_w) + 2) << r.output_shape
        << std::right << std::setw(14) << r.parameters << std::setw(16)
        << (r.flops < 0 ? std::string("per size") : std::to_string(r.flops)) << "\n";
    params += r.parameters;
    if (r.flops < 0) flops_known = false;
    flops += std::max<std::int64_t>(r.flops, 0);
  }
  out << "total: " << params << " parameters, ";
  if (flops_known) {
    out << flops << " FLOPs per sample\n";
  } else {
    out << "FLOPs per sample depend on the input extents\n";
  }
  return out.str();
}

}  // namespace typenet
