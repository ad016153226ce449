/* The image catalog (data/images.yaml, extended by the user's images.yaml beside config.yaml)
 * and the checksum lists its publishers write. Pure parsing: no network, no libvirt. */
#pragma once

#include <glib.h>

typedef enum {
    VS_SUMS_SHA256SUMS, /* "HEX  FILE" lines, SHA-256 (Ubuntu) */
    VS_SUMS_SHA512SUMS, /* the same with SHA-512 (Debian) */
    VS_SUMS_FEDORA,     /* "SHA256 (FILE) = HEX" lines (Fedora's CHECKSUM) */
} VsSumsFormat;

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

/* Finds the checksum of the file called @filename in the checksum list @text of @format. Returns
 * FALSE with @error set when the list does not name it or names it with a malformed sum. */
gboolean vs_checksums_find(const char *text, gsize len, VsSumsFormat format, const char *filename,
                           GChecksumType *ret_type, char **ret_hex, GError **error);

/* "sha256" or "sha512". */
const char *vs_checksum_type_name(GChecksumType type);
