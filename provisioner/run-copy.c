/* The copies of `run` (run.h): byte streams over the same verified ssh that `exec` uses.
 *
 * Theory of operation: a folder travels as a tar stream, `tar -c -C SRC -f - .` on one side
 * piped straight into `tar -x -C DST -f -` on the other, so that DST holds SRC's content; a file
 * travels as its bytes, into `cat > DST` in the guest or into DST written here. For a copy out
 * the guest says first which it is: one byte, 'd' or 'f', before the stream. Paths travel as
 * separate arguments of `sh -c` (each quoted by vs_ssh_argv), never pasted into a command line.
 * The tar here extracts what the guest sends with GNU tar's own guards (members with "..",
 * absolute names, writing through a symlink that the stream made), --no-same-owner and
 * --no-same-permissions (as root, tar would otherwise keep the guest's setuid bits and modes).
 *
 * Why the tar program and not libarchive: the static libarchive this project links (meson.build)
 * pulls ACL, nettle, bzip2 and every format's writer into the module with its disk reader and
 * tar writer; the streams here are tar's own business on both sides, which the guest needs
 * anyway (sh, mkdir, cat and tar are in every cloud image). */
#include <errno.h>
#include <fcntl.h>
#include <gio/gio.h>
#include <glib-unix.h>
#include <glib/gstdio.h>
#include <string.h>
#include <unistd.h>

#include "provisioner/run.h"

/* The commands in the guest; $1 and $2 are the paths, as arguments. */
#define GUEST_UNTAR "mkdir -p -- \"$1\" && exec tar -x --no-same-owner -C \"$1\" -f -"
#define GUEST_CAT   "mkdir -p -- \"$(dirname -- \"$1\")\" && exec cat > \"$1\""
#define GUEST_SEND                                                                                 \
    "if [ -d \"$1\" ]; then printf d && exec tar -c -C \"$1\" -f - .; "                            \
    "elif [ -f \"$1\" ]; then printf f && exec cat -- \"$1\"; "                                    \
    "else echo \"$1: no such file or folder\" >&2; exit 2; fi"

/* Spawns @argv (NULL-terminated) with @in and @out as its stdin and stdout (-1: /dev/null for
 * stdin, ours for stdout; @ret_out: a pipe from its stdout instead). Returns FALSE with @error. */
static gboolean
spawn(char **argv, int in, int out, GPid *ret_pid, int *ret_out, GError **error)
{
    GSpawnFlags flags = G_SPAWN_SEARCH_PATH | G_SPAWN_DO_NOT_REAP_CHILD;
    int pipe_fds[2] = {-1, -1};
    gboolean ok;

    if (in < 0)
        flags |= G_SPAWN_STDIN_FROM_DEV_NULL;
    if (ret_out && !g_unix_open_pipe(pipe_fds, FD_CLOEXEC, error))
        return FALSE;
    ok = g_spawn_async_with_fds(NULL, argv, NULL, flags, NULL, NULL, ret_pid, in,
                                ret_out ? pipe_fds[1] : out, -1, error);
    if (ret_out) {
        close(pipe_fds[1]);
        if (ok)
            *ret_out = pipe_fds[0];
        else
            close(pipe_fds[0]);
    }
    if (!ok)
        g_prefix_error(error, "running %s: ", argv[0]);
    return ok;
}

/* Spawns ssh to run sh -c @script with @arg in the guest; as spawn() otherwise. */
static gboolean
spawn_ssh(const VsSshTarget *ssh, const char *script, const char *arg, int in, GPid *ret_pid,
          int *ret_out, GError **error)
{
    char *command[] = {"sh", "-c", (char *)script, "sh", (char *)arg, NULL};
    g_autoptr(GPtrArray) argv = vs_ssh_argv(ssh, TRUE, FALSE, command);

    return spawn((char **)argv->pdata, in, -1, ret_pid, ret_out, error);
}

/* Returns TRUE when the child @pid (@who) ended with status 0; else FALSE with @error set. */
static gboolean
finish(GPid pid, const char *who, GError **error)
{
    gboolean timed_out, interrupted;
    int status = vs_run_wait_child(pid, 0, &timed_out, &interrupted);

    if (interrupted) {
        g_set_error(error, G_IO_ERROR, G_IO_ERROR_CANCELLED, "interrupted");
        return FALSE;
    }
    if (status != 0) {
        g_set_error(error, G_IO_ERROR, G_IO_ERROR_FAILED,
                    "%s exited with status %d (its messages are above)", who, status);
        return FALSE;
    }
    return TRUE;
}

/* Waits for the ssh @ssh_pid and, when not 0, the local tar @tar_pid; returns TRUE when both
 * succeeded, else FALSE with @error set (ssh's failure first: it explains the other's). */
static gboolean
finish_both(GPid ssh_pid, GPid tar_pid, GError **error)
{
    g_autoptr(GError) tar_error = NULL;
    gboolean tar_ok = !tar_pid || finish(tar_pid, "tar here", &tar_error);

    if (!finish(ssh_pid, "ssh (or what it ran in the guest)", error))
        return FALSE;
    if (!tar_ok) {
        g_propagate_error(error, g_steal_pointer(&tar_error));
        return FALSE;
    }
    return TRUE;
}

