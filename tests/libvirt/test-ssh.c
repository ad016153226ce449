/* ssh/exec against a workstation's metadata, without booting a guest: libvirt's test driver
 * holds a running domain (test:///FILE, the file written here) whose metadata points at an sshd
 * this test starts on a loopback port (its own host key and authorized key; nothing of the
 * machine's SSH setup is touched). Checked: the guest's host key is verified against the
 * metadata's (another key: refused, the command never runs); a metadata user or host that
 * ssh could read as an option or a shell could run is refused before anything runs; and the
 * jump host of a remote URI is verified against the URI's known_hosts= (the ssh command line
 * vs_ssh_argv builds, run through the same sshd as jump host and "guest"). */
#include <glib/gstdio.h>
#include <signal.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "domains/metadata.h"
#include "provisioner/sshcmd.h"
#include "tests/bed/bed.h"

#define UUID "6695eb01-f6a4-8304-79aa-97f2502e193f"

typedef struct {
    char *dir;
    char *client_key;
    char *host_pub;  /* the sshd's host key (public half, one line) */
    char *other_pub; /* a host key the sshd does not have */
    guint16 port;
    GPid sshd;
} Sshd;

/* Returns the public half (one line, stripped) of a fresh ed25519 key at @path. */
static char *
host_key(const char *path)
{
    const char *keygen[] = {"ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", path, NULL};
    g_autofree char *pub = g_strconcat(path, ".pub", NULL);
    char *text = NULL;
    int status;

    g_assert_true(g_spawn_sync(NULL, (char **)keygen, NULL, G_SPAWN_SEARCH_PATH, NULL, NULL, NULL,
                               NULL, &status, NULL));
    g_assert_cmpint(status, ==, 0);
    g_assert_true(g_file_get_contents(pub, &text, NULL, NULL));
    return g_strstrip(text);
}

/* Starts an sshd on 127.0.0.1 that lets the current user in with a key of the test's own. */
static void
sshd_start(Sshd *s)
{
    g_autoptr(GError) error = NULL;
    g_autofree char *config = NULL, *conf = NULL, *pub_text = NULL, *client_pub = NULL;
    g_autofree char *authorized = NULL, *key = NULL, *other = NULL;

    s->dir = vs_bed_tmpdir("vs-ssh");
    g_chmod(s->dir, 0700);
    s->client_key = vs_bed_keypair(s->dir, &error);
    g_assert_no_error(error);
    client_pub = g_strconcat(s->client_key, ".pub", NULL);
    g_assert_true(g_file_get_contents(client_pub, &pub_text, NULL, NULL));
    authorized = g_build_filename(s->dir, "authorized_keys", NULL);
    g_assert_true(g_file_set_contents(authorized, pub_text, -1, NULL));
    key = g_build_filename(s->dir, "host", NULL);
    other = g_build_filename(s->dir, "other", NULL);
    s->host_pub = host_key(key);
    s->other_pub = host_key(other);
    g_assert_cmpstr(s->host_pub, !=, s->other_pub);
    s->port = vs_bed_free_port();
    config = g_build_filename(s->dir, "sshd_config", NULL);
    conf = g_strdup_printf(
        "Port %u\nListenAddress 127.0.0.1\nHostKey %s\nAuthorizedKeysFile %s\n"
        "PermitRootLogin prohibit-password\nPasswordAuthentication no\n"
        "KbdInteractiveAuthentication no\nUsePAM no\nStrictModes no\nPidFile %s/sshd.pid\n",
        s->port, key, authorized, s->dir);
    g_assert_true(g_file_set_contents(config, conf, -1, NULL));
    g_mkdir_with_parents("/run/sshd", 0755);
    const char *argv[] = {"/usr/sbin/sshd", "-D", "-e", "-f", config, NULL};
    g_assert_true(g_spawn_async(NULL, (char **)argv, NULL, G_SPAWN_DO_NOT_REAP_CHILD, NULL, NULL,
                                &s->sshd, &error));
    g_assert_no_error(error);
    vs_bed_assert_loopback("127.0.0.1");
    for (int i = 0; i < 100; i++) {
        g_autofree char *o = NULL, *e = NULL;
        int status = 255;
        if (vs_bed_ssh("127.0.0.1", s->port, g_get_user_name(), s->client_key, "true", &o, &e,
                       &status, NULL) &&
            status == 0)
            return;
        g_usleep(G_USEC_PER_SEC / 10);
    }
    g_error("the test's sshd on port %u never answered", s->port);
}

