#include "provisioner/images/hash.h"

#include <errno.h>
#include <fcntl.h>
#include <glib/gstdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "provisioner/base/digest.h"
#include "provisioner/base/file-read.h"
#include "provisioner/images/image-error.h"

#define CHUNK (1 << 20)

/* Sets @error for a hash or copy of @path that Ctrl-C stopped. Returns FALSE. */
static gboolean
interrupted(const char *path, GError **error)
{
    g_set_error(error, VS_IMAGE_ERROR, VS_IMAGE_ERROR_FAILED, "reading %s: interrupted", path);
    return FALSE;
}

/* Reads @fd (the file @path) to its end into @type's sum and SHA-256, as vs_hash_file. */
static gboolean
hash_fd(int fd, const char *path, GChecksumType type, const VsProgress *progress, char **ret_sum,
        char **ret_sha256, GError **error)
{
    g_autoptr(VsDigest) sum = vs_digest_new(type);
    g_autoptr(VsDigest) sha = type != G_CHECKSUM_SHA256 ? vs_digest_new(G_CHECKSUM_SHA256) : NULL;
    g_autofree guchar *buf = g_malloc(CHUNK);
    ssize_t n;

    while ((n = read(fd, buf, CHUNK)) > 0) {
        if (vs_progress_cancelled(progress))
            return interrupted(path, error);
        vs_digest_update(sum, buf, n);
        if (sha)
            vs_digest_update(sha, buf, n);
    }
    if (n < 0) {
        g_set_error(error, G_FILE_ERROR, g_file_error_from_errno(errno), "reading %s: %s", path,
                    g_strerror(errno));
        return FALSE;
    }
    if (!sha) {
        *ret_sha256 = vs_digest_finish(sum);
        if (ret_sum)
            *ret_sum = g_strdup(*ret_sha256);
        return TRUE;
    }
    if (ret_sum)
        *ret_sum = vs_digest_finish(sum);
    *ret_sha256 = vs_digest_finish(sha);
    return TRUE;
}

/* Returns @path opened for reading, with its status in @st, or -1 with @error set. */
static int
open_file(const char *path, struct stat *st, GError **error)
{
    /* O_NONBLOCK: a FIFO opens at once (and is refused as no regular file by the callers). */
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);

    if (fd < 0 || fstat(fd, st) < 0) {
        int saved = errno;
        if (fd >= 0)
            close(fd);
        g_set_error(error, G_FILE_ERROR, g_file_error_from_errno(saved), "%s: %s", path,
                    g_strerror(saved));
        return -1;
    }
    return fd;
}

gboolean
vs_hash_file(const char *path, GChecksumType type, const VsProgress *progress, char **ret_sum,
             char **ret_sha256, GError **error)
{
    struct stat st;
    int fd = open_file(path, &st, error);
    gboolean ok;

    if (fd < 0)
        return FALSE;
    ok = hash_fd(fd, path, type, progress, ret_sum, ret_sha256, error);
    close(fd);
    return ok;
}

/* Where the SHA-256 of the file with status @st is remembered. The change time is part of the
 * key: a same-size edit whose modification time was put back (touch -d, cp -p) still moves it,
 * and no user can set it back. */
static char *
remembered_path(const struct stat *st)
{
    g_autofree char *name = g_strdup_printf(
        "%llx-%llx-%lld-%lld.%09ld-%lld.%09ld", (unsigned long long)st->st_dev,
        (unsigned long long)st->st_ino, (long long)st->st_size, (long long)st->st_mtim.tv_sec,
        (long)st->st_mtim.tv_nsec, (long long)st->st_ctim.tv_sec, (long)st->st_ctim.tv_nsec);
    return g_build_filename(g_get_user_cache_dir(), "virt-station", "sha256", name, NULL);
}

/* Remembers @sha256 for the file with status @st (an optimisation: a failure changes nothing). */
static void
remember(const struct stat *st, const char *sha256)
{
    g_autofree char *entry = remembered_path(st);
    g_autofree char *dir = g_path_get_dirname(entry);

    if (g_mkdir_with_parents(dir, 0700) == 0)
        g_file_set_contents(entry, sha256, -1, NULL);
}

