#include "domains/errors.h"

G_DEFINE_QUARK(vs - domains - error - quark, vs_domains_error)
