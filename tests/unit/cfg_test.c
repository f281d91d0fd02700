/* cfg_test: the key table drives parsing; every error names file:line. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cfg.h"
#include "cfg_table.h"

static const char *BASE = "[warmpool]\n"
			  "workers = 2\n"
			  "\n"
			  "[listener main]\n"
			  "port = 7000\n"
			  "\n"
			  "[backend db]\n"
			  "host = 127.0.0.1\n"
			  "port = 3306\n"
			  "\n"
			  "[user app]\n"
			  "password = secret\n";

static void expect_error(const char *text, const char *want)
{
	struct cfg cfg;
	char err[512] = "";
	cr_assert_not(cfg_load_string("t.ini", text, &cfg, err, sizeof(err)), "accepted: %s", text);
	cr_expect_str_eq(err, want);
}

Test(cfg, minimal_file_gets_defaults)
{
	struct cfg cfg;
	char err[512] = "";
	cr_assert(cfg_load_string("t.ini", BASE, &cfg, err, sizeof(err)), "%s", err);
	cr_expect_eq(cfg.workers, 2);
	cr_expect_eq(cfg.client_wait_timeout_ms, 5000);
	cr_assert_eq(cfg.n_listeners, 1);
	cr_expect_str_eq(cfg.listeners[0].address, "127.0.0.1");
	cr_expect_eq(cfg.listeners[0].port, 7000);
	cr_expect_str_eq(cfg.listeners[0].backend, "db");
	cr_expect_eq(cfg.listeners[0].auth_plugin, MY_AUTH_NATIVE);
	cr_assert_eq(cfg.n_backends, 1);
	cr_expect_eq(cfg.backends[0].ssl_mode, CFG_SSL_PREFERRED);
	cr_expect_str_eq(cfg.backends[0].ssl_server_name, "127.0.0.1");
	cr_expect_eq(cfg.backends[0].min_idle, 2);
	cr_assert_eq(cfg.n_users, 1);
	cr_expect_str_eq(cfg_find_user(&cfg, "app")->password, "secret");
	cfg_free(&cfg);
}

Test(cfg, section_without_keys_still_exists)
{
	struct cfg cfg;
	char err[512] = "";
	const char *text = "[listener a]\n[listener b]\nport = 7001\n[backend db]\n"
			   "[user app]\npassword = x\n";
	cr_assert(cfg_load_string("t.ini", text, &cfg, err, sizeof(err)), "%s", err);
	cr_assert_eq(cfg.n_listeners, 2);
	cr_expect_eq(cfg.listeners[0].port, 6033);
	cr_expect_eq(cfg.listeners[1].port, 7001);
	cfg_free(&cfg);
}

Test(cfg, environment_overrides_keys)
{
	setenv("WARMPOOL_LOG_LEVEL", "debug", 1);
	setenv("WARMPOOL_BACKEND_DB_PORT", "3307", 1);
	setenv("WARMPOOL_BACKEND_DB_SSL_MODE", "required", 1);
	setenv("WARMPOOL_LISTENER_MAIN_ADDRESS", "0.0.0.0", 1);
	struct cfg cfg;
	char err[512] = "";
	bool ok = cfg_load_string("t.ini", BASE, &cfg, err, sizeof(err));
	unsetenv("WARMPOOL_LOG_LEVEL");
	unsetenv("WARMPOOL_BACKEND_DB_PORT");
	unsetenv("WARMPOOL_BACKEND_DB_SSL_MODE");
	unsetenv("WARMPOOL_LISTENER_MAIN_ADDRESS");
	cr_assert(ok, "%s", err);
	cr_expect_eq(cfg.log_level, LOG_DEBUG);
	cr_expect_eq(cfg.backends[0].port, 3307);
	cr_expect_eq(cfg.backends[0].ssl_mode, CFG_SSL_REQUIRED);
	cr_expect_eq(cfg.listeners[0].port, 7000); /* the file's, not overridden */
	cr_expect_str_eq(cfg.listeners[0].address, "0.0.0.0");
	cfg_free(&cfg);

	setenv("WARMPOOL_BACKEND_DB_PORT", "many", 1);
	expect_error(BASE, "environment WARMPOOL_BACKEND_DB_PORT: bad value for 'port': expected an "
			   "integer from 1 to 65535");
	unsetenv("WARMPOOL_BACKEND_DB_PORT");
}

