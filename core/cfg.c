/* cfg: INI parsing (inih) driven by cfg_table, then cross-checks and user secrets. */
#include "cfg.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <ini.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "cfg_table.h"
#include "cfg_users.h"
#include "my_marker.h"

struct cfg_parse {
	struct cfg *cfg;
	const char *path;
	int line;
	char *err;
	size_t err_len;
	bool failed;
	/* The stream inih reads: a FILE or a string. */
	FILE *file;
	const char *text;
	/* The section being filled, and where its struct lives. */
	enum cfg_section section;
	void *target;
	char section_name[128];
};

const char *cfg_ssl_mode_str(enum cfg_ssl_mode mode)
{
	switch (mode) {
	case CFG_SSL_DISABLED: return "disabled";
	case CFG_SSL_PREFERRED: return "preferred";
	case CFG_SSL_REQUIRED: return "required";
	case CFG_SSL_VERIFY_CA: return "verify_ca";
	case CFG_SSL_VERIFY_IDENTITY: return "verify_identity";
	}
	return "unknown";
}

static void parse_fail(struct cfg_parse *p, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void parse_fail(struct cfg_parse *p, const char *fmt, ...)
{
	if (p->failed)
		return; /* the first error is the one worth reading */
	p->failed = true;
	int n = snprintf(p->err, p->err_len, "%s:%d: ", p->path, p->line);
	if (n < 0 || (size_t)n >= p->err_len)
		return;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(p->err + n, p->err_len - n, fmt, ap);
	va_end(ap);
}

static bool open_section(struct cfg_parse *p, const char *section);

/* Readers hand inih one line per call, so counting calls gives line numbers.
 * They also open sections as their header lines go by: the Debian build of
 * inih does not report a section that has no keys, yet "[listener main]"
 * with every default is a whole listener. */
static void line_seen(struct cfg_parse *p, const char *line)
{
	p->line++;
	line += strspn(line, " \t");
	if (*line != '[' || p->failed)
		return;
	const char *end = strchr(line, ']');
	if (!end)
		return; /* inih reports the syntax error */
	char name[sizeof(p->section_name)];
	size_t len = (size_t)(end - line - 1);
	if (len >= sizeof(name))
		len = sizeof(name) - 1;
	memcpy(name, line + 1, len);
	name[len] = '\0';
	open_section(p, name);
}

static char *read_line_file(char *str, int num, void *stream)
{
	struct cfg_parse *p = stream;
	char *r = fgets(str, num, p->file);
	if (r)
		line_seen(p, r);
	return r;
}

static char *read_line_string(char *str, int num, void *stream)
{
	struct cfg_parse *p = stream;
	if (!*p->text || num < 2)
		return NULL;
	const char *nl = strchr(p->text, '\n');
	size_t n = nl ? (size_t)(nl - p->text) + 1 : strlen(p->text);
	if (n > (size_t)num - 1)
		n = (size_t)num - 1;
	memcpy(str, p->text, n);
	str[n] = '\0';
	p->text += n;
	line_seen(p, str);
	return str;
}

static bool parse_int(const char *v, long *out)
{
	char *end;
	errno = 0;
	long n = strtol(v, &end, 10);
	if (errno || end == v || *end != '\0')
		return false;
	*out = n;
	return true;
}

static bool parse_bool(const char *v, bool *out)
{
	static const char *const yes[] = {"true", "yes", "on", "1"};
	static const char *const no[] = {"false", "no", "off", "0"};
	for (size_t i = 0; i < 4; i++) {
		if (strcasecmp(v, yes[i]) == 0)
			return (*out = true);
		if (strcasecmp(v, no[i]) == 0)
			return !(*out = false);
	}
	return false;
}

/* key_set stores |value| into the field |key| describes; false with a
 * reason in |why| when the value does not fit the key's type or limits. */
static bool key_set(const struct cfg_key *key, void *target, const char *value, char *why,
		    size_t why_len)
{
	char *field = (char *)target + key->offset;
	long n;
	bool b;
	switch (key->type) {
	case CFG_INT:
		for (int i = 0; key->choices && key->choices[i]; i++) {
			if (strcasecmp(value, key->choices[i]) == 0) {
				*(int *)field = -1 - i;
				return true;
			}
		}
		if (!parse_int(value, &n) || n < key->min || n > key->max) {
			snprintf(why, why_len, "expected %s%san integer from %ld to %ld",
				 key->choices ? key->choices[0] : "", key->choices ? " or " : "",
				 key->min, key->max);
			return false;
		}
		*(int *)field = (int)n;
		return true;
	case CFG_BOOL:
		if (!parse_bool(value, &b)) {
			snprintf(why, why_len, "expected true or false");
			return false;
		}
		*(bool *)field = b;
		return true;
	case CFG_STR:
		xfree(*(char **)field);
		*(char **)field = xstrdup(value);
		return true;
	case CFG_ENUM:
		for (int i = 0; key->choices[i]; i++) {
			if (key->choices[i][0] && strcasecmp(value, key->choices[i]) == 0) {
				*(int *)field = i;
				return true;
			}
		}
		int w = snprintf(why, why_len, "expected one of:");
		for (int i = 0; key->choices[i] && w > 0 && (size_t)w < why_len; i++) {
			if (key->choices[i][0])
				w += snprintf(why + w, why_len - w, " %s", key->choices[i]);
		}
		return false;
	}
	return false;
}

static const struct cfg_key *key_find(enum cfg_section section, const char *name)
{
	for (size_t i = 0; i < cfg_keys_len; i++) {
		if (cfg_keys[i].section == section && strcmp(cfg_keys[i].name, name) == 0)
			return &cfg_keys[i];
	}
	return NULL;
}

static void apply_defaults(enum cfg_section section, void *target)
{
	char why[128];
	for (size_t i = 0; i < cfg_keys_len; i++) {
		const struct cfg_key *k = &cfg_keys[i];
		if (k->section == section && k->def) {
			bool ok = key_set(k, target, k->def, why, sizeof(why));
			(void)ok; /* defaults are within their own limits (unit-tested) */
		}
	}
}

static void free_strings(enum cfg_section section, void *target)
{
	for (size_t i = 0; i < cfg_keys_len; i++) {
		const struct cfg_key *k = &cfg_keys[i];
		if (k->section == section && k->type == CFG_STR) {
			char **field = (char **)((char *)target + k->offset);
			xfree(*field);
			*field = NULL;
		}
	}
}

/* grow_array appends one zeroed element and returns it. */
static void *grow_array(void **array, size_t *count, size_t elem_size)
{
	*array = xrealloc(*array, (*count + 1) * elem_size);
	void *elem = (char *)*array + *count * elem_size;
	memset(elem, 0, elem_size);
	(*count)++;
	return elem;
}

static bool name_is_valid(const char *name)
{
	if (!*name || strlen(name) > 63)
		return false;
	for (const char *c = name; *c; c++) {
		if (!(*c == '_' || *c == '-' || *c == '.' || (*c >= '0' && *c <= '9') ||
		      (*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z')))
			return false;
	}
	return true;
}

/* open_section starts [warmpool], [listener NAME], [backend NAME] or [user NAME]. */
static bool open_section(struct cfg_parse *p, const char *section)
{
	struct cfg *cfg = p->cfg;
	snprintf(p->section_name, sizeof(p->section_name), "%s", section);
	if (strcmp(section, "warmpool") == 0) {
		p->section = CFG_SECTION_GLOBAL;
		p->target = cfg;
		return true;
	}
	const char *space = strchr(section, ' ');
	const char *name = space ? space + 1 : "";
	size_t kind_len = space ? (size_t)(space - section) : strlen(section);
	char **name_field;
	if (kind_len == 8 && strncmp(section, "listener", 8) == 0) {
		struct cfg_listener *l = grow_array((void **)&cfg->listeners, &cfg->n_listeners,
						    sizeof(*l));
		p->section = CFG_SECTION_LISTENER;
		p->target = l;
		name_field = &l->name;
	} else if (kind_len == 7 && strncmp(section, "backend", 7) == 0) {
		struct cfg_backend *b = grow_array((void **)&cfg->backends, &cfg->n_backends,
						   sizeof(*b));
		p->section = CFG_SECTION_BACKEND;
		p->target = b;
		name_field = &b->name;
	} else if (kind_len == 4 && strncmp(section, "user", 4) == 0) {
		struct cfg_user *u = grow_array((void **)&cfg->users, &cfg->n_users, sizeof(*u));
		p->section = CFG_SECTION_USER;
		p->target = u;
		name_field = &u->name;
	} else if (kind_len == 5 && strncmp(section, "group", 5) == 0) {
		struct cfg_group *g = grow_array((void **)&cfg->groups, &cfg->n_groups, sizeof(*g));
		p->section = CFG_SECTION_GROUP;
		p->target = g;
		name_field = &g->name;
	} else {
		parse_fail(p, "unknown section [%s]: expected [warmpool], [listener NAME], "
			      "[backend NAME], [group NAME] or [user NAME]", section);
		return false;
	}
	apply_defaults(p->section, p->target);
	*name_field = xstrdup(name);
	if (p->section != CFG_SECTION_USER && !name_is_valid(name)) {
		parse_fail(p, "section [%s] needs a name of letters, digits, '_', '-' or '.'",
			   section);
		return false;
	}
	return true;
}

static int on_ini_entry(void *user, const char *section, const char *name, const char *value)
{
	struct cfg_parse *p = user;
	if (p->failed)
		return 0;
	if (!p->target) {
		parse_fail(p, "key '%s' outside any section", name);
		return 0;
	}
	const struct cfg_key *key = key_find(p->section, name);
	if (!key) {
		parse_fail(p, "unknown key '%s' in [%s]", name, p->section_name);
		return 0;
	}
	char why[256];
	if (!key_set(key, p->target, value, why, sizeof(why))) {
		parse_fail(p, "bad value for '%s' in [%s]: %s", name, p->section_name, why);
		return 0;
	}
	return 1;
}

/* PUBLIC_KEY_MAX bounds server_public_key: an RSA-16384 key's PEM is ~3 KiB. */
#define PUBLIC_KEY_MAX 16384

/* load_public_key reads server_public_key into the snapshot, so that a login
 * never reads a file, and checks now that it is an RSA public key. */
static bool load_public_key(struct cfg_parse *p, struct cfg_backend *b)
{
	FILE *f = fopen(b->server_public_key, "r");
	if (!f) {
		parse_fail(p, "[backend %s]: cannot open server_public_key %s: %s", b->name,
			   b->server_public_key, strerror(errno));
		return false;
	}
	uint8_t *pem = xmalloc(PUBLIC_KEY_MAX);
	size_t len = fread(pem, 1, PUBLIC_KEY_MAX, f);
	bool whole = feof(f) && !ferror(f);
	fclose(f);
	if (!whole || !my_rsa_public_key_valid(pem, len)) {
		xfree(pem);
		parse_fail(p, "[backend %s]: server_public_key %s is not a PEM RSA public key", b->name,
			   b->server_public_key);
		return false;
	}
	b->server_public_key_pem = pem;
	b->server_public_key_pem_len = len;
	return true;
}

static bool validate_backend(struct cfg_parse *p, struct cfg_backend *b)
{
	if (b->ssl_mode >= CFG_SSL_VERIFY_CA && !b->ssl_ca) {
		parse_fail(p, "[backend %s]: ssl_mode=%s needs ssl_ca", b->name,
			   cfg_ssl_mode_str(b->ssl_mode));
		return false;
	}
	if (!b->ssl_cert != !b->ssl_key) {
		parse_fail(p, "[backend %s]: ssl_cert and ssl_key go together", b->name);
		return false;
	}
	if (b->min_idle > b->max_connections) {
		parse_fail(p, "[backend %s]: min_idle (%d) exceeds max_connections (%d)", b->name,
			   b->min_idle, b->max_connections);
		return false;
	}
	if (!b->ssl_server_name)
		b->ssl_server_name = xstrdup(b->host);
	return !b->server_public_key || load_public_key(p, b);
}

static bool find_backend(const struct cfg *cfg, const char *name, size_t *out)
{
	for (size_t i = 0; i < cfg->n_backends; i++) {
		if (strcmp(cfg->backends[i].name, name) == 0) {
			*out = i;
			return true;
		}
	}
	return false;
}

/* resolve_group_members turns "a, b, c" into backend indexes for |l|. */
static bool resolve_group_members(struct cfg_parse *p, struct cfg_listener *l,
				  const struct cfg_group *g)
{
	if (!g->members) {
		parse_fail(p, "[group %s]: needs members = BACKEND, BACKEND...", g->name);
		return false;
	}
	char *list = xstrdup(g->members), *save = NULL;
	bool ok = true;
	for (char *tok = strtok_r(list, ", \t", &save); tok && ok;
	     tok = strtok_r(NULL, ", \t", &save)) {
		size_t idx;
		if (!find_backend(p->cfg, tok, &idx)) {
			parse_fail(p, "[group %s]: no [backend %s]", g->name, tok);
			ok = false;
			break;
		}
		l->members = xrealloc(l->members, (l->n_members + 1) * sizeof(*l->members));
		l->members[l->n_members++] = idx;
	}
	xfree(list);
	if (ok && l->n_members == 0) {
		parse_fail(p, "[group %s]: no members", g->name);
		ok = false;
	}
	l->balance = g->balance;
	return ok;
}

static bool resolve_listener_backend(struct cfg_parse *p, struct cfg_listener *l)
{
	const struct cfg *cfg = p->cfg;
	if (!l->backend) {
		if (cfg->n_backends != 1) {
			parse_fail(p, "[listener %s]: name its backend or group (there are %zu backends)",
				   l->name, cfg->n_backends);
			return false;
		}
		l->backend = xstrdup(cfg->backends[0].name);
	}
	for (size_t i = 0; i < cfg->n_groups; i++) {
		if (strcmp(cfg->groups[i].name, l->backend) == 0) {
			if (!resolve_group_members(p, l, &cfg->groups[i]))
				return false;
			l->backend_idx = l->members[0];
			return true;
		}
	}
	if (!find_backend(cfg, l->backend, &l->backend_idx)) {
		parse_fail(p, "[listener %s]: no [backend %s] or [group %s]", l->name, l->backend,
			   l->backend);
		return false;
	}
	l->members = xcalloc(1, sizeof(*l->members));
	l->members[0] = l->backend_idx;
	l->n_members = 1;
	return true;
}

static bool validate_listener(struct cfg_parse *p, struct cfg_listener *l)
{
	if (!l->tls_cert != !l->tls_key) {
		parse_fail(p, "[listener %s]: tls_cert and tls_key go together", l->name);
		return false;
	}
	if (l->require_tls && !l->tls_cert) {
		parse_fail(p, "[listener %s]: require_tls needs tls_cert and tls_key", l->name);
		return false;
	}
	if (l->replay_commit_marker && !my_marker_table_valid(l->replay_commit_marker)) {
		parse_fail(p, "[listener %s]: replay_commit_marker is schema.table (letters, digits, "
			   "_ and $), not \"%s\"", l->name, l->replay_commit_marker);
		return false;
	}
	if (l->replay_commit_marker && !l->replay_transactions) {
		parse_fail(p, "[listener %s]: replay_commit_marker needs replay_transactions = true",
			   l->name);
		return false;
	}
	for (struct cfg_listener *o = p->cfg->listeners; o < l; o++) {
		if (strcmp(o->name, l->name) == 0) {
			parse_fail(p, "[listener %s] appears twice", l->name);
			return false;
		}
	}
	return resolve_listener_backend(p, l);
}

/* env_name builds WARMPOOL_KEY or WARMPOOL_KIND_NAME_KEY, upper case, with
 * '-' and '.' of section names as '_'. */
static void env_name(char *out, size_t len, const char *kind, const char *name,
		     const char *key)
{
	if (kind)
		snprintf(out, len, "WARMPOOL_%s_%s_%s", kind, name, key);
	else
		snprintf(out, len, "WARMPOOL_%s", key);
	for (char *c = out; *c; c++)
		*c = *c == '-' || *c == '.' ? '_' : (char)toupper((unsigned char)*c);
}

/* apply_env_section lets environment variables override the keys of one
 * section (containers set the common ones that way). */
static bool apply_env_section(struct cfg_parse *p, enum cfg_section section, void *target,
			      const char *kind, const char *name)
{
	for (size_t i = 0; i < cfg_keys_len; i++) {
		const struct cfg_key *k = &cfg_keys[i];
		char var[160], why[256];
		if (k->section != section)
			continue;
		env_name(var, sizeof(var), kind, name, k->name);
		const char *value = getenv(var);
		if (!value)
			continue;
		if (!key_set(k, target, value, why, sizeof(why))) {
			p->failed = true;
			snprintf(p->err, p->err_len, "environment %s: bad value for '%s': %s", var,
				 k->name, why);
			return false;
		}
	}
	return true;
}

/* apply_env applies WARMPOOL_* overrides to [warmpool], every listener and
 * every backend (user passwords have password_env). */
static bool apply_env(struct cfg_parse *p)
{
	struct cfg *cfg = p->cfg;
	if (!apply_env_section(p, CFG_SECTION_GLOBAL, cfg, NULL, NULL))
		return false;
	for (size_t i = 0; i < cfg->n_listeners; i++) {
		struct cfg_listener *l = &cfg->listeners[i];
		if (!apply_env_section(p, CFG_SECTION_LISTENER, l, "LISTENER", l->name))
			return false;
	}
	for (size_t i = 0; i < cfg->n_backends; i++) {
		struct cfg_backend *b = &cfg->backends[i];
		if (!apply_env_section(p, CFG_SECTION_BACKEND, b, "BACKEND", b->name))
			return false;
	}
	return true;
}

/* validate_groups: unique names, none shared with a backend (a listener's
 * `backend` names either). Members are resolved with the listeners. */
static bool validate_groups(struct cfg_parse *p)
{
	const struct cfg *cfg = p->cfg;
	size_t idx;
	for (size_t i = 0; i < cfg->n_groups; i++) {
		const char *name = cfg->groups[i].name;
		for (size_t j = 0; j < i; j++) {
			if (strcmp(cfg->groups[j].name, name) == 0) {
				parse_fail(p, "[group %s] appears twice", name);
				return false;
			}
		}
		if (find_backend(cfg, name, &idx)) {
			parse_fail(p, "[group %s]: a [backend] has the same name", name);
			return false;
		}
	}
	return true;
}

/* validate runs after the whole file is read; errors point at its end. */
static bool validate(struct cfg_parse *p)
{
	struct cfg *cfg = p->cfg;
	if (cfg->n_backends == 0) {
		parse_fail(p, "no [backend NAME] section");
		return false;
	}
	if (cfg->n_listeners == 0) {
		parse_fail(p, "no [listener NAME] section");
		return false;
	}
	for (size_t i = 0; i < cfg->n_backends; i++) {
		for (size_t j = 0; j < i; j++) {
			if (strcmp(cfg->backends[i].name, cfg->backends[j].name) == 0) {
				parse_fail(p, "[backend %s] appears twice", cfg->backends[i].name);
				return false;
			}
		}
		if (!validate_backend(p, &cfg->backends[i]))
			return false;
	}
	if (!validate_groups(p))
		return false;
	for (size_t i = 0; i < cfg->n_listeners; i++) {
		if (!validate_listener(p, &cfg->listeners[i]))
			return false;
	}
	cfg->workers = cfg_workers_resolve(cfg, sysconf(_SC_NPROCESSORS_ONLN));
	char why[512];
	if (!cfg_users_resolve(cfg, why, sizeof(why))) {
		parse_fail(p, "%s", why);
		return false;
	}
	return true;
}

static bool backend_on_this_host(const struct cfg_backend *b)
{
	struct in_addr v4;
	struct in6_addr v6;
	if (strcasecmp(b->host, "localhost") == 0)
		return true;
	if (inet_pton(AF_INET, b->host, &v4) == 1)
		return (ntohl(v4.s_addr) >> 24) == 127;
	return inet_pton(AF_INET6, b->host, &v6) == 1 &&
	       (IN6_IS_ADDR_LOOPBACK(&v6) ||
		(IN6_IS_ADDR_V4MAPPED(&v6) && v6.s6_addr[12] == 127));
}

bool cfg_backends_on_this_host(const struct cfg *cfg)
{
	for (size_t i = 0; i < cfg->n_backends; i++) {
		if (!backend_on_this_host(&cfg->backends[i]))
			return false;
	}
	return cfg->n_backends > 0;
}

int cfg_workers_resolve(const struct cfg *cfg, long cpus)
{
	int per_cpu = cpus > 0 ? (int)(cpus < 256 ? cpus : 256) : 1;
	if (cfg->workers_setting > 0)
		return cfg->workers_setting;
	if (cfg->workers_setting == 0 || !cfg_backends_on_this_host(cfg))
		return per_cpu;
	return per_cpu / 2 > 0 ? per_cpu / 2 : 1;
}

static bool cfg_parse_run(struct cfg_parse *p, ini_reader reader)
{
	memset(p->cfg, 0, sizeof(*p->cfg));
	apply_defaults(CFG_SECTION_GLOBAL, p->cfg);
	p->cfg->path = xstrdup(p->path);
	int rc = ini_parse_stream(reader, p, on_ini_entry, p);
	if (rc > 0 && !p->failed) {
		p->line = rc;
		parse_fail(p, "syntax error (expected 'key = value' or '[section]')");
	} else if (rc < 0 && !p->failed) {
		parse_fail(p, "cannot read the file");
	}
	if (!p->failed && apply_env(p) && !validate(p)) {
		/* parse_fail already wrote the reason */
	}
	if (p->failed) {
		cfg_free(p->cfg);
		return false;
	}
	return true;
}

bool cfg_load(const char *path, struct cfg *out, char *err, size_t err_len)
{
	struct cfg_parse p = {.cfg = out, .path = path, .err = err, .err_len = err_len};
	p.file = fopen(path, "r");
	if (!p.file) {
		snprintf(err, err_len, "%s: cannot open: %s", path, strerror(errno));
		memset(out, 0, sizeof(*out));
		return false;
	}
	bool ok = cfg_parse_run(&p, read_line_file);
	fclose(p.file);
	return ok;
}

bool cfg_load_string(const char *path, const char *text, struct cfg *out, char *err,
		     size_t err_len)
{
	struct cfg_parse p = {.cfg = out, .path = path, .err = err, .err_len = err_len,
			      .text = text};
	return cfg_parse_run(&p, read_line_string);
}

void cfg_free(struct cfg *cfg)
{
	for (size_t i = 0; i < cfg->n_listeners; i++) {
		free_strings(CFG_SECTION_LISTENER, &cfg->listeners[i]);
		xfree(cfg->listeners[i].name);
		xfree(cfg->listeners[i].members);
	}
	for (size_t i = 0; i < cfg->n_groups; i++) {
		free_strings(CFG_SECTION_GROUP, &cfg->groups[i]);
		xfree(cfg->groups[i].name);
	}
	xfree(cfg->groups);
	for (size_t i = 0; i < cfg->n_backends; i++) {
		free_strings(CFG_SECTION_BACKEND, &cfg->backends[i]);
		xfree(cfg->backends[i].name);
		xfree(cfg->backends[i].server_public_key_pem);
	}
	for (size_t i = 0; i < cfg->n_users; i++) {
		if (cfg->users[i].password)
			explicit_bzero(cfg->users[i].password, strlen(cfg->users[i].password));
		free_strings(CFG_SECTION_USER, &cfg->users[i]);
		xfree(cfg->users[i].name);
	}
	free_strings(CFG_SECTION_GLOBAL, cfg);
	xfree(cfg->listeners);
	xfree(cfg->backends);
	xfree(cfg->users);
	xfree(cfg->path);
	memset(cfg, 0, sizeof(*cfg));
}

const struct cfg_user *cfg_find_user(const struct cfg *cfg, const char *name)
{
	for (size_t i = 0; i < cfg->n_users; i++) {
		if (strcmp(cfg->users[i].name, name) == 0)
			return &cfg->users[i];
	}
	return NULL;
}

static void write_section_example(FILE *out, enum cfg_section section, const char *header)
{
	fprintf(out, "\n%s\n", header);
	for (size_t i = 0; i < cfg_keys_len; i++) {
		const struct cfg_key *k = &cfg_keys[i];
		if (k->section != section)
			continue;
		fprintf(out, "; %s\n", k->help);
		fprintf(out, ";%s = %s\n", k->name, k->def ? k->def : "");
	}
}

void cfg_write_example(FILE *out)
{
	fputs("; warmpool example configuration, generated by `warmpool --example-config`.\n"
	      "; Every key is shown commented out with its default; uncomment to change.\n"
	      "; Sections: [warmpool] once; [listener NAME], [backend NAME], [group NAME]\n"
	      "; and [user NAME] as many times as needed.\n",
	      out);
	write_section_example(out, CFG_SECTION_GLOBAL, "[warmpool]");
	write_section_example(out, CFG_SECTION_LISTENER, "[listener main]");
	write_section_example(out, CFG_SECTION_BACKEND, "[backend main]");
	write_section_example(out, CFG_SECTION_GROUP, "[group replicas]");
	write_section_example(out, CFG_SECTION_USER, "[user app]");
}
