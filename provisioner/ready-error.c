#include "provisioner/ready-error.h"

G_DEFINE_QUARK(vs - ready - error - quark, vs_ready_error)