Test(cfg, groups_resolve_into_listener_members)
{
	struct cfg cfg;
	char err[512] = "";
	const char *text = "[listener ro]\nbackend = replicas\n[listener rw]\nbackend = src\n"
			   "[backend src]\n[backend r1]\nweight = 50\n[backend r2]\n"
			   "[group replicas]\nmembers = r1, r2\nbalance = round_robin\n"
			   "[user app]\npassword = x\n";
	cr_assert(cfg_load_string("t.ini", text, &cfg, err, sizeof(err)), "%s", err);
	cr_assert_eq(cfg.listeners[0].n_members, 2);
	cr_expect_eq(cfg.listeners[0].members[0], 1);
	cr_expect_eq(cfg.listeners[0].members[1], 2);
	cr_expect_eq(cfg.listeners[0].balance, CFG_BALANCE_ROUND_ROBIN);
	cr_expect_eq(cfg.backends[1].weight, 50);
	cr_assert_eq(cfg.listeners[1].n_members, 1);
	cr_expect_eq(cfg.listeners[1].members[0], 0);
	cfg_free(&cfg);
	expect_error("[listener l]\nbackend = g\n[backend a]\n[group g]\nmembers = a, zz\n"
		     "[user u]\npassword = x\n",
		     "t.ini:7: [group g]: no [backend zz]");
	expect_error("[listener l]\n[backend a]\n[group a]\nmembers = a\n[user u]\npassword = x\n",
		     "t.ini:6: [group a]: a [backend] has the same name");
}

/* workers_for loads a file with |workers| ("" leaves the default) and the
 * backends at |host_a| and |host_b|, and resolves it for |cpus| CPUs. */
static int workers_for(const char *workers, const char *host_a, const char *host_b, long cpus)
{
	char text[512];
	snprintf(text, sizeof(text),
		 "[warmpool]\n%s%s\n[listener main]\nport = 7000\nbackend = a\n"
		 "[backend a]\nhost = %s\n[backend b]\nhost = %s\n[user app]\npassword = p\n",
		 workers[0] ? "workers = " : "", workers, host_a, host_b);
	struct cfg cfg;
	char err[512] = "";
	cr_assert(cfg_load_string("t.ini", text, &cfg, err, sizeof(err)), "%s", err);
	int n = cfg_workers_resolve(&cfg, cpus);
	cfg_free(&cfg);
	return n;
}

Test(cfg, workers_auto_leaves_a_local_database_its_cpus)
{
	/* The default is auto: half the CPUs when every backend is on this host. */
	cr_expect_eq(workers_for("", "127.0.0.1", "localhost", 8), 4);
	cr_expect_eq(workers_for("auto", "127.0.0.2", "::1", 8), 4);
	cr_expect_eq(workers_for("AUTO", "::ffff:127.0.0.1", "LocalHost", 2), 1);
	cr_expect_eq(workers_for("auto", "127.0.0.1", "127.0.0.1", 1), 1);
	/* One backend elsewhere: one per CPU. */
	cr_expect_eq(workers_for("auto", "127.0.0.1", "10.0.0.7", 8), 8);
	cr_expect_eq(workers_for("auto", "db.example", "127.0.0.1", 2), 2);
	cr_expect_eq(workers_for("auto", "128.0.0.1", "::2", 2), 2);
	/* Explicit settings are kept: 0 is one per CPU, N is N. */
	cr_expect_eq(workers_for("0", "127.0.0.1", "127.0.0.1", 8), 8);
	cr_expect_eq(workers_for("3", "127.0.0.1", "127.0.0.1", 8), 3);
	cr_expect_eq(workers_for("3", "10.0.0.7", "10.0.0.8", 2), 3);
	cr_expect_eq(workers_for("auto", "127.0.0.1", "127.0.0.1", 0), 1); /* sysconf failed */
}

Test(cfg, unknown_key_names_file_and_line)
{
	expect_error("[warmpool]\nworkers = 1\nwrokers = 2\n",
		     "t.ini:3: unknown key 'wrokers' in [warmpool]");
}

Test(cfg, bad_values_say_what_is_expected)
{
	expect_error("[backend db]\nport = 70000\n",
		     "t.ini:2: bad value for 'port' in [backend db]: expected an integer from 1 to 65535");
	expect_error("[backend db]\n\nssl_mode = verify\n",
		     "t.ini:3: bad value for 'ssl_mode' in [backend db]: expected one of: disabled "
		     "preferred required verify_ca verify_identity");
	expect_error("[listener x]\nrequire_tls = maybe\n",
		     "t.ini:2: bad value for 'require_tls' in [listener x]: expected true or false");
	expect_error("[warmpool]\nworkers = two\n",
		     "t.ini:2: bad value for 'workers' in [warmpool]: expected auto or an integer from 0 "
		     "to 256");
}

Test(cfg, unknown_section_and_bad_names)
{
	expect_error("[warmpool]\n[frontend x]\n",
		     "t.ini:2: unknown section [frontend x]: expected [warmpool], [listener NAME], "
		     "[backend NAME], [group NAME] or [user NAME]");
	expect_error("[backend]\n",
		     "t.ini:1: section [backend] needs a name of letters, digits, '_', '-' or '.'");
	expect_error("port = 1\n", "t.ini:1: key 'port' outside any section");
}

