/* The test bed: helpers every libvirt and integration test shares. */
#pragma once

#include <gio/gio.h>
#include <libvirt/libvirt.h>

/* Returns the path of the cached Debian test image after making sure libvirtd and virtlogd
 * run (tests/bed/ensure-bed.sh), or NULL with @error set. */
char *vs_bed_image(GError **error);

/* Starts libvirtd and virtlogd when they are not running. Returns FALSE with @error set when
 * they cannot be started. */
gboolean vs_bed_daemons(GError **error);

/* Creates a throwaway ed25519 key pair "id" in @dir. Returns the private key's path. */
char *vs_bed_keypair(const char *dir, GError **error);

/* Returns TRUE when every address @host resolves to is loopback (127.0.0.0/8 or ::1). */
gboolean vs_bed_is_loopback(const char *host);

/* Aborts the test unless @host is loopback: tests connect to nothing else. */
void vs_bed_assert_loopback(const char *host);

/* Returns a TCP port on 127.0.0.1 that was free a moment ago. */
guint16 vs_bed_free_port(void);

/* Runs @command in the guest over SSH at @host:@port. Returns FALSE with @error set when ssh
 * could not run; otherwise the command's output and exit status (255: connection failed). */
gboolean vs_bed_ssh(const char *host, guint16 port, const char *user, const char *key,
                    const char *command, char **ret_stdout, char **ret_stderr, int *ret_status,
                    GError **error);

/* Waits until SSH as @user with @key answers at @host:@port. On timeout, fails with an error
 * that says why: what the last attempt got and, when @console_log is given, its last lines. */
gboolean vs_bed_wait_ssh(const char *host, guint16 port, const char *user, const char *key,
                         guint timeout_s, const char *console_log, GError **error);

/* A finished command: exit status (-1 when killed by a signal), stdout, stderr. */
typedef struct {
    int status;
    char *out;
    char *err;
} VsBedRun;

void vs_bed_run_clear(VsBedRun *run);
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC(VsBedRun, vs_bed_run_clear)

/* Returns the test bed's KVM decision, "kvm" or "qemu", as tests/bed/ensure-bed.sh last made it
 * ($VS_TESTBED_CACHE/kvm-decision), or NULL when it has not run on this machine. */
const char *vs_bed_virt_type(void);

/* Returns @argv (NULL-terminated) with `--virt-type DECISION` after the command word when it is
 * `virt-station ... up` without a --virt-type of its own and the test bed has decided: so every
 * guest a test starts runs with KVM exactly where the probe showed that KVM works. */
char **vs_bed_argv_with_virt_type(const char *const *argv);

/* Runs @argv (NULL-terminated, searched in PATH, stdin from /dev/null) to the end; a
 * `virt-station up` gets the test bed's --virt-type (vs_bed_argv_with_virt_type). */
VsBedRun vs_bed_run(const char *const *argv);

/* Runs virt-station with @args (NULL-terminated), after "-c @uri" when @uri is given. */
VsBedRun vs_bed_run_vs(const char *uri, const char *const *args);

/* The same with the arguments listed, up to NULL. */
VsBedRun vs_bed_run_vsv(const char *uri, const char *first, ...) G_GNUC_NULL_TERMINATED;

/* Returns a directory made for this test under /var/tmp that QEMU can read; removed by
 * vs_bed_rmtree(). */
char *vs_bed_tmpdir(const char *template_prefix);
void vs_bed_rmtree(const char *path);

/* A test HTTP server on 127.0.0.1 (tests/bed/range-server.py) serving the files of a folder,
 * with Range, If-Range, ETag and a request log (one JSON object per line). */
typedef struct {
    GSubprocess *proc;
    guint16 port;
    char *log;  /* the request log's path */
    char *base; /* "http://127.0.0.1:PORT/" */
} VsBedHttp;

/* Starts the server for @dir, logging to @log; each of @cut (NULL-terminated, may be NULL)
 * names a file whose first GET is cut off after half its body, each of @slow one sent at about
 * 1 MiB/s. Aborts the test on failure. */
void vs_bed_http_start(VsBedHttp *http, const char *dir, const char *log, const char *const *cut,
                       const char *const *slow);
void vs_bed_http_stop(VsBedHttp *http);

/* Returns the log's entries (JSON lines) whose path is "/@name", joined by newlines. */
char *vs_bed_http_requests(const VsBedHttp *http, const char *name);

/* Returns the names of the volumes in the pool @pool_name of @conn (refreshed first), sorted,
 * joined by spaces; "" for none. Aborts the test when the pool does not exist. */
char *vs_bed_pool_volumes(virConnectPtr conn, const char *pool_name);

/* Destroys and undefines the domains @names (NULL-terminated; those still there), then deletes
 * every volume of the transient pool @pool_name and destroys it. */
void vs_bed_pool_remove(virConnectPtr conn, const char *pool_name, const char *const *names);

/* A test's own world on qemu:///system: XDG homes under a temporary folder (virt-station's own
 * key, caches, identities, config), a temporary directory pool, the test image, a connection. */
typedef struct {
    char *dir;      /* the XDG homes */
    char *pool_dir; /* the temporary pool's directory */
    char *pool;     /* its name, PREFIX-PID (the sweeper of ensure-bed.sh knows the prefixes) */
    char *image;    /* the cached test image */
    virConnectPtr conn;
} VsBedWorld;

/* Makes @bed: the pool is named @pool_prefix-PID, the folders start with @dir_prefix. Aborts
 * the test on failure. */
void vs_bed_world_setup(VsBedWorld *bed, const char *dir_prefix, const char *pool_prefix);

/* Removes the pool with every volume in it, the folders and the connection. */
void vs_bed_world_teardown(VsBedWorld *bed);