char *
vs_hash_file_cached(const char *path, GError **error)
{
    struct stat st;
    g_autofree char *entry = NULL, *cached = NULL, *sha256 = NULL;
    int fd = open_file(path, &st, error);
    gboolean ok;

    if (fd < 0)
        return NULL;
    if (!S_ISREG(st.st_mode)) {
        close(fd);
        g_set_error(error, G_FILE_ERROR, G_FILE_ERROR_INVAL, "%s is not a regular file", path);
        return NULL;
    }
    entry = remembered_path(&st);
    if (vs_file_read_bounded(entry, 64, "remembered hash", &cached, NULL, NULL) &&
        g_regex_match_simple("^[0-9a-f]{64}$", cached, G_REGEX_DOLLAR_ENDONLY, 0)) {
        close(fd);
        return g_steal_pointer(&cached);
    }
    ok = hash_fd(fd, path, G_CHECKSUM_SHA256, NULL, NULL, &sha256, error);
    close(fd);
    if (!ok)
        return NULL;
    remember(&st, sha256);
    return g_steal_pointer(&sha256);
}

gboolean
vs_hash_copy(const char *src, const char *dest, const VsProgress *progress, char **ret_sha256,
             GError **error)
{
    g_autoptr(VsDigest) sha = vs_digest_new(G_CHECKSUM_SHA256);
    g_autofree guchar *buf = g_malloc(CHUNK);
    struct stat st;
    int in = open_file(src, &st, error), out;
    ssize_t n = 0;
    gboolean ok = TRUE;

    if (in < 0)
        return FALSE;
    if (!S_ISREG(st.st_mode)) {
        close(in);
        g_set_error(error, G_FILE_ERROR, G_FILE_ERROR_INVAL, "%s is not a regular file", src);
        return FALSE;
    }
    out = open(dest, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (out < 0) {
        int saved = errno;
        close(in);
        g_set_error(error, G_FILE_ERROR, g_file_error_from_errno(saved), "%s: %s", dest,
                    g_strerror(saved));
        return FALSE;
    }
    while (ok && (n = read(in, buf, CHUNK)) > 0) {
        if (vs_progress_cancelled(progress)) {
            close(in);
            close(out);
            g_unlink(dest);
            return interrupted(src, error);
        }
        vs_digest_update(sha, buf, n);
        for (ssize_t w = 0; ok && w < n;) {
            ssize_t r = write(out, buf + w, n - w);
            ok = r > 0;
            w += MAX(r, 0);
        }
    }
    if (n < 0 || !ok || close(out) != 0) {
        int saved = errno;
        close(in);
        g_unlink(dest);
        g_set_error(error, G_FILE_ERROR, g_file_error_from_errno(saved), "copying %s to %s: %s",
                    src, dest, g_strerror(saved));
        return FALSE;
    }
    *ret_sha256 = vs_digest_finish(sha);
    /* What was copied is what the file holds now, unless it changed meanwhile. */
    struct stat after;
    if (fstat(in, &after) == 0 && after.st_size == st.st_size &&
        after.st_mtim.tv_sec == st.st_mtim.tv_sec && after.st_mtim.tv_nsec == st.st_mtim.tv_nsec &&
        after.st_ctim.tv_sec == st.st_ctim.tv_sec && after.st_ctim.tv_nsec == st.st_ctim.tv_nsec)
        remember(&st, *ret_sha256);
    close(in);
    return TRUE;
}

/* The stream: the writer queues messages, the thread takes them in order. A restart message
 * carries a path and a size, a data message its bytes, a peek message and the end message
 * neither. */
#define STREAM_BACKLOG (64 << 20)

typedef struct {
    char *path; /* a restart: hash the first @size bytes of @path, after forgetting all */
    guint64 size;
    GByteArray *data; /* a piece of data, given back to the spares once hashed */
    gboolean peek;    /* the sums so far are wanted */
    gboolean end;
} StreamMessage;

struct VsHashStream {
    GChecksumType type;
    GThread *thread;
    GAsyncQueue *queue;
    /* Hashed pieces, emptied, for the writer to fill again: a new 1 MiB buffer per piece made
     * malloc grow and trim its heap all the time (46,000 page faults in a 1 GiB pull, against
     * 600 for curl's). */
    GAsyncQueue *spares;
    GMutex lock;                /* guards @queued, @done and the peek's answer */
    GCond drained;              /* signalled when @queued goes down, @done or @peeked is set */
    gsize queued;               /* bytes of data messages not yet hashed */
    gboolean done;              /* the thread took the end message */
    gint stop;                  /* atomic: stop at once (free without finish, or cancelled) */
    const VsProgress *progress; /* asked by the writer's thread only */
    guint64 size;               /* the writer's count */
    /* The thread's results, read after it is joined. */
    char *sum, *sha256;
    GError *error;
    /* The thread's answer to a peek message: the same, so far. */
    gboolean peeked;
    char *peek_sum, *peek_sha256;
    GError *peek_error;
};

static void
stream_message_free(StreamMessage *m)
{
    g_free(m->path);
    if (m->data)
        g_byte_array_unref(m->data);
    g_free(m);
}

/* Hashes the first @size bytes of @path into @sum and @sha (may be NULL). */
static gboolean
stream_hash_prefix(VsHashStream *s, const char *path, guint64 size, VsDigest *sum, VsDigest *sha,
                   GError **error)
{
    g_autofree guchar *buf = NULL;
    guint64 left = size;
    int fd;

    if (size == 0)
        return TRUE;
    buf = g_malloc(CHUNK);
    fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        g_set_error(error, G_FILE_ERROR, g_file_error_from_errno(errno), "reading %s: %s", path,
                    g_strerror(errno));
        return FALSE;
    }
    while (left > 0 && !g_atomic_int_get(&s->stop)) {
        ssize_t n = read(fd, buf, MIN(left, (guint64)CHUNK));
        if (n <= 0) {
            int saved = n < 0 ? errno : EIO;
            close(fd);
            g_set_error(error, G_FILE_ERROR, g_file_error_from_errno(saved), "reading %s: %s", path,
                        n < 0 ? g_strerror(saved) : "shorter than expected");
            return FALSE;
        }
        vs_digest_update(sum, buf, n);
        if (sha)
            vs_digest_update(sha, buf, n);
        left -= n;
    }
    close(fd);
    return TRUE;
}

