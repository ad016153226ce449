/* The image catalog, the publishers' checksum lists and how --image is understood. The shipped
 * catalog is checked against rules of its own (file names per architecture, lists beside their
 * images) and the lists against samples written in each publisher's format. */
#include <fcntl.h>
#include <glib/gstdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "provisioner/base/digest.h"
#include "provisioner/images/catalog.h"
#include "provisioner/images/hash.h"
#include "provisioner/images/fetch.h"
#include "provisioner/images/image-error.h"
#include "provisioner/images/image.h"
#include "provisioner/images/unpack.h"
#include "provisioner/spec.h"

static const char *const required[] = {"ubuntu:24.04",
                                       "ubuntu:22.04",
                                       "ubuntu:24.04-minimal",
                                       "ubuntu:daily:24.04",
                                       "fedora:41",
                                       "debian:12",
                                       NULL};

static void
test_shipped_catalog(void)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(VsCatalog) catalog = vs_catalog_load(&error);

    g_assert_no_error(error);
    for (guint i = 0; required[i]; i++) {
        for (const char *const *arch = (const char *const[]){"x86_64", "aarch64", NULL}; *arch;
             arch++) {
            const VsCatalogImage *img = vs_catalog_lookup(catalog, required[i], *arch, &error);
            g_assert_no_error(error);
            g_autofree char *file = vs_image_url_basename(img->url);
            g_autofree char *img_dir = g_path_get_dirname(img->url);
            g_autofree char *sums_dir = g_path_get_dirname(img->checksums_url);
            /* The publisher's own name for the architecture is in the file's name. */
            if (g_str_equal(*arch, "x86_64"))
                g_assert_true(strstr(file, "amd64") || strstr(file, "x86_64"));
            else
                g_assert_true(strstr(file, "arm64") || strstr(file, "aarch64"));
            g_assert_true(g_str_has_prefix(img->url, "https://"));
            g_assert_cmpstr(img_dir, ==, sums_dir);
            if (g_str_has_prefix(required[i], "ubuntu:")) {
                g_assert_cmpint(img->format, ==, VS_SUMS_SHA256SUMS);
                g_assert_cmpint(img->signature, ==, VS_SIGNATURE_DETACHED);
                g_assert_true(g_str_has_suffix(img->checksums_url, "/SHA256SUMS"));
                g_autofree char *sig = g_strconcat(img->checksums_url, ".gpg", NULL);
                g_assert_cmpstr(img->signature_url, ==, sig);
                g_assert_nonnull(img->keyring);
            } else if (g_str_has_prefix(required[i], "fedora:")) {
                g_assert_cmpint(img->format, ==, VS_SUMS_FEDORA);
                g_assert_cmpint(img->signature, ==, VS_SIGNATURE_INLINE);
                g_assert_true(g_str_has_suffix(img->checksums_url, "-CHECKSUM"));
            } else {
                g_assert_cmpint(img->format, ==, VS_SUMS_SHA512SUMS);
                g_assert_cmpint(img->signature, ==, VS_SIGNATURE_NONE);
                g_assert_true(g_str_has_suffix(img->checksums_url, "/SHA512SUMS"));
            }
        }
    }
}

static void
test_user_catalog_replaces(void)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(VsCatalog) catalog = vs_catalog_load(&error);
    const char *mine = "\"ubuntu:24.04\":\n"
                       "  checksums-format: sha256sums\n"
                       "  x86_64:\n"
                       "    url: https://mirror.example/noble.img\n"
                       "    checksums: https://mirror.example/SHA256SUMS\n"
                       "\"mine:1\":\n"
                       "  checksums-format: sha512sums\n"
                       "  os: http://debian.org/debian/12\n"
                       "  aarch64:\n"
                       "    url: https://mirror.example/mine.qcow2\n"
                       "    checksums: https://mirror.example/SHA512SUMS\n";

    g_assert_true(vs_catalog_add_data(catalog, mine, strlen(mine), "images.yaml", &error));
    const VsCatalogImage *img = vs_catalog_lookup(catalog, "ubuntu:24.04", "x86_64", &error);
    g_assert_no_error(error);
    g_assert_cmpstr(img->url, ==, "https://mirror.example/noble.img");
    g_assert_cmpint(img->signature, ==, VS_SIGNATURE_NONE);
    g_assert_null(img->keyring);
    /* The whole alias was replaced: no aarch64 image is left from the shipped one. */
    g_assert_null(vs_catalog_lookup(catalog, "ubuntu:24.04", "aarch64", &error));
    g_assert_error(error, VS_SPEC_ERROR, VS_SPEC_ERROR_INVALID);
    g_assert_cmpstr(error->message, ==, "the image catalog has no aarch64 image for ubuntu:24.04");
    g_clear_error(&error);
    img = vs_catalog_lookup(catalog, "mine:1", "aarch64", &error);
    g_assert_no_error(error);
    g_assert_cmpstr(img->os, ==, "http://debian.org/debian/12");
    g_assert_true(vs_catalog_has(catalog, "debian:12"));
}

