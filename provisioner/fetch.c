#include "fetch.h"

#include <archive.h>
#include <archive_entry.h>
#include <curl/curl.h>
#include <errno.h>
#include <fcntl.h>
#include <gio/gio.h>
#include <glib/gstdio.h>
#include <gpgme.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>

#include "interrupt.h"
#include "spec.h"
#include "vs-config.h"

#define MIB      (1024.0 * 1024.0)
#define ATTEMPTS 4

/* One HTTP transfer. */
typedef struct {
    const char *label;
    gboolean bar; /* draw a progress bar (stderr is a terminal, not --quiet) */
    FILE *out;    /* file transfers: the part file, opened on the first byte */
    const char *out_path;
    guint64 resume_from; /* bytes already in the part file */
    GByteArray *body;    /* memory transfers */
    char *etag;          /* from the response */
    char *modified;      /* Last-Modified, from the response */
    gint64 started;      /* monotonic, µs */
    gint64 last_draw;
    guint64 received; /* bytes of body received in this transfer */
    int write_errno;
} Transfer;

static void
transfer_clear(Transfer *t)
{
    if (t->out)
        fclose(t->out);
    g_free(t->etag);
    g_free(t->modified);
}
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC(Transfer, transfer_clear)

static size_t
on_header(char *line, size_t size, size_t n, void *opaque)
{
    Transfer *t = opaque;
    size_t len = size * n;
    g_autofree char *copy = g_strstrip(g_strndup(line, len));

    if (g_ascii_strncasecmp(copy, "HTTP/", 5) == 0) {
        /* A new response (after a redirect): forget the previous one's headers. */
        g_clear_pointer(&t->etag, g_free);
        g_clear_pointer(&t->modified, g_free);
    } else if (g_ascii_strncasecmp(copy, "ETag:", 5) == 0) {
        g_free(t->etag);
        t->etag = g_strdup(g_strstrip(copy + 5));
    } else if (g_ascii_strncasecmp(copy, "Last-Modified:", 14) == 0) {
        g_free(t->modified);
        t->modified = g_strdup(g_strstrip(copy + 14));
    }
    return len;
}

static size_t
on_body(char *data, size_t size, size_t n, void *opaque)
{
    Transfer *t = opaque;
    size_t len = size * n;

    if (t->body) {
        g_byte_array_append(t->body, (const guint8 *)data, len);
    } else {
        if (!t->out) {
            /* The first bytes: append after a resumed part, otherwise start afresh. */
            t->out = fopen(t->out_path, t->resume_from ? "ab" : "wb");
            if (!t->out) {
                t->write_errno = errno;
                return 0;
            }
        }
        if (fwrite(data, 1, len, t->out) != len) {
            t->write_errno = errno;
            return 0;
        }
    }
    t->received += len;
    return len;
}

static void
human_bytes(char *buf, gsize size, double bytes)
{
    if (bytes >= 1024 * MIB)
        g_snprintf(buf, size, "%.2f GiB", bytes / (1024 * MIB));
    else
        g_snprintf(buf, size, "%.1f MiB", bytes / MIB);
}

static int
on_progress(void *opaque, curl_off_t total, curl_off_t now, curl_off_t ut, curl_off_t un)
{
    Transfer *t = opaque;
    gint64 clock = g_get_monotonic_time();
    double secs = (clock - t->started) / 1e6, rate, done, whole;
    char have[32], all[32];

    if (vs_interrupted())
        return 1;
    /* Nothing to show before the first byte. */
    if (!t->bar || now == 0 || clock - t->last_draw < 200000)
        return 0;
    t->last_draw = clock;
    rate = secs > 0 ? now / secs : 0;
    done = t->resume_from + now;
    whole = total > 0 ? t->resume_from + total : 0;
    human_bytes(have, sizeof have, done);
    human_bytes(all, sizeof all, whole);
    if (whole > 0 && rate > 0) {
        guint64 eta = (guint64)((whole - done) / rate);
        fprintf(stderr, "\r  %s %3.0f%% %s of %s  %.1f MiB/s  ETA %" G_GUINT64_FORMAT ":%02u   ",
                t->label, 100.0 * done / whole, have, all, rate / MIB, eta / 60, (guint)(eta % 60));
    } else {
        fprintf(stderr, "\r  %s %s  %.1f MiB/s   ", t->label, have, rate / MIB);
    }
    return 0;
}