static gpointer
stream_thread(gpointer opaque)
{
    VsHashStream *s = opaque;
    g_autoptr(VsDigest) sum = vs_digest_new(s->type);
    g_autoptr(VsDigest) sha =
        s->type != G_CHECKSUM_SHA256 ? vs_digest_new(G_CHECKSUM_SHA256) : NULL;

    for (;;) {
        StreamMessage *m = g_async_queue_pop(s->queue);
        gboolean end = m->end;

        if (m->path) {
            /* Forget everything: finishing a digest also empties it. */
            g_free(vs_digest_finish(sum));
            if (sha)
                g_free(vs_digest_finish(sha));
            g_clear_error(&s->error);
            stream_hash_prefix(s, m->path, m->size, sum, sha, &s->error);
        } else if (m->peek) {
            g_mutex_lock(&s->lock);
            if (s->error) {
                s->peek_error = g_error_copy(s->error);
            } else {
                s->peek_sum = vs_digest_peek(sum);
                s->peek_sha256 = sha ? vs_digest_peek(sha) : g_strdup(s->peek_sum);
            }
            s->peeked = TRUE;
            g_cond_signal(&s->drained);
            g_mutex_unlock(&s->lock);
        } else if (m->data) {
            gsize len = m->data->len;
            if (!g_atomic_int_get(&s->stop)) {
                vs_digest_update(sum, m->data->data, len);
                if (sha)
                    vs_digest_update(sha, m->data->data, len);
            }
            g_byte_array_set_size(m->data, 0);
            g_async_queue_push(s->spares, g_steal_pointer(&m->data));
            g_mutex_lock(&s->lock);
            s->queued -= len;
            g_cond_signal(&s->drained);
            g_mutex_unlock(&s->lock);
        }
        stream_message_free(m);
        if (end)
            break;
    }
    s->sum = vs_digest_finish(sum);
    s->sha256 = sha ? vs_digest_finish(sha) : g_strdup(s->sum);
    g_mutex_lock(&s->lock);
    s->done = TRUE;
    g_cond_signal(&s->drained);
    g_mutex_unlock(&s->lock);
    return NULL;
}

VsHashStream *
vs_hash_stream_new(GChecksumType type, const VsProgress *progress)
{
    VsHashStream *s = g_new0(VsHashStream, 1);

    s->type = type;
    s->progress = progress;
    s->queue = g_async_queue_new();
    s->spares = g_async_queue_new_full((GDestroyNotify)g_byte_array_unref);
    g_mutex_init(&s->lock);
    g_cond_init(&s->drained);
    s->thread = g_thread_new("vs-hash", stream_thread, s);
    return s;
}

/* Waits (with @s->lock held) for the thread to signal, at most a tenth of a second; when the
 * writer's progress says to stop, tells the thread to stop hashing, so that it drains its queue
 * and ends at once. */
static void
wait_or_stop(VsHashStream *s)
{
    if (vs_progress_cancelled(s->progress))
        g_atomic_int_set(&s->stop, 1);
    g_cond_wait_until(&s->drained, &s->lock, g_get_monotonic_time() + G_TIME_SPAN_SECOND / 10);
}

void
vs_hash_stream_restart(VsHashStream *s, const char *path, guint64 size)
{
    StreamMessage *m = g_new0(StreamMessage, 1);

    m->path = g_strdup(path);
    m->size = size;
    s->size = size;
    g_async_queue_push(s->queue, m);
}