static void
sshd_stop(Sshd *s)
{
    kill(s->sshd, SIGTERM);
    waitpid(s->sshd, NULL, 0);
    g_unsetenv("XDG_DATA_HOME");
    g_unsetenv("XDG_CACHE_HOME");
    g_unsetenv("XDG_RUNTIME_DIR");
    vs_bed_rmtree(s->dir);
    g_free(s->dir);
    g_free(s->client_key);
    g_free(s->host_pub);
    g_free(s->other_pub);
}

/* Returns the URI of a test-driver host holding one running workstation @name whose metadata
 * says: SSH as @user to @host port @port, host key @host_key. */
static char *
fake_host(const Sshd *s, const char *name, const char *user, const char *host, guint16 port,
          const char *key)
{
    g_autofree char *file = g_build_filename(s->dir, "host.xml", NULL);
    g_autofree char *xml = g_markup_printf_escaped(
        "<node><domain type='test'><name>%s</name><uuid>" UUID "</uuid>"
        "<memory>65536</memory><os><type>hvm</type></os><metadata>"
        "<vs:station xmlns:vs='urn:virt-station:domain:1' version='1' uuid='" UUID "'>"
        "<vs:network mode='user' mac='52:54:00:01:02:03'/>"
        "<vs:ssh user='%s' host='%s' port='%u'/><vs:host-key>%s</vs:host-key>"
        "</vs:station></metadata></domain></node>",
        name, user, host, (guint)port, key);

    g_assert_true(g_file_set_contents(file, xml, -1, NULL));
    return g_strdup_printf("test://%s", file);
}

/* Runs `exec @name --identity KEY -- @command...` on @uri. */
#define exec_on(uri, s, name, ...)                                                                 \
    vs_bed_run_vsv(uri, "exec", name, "--identity", (s)->client_key, "--", __VA_ARGS__, NULL)

static void
test_host_key_checked(void)
{
    Sshd s = {0};
    g_autofree char *name = g_strdup_printf("vs-life-ssh-%d", (int)getpid());
    g_autofree char *ran = NULL, *uri_right = NULL, *uri_wrong = NULL;

    sshd_start(&s);
    g_setenv("XDG_DATA_HOME", s.dir, TRUE);
    g_setenv("XDG_CACHE_HOME", s.dir, TRUE);
    g_setenv("XDG_RUNTIME_DIR", s.dir, TRUE);
    ran = g_build_filename(s.dir, "ran", NULL);

    /* The metadata names the sshd's own host key: the command runs. */
    uri_right = fake_host(&s, name, g_get_user_name(), "127.0.0.1", s.port, s.host_pub);
    g_auto(VsBedRun) right = exec_on(uri_right, &s, name, "echo", "in the guest");
    if (right.status != 0)
        g_error("exec with the right host key: exit %d, %s", right.status, right.err);
    g_assert_cmpstr(right.out, ==, "in the guest\n");

    /* Another host key in the metadata: ssh refuses the host, the command never runs. */
    uri_wrong = fake_host(&s, name, g_get_user_name(), "127.0.0.1", s.port, s.other_pub);
    g_auto(VsBedRun) wrong = exec_on(uri_wrong, &s, name, "touch", ran);
    g_assert_cmpint(wrong.status, ==, 255);
    if (!strstr(wrong.err, "Host key verification failed"))
        g_error("exec with another host key: %s", wrong.err);
    g_assert_false(g_file_test(ran, G_FILE_TEST_EXISTS));
    /* ssh (not exec) refuses the same way. */
    g_auto(VsBedRun) shell = vs_bed_run_vsv(uri_wrong, "ssh", name, "--identity", s.client_key,
                                            "--", "touch", ran, NULL);
    g_assert_cmpint(shell.status, ==, 255);
    g_assert_false(g_file_test(ran, G_FILE_TEST_EXISTS));

    sshd_stop(&s);
}

