/* HTTP downloads with libcurl: small files into memory (conditional requests with ETag and
 * Last-Modified), images into a part file that a later attempt resumes (Range with If-Range),
 * with retries when a transfer breaks off. Progress and cancellation go through VsProgress. */
#include "provisioner/images/download.h"

#include <curl/curl.h>
#include <errno.h>
#include <fcntl.h>
#include <glib/gstdio.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "provisioner/base/file-read.h"
#include "provisioner/images/image-error.h"
#include "vs-config.h"

#define MIB      (1024.0 * 1024.0)
#define ATTEMPTS 4

/* One HTTP transfer. */
typedef struct {
    const char *label;
    const VsProgress *progress; /* asked whether to stop; told the bytes when @report */
    gboolean report;            /* a file transfer: report its bytes */
    int out;                    /* file transfers: the part file, opened on the first byte */
    const char *out_path;
    guint64 resume_from; /* bytes already in the part file */
    GByteArray *body;    /* memory transfers */
    guint64 max_body;    /* memory transfers: the most bytes @body may hold */
    gboolean too_large;  /* the body passed @max_body: the transfer was stopped */
    char *etag;          /* from the response */
    char *modified;      /* Last-Modified, from the response */
    gint64 started;      /* monotonic, µs */
    gint64 last_report;
    guint64 received; /* bytes of body received in this transfer */
    int write_errno;
    VsHashStream *hash;  /* file transfers: told every byte written (may be NULL) */
    GByteArray *pending; /* file transfers: bytes received and not yet written */
} Transfer;

/* A file transfer writes what it receives in pieces of this size, and hands each piece to its
 * hash once written: one write(2) and one message to the hash thread per MiB, where writing
 * each of libcurl's buffers as it came took 64 times as many calls. */
#define FILE_PIECE (1 << 20)
/* libcurl's receive buffer for file transfers: 512 KiB (its largest before 7.88) against its
 * default 16 KiB; the curl command asks for 100 KiB. */
#define RECV_BUFFER (512L * 1024)
/* A piece is written once it reaches FILE_PIECE, so it holds at most one receive buffer more:
 * allocated at that size, it is never reallocated. */
#define PIECE_BUFFER (FILE_PIECE + RECV_BUFFER)

/* Writes @t's pending bytes to its part file and hands them to its hash. Returns FALSE with
 * @t->write_errno set when the file cannot be opened or written. */
static gboolean
transfer_flush(Transfer *t)
{
    const guint8 *p;
    gsize left;

    if (!t->pending || t->pending->len == 0)
        return TRUE;
    if (t->out < 0) {
        /* The first bytes: append after a resumed part, otherwise start afresh. */
        t->out = open(t->out_path,
                      O_WRONLY | O_CREAT | O_CLOEXEC | (t->resume_from ? O_APPEND : O_TRUNC), 0666);
        if (t->out < 0) {
            t->write_errno = errno;
            return FALSE;
        }
    }
    for (p = t->pending->data, left = t->pending->len; left > 0;) {
        ssize_t n = write(t->out, p, left);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            t->write_errno = n < 0 ? errno : EIO;
            return FALSE;
        }
        p += n;
        left -= n;
    }
    if (t->hash) {
        /* The piece itself goes to the hash thread; a new one takes its place. */
        vs_hash_stream_feed_piece(t->hash, t->pending);
        t->pending = vs_hash_stream_spare(t->hash, PIECE_BUFFER);
    } else {
        g_byte_array_set_size(t->pending, 0);
    }
    return TRUE;
}

static void
transfer_clear(Transfer *t)
{
    if (t->pending)
        g_byte_array_unref(t->pending);
    if (t->out >= 0)
        close(t->out);
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
        if (t->body->len + len > t->max_body) {
            t->too_large = TRUE;
            return 0;
        }
        g_byte_array_append(t->body, (const guint8 *)data, len);
    } else {
        g_byte_array_append(t->pending, (const guint8 *)data, len);
        if (t->pending->len >= FILE_PIECE && !transfer_flush(t))
            return 0;
    }
    t->received += len;
    return len;
}

static int
on_progress(void *opaque, curl_off_t total, curl_off_t now, curl_off_t ut, curl_off_t un)
{
    Transfer *t = opaque;
    gint64 clock = g_get_monotonic_time();
    double secs = (clock - t->started) / 1e6;

    if (vs_progress_cancelled(t->progress))
        return 1;
    /* Nothing to show before the first byte, and no more than five times a second. */
    if (!t->report || now == 0 || clock - t->last_report < 200000)
        return 0;
    t->last_report = clock;
    vs_progress_bytes(t->progress, t->label, t->resume_from + now,
                      total > 0 ? t->resume_from + total : 0, secs > 0 ? now / secs : 0);
    return 0;
}

/* Runs one request for @url into @t with the extra @headers (taken), and returns libcurl's
 * result, with the HTTP status in *@ret_status and libcurl's message in @errbuf. */
