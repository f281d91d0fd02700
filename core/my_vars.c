/* my_vars: the session system variables a client set with SET, kept as text to be set again on another backend connection. */
#include "my_vars.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

void my_vars_clear(struct my_vars *vs)
{
	for (uint8_t i = 0; i < vs->n; i++)
		xfree(vs->v[i].text);
	xfree(vs->v);
	*vs = (struct my_vars){0};
}

/* Session variables the servers know by two names (MariaDB 10.11, MySQL
 * 5.7/8): one variable, whichever name the client wrote. The name is kept
 * as written (not every server knows both). */
static const struct {
	const char *alias, *name;
} aliases[] = {
	{"storage_engine", "default_storage_engine"},
	{"tx_isolation", "transaction_isolation"},
	{"tx_read_only", "transaction_read_only"},
	{"sql_max_join_size", "max_join_size"},
	{"log_slow_query", "slow_query_log"},
	{"log_slow_query_time", "long_query_time"},
	{"log_slow_min_examined_row_limit", "min_examined_row_limit"},
};

/* canonical: the one name of the variable |name| (not NUL-terminated). */
static const char *canonical(const char *name, size_t name_len, size_t *out_len)
{
	for (size_t i = 0; i < sizeof(aliases) / sizeof(aliases[0]); i++) {
		if (strlen(aliases[i].alias) == name_len &&
		    memcmp(aliases[i].alias, name, name_len) == 0) {
			*out_len = strlen(aliases[i].name);
			return aliases[i].name;
		}
	}
	*out_len = name_len;
	return name;
}

/* find returns the index of |name| or of its alias, or -1. */
static int find(const struct my_vars *vs, const char *name, size_t name_len)
{
	size_t want_len;
	const char *want = canonical(name, name_len, &want_len);
	for (uint8_t i = 0; i < vs->n; i++) {
		size_t len;
		const char *have = canonical(vs->v[i].text, vs->v[i].name_len, &len);
		if (len == want_len && memcmp(have, want, len) == 0)
			return i;
	}
	return -1;
}

const char *my_vars_get(const struct my_vars *vs, const char *name)
{
	int i = find(vs, name, strlen(name));
	return i >= 0 ? vs->v[i].text + vs->v[i].name_len + 1 : NULL;
}

static void remove_at(struct my_vars *vs, int i)
{
	xfree(vs->v[i].text);
	vs->v[i] = vs->v[--vs->n];
}

bool my_vars_put(struct my_vars *vs, const char *name, size_t name_len, const char *value,
		 size_t value_len)
{
	if (name_len == 0 || name_len > MY_VAR_NAME_MAX || value_len > MY_VAR_VALUE_MAX)
		return false;
	int i = find(vs, name, name_len);
	char *text = try_realloc(NULL, name_len + 1 + value_len + 1);
	if (!text)
		return false;
	memcpy(text, name, name_len);
	text[name_len] = '=';
	memcpy(text + name_len + 1, value, value_len);
	text[name_len + 1 + value_len] = '\0';
	if (i >= 0) {
		xfree(vs->v[i].text);
		vs->v[i].text = text; /* under the name written last */
		vs->v[i].name_len = (uint16_t)name_len;
		return true;
	}
	struct my_var *grown = vs->n < MY_VARS_MAX
				       ? try_realloc(vs->v, (vs->n + 1u) * sizeof(*vs->v))
				       : NULL;
	if (!grown) {
		xfree(text);
		return false;
	}
	vs->v = grown;
	vs->v[vs->n++] = (struct my_var){.text = text, .name_len = (uint16_t)name_len};
	return true;
}

static const char *value_of(const struct my_var *var)
{
	return var->text + var->name_len + 1;
}

bool my_vars_rename(struct my_vars *vs, const char *from, const char *to)
{
	int i = find(vs, from, strlen(from));
	if (i < 0)
		return true;
	const char *value = value_of(&vs->v[i]);
	if (!my_vars_put(vs, to, strlen(to), value, strlen(value)))
		return false;
	/* Two names of one variable (the aliases above): put renamed it in
	 * place. Otherwise the old name's entry goes. */
	int old = find(vs, from, strlen(from));
	if (old != find(vs, to, strlen(to)))
		remove_at(vs, old);
	return true;
}

/* version_at reads "major.minor" at |p|. */
static bool version_at(const char *p, unsigned *major, unsigned *minor, unsigned *patch)
{
	*patch = 0;
	return sscanf(p, "%u.%u.%u", major, minor, patch) >= 2;
}

bool my_vars_tx_names_old(const char *server_version)
{
	unsigned major, minor, patch;
	const char *v = server_version;
	if (strstr(v, "MariaDB")) {
		if (strncmp(v, "5.5.5-", 6) == 0)
			v += 6; /* the prefix MariaDB puts before its version for old clients */
		return !version_at(v, &major, &minor, &patch) || major < 11 ||
		       (major == 11 && minor < 1);
	}
	return !version_at(v, &major, &minor, &patch) || major < 5 ||
	       (major == 5 && (minor < 7 || (minor == 7 && patch < 20)));
}

bool my_vars_apply(struct my_vars *vs, const struct my_vars *changes)
{
	for (uint8_t i = 0; i < changes->n; i++) {
		const struct my_var *c = &changes->v[i];
		if (strcasecmp(value_of(c), "DEFAULT") == 0) {
			int at = find(vs, c->text, c->name_len);
			if (at >= 0)
				remove_at(vs, at);
		} else if (!my_vars_put(vs, c->text, c->name_len, value_of(c), strlen(value_of(c)))) {
			return false;
		}
	}
	return true;
}

bool my_vars_assign(struct my_vars *dst, const struct my_vars *src)
{
	my_vars_clear(dst);
	for (uint8_t i = 0; i < src->n; i++) {
		const struct my_var *v = &src->v[i];
		if (!my_vars_put(dst, v->text, v->name_len, value_of(v), strlen(value_of(v)))) {
			my_vars_clear(dst);
			return false;
		}
	}
	return true;
}

/* has: |vs| holds exactly this "name=value". */
static bool has(const struct my_vars *vs, const struct my_var *var)
{
	int i = find(vs, var->text, var->name_len);
	return i >= 0 && strcmp(vs->v[i].text, var->text) == 0;
}

bool my_vars_equal(const struct my_vars *a, const struct my_vars *b)
{
	if (a->n != b->n)
		return false;
	for (uint8_t i = 0; i < a->n; i++) {
		if (!has(b, &a->v[i]))
			return false;
	}
	return true;
}

static void write_assignment(struct my_bld *b, bool *first, const char *text, size_t len)
{
	my_bld_bytes(b, *first ? "SET SESSION " : ", ", *first ? 12 : 2);
	my_bld_bytes(b, text, len);
	*first = false;
}

void my_vars_write_restore(const struct my_vars *have, const struct my_vars *want,
			   struct my_bld *b)
{
	bool first = true;
	for (uint8_t i = 0; i < want->n; i++) {
		if (!has(have, &want->v[i]))
			write_assignment(b, &first, want->v[i].text, strlen(want->v[i].text));
	}
	for (uint8_t i = 0; i < have->n; i++) {
		const struct my_var *h = &have->v[i];
		if (find(want, h->text, h->name_len) < 0) {
			write_assignment(b, &first, h->text, h->name_len);
			my_bld_bytes(b, "=DEFAULT", 8);
		}
	}
}
