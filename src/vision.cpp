// The vision component's functions that are not templates (image decoders and
// encoders, colour spaces, transforms, grids, the dataset readers), compiled
// once: the typenet::vision_compiled library. Programs linked with it compile
// with TYPENET_COMPILED_VISION defined and see only the declarations, so they
// parse neither libjpeg's, libpng's, giflib's, stb's nor zlib's headers.
#include "typenet/data/impl/celeba.ipp"
#include "typenet/data/impl/cifar.ipp"
#include "typenet/data/impl/file_bytes.ipp"
#include "typenet/data/impl/idx.ipp"
#include "typenet/data/impl/image_folder.ipp"
#include "typenet/image/impl/color.ipp"
#include "typenet/image/impl/grid.ipp"
#include "typenet/image/impl/image.ipp"
#include "typenet/image/impl/transforms.ipp"
