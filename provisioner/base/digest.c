#include "provisioner/base/digest.h"

#include <nettle/sha2.h>

struct VsDigest {
    GChecksumType type;
    union {
        struct sha256_ctx sha256;
        struct sha512_ctx sha512;
    } ctx;
};

VsDigest *
vs_digest_new(GChecksumType type)
{
    VsDigest *d = g_new0(VsDigest, 1);

    g_assert(type == G_CHECKSUM_SHA256 || type == G_CHECKSUM_SHA512);
    d->type = type;
    if (type == G_CHECKSUM_SHA256)
        sha256_init(&d->ctx.sha256);
    else
        sha512_init(&d->ctx.sha512);
    return d;
}

void
vs_digest_update(VsDigest *d, const void *data, gsize len)
{
    if (d->type == G_CHECKSUM_SHA256)
        sha256_update(&d->ctx.sha256, len, data);
    else
        sha512_update(&d->ctx.sha512, len, data);
}

char *
vs_digest_finish(VsDigest *d)
{
    guint8 raw[SHA512_DIGEST_SIZE];
    gsize len = d->type == G_CHECKSUM_SHA256 ? SHA256_DIGEST_SIZE : SHA512_DIGEST_SIZE;
    char *hex = g_malloc(2 * len + 1);

    /* The digest functions also reset the context. */
    if (d->type == G_CHECKSUM_SHA256)
        sha256_digest(&d->ctx.sha256, len, raw);
    else
        sha512_digest(&d->ctx.sha512, len, raw);
    for (gsize i = 0; i < len; i++) {
        hex[2 * i] = "0123456789abcdef"[raw[i] >> 4];
        hex[2 * i + 1] = "0123456789abcdef"[raw[i] & 0xf];
    }
    hex[2 * len] = '\0';
    return hex;
}

char *
vs_digest_peek(const VsDigest *d)
{
    VsDigest copy = *d; /* nettle's contexts are plain structures */

    return vs_digest_finish(&copy);
}

void
vs_digest_free(VsDigest *d)
{
    g_free(d);
}
