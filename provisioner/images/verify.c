#include "provisioner/images/verify.h"

#include <glib/gstdio.h>
#include <gpgme.h>

#include "provisioner/base/file-read.h"
#include "provisioner/images/image-error.h"

static void
rm_rf(const char *path)
{
    g_autoptr(GDir) d = g_dir_open(path, 0, NULL);
    const char *name;

    while (d && (name = g_dir_read_name(d))) {
        g_autofree char *child = g_build_filename(path, name, NULL);
        if (g_file_test(child, G_FILE_TEST_IS_DIR) && !g_file_test(child, G_FILE_TEST_IS_SYMLINK))
            rm_rf(child);
        else
            g_unlink(child);
    }
    g_rmdir(path);
}

static gboolean
gpg_failed(GError **error, gpgme_error_t err, const char *what)
{
    g_set_error(error, VS_IMAGE_ERROR, VS_IMAGE_ERROR_FAILED, "%s: %s", what, gpgme_strerror(err));
    return FALSE;
}

/* Imports @keys (the contents of @keyring) into @ctx's empty GnuPG home. */
static gboolean
import_keyring(gpgme_ctx_t ctx, const char *keyring, const char *keys, gsize keys_len,
               GError **error)
{
    gpgme_data_t kd = NULL;
    gpgme_error_t err;
    gpgme_import_result_t imported;

    gpgme_data_new_from_mem(&kd, keys, keys_len, 0);
    err = gpgme_op_import(ctx, kd);
    gpgme_data_release(kd);
    if (err)
        return gpg_failed(error, err, keyring);
    imported = gpgme_op_import_result(ctx);
    if (!imported || imported->imported + imported->unchanged == 0) {
        g_set_error(error, VS_IMAGE_ERROR, VS_IMAGE_ERROR_FAILED, "%s holds no OpenPGP public key",
                    keyring);
        return FALSE;
    }
    return TRUE;
}

/* Returns TRUE when the verification that just ran in @ctx found a good signature. */
static gboolean
good_signature(gpgme_ctx_t ctx, const char *keyring, GError **error)
{
    gpgme_verify_result_t result = gpgme_op_verify_result(ctx);
    const char *why = "it carries no signature";

    for (gpgme_signature_t sig = result ? result->signatures : NULL; sig; sig = sig->next) {
        if (gpgme_err_code(sig->status) == GPG_ERR_NO_ERROR)
            return TRUE;
        why = gpgme_err_code(sig->status) == GPG_ERR_NO_PUBKEY
                  ? "it is signed by a key that is not in the keyring"
                  : gpgme_strerror(sig->status);
    }
    g_set_error(error, VS_IMAGE_ERROR, VS_IMAGE_ERROR_FAILED,
                "the signature does not verify with %s: %s", keyring, why);
    return FALSE;
}

/* Verifies @data's signature (detached @signature, or clear-signed) in @ctx. */
static gboolean
verify_data(gpgme_ctx_t ctx, const char *keyring, GBytes *data, GBytes *signature,
            GBytes **ret_plain, GError **error)
{
    gpgme_data_t dd = NULL, sd = NULL, pd = NULL;
    gpgme_error_t err;
    gboolean ok;

    gpgme_data_new_from_mem(&dd, g_bytes_get_data(data, NULL), g_bytes_get_size(data), 0);
    if (signature) {
        gpgme_data_new_from_mem(&sd, g_bytes_get_data(signature, NULL), g_bytes_get_size(signature),
                                0);
        err = gpgme_op_verify(ctx, sd, dd, NULL);
    } else {
        gpgme_data_new(&pd);
        err = gpgme_op_verify(ctx, dd, NULL, pd);
    }
    ok = err ? gpg_failed(error, err, "checking the signature")
             : good_signature(ctx, keyring, error);
    if (ok && ret_plain) {
        if (pd) {
            size_t len;
            char *plain = gpgme_data_release_and_get_mem(pd, &len);
            pd = NULL;
            *ret_plain = g_bytes_new(plain, len);
            gpgme_free(plain);
        } else {
            *ret_plain = g_bytes_ref(data);
        }
    }
    if (dd)
        gpgme_data_release(dd);
    if (sd)
        gpgme_data_release(sd);
    if (pd)
        gpgme_data_release(pd);
    return ok;
}

gboolean
vs_verify_signature(const char *keyring, GBytes *data, GBytes *signature, GBytes **ret_plain,
                    GError **error)
{
    g_autofree char *keys = NULL, *home = NULL;
    gsize keys_len;
    gpgme_ctx_t ctx = NULL;
    gpgme_error_t err;
    gboolean ok;

    if (!vs_file_read_bounded(keyring, VS_FILE_CAP_LIST, "keyring", &keys, &keys_len, error))
        return FALSE;
    /* A keyring of its own for each check: only the configured keys count, whatever the
     * user's own GnuPG home trusts. */
    home = g_dir_make_tmp("virt-station-gpg-XXXXXX", error);
    if (!home)
        return FALSE;
    gpgme_check_version(NULL);
    if ((err = gpgme_new(&ctx)) ||
        (err = gpgme_ctx_set_engine_info(ctx, GPGME_PROTOCOL_OpenPGP, NULL, home)))
        ok = gpg_failed(error, err, "starting GnuPG (is gpg installed?)");
    else
        ok = import_keyring(ctx, keyring, keys, keys_len, error) &&
             verify_data(ctx, keyring, data, signature, ret_plain, error);
    if (ctx)
        gpgme_release(ctx);
    rm_rf(home);
    return ok;
}