Test(cfg, syntax_error_has_its_line)
{
	expect_error("[warmpool]\nworkers = 1\nthis line has no equals sign\n",
		     "t.ini:3: syntax error (expected 'key = value' or '[section]')");
}

Test(cfg, cross_checks)
{
	char text[1024];
	snprintf(text, sizeof(text), "%s[backend other]\n", BASE);
	expect_error(text, "t.ini:13: [listener main]: name its backend or group (there are 2 backends)");
	expect_error("[listener l]\n[backend db]\nssl_mode = verify_ca\n[user u]\npassword = p\n",
		     "t.ini:5: [backend db]: ssl_mode=verify_ca needs ssl_ca");
	expect_error("[listener l]\nbackend = nope\n[backend db]\n[user u]\npassword = p\n",
		     "t.ini:5: [listener l]: no [backend nope] or [group nope]");
	expect_error("[listener l]\nrequire_tls = true\n[backend db]\n[user u]\npassword = p\n",
		     "t.ini:5: [listener l]: require_tls needs tls_cert and tls_key");
	expect_error("[listener l]\n[backend db]\nmin_idle = 5\nmax_connections = 2\n[user u]\npassword = p\n",
		     "t.ini:6: [backend db]: min_idle (5) exceeds max_connections (2)");
	expect_error("[listener l]\n[backend db]\n", "t.ini:2: no users: add users_file or a [user NAME] section");
	expect_error("[backend db]\n[user u]\npassword = p\n", "t.ini:3: no [listener NAME] section");
}

Test(cfg, user_password_sources)
{
	expect_error("[listener l]\n[backend db]\n[user u]\npassword = a\npassword_env = B\n",
		     "t.ini:5: [user u]: set exactly one of password, password_file, password_env");
	expect_error("[listener l]\n[backend db]\n[user u]\npassword_env = WARMPOOL_TEST_UNSET\n",
		     "t.ini:4: [user u]: environment variable WARMPOOL_TEST_UNSET is not set");
	setenv("WARMPOOL_TEST_PW", "from-env", 1);
	struct cfg cfg;
	char err[512] = "";
	cr_assert(cfg_load_string("t.ini", "[listener l]\n[backend db]\n[user u]\npassword_env = WARMPOOL_TEST_PW\n",
				  &cfg, err, sizeof(err)), "%s", err);
	cr_expect_str_eq(cfg_find_user(&cfg, "u")->password, "from-env");
	cfg_free(&cfg);
}

Test(cfg, users_file)
{
	char path[] = "/tmp/warmpool-users-XXXXXX";
	int fd = mkstemp(path);
	cr_assert(fd >= 0);
	FILE *f = fdopen(fd, "w");
	fputs("# comment\n\napp:pa:ss\nbob:x\n", f);
	fclose(f);
	char text[512];
	snprintf(text, sizeof(text), "[warmpool]\nusers_file = %s\n[listener l]\n[backend db]\n", path);
	struct cfg cfg;
	char err[512] = "";
	cr_assert(cfg_load_string("t.ini", text, &cfg, err, sizeof(err)), "%s", err);
	cr_expect_str_eq(cfg_find_user(&cfg, "app")->password, "pa:ss");
	cr_expect_str_eq(cfg_find_user(&cfg, "bob")->password, "x");
	cr_expect_null(cfg_find_user(&cfg, "eve"));
	cfg_free(&cfg);
	f = fopen(path, "w");
	fputs("app:1\nnocolon\n", f);
	fclose(f);
	char want[512];
	snprintf(want, sizeof(want), "t.ini:4: %s:2: expected name:password", path);
	expect_error(text, want);
	unlink(path);
}

/* server_public_key is read (and checked) when the file loads, so that a
 * login never opens a file and a wrong file is an error at start. */