static void
test_catalog_errors(void)
{
    static const struct {
        const char *yaml, *message;
    } cases[] = {
        {"a:1:\n  checksums-format: sha256sums\n  colour: blue\n",
         "bad.yaml: line 3: a:1: unknown key 'colour' (checksums-format, signature, "
         "signature-suffix, keyring, os, x86_64, aarch64)"},
        {"a:1:\n  checksums-format: md5\n",
         "bad.yaml: line 2: a:1: checksums-format is sha256sums, sha512sums or fedora, not "
         "'md5'"},
        {"a:1:\n  checksums-format: fedora\n  x86_64:\n    url: https://h/i.img\n",
         "bad.yaml: line 4: a:1: x86_64 needs both 'url' and 'checksums'"},
        {"a:1:\n  checksums-format: fedora\n  x86_64:\n    url: /srv/i.img\n    checksums: "
         "https://h/S\n",
         "bad.yaml: line 4: a:1: x86_64: 'url' needs a URL (https://...)"},
        {"a:1:\n  checksums-format: fedora\n", "bad.yaml: line 2: a:1 names no image (add x86_64: "
                                               "or aarch64:)"},
        {"a:1:\n  signature: detached\n  x86_64: {url: https://h/i, checksums: https://h/s}\n",
         "bad.yaml: line 2: a:1 needs checksums-format"},
        {"\"Big Alias\":\n  checksums-format: fedora\n",
         "bad.yaml: line 2: 'Big Alias' is not an alias (lower-case words joined by ':', like "
         "ubuntu:24.04)"},
        /* A trailing newline is no part of an alias (GLib's $ matches before it). */
        {"\"deb:12\\n\":\n  checksums-format: fedora\n",
         "bad.yaml: line 2: 'deb:12\n' is not an alias (lower-case words joined by ':', like "
         "ubuntu:24.04)"},
        {"- a\n- b\n", "bad.yaml: a catalog is a mapping of aliases (like ubuntu:24.04)"},
        {"a:1:\n  checksums-format: fedora\n  x86_64: {url: https://h/i, checksums: https://h/s}\n"
         "a:1:\n  checksums-format: fedora\n  x86_64: {url: https://h/i, checksums: https://h/s}\n",
         "bad.yaml: line 4: a:1 is defined twice"},
        /* A signature without a keyring would never be checked (issue 14, item 6). */
        {"a:1:\n  checksums-format: sha256sums\n  signature: detached\n"
         "  x86_64: {url: https://h/i, checksums: https://h/s}\n",
         "bad.yaml: line 2: a:1: signature: detached needs a keyring (the file with the "
         "publisher's OpenPGP keys) to check it against; write signature: none for a list that "
         "is not signed"},
        {"b:2:\n  checksums-format: fedora\n  signature: inline\n"
         "  aarch64: {url: https://h/i, checksums: https://h/s}\n",
         "bad.yaml: line 2: b:2: signature: inline needs a keyring (the file with the "
         "publisher's OpenPGP keys) to check it against; write signature: none for a list that "
         "is not signed"},
        {"a:1: [unclosed\n", NULL},
    };

    for (guint i = 0; i < G_N_ELEMENTS(cases); i++) {
        g_autoptr(GError) error = NULL;
        g_autoptr(VsCatalog) catalog = vs_catalog_new();
        g_assert_false(
            vs_catalog_add_data(catalog, cases[i].yaml, strlen(cases[i].yaml), "bad.yaml", &error));
        g_assert_error(error, VS_SPEC_ERROR, VS_SPEC_ERROR_INVALID);
        if (cases[i].message)
            g_assert_cmpstr(error->message, ==, cases[i].message);
        else
            g_assert_true(g_str_has_prefix(error->message, "bad.yaml: malformed YAML at line"));
        /* Nothing of a bad file is kept. */
        g_assert_cmpuint(catalog->images->len, ==, 0);
    }
}

#define HEX64_A "5f2e1c9a3b7d4e6f8091a2b3c4d5e6f708192a3b4c5d6e7f8091a2b3c4d5e6f7"
#define HEX64_B "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"

static void
test_checksum_lists(void)
{
    /* Ubuntu: binary-mode marker, several files. */
    const char *ubuntu = HEX64_B " *ubuntu-24.04-server-cloudimg-amd64.img.manifest\n" HEX64_A
                                 " *ubuntu-24.04-server-cloudimg-amd64.img\n";
    /* Fedora: clear-signed, with comment lines and other files. */
    const char *fedora = "-----BEGIN PGP SIGNED MESSAGE-----\nHash: SHA256\n\n"
                         "# Fedora-Cloud-Base-Generic-41-1.4.x86_64.qcow2: 491716608 bytes\n"
                         "SHA256 (Fedora-Cloud-Base-Generic-41-1.4.x86_64.qcow2) = " HEX64_A "\n"
                         "SHA256 (Fedora-Cloud-Base-Generic-41-1.4.x86_64.raw.xz) = " HEX64_B "\n"
                         "-----BEGIN PGP SIGNATURE-----\n\nabc\n-----END PGP SIGNATURE-----\n";
    /* Debian: text mode (two spaces), SHA-512, names that share a prefix. */
    g_autofree char *sha512 = g_strnfill(128, 'c');
    g_autofree char *upper = g_strnfill(128, 'D');
    g_autofree char *debian = g_strdup_printf(
        "%s  debian-12-generic-amd64.qcow2.xz\n%s  debian-12-generic-amd64.qcow2\n", upper, sha512);
    g_autoptr(GError) error = NULL;
    g_autofree char *hex = NULL;
    GChecksumType type;

    g_assert_true(vs_checksums_find(ubuntu, strlen(ubuntu), VS_SUMS_SHA256SUMS,
                                    "ubuntu-24.04-server-cloudimg-amd64.img", &type, &hex, &error));
    g_assert_cmpstr(hex, ==, HEX64_A);
    g_assert_cmpint(type, ==, G_CHECKSUM_SHA256);
    g_clear_pointer(&hex, g_free);
    g_assert_true(vs_checksums_find(fedora, strlen(fedora), VS_SUMS_FEDORA,
                                    "Fedora-Cloud-Base-Generic-41-1.4.x86_64.qcow2", &type, &hex,
                                    &error));
    g_assert_cmpstr(hex, ==, HEX64_A);
    g_clear_pointer(&hex, g_free);
    g_assert_true(vs_checksums_find(debian, strlen(debian), VS_SUMS_SHA512SUMS,
                                    "debian-12-generic-amd64.qcow2", &type, &hex, &error));
    g_assert_cmpstr(hex, ==, sha512);
    g_assert_cmpint(type, ==, G_CHECKSUM_SHA512);
    g_clear_pointer(&hex, g_free);
    /* Upper-case digits are read as lower case. */
    g_assert_true(vs_checksums_find(debian, strlen(debian), VS_SUMS_SHA512SUMS,
                                    "debian-12-generic-amd64.qcow2.xz", &type, &hex, &error));
    g_autofree char *lower = g_strnfill(128, 'd');
    g_assert_cmpstr(hex, ==, lower);
    g_clear_pointer(&hex, g_free);

    g_assert_false(vs_checksums_find(ubuntu, strlen(ubuntu), VS_SUMS_SHA256SUMS, "other.img", &type,
                                     &hex, &error));
    g_assert_cmpstr(error->message, ==, "the checksum list does not name other.img");
    /* The publisher's list, not the user's input: exit status 1, not 2. */
    g_assert_error(error, VS_IMAGE_ERROR, VS_IMAGE_ERROR_FAILED);
    g_clear_error(&error);
    /* A SHA-256 where SHA-512 is expected is malformed, not a match. */
    g_assert_false(vs_checksums_find(ubuntu, strlen(ubuntu), VS_SUMS_SHA512SUMS,
                                     "ubuntu-24.04-server-cloudimg-amd64.img", &type, &hex,
                                     &error));
    g_assert_true(strstr(error->message, "malformed sha512 sum"));
    g_clear_error(&error);
    /* Only the length of the list given counts. */
    g_assert_false(vs_checksums_find(ubuntu, 20, VS_SUMS_SHA256SUMS,
                                     "ubuntu-24.04-server-cloudimg-amd64.img", &type, &hex,
                                     &error));
}