/* A metadata user or host that is an ssh option or shell syntax: refused (exec: 125), nothing
 * runs, neither ssh's ProxyCommand nor the command. */
static void
test_metadata_refused(void)
{
    Sshd s = {0};
    g_autofree char *name = g_strdup_printf("vs-life-ssh-%d", (int)getpid());

    sshd_start(&s);
    g_setenv("XDG_DATA_HOME", s.dir, TRUE);
    g_setenv("XDG_CACHE_HOME", s.dir, TRUE);
    g_setenv("XDG_RUNTIME_DIR", s.dir, TRUE);
    g_autofree char *x = g_build_filename(s.dir, "x", NULL);
    g_autofree char *y = g_build_filename(s.dir, "y", NULL);
    g_autofree char *ran = g_build_filename(s.dir, "ran", NULL);
    g_autofree char *proxy_user = g_strdup_printf("-oProxyCommand=touch %s", x);
    g_autofree char *shell_host = g_strdup_printf("127.0.0.1;touch %s", y);
    const struct {
        const char *user, *host, *said;
    } cases[] = {
        {proxy_user, "127.0.0.1", "refusing the metadata's SSH user '-oProxyCommand=touch "},
        {g_get_user_name(), shell_host, "refusing the metadata's SSH host '127.0.0.1;touch "},
        {g_get_user_name(), "-oFoo", "refusing the metadata's SSH host '-oFoo'"},
    };

    for (guint i = 0; i < G_N_ELEMENTS(cases); i++) {
        g_autofree char *uri =
            fake_host(&s, name, cases[i].user, cases[i].host, s.port, s.host_pub);
        g_auto(VsBedRun) r = exec_on(uri, &s, name, "touch", ran);
        if (r.status != 125 || !strstr(r.err, cases[i].said))
            g_error("case %u: exit %d, %s", i, r.status, r.err);
        g_auto(VsBedRun) shell =
            vs_bed_run_vsv(uri, "ssh", name, "--identity", s.client_key, "--", "touch", ran, NULL);
        if (shell.status != 1 || !strstr(shell.err, cases[i].said))
            g_error("ssh, case %u: exit %d, %s", i, shell.status, shell.err);
    }
    g_assert_false(g_file_test(x, G_FILE_TEST_EXISTS));
    g_assert_false(g_file_test(y, G_FILE_TEST_EXISTS));
    g_assert_false(g_file_test(ran, G_FILE_TEST_EXISTS));

    sshd_stop(&s);
}

/* Runs the ssh command line virt-station builds for @uri (the jump host) to the guest of
 * @station with `touch @marker`. Returns ssh's exit status; its stderr in @ret_err. */