void
vs_hash_stream_feed(VsHashStream *s, const void *data, gsize len)
{
    GByteArray *piece = vs_hash_stream_spare(s, len);

    g_byte_array_append(piece, data, len);
    vs_hash_stream_feed_piece(s, piece);
}

GByteArray *
vs_hash_stream_spare(VsHashStream *s, gsize size)
{
    GByteArray *piece = g_async_queue_try_pop(s->spares);

    return piece ? piece : g_byte_array_sized_new(size);
}

void
vs_hash_stream_feed_piece(VsHashStream *s, GByteArray *data)
{
    gsize len = data->len;
    StreamMessage *m;

    if (len == 0) {
        g_async_queue_push(s->spares, data);
        return;
    }
    m = g_new0(StreamMessage, 1);
    m->data = data;
    g_mutex_lock(&s->lock);
    while (s->queued > STREAM_BACKLOG)
        wait_or_stop(s);
    s->queued += len;
    g_mutex_unlock(&s->lock);
    s->size += len;
    g_async_queue_push(s->queue, m);
}

guint64
vs_hash_stream_size(const VsHashStream *s)
{
    return s->size;
}

/* The end of peek() and finish(): gives the sums (taken) to the caller, or why there are none
 * (@failed, taken; a stop first). */
static gboolean
hand_over(VsHashStream *s, GError *failed, char *sum, char *sha256, char **ret_sum,
          char **ret_sha256, GError **error)
{
    g_autoptr(GError) own_failed = failed;
    g_autofree char *own_sum = sum, *own_sha256 = sha256;

    if (g_atomic_int_get(&s->stop)) {
        g_set_error(error, VS_IMAGE_ERROR, VS_IMAGE_ERROR_FAILED,
                    "hashing the download: interrupted");
        return FALSE;
    }
    if (own_failed) {
        g_propagate_error(error, g_steal_pointer(&own_failed));
        return FALSE;
    }
    if (ret_sum)
        *ret_sum = g_steal_pointer(&own_sum);
    *ret_sha256 = g_steal_pointer(&own_sha256);
    return TRUE;
}

gboolean
vs_hash_stream_peek(VsHashStream *s, char **ret_sum, char **ret_sha256, GError **error)
{
    StreamMessage *m = g_new0(StreamMessage, 1);
    char *sum, *sha256;
    GError *failed;

    m->peek = TRUE;
    g_async_queue_push(s->queue, m);
    g_mutex_lock(&s->lock);
    while (!s->peeked && !g_atomic_int_get(&s->stop))
        wait_or_stop(s);
    /* Stopped: the thread still answers (it drains its queue), but not with the sums. */
    while (!s->peeked)
        g_cond_wait(&s->drained, &s->lock);
    s->peeked = FALSE;
    sum = g_steal_pointer(&s->peek_sum);
    sha256 = g_steal_pointer(&s->peek_sha256);
    failed = g_steal_pointer(&s->peek_error);
    g_mutex_unlock(&s->lock);
    return hand_over(s, failed, sum, sha256, ret_sum, ret_sha256, error);
}

/* Sends the end message and waits for the thread, stopping it when @s's progress says so. */
static void
stream_join(VsHashStream *s)
{
    StreamMessage *m;

    if (!s->thread)
        return;
    m = g_new0(StreamMessage, 1);
    m->end = TRUE;
    g_async_queue_push(s->queue, m);
    g_mutex_lock(&s->lock);
    while (!s->done)
        wait_or_stop(s);
    g_mutex_unlock(&s->lock);
    g_thread_join(g_steal_pointer(&s->thread));
}

gboolean
vs_hash_stream_finish(VsHashStream *s, char **ret_sum, char **ret_sha256, GError **error)
{
    stream_join(s);
    return hand_over(s, g_steal_pointer(&s->error), g_steal_pointer(&s->sum),
                     g_steal_pointer(&s->sha256), ret_sum, ret_sha256, error);
}

void
vs_hash_stream_free(VsHashStream *s)
{
    if (!s)
        return;
    g_atomic_int_set(&s->stop, 1);
    stream_join(s);
    g_async_queue_unref(s->queue);
    g_async_queue_unref(s->spares);
    g_mutex_clear(&s->lock);
    g_cond_clear(&s->drained);
    g_free(s->sum);
    g_free(s->sha256);
    g_clear_error(&s->error);
    g_free(s->peek_sum);
    g_free(s->peek_sha256);
    g_clear_error(&s->peek_error);
    g_free(s);
}