static void
test_image_refs(void)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(VsImage) vol =
        vs_image_parse("vol:images/golden.qcow2", NULL, "x86_64", FALSE, &error);
    g_autoptr(VsImage) vol2 = NULL, alias = NULL, file = NULL;
    g_autofree char *dir = g_dir_make_tmp("vs-image-XXXXXX", NULL);
    g_autofree char *path = g_build_filename(dir, "golden.qcow2", NULL);
    g_autofree char *xz = g_build_filename(dir, "golden.raw.xz", NULL);
    const char *content = "not really qcow2";
    g_autofree char *sum = g_compute_checksum_for_string(G_CHECKSUM_SHA256, content, -1);

    g_assert_no_error(error);
    g_assert_cmpint(vol->kind, ==, VS_IMAGE_VOLUME);
    g_assert_cmpstr(vol->pool, ==, "images");
    g_assert_cmpstr(vol->volume, ==, "golden.qcow2");
    g_assert_true(vs_image_ready(vol));
    vol2 = vs_image_parse("vol:golden", NULL, "x86_64", FALSE, &error);
    g_assert_null(vol2->pool);

    static const struct {
        const char *ref, *sha, *message;
    } bad[] = {
        {"vol:", NULL, "--image vol:: a pool volume is vol:NAME or vol:POOL/NAME"},
        {"vol:a/b/c", NULL, "--image vol:a/b/c: a pool volume is vol:NAME or vol:POOL/NAME"},
        {"https://h/x.img", NULL,
         "--image https://h/x.img: a URL needs --image-sha256 HEX, the SHA-256 of the file there "
         "(or add it to images.yaml with its checksum list)"},
        {"ftp://h/x.img", NULL,
         "--image ftp://h/x.img: only http:// and https:// URLs are fetched"},
        {"https://h/x.img", "abc", "--image-sha256: 'abc' is not a SHA-256 (64 hex digits)"},
        {"nosuch:1", NULL,
         "'nosuch:1' is not in the image catalog (`virt-station image list --catalog` lists the "
         "aliases)"},
        {"ubuntu:24.04", HEX64_A,
         "--image-sha256 is for URLs; ubuntu:24.04 is checked against its publisher's checksum "
         "list"},
        {"/nonexistent/disk.qcow2", NULL,
         "--image /nonexistent/disk.qcow2: not a file, an alias of the image catalog "
         "(`virt-station image list --catalog`), an http(s) URL or vol:NAME"},
    };
    for (guint i = 0; i < G_N_ELEMENTS(bad); i++) {
        g_autoptr(GError) e = NULL;
        g_assert_null(vs_image_parse(bad[i].ref, bad[i].sha, "x86_64", FALSE, &e));
        g_assert_error(e, VS_SPEC_ERROR, VS_SPEC_ERROR_INVALID);
        g_assert_cmpstr(e->message, ==, bad[i].message);
    }

    /* An alias not yet downloaded: known, not ready. */
    alias = vs_image_parse("ubuntu:24.04", NULL, "aarch64", FALSE, &error);
    g_assert_no_error(error);
    g_assert_cmpint(alias->kind, ==, VS_IMAGE_ALIAS);
    g_assert_false(vs_image_ready(alias));
    g_assert_true(g_str_has_suffix(alias->url, "ubuntu-24.04-server-cloudimg-arm64.img"));

    /* A local file: named after its content. */
    g_assert_true(g_file_set_contents(path, content, -1, NULL));
    file = vs_image_parse(path, NULL, "x86_64", FALSE, &error);
    g_assert_no_error(error);
    g_assert_cmpint(file->kind, ==, VS_IMAGE_FILE);
    g_assert_cmpstr(file->sha256, ==, sum);
    g_autofree char *name = g_strdup_printf("golden-%.12s", sum);
    g_assert_cmpstr(file->volume, ==, name);
    g_assert_true(vs_image_ready(file));
    g_assert_null(vs_image_parse(path, HEX64_A, "x86_64", FALSE, &error));
    g_assert_true(strstr(error->message, "not " HEX64_A " as --image-sha256 says"));
    g_clear_error(&error);
    /* A packed file: unpacked into the cache when used, found by its own sum. */
    g_assert_true(g_file_set_contents(xz, content, -1, NULL));
    g_autoptr(VsImage) packed = vs_image_parse(xz, NULL, "x86_64", FALSE, &error);
    g_assert_no_error(error);
    g_assert_cmpint(packed->kind, ==, VS_IMAGE_FILE);
    g_assert_false(vs_image_ready(packed));
    g_assert_cmpstr(packed->url, ==, xz);
    g_autofree char *expect = g_strconcat("sha256:", sum, NULL);
    g_assert_cmpstr(packed->expect, ==, expect);
    g_unlink(path);
    g_unlink(xz);
    g_rmdir(dir);
}

