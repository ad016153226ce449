/* The image catalog (data/images.yaml, extended by the user's images.yaml beside config.yaml).
 * Pure parsing: no network, no libvirt. */
#pragma once

#include <glib.h>

#include "provisioner/images/checksums.h"

typedef enum {
    VS_SIGNATURE_NONE,
    VS_SIGNATURE_DETACHED, /* a signature file beside the list */
    VS_SIGNATURE_INLINE,   /* the list is clear-signed */
} VsSignatureKind;

typedef struct {
    char *alias;
    char *arch;
    char *url;
    char *checksums_url;
    VsSumsFormat format;
    VsSignatureKind signature;
    char *signature_url; /* detached only */
    char *keyring;       /* NULL: none configured */
    char *os;            /* libosinfo id, NULL: guessed from the alias */
} VsCatalogImage;

VsCatalogImage *vs_catalog_image_copy(const VsCatalogImage *img);
void vs_catalog_image_free(VsCatalogImage *img);

typedef struct {
    GPtrArray *images; /* of VsCatalogImage, in file order; later files replace whole aliases */
} VsCatalog;

VsCatalog *vs_catalog_new(void);
void vs_catalog_free(VsCatalog *catalog);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(VsCatalog, vs_catalog_free)

/* Adds the catalog in @data (@what names it in errors); its aliases replace those already in
 * @catalog. Returns FALSE with a VS_SPEC_ERROR naming the file, line and key on bad input. */
gboolean vs_catalog_add_data(VsCatalog *catalog, const char *data, gsize len, const char *what,
                             GError **error);

/* Returns the shipped catalog extended by $XDG_CONFIG_HOME/virt-station/images.yaml. */
VsCatalog *vs_catalog_load(GError **error);

/* Returns TRUE when @catalog defines @alias for any architecture. */
gboolean vs_catalog_has(const VsCatalog *catalog, const char *alias);

/* Returns @alias's entry for @arch, or NULL with @error set (unknown alias, or no image for
 * that architecture). */
const VsCatalogImage *vs_catalog_lookup(const VsCatalog *catalog, const char *alias,
                                        const char *arch, GError **error);
