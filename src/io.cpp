// The io component's functions that are not templates (weight-file readers
// and writers, the pickle machine, load_state), compiled once: the
// typenet::io_compiled library. Programs linked with it compile with
// TYPENET_COMPILED_IO defined and see only the declarations, so they parse
// neither nlohmann-json nor zlib's header nor the unpickler.
#include "typenet/io/impl/safetensors.ipp"
#include "typenet/io/impl/torch_file.ipp"
#include "typenet/io/impl/weight_file.ipp"
#include "typenet/io/impl/weights.ipp"