/* What a fetch reported, as the command layer's callbacks would have received it. */
typedef struct {
    GPtrArray *steps;
    GPtrArray *warnings;
} Reported;

static void
record_step(void *data, const char *message)
{
    g_ptr_array_add(((Reported *)data)->steps, g_strdup(message));
}

static void
record_warning(void *data, const char *message)
{
    g_ptr_array_add(((Reported *)data)->warnings, g_strdup(message));
}

/* A local file pulled into the cache: the fetch reports its step through the callbacks, and a
 * second fetch finds the image cached without a step. */
static void
test_fetch_progress(void)
{
    g_autoptr(GError) error = NULL;
    g_autofree char *dir = g_dir_make_tmp("vs-fetch-XXXXXX", NULL);
    g_autofree char *path = g_build_filename(dir, "progress.img", NULL);
    g_autofree char *content = g_uuid_string_random(); /* a cache entry of its own */
    g_autoptr(GPtrArray) steps = g_ptr_array_new_with_free_func(g_free);
    g_autoptr(GPtrArray) warnings = g_ptr_array_new_with_free_func(g_free);
    Reported seen = {steps, warnings};
    const VsProgress progress = {.step = record_step, .warn = record_warning, .data = &seen};

    g_assert_true(g_file_set_contents(path, content, -1, NULL));
    g_autoptr(VsImage) image = vs_image_parse(path, NULL, "x86_64", FALSE, &error);
    g_assert_no_error(error);
    g_assert_true(vs_image_fetch(image, &progress, &error));
    g_assert_no_error(error);
    g_autofree char *copying = g_strdup_printf("copying %s into the cache", path);
    g_assert_cmpuint(steps->len, ==, 1);
    g_assert_cmpstr(steps->pdata[0], ==, copying);
    g_assert_cmpuint(warnings->len, ==, 0);
    g_autofree char *cache = vs_cache_dir();
    g_assert_true(g_str_has_prefix(image->path, cache));
    g_assert_true(g_str_has_prefix(image->volume, "progress-"));

    g_autoptr(VsImage) again = vs_image_parse(path, NULL, "x86_64", FALSE, &error);
    g_assert_no_error(error);
    g_assert_true(vs_image_fetch(again, &progress, &error));
    g_assert_cmpuint(steps->len, ==, 1);
    g_assert_cmpstr(again->path, ==, image->path);

    g_autofree char *source = g_strconcat("sha256:", image->sha256, NULL);
    g_autoptr(VsCacheEntry) entry = vs_cache_find(source);
    g_assert_nonnull(entry);
    g_assert_true(vs_cache_remove(entry, &error));
    g_unlink(path);
    g_rmdir(dir);
}

/* Writes @len seeded pseudo-random bytes to @path. Returns their SHA-256. */
static char *
write_random(const char *path, gsize len, guint32 seed)
{
    g_autofree guint32 *data = g_malloc(len);
    g_autoptr(GRand) r = g_rand_new_with_seed(seed);

    for (gsize i = 0; i < len / 4; i++)
        data[i] = g_rand_int(r);
    g_assert_true(g_file_set_contents(path, (const char *)data, len, NULL));
    return g_compute_checksum_for_data(G_CHECKSUM_SHA256, (const guchar *)data, len);
}

/* Sets the modification time of @path back to @st's. */
static void
restore_mtime(const char *path, const struct stat *st)
{
    struct timespec times[2] = {st->st_atim, st->st_mtim};
    struct stat now;

    g_assert_cmpint(utimensat(AT_FDCWD, path, times, 0), ==, 0);
    g_assert_cmpint(stat(path, &now), ==, 0);
    g_assert_cmpint(now.st_size, ==, st->st_size);
    g_assert_cmpint(now.st_mtim.tv_sec, ==, st->st_mtim.tv_sec);
    g_assert_cmpint(now.st_mtim.tv_nsec, ==, st->st_mtim.tv_nsec);
    g_assert_cmpint(now.st_ino, ==, st->st_ino);
}

/* Rewrites @path in place (same inode) with @len bytes of seed @seed. Returns their SHA-256. */
static char *
rewrite_in_place(const char *path, gsize len, guint32 seed)
{
    g_autofree char *tmp = g_strconcat(path, ".new", NULL);
    g_autofree char *sum = write_random(tmp, len, seed);
    g_autofree char *data = NULL;
    gsize got;
    g_assert_true(g_file_get_contents(tmp, &data, &got, NULL));
    int fd = open(path, O_WRONLY);
    g_assert_cmpint(fd, >=, 0);
    g_assert_cmpint(pwrite(fd, data, got, 0), ==, (gssize)got);
    close(fd);
    g_unlink(tmp);
    return g_steal_pointer(&sum);
}

/* Issue 14, item 9: a same-size edit with the modification time put back is not taken for the
 * old content, neither when --image is read nor when the file is copied into the cache. */