static int
run_through_jump(const Sshd *s, const char *uri, const VsMetadata *station, const char *marker,
                 char **ret_err)
{
    g_autoptr(GError) error = NULL;
    const char *const identities[] = {s->client_key, NULL};
    g_autoptr(VsSshTarget) t =
        vs_ssh_target_new(uri, "vs-life-jump", station, NULL, identities, &error);
    char *command[] = {(char *)"touch", (char *)marker, NULL};
    int status = -1;

    g_assert_no_error(error);
    g_assert_nonnull(t->jump);
    g_autoptr(GPtrArray) argv = vs_ssh_argv(t, TRUE, FALSE, command);
    g_assert_true(g_spawn_sync(NULL, (char **)argv->pdata, NULL,
                               G_SPAWN_SEARCH_PATH | G_SPAWN_STDIN_FROM_DEV_NULL, NULL, NULL, NULL,
                               ret_err, &status, &error));
    g_assert_no_error(error);
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

/* The jump host's key: checked against the URI's known_hosts= (another key there: refused, the
 * command never runs); no_verify=1 turns the check off, as it does for libvirt itself. */
static void
test_jump_host_key_checked(void)
{
    Sshd s = {0};
    g_autoptr(GError) error = NULL;

    sshd_start(&s);
    /* known_hosts files of the guest go under the test's folder. */
    g_setenv("XDG_CACHE_HOME", s.dir, TRUE);
    g_autofree char *marker = g_build_filename(s.dir, "ran", NULL);
    g_autofree char *right = g_build_filename(s.dir, "jump_right", NULL);
    g_autofree char *wrong = g_build_filename(s.dir, "jump_wrong", NULL);
    g_autofree char *right_line = g_strdup_printf("[127.0.0.1]:%u %s\n", s.port, s.host_pub);
    g_autofree char *wrong_line = g_strdup_printf("[127.0.0.1]:%u %s\n", s.port, s.other_pub);
    g_assert_true(g_file_set_contents(right, right_line, -1, NULL));
    g_assert_true(g_file_set_contents(wrong, wrong_line, -1, NULL));
    g_autofree char *xml = g_markup_printf_escaped(
        "<vs:station xmlns:vs='urn:virt-station:domain:1' version='1'>"
        "<vs:ssh user='%s' host='127.0.0.1' port='%u'/><vs:host-key>%s</vs:host-key>"
        "</vs:station>",
        g_get_user_name(), (guint)s.port, s.host_pub);
    g_autoptr(VsMetadata) station = vs_metadata_parse(xml, &error);
    g_assert_no_error(error);

    g_autofree char *uri_right =
        g_strdup_printf("qemu+ssh://%s@127.0.0.1:%u/system?keyfile=%s&known_hosts=%s",
                        g_get_user_name(), s.port, s.client_key, right);
    g_autofree char *err_right = NULL;
    int ok = run_through_jump(&s, uri_right, station, marker, &err_right);
    if (ok != 0)
        g_error("through the jump host with its right key: exit %d, %s", ok, err_right);
    g_assert_true(g_file_test(marker, G_FILE_TEST_EXISTS));
    g_unlink(marker);

    g_autofree char *uri_wrong =
        g_strdup_printf("qemu+ssh://%s@127.0.0.1:%u/system?keyfile=%s&known_hosts=%s",
                        g_get_user_name(), s.port, s.client_key, wrong);
    g_autofree char *err_wrong = NULL;
    int refused = run_through_jump(&s, uri_wrong, station, marker, &err_wrong);
    g_assert_cmpint(refused, ==, 255);
    if (!strstr(err_wrong, "Host key verification failed") &&
        !strstr(err_wrong, "REMOTE HOST IDENTIFICATION HAS CHANGED"))
        g_error("jump host with another key: %s", err_wrong);
    g_assert_false(g_file_test(marker, G_FILE_TEST_EXISTS));

    g_autofree char *uri_no_verify = g_strdup_printf("%s&no_verify=1", uri_wrong);
    g_autofree char *err_nv = NULL;
    int unchecked = run_through_jump(&s, uri_no_verify, station, marker, &err_nv);
    if (unchecked != 0)
        g_error("no_verify=1: exit %d, %s", unchecked, err_nv);
    g_assert_true(g_file_test(marker, G_FILE_TEST_EXISTS));

    sshd_stop(&s);
}

int
main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/ssh/host-key-checked", test_host_key_checked);
    g_test_add_func("/ssh/metadata-refused", test_metadata_refused);
    g_test_add_func("/ssh/jump-host-key-checked", test_jump_host_key_checked);
    return g_test_run();
}