Test(cfg, server_public_key_is_read_at_load)
{
	char dir[] = "/tmp/cfg_test_XXXXXX";
	cr_assert(mkdtemp(dir));
	char key[128], bad[128], text[1024];
	snprintf(key, sizeof(key), "%s/public_key.pem", dir);
	snprintf(bad, sizeof(bad), "%s/not_a_key.pem", dir);
	/* A 512-bit key keeps the test fast; the parser does not care. */
	static const char pem[] =
		"-----BEGIN PUBLIC KEY-----\n"
		"MFwwDQYJKoZIhvcNAQEBBQADSwAwSAJBAKrrlTbfe7KvwgS4xTQsIJMH8yahjaPs\n"
		"fhFkVn/OUixitzBF7JBaa2QNKXD1L7gwsEGjnLgl5zMubQ9FlwLlrYkCAwEAAQ==\n"
		"-----END PUBLIC KEY-----\n";
	FILE *f = fopen(key, "w");
	fputs(pem, f);
	fclose(f);
	f = fopen(bad, "w");
	fputs("-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n", f);
	fclose(f);

	struct cfg cfg;
	char err[512] = "";
	snprintf(text, sizeof(text),
		 "[listener main]\n[backend db]\nserver_public_key = %s\n[user app]\npassword = p\n",
		 key);
	cr_assert(cfg_load_string("t.ini", text, &cfg, err, sizeof(err)), "%s", err);
	cr_expect_eq(cfg.backends[0].server_public_key_pem_len, strlen(pem));
	cr_expect(memcmp(cfg.backends[0].server_public_key_pem, pem, strlen(pem)) == 0);
	cr_expect_not(cfg.backends[0].allow_public_key_retrieval);
	cr_expect_not(cfg.backends[0].enable_cleartext_plugin);
	cfg_free(&cfg);

	char want[512];
	snprintf(text, sizeof(text),
		 "[listener main]\n[backend db]\nserver_public_key = %s\n[user app]\npassword = p\n",
		 bad);
	snprintf(want, sizeof(want),
		 "t.ini:5: [backend db]: server_public_key %s is not a PEM RSA public key", bad);
	expect_error(text, want);
	snprintf(text, sizeof(text),
		 "[listener main]\n[backend db]\nserver_public_key = %s/none\n[user app]\npassword = p\n",
		 dir);
	snprintf(want, sizeof(want),
		 "t.ini:5: [backend db]: cannot open server_public_key %s/none: No such file or directory",
		 dir);
	expect_error(text, want);
	unlink(key);
	unlink(bad);
	rmdir(dir);
}

Test(cfg, missing_file)
{
	struct cfg cfg;
	char err[512];
	cr_expect_not(cfg_load("/nonexistent/warmpool.ini", &cfg, err, sizeof(err)));
	cr_expect_str_eq(err, "/nonexistent/warmpool.ini: cannot open: No such file or directory");
}

Test(cfg, every_default_is_valid_for_its_key)
{
	/* Parsing a file that sets each key to its documented default must
	 * succeed: the table cannot hold a default its own limits refuse. */
	char text[8192] = "";
	static const char *const headers[] = {"[warmpool]", "[listener l]", "[backend db]", "[user u]"};
	for (int s = 0; s < 4; s++) {
		strcat(text, headers[s]);
		strcat(text, "\n");
		for (size_t i = 0; i < cfg_keys_len; i++) {
			const struct cfg_key *k = &cfg_keys[i];
			if ((int)k->section != s || !k->def)
				continue;
			char line[256];
			snprintf(line, sizeof(line), "%s = %s\n", k->name, k->def);
			strcat(text, line);
		}
	}
	strcat(text, "password = p\n");
	struct cfg cfg;
	char err[512] = "";
	cr_assert(cfg_load_string("defaults.ini", text, &cfg, err, sizeof(err)), "%s", err);
	cfg_free(&cfg);
}

Test(cfg, example_config_documents_every_key)
{
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);
	cfg_write_example(f);
	fclose(f);
	for (size_t i = 0; i < cfg_keys_len; i++) {
		char needle[128];
		snprintf(needle, sizeof(needle), "\n;%s = ", cfg_keys[i].name);
		cr_expect(strstr(text, needle) != NULL, "key %s missing", cfg_keys[i].name);
		cr_expect(strstr(text, cfg_keys[i].help) != NULL, "help of %s missing", cfg_keys[i].name);
	}
	free(text);
}

Test(cfg, commit_marker_is_a_table_and_needs_replay)
{
	struct cfg cfg;
	char err[512] = "";
	const char *ok = "[listener l]\nreplay_transactions = true\nreplay_commit_marker = wp.marker\n"
			 "[backend a]\n[user u]\npassword = x\n";
	cr_assert(cfg_load_string("t.ini", ok, &cfg, err, sizeof(err)), "%s", err);
	cr_expect_str_eq(cfg.listeners[0].replay_commit_marker, "wp.marker");
	cfg_free(&cfg);
	expect_error("[listener l]\nreplay_commit_marker = wp.marker\n[backend a]\n[user u]\n"
		     "password = x\n",
		     "t.ini:5: [listener l]: replay_commit_marker needs replay_transactions = true");
	expect_error("[listener l]\nreplay_transactions = true\nreplay_commit_marker = marker; "
		     "DROP TABLE t\n[backend a]\n[user u]\npassword = x\n",
		     "t.ini:6: [listener l]: replay_commit_marker is schema.table (letters, digits, _ "
		     "and $), not \"marker; DROP TABLE t\"");
}