static void
test_same_size_edit(void)
{
    g_autoptr(GError) error = NULL;
    g_autofree char *dir = g_dir_make_tmp("vs-edit-XXXXXX", NULL);
    g_autofree char *path = g_build_filename(dir, "edited.img", NULL);
    g_autofree char *first = write_random(path, 1 << 20, g_random_int());
    g_autoptr(GPtrArray) steps = g_ptr_array_new_with_free_func(g_free);
    g_autoptr(GPtrArray) warnings = g_ptr_array_new_with_free_func(g_free);
    Reported seen = {steps, warnings};
    const VsProgress progress = {.step = record_step, .warn = record_warning, .data = &seen};
    struct stat st;

    g_assert_cmpint(stat(path, &st), ==, 0);
    g_autoptr(VsImage) before = vs_image_parse(path, NULL, "x86_64", FALSE, &error);
    g_assert_no_error(error);
    g_assert_cmpstr(before->sha256, ==, first);

    /* Edited in place, same size, mtime put back: read again, the new content's sum. */
    g_autofree char *second = rewrite_in_place(path, 1 << 20, g_random_int());
    restore_mtime(path, &st);
    g_autoptr(VsImage) after = vs_image_parse(path, NULL, "x86_64", FALSE, &error);
    g_assert_no_error(error);
    g_assert_cmpstr(after->sha256, ==, second);
    g_assert_cmpstr(after->sha256, !=, first);

    /* Edited again between reading --image and the copy: the cache records what was copied. */
    g_assert_cmpint(stat(path, &st), ==, 0);
    g_autofree char *third = rewrite_in_place(path, 1 << 20, g_random_int());
    restore_mtime(path, &st);
    g_assert_true(vs_image_fetch(after, &progress, &error));
    g_assert_no_error(error);
    g_assert_cmpstr(after->sha256, ==, third);
    g_autofree char *name = g_strdup_printf("edited-%.12s", third);
    g_assert_cmpstr(after->volume, ==, name);
    g_autofree char *cached = NULL;
    gsize len;
    g_assert_true(g_file_get_contents(after->path, &cached, &len, NULL));
    g_autofree char *cached_sum =
        g_compute_checksum_for_data(G_CHECKSUM_SHA256, (const guchar *)cached, len);
    g_assert_cmpstr(cached_sum, ==, third);
    g_assert_cmpuint(warnings->len, ==, 1);
    g_autofree char *warning = g_strdup_printf(
        "%s changed after it was first read (SHA-256 %s, now %s): the copy's own SHA-256 is "
        "recorded",
        path, second, third);
    g_assert_cmpstr(warnings->pdata[0], ==, warning);
    g_autofree char *source = g_strconcat("sha256:", third, NULL);
    g_autoptr(VsCacheEntry) entry = vs_cache_find(source);
    g_assert_nonnull(entry);
    g_assert_cmpstr(entry->sha256, ==, third);
    g_assert_true(vs_cache_remove(entry, &error));
    g_unlink(path);
    g_rmdir(dir);
}

/* Runs the shell @script in @dir. */
static void
sh_in(const char *dir, const char *script)
{
    g_autoptr(GError) error = NULL;
    int status;
    const char *argv[] = {"sh", "-ec", script, NULL};
    g_assert_true(g_spawn_sync(dir, (char **)argv, NULL, G_SPAWN_SEARCH_PATH, NULL, NULL, NULL,
                               NULL, &status, &error));
    g_assert_no_error(error);
    g_assert_true(g_spawn_check_wait_status(status, NULL));
}

static gboolean
always_cancelled(void *data)
{
    return TRUE;
}

/* A raw image inside .gz (Debian's and others' packed form besides .xz) unpacks to the bytes
 * gzip was given, holes kept sparse, and the SHA-256 returned is theirs. */
static void
test_unpack_gz(void)
{
    g_autoptr(GError) error = NULL;
    g_autofree char *dir = g_dir_make_tmp("vs-unpack-XXXXXX", NULL);
    g_autofree char *gz = g_build_filename(dir, "disk.raw.gz", NULL);
    g_autofree char *out = g_build_filename(dir, "out", NULL);

    /* 2 MiB of zeros, then 4 bytes. */
    sh_in(dir, "truncate -s 2M disk.raw; printf data >> disk.raw; gzip disk.raw");
    g_autofree char *expect_data = g_malloc0((2 << 20) + 4);
    memcpy(expect_data + (2 << 20), "data", 4);
    g_autofree char *expect =
        g_compute_checksum_for_data(G_CHECKSUM_SHA256, (const guchar *)expect_data, (2 << 20) + 4);
    g_autofree char *got = vs_unpack_image(gz, FALSE, out, NULL, &error);
    g_assert_no_error(error);
    g_assert_cmpstr(got, ==, expect);
    g_autofree char *written = NULL;
    gsize len;
    g_assert_true(g_file_get_contents(out, &written, &len, NULL));
    g_assert_cmpuint(len, ==, (2 << 20) + 4);
    g_assert_true(memcmp(written, expect_data, len) == 0);
    /* The zeros are a hole: fewer blocks than the size. */
    GStatBuf st;
    g_assert_cmpint(g_stat(out, &st), ==, 0);
    g_assert_cmpint((gint64)st.st_blocks * 512, <, 1 << 20);
    g_unlink(out);
    g_unlink(gz);
    g_rmdir(dir);
}

/* Unpacking is bounded: a 180-byte .tar.xz declaring a 1 TiB file is refused before anything is
 * written, a tar member declaring less than the cap unpacks, and a Ctrl-C (the progress's
 * cancel) stops it, leaving no output. */