gboolean
vs_run_copy_in(const VsSshTarget *ssh, const char *src, const char *dst, GError **error)
{
    GPid ssh_pid = 0, tar_pid = 0;
    int fd = -1;
    gboolean ok;

    if (g_file_test(src, G_FILE_TEST_IS_DIR)) {
        char *tar[] = {"tar", "-c", "-C", (char *)src, "-f", "-", ".", NULL};
        ok = spawn(tar, -1, -1, &tar_pid, &fd, error) &&
             spawn_ssh(ssh, GUEST_UNTAR, dst, fd, &ssh_pid, NULL, error);
    } else {
        fd = open(src, O_RDONLY | O_CLOEXEC);
        if (fd < 0) {
            g_set_error(error, G_FILE_ERROR, g_file_error_from_errno(errno), "opening %s: %s", src,
                        g_strerror(errno));
            return FALSE;
        }
        ok = spawn_ssh(ssh, GUEST_CAT, dst, fd, &ssh_pid, NULL, error);
    }
    if (fd >= 0)
        close(fd);
    if (ok)
        ok = finish_both(ssh_pid, tar_pid, error);
    else if (tar_pid) {
        g_autoptr(GError) ignored = NULL;
        finish(tar_pid, "tar here", &ignored); /* its reader is gone: it ends */
    }
    if (!ok)
        g_prefix_error(error, "copying %s in to %s: ", src, dst);
    return ok;
}

/* Copies what remains on @in to the new file @dst, making its folder when missing (as a copy in
 * does in the guest). */
static gboolean
write_file(int in, const char *dst, GError **error)
{
    g_autofree char *dir = g_path_get_dirname(dst);
    char buf[64 * 1024];
    ssize_t n;
    int out;

    if (g_mkdir_with_parents(dir, 0755) < 0) {
        g_set_error(error, G_FILE_ERROR, g_file_error_from_errno(errno), "making %s: %s", dir,
                    g_strerror(errno));
        return FALSE;
    }
    out = open(dst, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (out < 0) {
        g_set_error(error, G_FILE_ERROR, g_file_error_from_errno(errno), "creating %s: %s", dst,
                    g_strerror(errno));
        return FALSE;
    }
    while ((n = read(in, buf, sizeof(buf))) != 0) {
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 || write(out, buf, (size_t)n) != n) {
            g_set_error(error, G_FILE_ERROR, g_file_error_from_errno(errno), "writing %s: %s", dst,
                        g_strerror(errno));
            close(out);
            return FALSE;
        }
    }
    if (close(out) < 0) {
        g_set_error(error, G_FILE_ERROR, g_file_error_from_errno(errno), "writing %s: %s", dst,
                    g_strerror(errno));
        return FALSE;
    }
    return TRUE;
}

gboolean
vs_run_copy_out(const VsSshTarget *ssh, const char *src, const char *dst, GError **error)
{
    g_autoptr(GError) local_error = NULL;
    GPid ssh_pid = 0, tar_pid = 0;
    int fd = -1;
    char kind = 0;
    gboolean ok;

    if (!spawn_ssh(ssh, GUEST_SEND, src, -1, &ssh_pid, &fd, error)) {
        g_prefix_error(error, "copying %s out to %s: ", src, dst);
        return FALSE;
    }
    while (read(fd, &kind, 1) < 0 && errno == EINTR)
        ;
    if (kind == 'd') {
        /* --no-same-permissions: the umask applies and no setuid bit comes from the guest,
         * which tar would otherwise keep for root (a setuid-root file on the host). */
        char *tar[] = {
            "tar", "-x", "--no-same-owner", "--no-same-permissions", "-C", (char *)dst, "-f",
            "-",   NULL};
        ok = (g_mkdir_with_parents(dst, 0755) == 0 ||
              (g_set_error(&local_error, G_FILE_ERROR, g_file_error_from_errno(errno),
                           "making %s: %s", dst, g_strerror(errno)),
               FALSE)) &&
             spawn(tar, fd, -1, &tar_pid, NULL, &local_error);
    } else if (kind == 'f') {
        ok = write_file(fd, dst, &local_error);
    } else {
        ok = FALSE; /* ssh or the guest's sh failed: finish() says how */
    }
    close(fd);
    {
        g_autoptr(GError) ssh_error = NULL;
        gboolean ssh_ok = finish_both(ssh_pid, tar_pid, &ssh_error);
        /* Our own failure first (ssh then only lost its reader); else ssh's, which explains a
         * stream that did not even say its kind. */
        if (local_error)
            g_propagate_error(error, g_steal_pointer(&local_error));
        else if (!ssh_ok)
            g_propagate_error(error, g_steal_pointer(&ssh_error));
        else if (!ok)
            g_set_error(error, G_IO_ERROR, G_IO_ERROR_FAILED, "the guest sent nothing");
        if (local_error || !ssh_ok || !ok) {
            g_prefix_error(error, "copying %s out to %s: ", src, dst);
            return FALSE;
        }
    }
    return TRUE;
}