static CURLcode
transfer(const char *url, Transfer *t, struct curl_slist *headers, char *errbuf, long *ret_status)
{
    static gsize initialized;
    CURL *c;
    CURLcode rc;

    if (g_once_init_enter(&initialized)) {
        curl_global_init(CURL_GLOBAL_DEFAULT);
        g_once_init_leave(&initialized, 1);
    }
    c = curl_easy_init();
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
    /* A Content-Length over the cap is refused before the body; on_body stops the rest. */
    if (t->body)
        curl_easy_setopt(c, CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)t->max_body);
    else
        curl_easy_setopt(c, CURLOPT_BUFFERSIZE, RECV_BUFFER);
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
        g_set_error(error, VS_IMAGE_ERROR, VS_IMAGE_ERROR_FAILED, "%s: interrupted", url);
    else if (t->too_large || rc == CURLE_FILESIZE_EXCEEDED)
        g_set_error(error, VS_IMAGE_ERROR, VS_IMAGE_ERROR_FAILED,
                    "%s: the server sent more than %" G_GUINT64_FORMAT
                    " MiB, more than this file can be (check the URL in the image catalog)",
                    url, t->max_body >> 20);
    else if (rc == CURLE_HTTP_RETURNED_ERROR)
        g_set_error(error, VS_IMAGE_ERROR, VS_IMAGE_ERROR_FAILED,
                    "%s: the server answered HTTP %ld%s", url, status,
                    status == 404 ? " (not found): check the URL or the catalog entry" : "");
    else if (rc == CURLE_WRITE_ERROR && t->write_errno)
        g_set_error(error, VS_IMAGE_ERROR, VS_IMAGE_ERROR_FAILED, "%s: writing the download: %s",
                    url, g_strerror(t->write_errno));
    else
        g_set_error(error, VS_IMAGE_ERROR, VS_IMAGE_ERROR_FAILED, "%s: %s", url,
                    *errbuf ? errbuf : curl_easy_strerror(rc));
}

char *
vs_download_read_tag(const char *path)
{
    g_autofree char *text = NULL;
    /* A tag is one header's value: a file any larger is no tag of ours. */
    if (!vs_file_read_bounded(path, 4096, "tag", &text, NULL, NULL))
        return NULL;
    g_strstrip(text);
    return *text ? g_steal_pointer(&text) : NULL;
}

GBytes *
vs_download_bytes(const VsProgress *progress, const char *url, guint64 max_bytes,
                  const char *cached_etag, const char *cached_modified, gboolean *ret_unchanged,
                  char **ret_etag, char **ret_modified, GError **error)
{
    char errbuf[CURL_ERROR_SIZE] = "";
    g_auto(Transfer)
        t = {.progress = progress, .out = -1, .body = g_byte_array_new(), .max_body = max_bytes};
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

gboolean
vs_download_file(const VsProgress *progress, const char *url, const char *part, const char *label,
                 VsHashStream *hash, GError **error)
{
    g_autofree char *etag_path = g_strconcat(part, ".etag", NULL);
    gint64 started = g_get_monotonic_time();
    guint64 total_received = 0;

    for (int attempt = 1;; attempt++) {
        char errbuf[CURL_ERROR_SIZE] = "";
        g_auto(Transfer) t = {.label = label,
                              .progress = progress,
                              .report = TRUE,
                              .out = -1,
                              .out_path = part,
                              .hash = hash,
                              .pending = g_byte_array_sized_new(PIECE_BUFFER)};
        g_autofree char *etag = vs_download_read_tag(etag_path);
        struct curl_slist *headers = NULL;
        GStatBuf st;
        CURLcode rc;
        long status;

        if (g_stat(part, &st) == 0 && st.st_size > 0 && etag) {
            g_autofree char *h = g_strconcat("If-Range: ", etag, NULL);
            t.resume_from = st.st_size;
            headers = curl_slist_append(headers, h);
            if (attempt == 1)
                vs_progress_step(progress, "resuming %s at %.1f MiB", label, t.resume_from / MIB);
        }
        /* The hash must hold what the part holds before this transfer adds to it. */
        if (hash && vs_hash_stream_size(hash) != t.resume_from)
            vs_hash_stream_restart(hash, part, t.resume_from);
        rc = transfer(url, &t, headers, errbuf, &status);
        /* What came after the last whole piece, also when the transfer broke off. */
        if (!transfer_flush(&t) && rc == CURLE_OK)
            rc = CURLE_WRITE_ERROR;
        /* Some file systems (NFS) report a failed write only when the file is closed. */
        if (t.out >= 0) {
            int fd = t.out;
            t.out = -1;
            if (close(fd) != 0 && rc == CURLE_OK) {
                t.write_errno = errno;
                rc = CURLE_WRITE_ERROR;
            }
        }
        vs_progress_bytes_end(progress);
        total_received += t.received;
        /* Remember the server's version of the file for a later resume. */
        if (t.etag)
            g_file_set_contents(etag_path, t.etag, -1, NULL);
        if (rc == CURLE_OK) {
            double secs = (g_get_monotonic_time() - started) / 1e6;
            if (total_received == 0 && !g_file_test(part, G_FILE_TEST_EXISTS))
                g_file_set_contents(part, "", 0, NULL); /* an empty file */
            vs_progress_step(progress, "downloaded %s: %.1f MiB in %.1f s (%.1f MiB/s)", label,
                             total_received / MIB, secs,
                             secs > 0 ? total_received / MIB / secs : 0);
            return TRUE;
        }
        if (rc == CURLE_RANGE_ERROR || (rc == CURLE_HTTP_RETURNED_ERROR && status == 416)) {
            /* The part does not fit the file the server has now (libcurl refuses a 200 answer
             * to a resumed request, and If-Range turns a changed file into one): start again. */
            g_unlink(part);
            g_unlink(etag_path);
            if (attempt < ATTEMPTS)
                continue;
        } else if (attempt < ATTEMPTS && retryable(rc) && !vs_progress_cancelled(progress)) {
            vs_progress_step(progress, "%s: %s; resuming (attempt %d of %d)", label,
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