static void
test_unpack_bounds(void)
{
    g_autoptr(GError) error = NULL;
    g_autofree char *dir = g_dir_make_tmp("vs-unpack-XXXXXX", NULL);
    g_autofree char *huge = g_build_filename(dir, "huge.tar.xz", NULL);
    g_autofree char *small = g_build_filename(dir, "small.tar.xz", NULL);
    g_autofree char *out = g_build_filename(dir, "out", NULL);
    const VsProgress stop = {.cancelled = always_cancelled};

    sh_in(dir, "truncate -s 1T huge.raw; tar -cSJf huge.tar.xz huge.raw; rm huge.raw; "
               "truncate -s 3M small.raw; printf data >> small.raw; tar -cSJf small.tar.xz "
               "small.raw; rm small.raw");
    GStatBuf st;
    g_assert_cmpint(g_stat(huge, &st), ==, 0);
    g_assert_cmpint(st.st_size, <, 1024);

    g_autofree char *sum = vs_unpack_image(huge, TRUE, out, NULL, &error);
    g_assert_null(sum);
    g_assert_error(error, VS_IMAGE_ERROR, VS_IMAGE_ERROR_FAILED);
    g_autofree char *msg = g_strdup_printf("%s: the disk image in it declares 1099511627776 bytes, "
                                           "more than the 256 GiB an image may have; nothing was "
                                           "unpacked",
                                           huge);
    g_assert_cmpstr(error->message, ==, msg);
    g_assert_false(g_file_test(out, G_FILE_TEST_EXISTS));
    g_clear_error(&error);

    /* 3 MiB of hole and 4 bytes: the image is exactly that, holes hashed as zeros. */
    g_autofree char *expect_data = g_malloc0((3 << 20) + 4);
    memcpy(expect_data + (3 << 20), "data", 4);
    g_autofree char *expect =
        g_compute_checksum_for_data(G_CHECKSUM_SHA256, (const guchar *)expect_data, (3 << 20) + 4);
    g_autofree char *got = vs_unpack_image(small, TRUE, out, NULL, &error);
    g_assert_no_error(error);
    g_assert_cmpstr(got, ==, expect);
    g_assert_cmpint(g_stat(out, &st), ==, 0);
    g_assert_cmpint(st.st_size, ==, (3 << 20) + 4);
    g_unlink(out);

    /* Cancelled: the "interrupted" error, and no partial output. */
    g_assert_null(vs_unpack_image(small, TRUE, out, &stop, &error));
    g_assert_error(error, VS_IMAGE_ERROR, VS_IMAGE_ERROR_FAILED);
    g_autofree char *stopped =
        g_strdup_printf("unpacking %s: interrupted (the partly unpacked image was removed)", small);
    g_assert_cmpstr(error->message, ==, stopped);
    g_assert_false(g_file_test(out, G_FILE_TEST_EXISTS));

    g_clear_error(&error);

    /* An odd member: the first file is a hard link (to a file no longer in the archive). */
    g_autofree char *link = g_build_filename(dir, "link.tar.xz", NULL);
    sh_in(dir, "echo data > file; ln file link; tar -cf link.tar file link; "
               "tar --delete -f link.tar file; xz link.tar; rm file link");
    g_assert_null(vs_unpack_image(link, TRUE, out, NULL, &error));
    g_autofree char *odd = g_strdup_printf("%s: the archive holds no disk image (no regular "
                                           "file; its first entry, link, is a hard link)",
                                           link);
    g_assert_error(error, VS_IMAGE_ERROR, VS_IMAGE_ERROR_FAILED);
    g_assert_cmpstr(error->message, ==, odd);
    g_assert_false(g_file_test(out, G_FILE_TEST_EXISTS));

    g_unlink(link);
    g_unlink(huge);
    g_unlink(small);
    g_rmdir(dir);
}

/* Ctrl-C while a local file is copied into the cache: the "interrupted" error and no partial
 * copy left in partial/. */
static void
test_copy_interrupted(void)
{
    g_autoptr(GError) error = NULL;
    g_autofree char *dir = g_dir_make_tmp("vs-copy-XXXXXX", NULL);
    g_autofree char *path = g_build_filename(dir, "stopped.img", NULL);
    g_autofree char *sum = write_random(path, 3 << 20, g_random_int());
    g_autofree char *partial = vs_cache_partial_dir();
    const VsProgress stop = {.cancelled = always_cancelled};

    g_autoptr(VsImage) image = vs_image_parse(path, NULL, "x86_64", FALSE, &error);
    g_assert_no_error(error);
    g_assert_false(vs_image_fetch(image, &stop, &error));
    g_assert_error(error, VS_IMAGE_ERROR, VS_IMAGE_ERROR_FAILED);
    g_autofree char *msg = g_strdup_printf("reading %s: interrupted", path);
    g_assert_cmpstr(error->message, ==, msg);
    g_autoptr(GDir) d = g_dir_open(partial, 0, NULL);
    const char *name;
    while (d && (name = g_dir_read_name(d)))
        g_assert_false(g_str_has_suffix(name, ".part"));
    g_autofree char *source = g_strconcat("sha256:", sum, NULL);
    g_autoptr(VsCacheEntry) entry = vs_cache_find(source);
    g_assert_null(entry);
    g_unlink(path);
    g_rmdir(dir);
}

/* The published test vectors of FIPS 180-2 ("abc"), and GLib's own SHA-256 and SHA-512 of
 * random data of sizes around the block sizes, fed in pieces of random lengths. */