/* Runs one request for @url into @t with the extra @headers (taken), and returns libcurl's
 * result, with the HTTP status in *@ret_status and libcurl's message in @errbuf. */
static CURLcode
transfer(const char *url, Transfer *t, struct curl_slist *headers, char *errbuf, long *ret_status)
{
    CURL *c = curl_easy_init();
    CURLcode rc;

    *ret_status = 0;
    t->started = g_get_monotonic_time();

    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 1L);
    curl_easy_setopt(c, CURLOPT_MAXREDIRS, 10L);
    curl_easy_setopt(c, CURLOPT_FAILONERROR, 1L);
    curl_easy_setopt(c, CURLOPT_ERRORBUFFER, errbuf);
    curl_easy_setopt(c, CURLOPT_USERAGENT, "virt-station/" VS_VERSION);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, 30L);
    /* A stalled transfer (under 1 KiB/s for a minute) is an error, retried with a resume. */
    curl_easy_setopt(c, CURLOPT_LOW_SPEED_LIMIT, 1024L);
    curl_easy_setopt(c, CURLOPT_LOW_SPEED_TIME, 60L);
    curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(c, CURLOPT_HEADERDATA, t);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, t);
    curl_easy_setopt(c, CURLOPT_NOPROGRESS, 0L);
    curl_easy_setopt(c, CURLOPT_XFERINFOFUNCTION, on_progress);
    curl_easy_setopt(c, CURLOPT_XFERINFODATA, t);
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, headers);
    if (t->resume_from)
        curl_easy_setopt(c, CURLOPT_RESUME_FROM_LARGE, (curl_off_t)t->resume_from);
    rc = curl_easy_perform(c);
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, ret_status);
    curl_easy_cleanup(c);
    curl_slist_free_all(headers);
    return rc;
}

/* Sets @error for a failed transfer of @url. */
static void
transfer_error(GError **error, CURLcode rc, long status, const char *url, const char *errbuf,
               const Transfer *t)
{
    if (rc == CURLE_ABORTED_BY_CALLBACK)
        g_set_error(error, VS_CLI_ERROR, VS_CLI_ERROR_FAILED, "%s: interrupted", url);
    else if (rc == CURLE_HTTP_RETURNED_ERROR)
        g_set_error(error, VS_CLI_ERROR, VS_CLI_ERROR_FAILED, "%s: the server answered HTTP %ld%s",
                    url, status,
                    status == 404 ? " (not found): check the URL or the catalog entry" : "");
    else if (rc == CURLE_WRITE_ERROR && t->write_errno)
        g_set_error(error, VS_CLI_ERROR, VS_CLI_ERROR_FAILED, "%s: writing the download: %s", url,
                    g_strerror(t->write_errno));
    else
        g_set_error(error, VS_CLI_ERROR, VS_CLI_ERROR_FAILED, "%s: %s", url,
                    *errbuf ? errbuf : curl_easy_strerror(rc));
}

static char *
read_small(const char *path)
{
    g_autofree char *text = NULL;
    if (!g_file_get_contents(path, &text, NULL, NULL))
        return NULL;
    g_strstrip(text);
    return *text ? g_steal_pointer(&text) : NULL;
}

/* Fetches the small file at @url into memory. When @cached_etag or @cached_modified is given
 * the request is conditional and *@ret_unchanged tells that the server has nothing newer. */
static GBytes *
fetch_bytes(const char *url, const char *cached_etag, const char *cached_modified,
            gboolean *ret_unchanged, char **ret_etag, char **ret_modified, GError **error)
{
    char errbuf[CURL_ERROR_SIZE] = "";
    g_auto(Transfer) t = {.body = g_byte_array_new()};
    g_autoptr(GByteArray) body = t.body;
    struct curl_slist *headers = NULL;
    CURLcode rc;
    long status;

    if (cached_etag) {
        g_autofree char *h = g_strconcat("If-None-Match: ", cached_etag, NULL);
        headers = curl_slist_append(headers, h);
    }
    if (cached_modified) {
        g_autofree char *h = g_strconcat("If-Modified-Since: ", cached_modified, NULL);
        headers = curl_slist_append(headers, h);
    }
    rc = transfer(url, &t, headers, errbuf, &status);
    if (rc != CURLE_OK) {
        transfer_error(error, rc, status, url, errbuf, &t);
        return NULL;
    }
    if (ret_unchanged)
        *ret_unchanged = status == 304;
    if (ret_etag)
        *ret_etag = g_steal_pointer(&t.etag);
    if (ret_modified)
        *ret_modified = g_steal_pointer(&t.modified);
    t.body = NULL;
    return g_byte_array_free_to_bytes(g_steal_pointer(&body));
}

