#include "provisioner/images/image-error.h"

G_DEFINE_QUARK(vs - image - error - quark, vs_image_error)