static void
test_digest(void)
{
    g_autoptr(VsDigest) d256 = vs_digest_new(G_CHECKSUM_SHA256);
    g_autoptr(VsDigest) d512 = vs_digest_new(G_CHECKSUM_SHA512);
    const gsize sizes[] = {0, 1, 55, 56, 63, 64, 65, 111, 112, 127, 128, 129, 1000003};
    g_autofree guchar *data = g_malloc(1000003);
    g_autofree char *abc256 = NULL, *abc512 = NULL, *empty = NULL;

    vs_digest_update(d256, "abc", 3);
    abc256 = vs_digest_finish(d256);
    g_assert_cmpstr(abc256, ==, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    vs_digest_update(d512, "abc", 3);
    abc512 = vs_digest_finish(d512);
    g_assert_cmpstr(abc512, ==,
                    "ddaf35a193617abacc417349ae20413112e6fa4e89a97ea20a9eeee64b55d39a"
                    "2192992a274fc1a836ba3c23a3feebbd454d4423643ce80e2a9ac94fa54ca49f");
    /* Finishing empties it: the next digest is of nothing. */
    empty = vs_digest_finish(d256);
    g_assert_cmpstr(empty, ==, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    for (gsize i = 0; i < 1000003; i++)
        data[i] = (guchar)g_random_int();
    for (guint i = 0; i < G_N_ELEMENTS(sizes); i++) {
        for (const GChecksumType *type =
                 (const GChecksumType[]){G_CHECKSUM_SHA256, G_CHECKSUM_SHA512, 0};
             *type; type++) {
            g_autoptr(VsDigest) d = vs_digest_new(*type);
            g_autofree char *ours = NULL;
            g_autofree char *glib = g_compute_checksum_for_data(*type, data, sizes[i]);
            for (gsize at = 0; at < sizes[i];) {
                gsize piece = g_random_int_range(1, 300); /* MIN evaluates twice */
                gsize n = MIN(sizes[i] - at, piece);
                vs_digest_update(d, data + at, n);
                at += n;
            }
            ours = vs_digest_finish(d);
            g_assert_cmpstr(ours, ==, glib);
        }
    }
}

/* A hash stream fed pieces, restarted from a file's prefix and from nothing, for SHA-256 alone
 * and for SHA-512 with SHA-256 beside it: its sums are GLib's of the same bytes. */
static void
test_hash_stream(void)
{
    g_autofree char *dir = g_dir_make_tmp("vs-hash-XXXXXX", NULL);
    g_autofree char *path = g_build_filename(dir, "part", NULL);
    const gsize size = 5 * 1024 * 1024 + 17, prefix = 3 * 1024 * 1024 + 5;
    g_autofree guchar *data = g_malloc(size);
    g_autofree char *want256 = NULL, *want512 = NULL, *prefix256 = NULL, *prefix512 = NULL;
    g_autoptr(GError) error = NULL;

    for (gsize i = 0; i < size; i++)
        data[i] = (guchar)g_random_int();
    want256 = g_compute_checksum_for_data(G_CHECKSUM_SHA256, data, size);
    want512 = g_compute_checksum_for_data(G_CHECKSUM_SHA512, data, size);
    prefix256 = g_compute_checksum_for_data(G_CHECKSUM_SHA256, data, prefix);
    prefix512 = g_compute_checksum_for_data(G_CHECKSUM_SHA512, data, prefix);
    g_assert_true(g_file_set_contents(path, (const char *)data, prefix, NULL));

    for (const GChecksumType *type =
             (const GChecksumType[]){G_CHECKSUM_SHA256, G_CHECKSUM_SHA512, 0};
         *type; type++) {
        /* Fed in pieces from the start. */
        g_autoptr(VsHashStream) fed = vs_hash_stream_new(*type, NULL);
        g_autofree char *sum = NULL, *sha = NULL;
        for (gsize at = 0; at < size;) {
            gsize piece = g_random_int_range(1, 200000);
            gsize n = MIN(size - at, piece);
            vs_hash_stream_feed(fed, data + at, n);
            at += n;
        }
        g_assert_cmpuint(vs_hash_stream_size(fed), ==, size);
        g_assert_true(vs_hash_stream_finish(fed, &sum, &sha, &error));
        g_assert_no_error(error);
        g_assert_cmpstr(sum, ==, *type == G_CHECKSUM_SHA256 ? want256 : want512);
        g_assert_cmpstr(sha, ==, want256);
        g_clear_pointer(&sum, g_free);
        g_clear_pointer(&sha, g_free);

        /* Garbage fed, then a resume: the prefix is read from the file (once: a peek gives its
         * sums and leaves the stream going), the rest fed. */
        g_autoptr(VsHashStream) resumed = vs_hash_stream_new(*type, NULL);
        vs_hash_stream_feed(resumed, "garbage", 7);
        vs_hash_stream_restart(resumed, path, prefix);
        g_assert_cmpuint(vs_hash_stream_size(resumed), ==, prefix);
        g_assert_true(vs_hash_stream_peek(resumed, &sum, &sha, &error));
        g_assert_no_error(error);
        g_assert_cmpstr(sum, ==, *type == G_CHECKSUM_SHA256 ? prefix256 : prefix512);
        g_assert_cmpstr(sha, ==, prefix256);
        g_clear_pointer(&sum, g_free);
        g_clear_pointer(&sha, g_free);
        vs_hash_stream_feed(resumed, data + prefix, size - prefix);
        g_assert_true(vs_hash_stream_finish(resumed, &sum, &sha, &error));
        g_assert_no_error(error);
        g_assert_cmpstr(sum, ==, *type == G_CHECKSUM_SHA256 ? want256 : want512);
        g_assert_cmpstr(sha, ==, want256);
        g_clear_pointer(&sum, g_free);
        g_clear_pointer(&sha, g_free);

        /* A restart from nothing (a download begun again) forgets what came before, and reads
         * no file. */
        g_autoptr(VsHashStream) again = vs_hash_stream_new(*type, NULL);
        vs_hash_stream_feed(again, data, 1000);
        vs_hash_stream_restart(again, "/nonexistent/part", 0);
        vs_hash_stream_feed(again, data, size);
        g_assert_true(vs_hash_stream_finish(again, &sum, &sha, &error));
        g_assert_no_error(error);
        g_assert_cmpstr(sum, ==, *type == G_CHECKSUM_SHA256 ? want256 : want512);
    }

    /* A file shorter than the restart says, and one that is missing: an error naming it. */
    g_autoptr(VsHashStream) shorter = vs_hash_stream_new(G_CHECKSUM_SHA256, NULL);
    g_autofree char *s1 = NULL, *s2 = NULL;
    vs_hash_stream_restart(shorter, path, prefix + 1);
    g_assert_false(vs_hash_stream_peek(shorter, &s1, &s2, &error));
    g_assert_nonnull(strstr(error->message, "shorter than expected"));
    g_assert_null(s2);
    g_clear_error(&error);
    g_assert_false(vs_hash_stream_finish(shorter, &s1, &s2, &error));
    g_assert_nonnull(strstr(error->message, "shorter than expected"));
    g_assert_null(s2);
    g_clear_error(&error);
    g_autoptr(VsHashStream) missing = vs_hash_stream_new(G_CHECKSUM_SHA256, NULL);
    vs_hash_stream_restart(missing, "/nonexistent/part", 10);
    g_assert_false(vs_hash_stream_finish(missing, &s1, &s2, &error));
    g_assert_error(error, G_FILE_ERROR, G_FILE_ERROR_NOENT);
    g_clear_error(&error);

    /* Freed with 100 MiB queued behind a slow start: it stops without hashing the rest, and
     * neither hangs nor leaks (the sanitizer and valgrind runs of this suite check the latter). */
    VsHashStream *dropped = vs_hash_stream_new(G_CHECKSUM_SHA512, NULL);
    for (guint i = 0; i < 20; i++)
        vs_hash_stream_feed(dropped, data, size);
    vs_hash_stream_free(dropped);

    g_unlink(path);
    g_rmdir(dir);
}

/* Ctrl-C while the writer waits for the hash: a resume's prefix of 64 GiB (a sparse file) is not
 * read to its end, neither by vs_hash_stream_finish() nor by a writer blocked on a full backlog,
 * and the stream gives no sum. */
static void
test_hash_stream_cancelled(void)
{
    g_autofree char *dir = g_dir_make_tmp("vs-hash-XXXXXX", NULL);
    g_autofree char *path = g_build_filename(dir, "part", NULL);
    const VsProgress stop = {.cancelled = always_cancelled};
    const guint64 prefix = (guint64)64 << 30;
    g_autofree guchar *piece = g_malloc0(1 << 20);
    g_autofree char *sum = NULL, *sha = NULL;
    g_autoptr(GError) error = NULL;
    gint64 start;
    int fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC, 0644);

    g_assert_cmpint(fd, >=, 0);
    if (ftruncate(fd, (off_t)prefix) != 0) {
        close(fd);
        g_test_skip("no 64 GiB sparse file here");
        return;
    }
    close(fd);

    /* finish() stops the thread in the middle of the prefix; so does peek(), which the stream
     * outlives. */
    start = g_get_monotonic_time();
    gboolean (*const waits[])(VsHashStream *, char **, char **, GError **) = {vs_hash_stream_finish,
                                                                              vs_hash_stream_peek};
    for (guint i = 0; i < G_N_ELEMENTS(waits); i++) {
        g_autoptr(VsHashStream) stream = vs_hash_stream_new(G_CHECKSUM_SHA256, &stop);
        vs_hash_stream_restart(stream, path, prefix);
        g_assert_false(waits[i](stream, &sum, &sha, &error));
        g_assert_error(error, VS_IMAGE_ERROR, VS_IMAGE_ERROR_FAILED);
        g_assert_nonnull(strstr(error->message, "interrupted"));
        g_assert_null(sum);
        g_assert_null(sha);
        g_clear_error(&error);
    }

    /* A writer 100 MiB ahead of a thread busy with the prefix is not held until it is read. */
    g_autoptr(VsHashStream) fed = vs_hash_stream_new(G_CHECKSUM_SHA512, &stop);
    vs_hash_stream_restart(fed, path, prefix);
    for (guint i = 0; i < 100; i++)
        vs_hash_stream_feed(fed, piece, 1 << 20);
    g_assert_cmpuint(vs_hash_stream_size(fed), ==, prefix + (100 << 20));
    g_assert_false(vs_hash_stream_finish(fed, &sum, &sha, &error));
    g_assert_nonnull(strstr(error->message, "interrupted"));
    /* 64 GiB at any hash speed there is takes far longer than this. */
    g_assert_cmpint(g_get_monotonic_time() - start, <, 10 * G_USEC_PER_SEC);

    g_unlink(path);
    g_rmdir(dir);
}

int
main(int argc, char **argv)
{
    g_autofree char *config = g_dir_make_tmp("vs-config-XXXXXX", NULL);

    /* Only the shipped catalog: not the user's. */
    g_setenv("XDG_CONFIG_HOME", config, TRUE);
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/images/shipped-catalog", test_shipped_catalog);
    g_test_add_func("/images/user-catalog-replaces", test_user_catalog_replaces);
    g_test_add_func("/images/catalog-errors", test_catalog_errors);
    g_test_add_func("/images/checksum-lists", test_checksum_lists);
    g_test_add_func("/images/image-refs", test_image_refs);
    g_test_add_func("/images/fetch-progress", test_fetch_progress);
    g_test_add_func("/images/same-size-edit", test_same_size_edit);
    g_test_add_func("/images/unpack-bounds", test_unpack_bounds);
    g_test_add_func("/images/unpack-gz", test_unpack_gz);
    g_test_add_func("/images/copy-interrupted", test_copy_interrupted);
    g_test_add_func("/images/digest", test_digest);
    g_test_add_func("/images/hash-stream", test_hash_stream);
    g_test_add_func("/images/hash-stream-cancelled", test_hash_stream_cancelled);
    int status = g_test_run();
    g_rmdir(config);
    return status;
}