static gboolean
retryable(CURLcode rc)
{
    return rc == CURLE_PARTIAL_FILE || rc == CURLE_RECV_ERROR || rc == CURLE_OPERATION_TIMEDOUT ||
           rc == CURLE_GOT_NOTHING || rc == CURLE_SEND_ERROR || rc == CURLE_HTTP2 ||
           rc == CURLE_HTTP2_STREAM;
}

/* Downloads @url into @part, resuming what an earlier attempt left there (the server must
 * still have the same file: If-Range with the ETag that attempt saw), with up to ATTEMPTS
 * attempts when a transfer breaks off. */
static gboolean
download_file(VsCli *cli, const char *url, const char *part, const char *label, GError **error)
{
    g_autofree char *etag_path = g_strconcat(part, ".etag", NULL);
    gint64 started = g_get_monotonic_time();
    guint64 total_received = 0;

    for (int attempt = 1;; attempt++) {
        char errbuf[CURL_ERROR_SIZE] = "";
        g_auto(Transfer) t = {.label = label, .out_path = part};
        g_autofree char *etag = read_small(etag_path);
        struct curl_slist *headers = NULL;
        GStatBuf st;
        CURLcode rc;
        long status;

        t.bar = !cli->quiet && isatty(STDERR_FILENO);
        if (g_stat(part, &st) == 0 && st.st_size > 0 && etag) {
            g_autofree char *h = g_strconcat("If-Range: ", etag, NULL);
            t.resume_from = st.st_size;
            headers = curl_slist_append(headers, h);
            if (attempt == 1)
                vs_cli_progress(cli, "  resuming %s at %.1f MiB", label, t.resume_from / MIB);
        }
        rc = transfer(url, &t, headers, errbuf, &status);
        if (t.bar)
            fputs("\r\033[K", stderr);
        total_received += t.received;
        /* Remember the server's version of the file for a later resume. */
        if (t.etag)
            g_file_set_contents(etag_path, t.etag, -1, NULL);
        if (rc == CURLE_OK) {
            double secs = (g_get_monotonic_time() - started) / 1e6;
            if (!t.out && total_received == 0 && !g_file_test(part, G_FILE_TEST_EXISTS))
                g_file_set_contents(part, "", 0, NULL); /* an empty file */
            vs_cli_progress(cli, "  downloaded %s: %.1f MiB in %.1f s (%.1f MiB/s)", label,
                            total_received / MIB, secs, secs > 0 ? total_received / MIB / secs : 0);
            return TRUE;
        }
        if (rc == CURLE_RANGE_ERROR || (rc == CURLE_HTTP_RETURNED_ERROR && status == 416)) {
            /* The part does not fit the file the server has now (libcurl refuses a 200 answer
             * to a resumed request, and If-Range turns a changed file into one): start again. */
            g_unlink(part);
            g_unlink(etag_path);
            if (attempt < ATTEMPTS)
                continue;
        } else if (attempt < ATTEMPTS && retryable(rc) && !vs_interrupted()) {
            vs_cli_progress(cli, "  %s: %s; resuming (attempt %d of %d)", label,
                            *errbuf ? errbuf : curl_easy_strerror(rc), attempt + 1, ATTEMPTS);
            g_usleep(G_USEC_PER_SEC / 2 * attempt);
            continue;
        }
        transfer_error(error, rc, status, url, errbuf, &t);
        if (rc == CURLE_ABORTED_BY_CALLBACK || retryable(rc)) {
            g_prefix_error(error, "the partial download is kept and resumed next time: ");
        } else {
            g_unlink(part);
            g_unlink(etag_path);
        }
        return FALSE;
    }
}

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
    g_set_error(error, VS_CLI_ERROR, VS_CLI_ERROR_FAILED, "%s: %s", what, gpgme_strerror(err));
    return FALSE;
}

gboolean
vs_fetch_verify_signature(const char *keyring, GBytes *data, GBytes *signature, GBytes **ret_plain,
                          GError **error)
{
    g_autofree char *keys = NULL;
    g_autofree char *home = NULL;
    gsize keys_len;
    gpgme_ctx_t ctx = NULL;
    gpgme_data_t kd = NULL, dd = NULL, sd = NULL, pd = NULL;
    gpgme_error_t err;
    gboolean ok = FALSE;

    if (!g_file_get_contents(keyring, &keys, &keys_len, error))
        return FALSE;
    /* A keyring of its own for each check: only the configured keys count, whatever the
     * user's own GnuPG home trusts. */
    home = g_dir_make_tmp("virt-station-gpg-XXXXXX", error);
    if (!home)
        return FALSE;
    gpgme_check_version(NULL);
    if ((err = gpgme_new(&ctx)) ||
        (err = gpgme_ctx_set_engine_info(ctx, GPGME_PROTOCOL_OpenPGP, NULL, home))) {
        gpg_failed(error, err, "starting GnuPG (is gpg installed?)");
        goto out;
    }
    gpgme_data_new_from_mem(&kd, keys, keys_len, 0);
    if ((err = gpgme_op_import(ctx, kd))) {
        gpg_failed(error, err, keyring);
        goto out;
    }
    gpgme_import_result_t imported = gpgme_op_import_result(ctx);
    if (!imported || imported->imported + imported->unchanged == 0) {
        g_set_error(error, VS_CLI_ERROR, VS_CLI_ERROR_FAILED, "%s holds no OpenPGP public key",
                    keyring);
        goto out;
    }
    gpgme_data_new_from_mem(&dd, g_bytes_get_data(data, NULL), g_bytes_get_size(data), 0);
    if (signature) {
        gpgme_data_new_from_mem(&sd, g_bytes_get_data(signature, NULL), g_bytes_get_size(signature),
                                0);
        err = gpgme_op_verify(ctx, sd, dd, NULL);
    } else {
        gpgme_data_new(&pd);
        err = gpgme_op_verify(ctx, dd, NULL, pd);
    }
    if (err) {
        gpg_failed(error, err, "checking the signature");
        goto out;
    }
    gpgme_verify_result_t result = gpgme_op_verify_result(ctx);
    const char *why = "it carries no signature";
    for (gpgme_signature_t sig = result ? result->signatures : NULL; sig; sig = sig->next) {
        if (gpgme_err_code(sig->status) == GPG_ERR_NO_ERROR) {
            ok = TRUE;
            break;
        }
        why = gpgme_err_code(sig->status) == GPG_ERR_NO_PUBKEY
                  ? "it is signed by a key that is not in the keyring"
                  : gpgme_strerror(sig->status);
    }
    if (!ok) {
        g_set_error(error, VS_CLI_ERROR, VS_CLI_ERROR_FAILED,
                    "the signature does not verify with %s: %s", keyring, why);
        goto out;
    }
    if (ret_plain) {
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
out:
    if (kd)
        gpgme_data_release(kd);
    if (dd)
        gpgme_data_release(dd);
    if (sd)
        gpgme_data_release(sd);
    if (pd)
        gpgme_data_release(pd);
    if (ctx)
        gpgme_release(ctx);
    rm_rf(home);
    return ok;
}

/* Returns the verified checksum list of @entry (from the cache when the server says it has not
 * changed, or when it cannot be reached and an earlier copy exists). */
static GBytes *
checksum_list(VsCli *cli, const VsCatalogImage *entry, GError **error)
{
    g_autofree char *path = vs_cache_list_path(entry->checksums_url);
    g_autofree char *etag_path = g_strconcat(path, ".etag", NULL);
    g_autofree char *modified_path = g_strconcat(path, ".modified", NULL);
    g_autofree char *cached = NULL, *etag = NULL, *modified = NULL;
    g_autofree char *new_etag = NULL, *new_modified = NULL;
    g_autoptr(GBytes) list = NULL, plain = NULL, sig = NULL;
    g_autoptr(GError) fetch_error = NULL;
    gsize cached_len = 0;
    gboolean unchanged = FALSE;

    if (g_file_get_contents(path, &cached, &cached_len, NULL)) {
        etag = read_small(etag_path);
        modified = read_small(modified_path);
    }
    list = fetch_bytes(entry->checksums_url, cached ? etag : NULL, cached ? modified : NULL,
                       &unchanged, &new_etag, &new_modified, &fetch_error);
    if (!list) {
        if (!cached) {
            g_propagate_prefixed_error(error, g_steal_pointer(&fetch_error),
                                       "fetching the checksum list of %s: ", entry->alias);
            return NULL;
        }
        vs_cli_warn("%s: the checksum list could not be checked for updates (%s); using the "
                    "copy verified earlier",
                    entry->alias, fetch_error->message);
        return g_bytes_new_take(g_steal_pointer(&cached), cached_len);
    }
    if (unchanged)
        return g_bytes_new_take(g_steal_pointer(&cached), cached_len);

    if (entry->signature != VS_SIGNATURE_NONE && entry->keyring &&
        !g_file_test(entry->keyring, G_FILE_TEST_EXISTS)) {
        vs_cli_warn("%s: the keyring %s is missing, so the checksum list's signature is not "
                    "checked (the image is still checked against the list, fetched over %s)",
                    entry->alias, entry->keyring,
                    g_str_has_prefix(entry->checksums_url, "https:") ? "HTTPS" : "plain HTTP");
        plain = g_bytes_ref(list);
    } else if (entry->signature != VS_SIGNATURE_NONE && entry->keyring) {
        if (entry->signature == VS_SIGNATURE_DETACHED) {
            sig = fetch_bytes(entry->signature_url, NULL, NULL, NULL, NULL, NULL, error);
            if (!sig) {
                g_prefix_error(error,
                               "fetching the signature of %s's checksum list: ", entry->alias);
                return NULL;
            }
        }
        if (!vs_fetch_verify_signature(entry->keyring, list, sig, &plain, error)) {
            g_prefix_error(error, "%s: %s: ", entry->alias, entry->checksums_url);
            return NULL;
        }
        vs_cli_progress(cli, "  %s: checksum list signed by a key in %s", entry->alias,
                        entry->keyring);
    } else {
        plain = g_bytes_ref(list);
    }
    /* Keep the verified list (the signed text only) for the next time. */
    {
        g_autofree char *dir = g_path_get_dirname(path);
        g_mkdir_with_parents(dir, 0755);
        gsize len;
        const char *data = g_bytes_get_data(plain, &len);
        if (g_file_set_contents(path, data, len, NULL)) {
            g_unlink(etag_path);
            g_unlink(modified_path);
            if (new_etag)
                g_file_set_contents(etag_path, new_etag, -1, NULL);
            if (new_modified)
                g_file_set_contents(modified_path, new_modified, -1, NULL);
        }
    }
    return g_steal_pointer(&plain);
}

gboolean
vs_fetch_hash_file(const char *path, GChecksumType type, char **ret_sum, char **ret_sha256,
                   GError **error)
{
    g_autoptr(GChecksum) sum = g_checksum_new(type);
    g_autoptr(GChecksum) sha = g_checksum_new(G_CHECKSUM_SHA256);
    g_autofree guchar *buf = g_malloc(1 << 20);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    ssize_t n;

    if (fd < 0) {
        g_set_error(error, G_FILE_ERROR, g_file_error_from_errno(errno), "%s: %s", path,
                    g_strerror(errno));
        return FALSE;
    }
    while ((n = read(fd, buf, 1 << 20)) > 0) {
        g_checksum_update(sum, buf, n);
        if (type != G_CHECKSUM_SHA256)
            g_checksum_update(sha, buf, n);
    }
    close(fd);
    if (n < 0) {
        g_set_error(error, G_FILE_ERROR, g_file_error_from_errno(errno), "reading %s: %s", path,
                    g_strerror(errno));
        return FALSE;
    }
    *ret_sum = g_strdup(g_checksum_get_string(sum));
    *ret_sha256 = g_strdup(g_checksum_get_string(type == G_CHECKSUM_SHA256 ? sum : sha));
    return TRUE;
}

static gboolean
all_zero(const char *buf, size_t len)
{
    for (size_t i = 0; i < len; i++)
        if (buf[i])
            return FALSE;
    return TRUE;
}

/* Writes @len bytes at @offset of @fd, leaving holes for all-zero blocks of 64 KiB. */
static gboolean
write_sparse(int fd, const char *buf, size_t len, guint64 offset)
{
    const size_t block = 64 * 1024;

    for (size_t done = 0; done < len;) {
        size_t n = MIN(block, len - done);
        if (!all_zero(buf + done, n)) {
            for (size_t w = 0; w < n;) {
                ssize_t r = pwrite(fd, buf + done + w, n - w, offset + done + w);
                if (r < 0)
                    return FALSE;
                w += r;
            }
        }
        done += n;
    }
    return TRUE;
}

/* Unpacks the disk image in @src (raw inside .xz or .gz, or with @tar the first file of a tar
 * archive, itself possibly compressed) into @dest, returning its SHA-256. */
static char *
unpack(const char *src, gboolean tar, const char *dest, GError **error)
{
    struct archive *a = archive_read_new();
    struct archive_entry *entry;
    g_autoptr(GChecksum) sha = g_checksum_new(G_CHECKSUM_SHA256);
    g_autofree char *zeros = g_malloc0(1 << 20);
    guint64 pos = 0;
    int fd = -1, r;
    char *result = NULL;

    archive_read_support_filter_xz(a);
    archive_read_support_filter_gzip(a);
    if (tar)
        archive_read_support_format_tar(a);
    else
        archive_read_support_format_raw(a);
    if (archive_read_open_filename(a, src, 1 << 20) != ARCHIVE_OK)
        goto fail;
    for (;;) {
        r = archive_read_next_header(a, &entry);
        if (r == ARCHIVE_EOF) {
            g_set_error(error, VS_CLI_ERROR, VS_CLI_ERROR_FAILED,
                        "%s: the archive holds no disk image", src);
            goto out;
        }
        if (r != ARCHIVE_OK)
            goto fail;
        if (!tar || archive_entry_filetype(entry) == AE_IFREG)
            break;
    }
    fd = open(dest, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0) {
        g_set_error(error, G_FILE_ERROR, g_file_error_from_errno(errno), "%s: %s", dest,
                    g_strerror(errno));
        goto out;
    }
    for (;;) {
        const void *buf;
        size_t size;
        la_int64_t offset;
        r = archive_read_data_block(a, &buf, &size, &offset);
        if (r == ARCHIVE_EOF)
            break;
        if (r != ARCHIVE_OK)
            goto fail;
        /* Holes of a sparse tar member are zeros in the image. */
        while (pos < (guint64)offset) {
            size_t n = MIN((guint64)1 << 20, offset - pos);
            g_checksum_update(sha, (const guchar *)zeros, n);
            pos += n;
        }
        g_checksum_update(sha, buf, size);
        if (!write_sparse(fd, buf, size, offset)) {
            g_set_error(error, G_FILE_ERROR, g_file_error_from_errno(errno), "writing %s: %s", dest,
                        g_strerror(errno));
            goto out;
        }
        pos = offset + size;
    }
    if (tar && archive_entry_size(entry) > (la_int64_t)pos) {
        while (pos < (guint64)archive_entry_size(entry)) {
            size_t n = MIN((guint64)1 << 20, archive_entry_size(entry) - pos);
            g_checksum_update(sha, (const guchar *)zeros, n);
            pos += n;
        }
    }
    if (ftruncate(fd, pos) != 0 || close(fd) != 0) {
        fd = -1;
        g_set_error(error, G_FILE_ERROR, g_file_error_from_errno(errno), "writing %s: %s", dest,
                    g_strerror(errno));
        goto out;
    }
    fd = -1;
    result = g_strdup(g_checksum_get_string(sha));
    goto out;
fail:
    g_set_error(error, VS_CLI_ERROR, VS_CLI_ERROR_FAILED, "unpacking %s: %s", src,
                archive_error_string(a) ? archive_error_string(a) : "not a supported archive");
out:
    if (fd >= 0)
        close(fd);
    if (!result)
        g_unlink(dest);
    archive_read_free(a);
    return result;
}

gboolean
vs_image_fetch(VsCli *cli, VsImage *image, GError **error)
{
    const char *origin = image->url ? image->url : image->ref;
    g_autofree char *file = vs_url_basename(origin);
    g_autofree char *source = NULL, *hex = NULL, *dir = vs_cache_dir();
    g_autofree char *key = g_compute_checksum_for_string(G_CHECKSUM_SHA256, origin, -1);
    g_autofree char *partial_dir = g_build_filename(dir, "partial", NULL);
    g_autofree char *part = NULL, *unpacked = NULL;
    g_autofree char *got = NULL, *sha256 = NULL;
    g_autoptr(VsCacheEntry) hit = NULL;
    GChecksumType type = G_CHECKSUM_SHA256;
    int lock = -1;
    gboolean ok = FALSE;

    g_return_val_if_fail(image->kind != VS_IMAGE_VOLUME, FALSE);
    curl_global_init(CURL_GLOBAL_DEFAULT);
    if (image->kind == VS_IMAGE_FILE) {
        /* A local file: a packed one is unpacked into the cache, a plain one copied there. */
        source =
            image->expect ? g_strdup(image->expect) : g_strconcat("sha256:", image->sha256, NULL);
        hex = g_strdup(source + strlen("sha256:"));
    } else if (image->kind == VS_IMAGE_ALIAS) {
        g_autoptr(GBytes) list = checksum_list(cli, image->entry, error);
        gsize len;
        if (!list)
            return FALSE;
        const char *text = g_bytes_get_data(list, &len);
        if (!vs_checksums_find(text, len, image->entry->format, file, &type, &hex, error)) {
            g_prefix_error(error, "%s: %s: ", image->ref, image->entry->checksums_url);
            return FALSE;
        }
        source = g_strconcat(vs_checksum_type_name(type), ":", hex, NULL);
    } else {
        source = g_strdup(image->expect);
        hex = g_strdup(image->expect + strlen("sha256:"));
    }
    if ((hit = vs_cache_find(source))) {
        vs_image_take_entry(image, hit);
        return TRUE;
    }

    /* One download at a time (a lock on the folder of partial downloads): a second
     * virt-station waits and then finds the image cached. */
    if (g_mkdir_with_parents(partial_dir, 0755) != 0) {
        g_set_error(error, G_FILE_ERROR, g_file_error_from_errno(errno), "%s: %s", partial_dir,
                    g_strerror(errno));
        return FALSE;
    }
    part = g_strdup_printf("%s/%.16s.part", partial_dir, key);
    lock = open(partial_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (lock >= 0 && flock(lock, LOCK_EX | LOCK_NB) != 0) {
        vs_cli_progress(cli, "  waiting for another virt-station's download to finish");
        flock(lock, LOCK_EX);
    }
    if ((hit = vs_cache_find(source))) {
        vs_image_take_entry(image, hit);
        ok = TRUE;
        goto out;
    }
    if (image->kind == VS_IMAGE_FILE) {
        /* A local file was hashed when --image was read: a packed one is unpacked straight
         * from where it is, a plain one copied. */
        if (image->expect) {
            g_free(part);
            part = g_strdup(image->ref);
        } else {
            g_autoptr(GFile) from = g_file_new_for_path(image->ref);
            g_autoptr(GFile) to = g_file_new_for_path(part);
            vs_cli_progress(cli, "  copying %s into the cache", image->ref);
            if (!g_file_copy(from, to, G_FILE_COPY_OVERWRITE, NULL, NULL, NULL, error))
                goto out;
            sha256 = g_strdup(image->sha256);
        }
    } else {
        g_autofree char *etag_path = g_strconcat(part, ".etag", NULL);
        vs_cli_progress(cli, "  downloading %s", image->url);
        if (!download_file(cli, image->url, part, image->label, error) ||
            !vs_fetch_hash_file(part, type, &got, &sha256, error))
            goto out;
        /* Verified or not, the part is no longer one to resume. */
        g_unlink(etag_path);
        if (g_ascii_strcasecmp(got, hex) != 0) {
            g_set_error(error, VS_CLI_ERROR, VS_CLI_ERROR_FAILED,
                        "%s: checksum mismatch: %s says %s %s, the download has %s; the "
                        "download was deleted",
                        origin,
                        image->kind == VS_IMAGE_ALIAS ? image->entry->checksums_url
                                                      : "--image-sha256",
                        vs_checksum_type_name(type), hex, got);
            g_unlink(part);
            goto out;
        }
    }
    if (vs_image_is_packed(file)) {
        vs_cli_progress(cli, "  unpacking %s", file);
        unpacked = g_strdup_printf("%s/%.16s.unpacked", partial_dir, key);
        g_free(sha256);
        sha256 = unpack(part, strstr(file, ".tar") != NULL, unpacked, error);
        if (!sha256)
            goto out;
        if (image->kind != VS_IMAGE_FILE)
            g_unlink(part);
    }
    hit = vs_cache_add(unpacked ? unpacked : part, image->label,
                       image->kind == VS_IMAGE_ALIAS ? image->ref : file,
                       image->kind == VS_IMAGE_FILE ? NULL : image->url, sha256, source, error);
    if (!hit)
        goto out;
    vs_image_take_entry(image, hit);
    ok = TRUE;
out:
    if (lock >= 0)
        close(lock);
    return ok;
}
