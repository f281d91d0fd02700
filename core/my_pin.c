/* my_pin: a small lexer over SQL text, enough to find session-state statements. */
#include "my_pin.h"

#include <ctype.h>
#include <stdbool.h>
#include <string.h>
#include <strings.h>

const char *my_pin_reason_str(enum my_pin_reason r)
{
	static const char *const names[MY_PIN_REASON_COUNT] = {
		"none",		 "set",		    "user_variable", "temporary_table",
		"prepared_statement", "lock_tables", "named_lock", "found_rows",
		"last_insert_id", "change_user",    "executable_comment", "handler",
		"other_command",
	};
	return (unsigned)r < MY_PIN_REASON_COUNT ? names[r] : "unknown";
}

struct lexer {
	const uint8_t *p, *end;
	bool executable_comment;
};

/* skip_space_and_comments; returns false at the end. */
static bool skip_space_and_comments(struct lexer *l)
{
	while (l->p < l->end) {
		if (isspace(*l->p)) {
			l->p++;
		} else if (*l->p == '#' || (l->end - l->p >= 3 && l->p[0] == '-' && l->p[1] == '-' &&
					     (isspace(l->p[2])))) {
			while (l->p < l->end && *l->p != '\n')
				l->p++;
		} else if (l->end - l->p >= 2 && l->p[0] == '/' && l->p[1] == '*') {
			if (l->end - l->p >= 3 && (l->p[2] == '!' || l->p[2] == 'M'))
				l->executable_comment = true; /* executable comments carry SQL */
			const uint8_t *close = NULL;
			for (const uint8_t *q = l->p + 2; q + 1 < l->end; q++) {
				if (q[0] == '*' && q[1] == '/') {
					close = q;
					break;
				}
			}
			l->p = close ? close + 2 : l->end;
		} else {
			return true;
		}
	}
	return false;
}

/* next_word reads an identifier-like word (letters, digits, _ and $). */
static size_t next_word(struct lexer *l, const uint8_t **out)
{
	if (!skip_space_and_comments(l))
		return 0;
	*out = l->p;
	while (l->p < l->end && (isalnum(*l->p) || *l->p == '_' || *l->p == '$'))
		l->p++;
	return (size_t)(l->p - *out);
}

/* word_is compares with an upper-case keyword; the first letter decides
 * most comparisons before any length is taken (every query is lexed). */
static bool word_is(const uint8_t *w, size_t n, const char *kw)
{
	return n > 0 && toupper(w[0]) == kw[0] && strlen(kw) == n &&
	       strncasecmp((const char *)w, kw, n) == 0;
}

/* skip_quoted passes a quoted string or identifier at l->p; doubled quotes
 * and (for strings) backslashes escape. */
static void skip_quoted(struct lexer *l)
{
	uint8_t c = *l->p++;
	while (l->p < l->end) {
		if (*l->p == '\\' && c != '`' && l->p + 1 < l->end) {
			l->p += 2;
		} else if (*l->p == c) {
			l->p++;
			if (l->p < l->end && *l->p == c)
				l->p++;
			else
				return;
		} else {
			l->p++;
		}
	}
}

/* A token outside literals: a word, or one punctuation byte (|n| = 0). */
struct token {
	const uint8_t *w;
	size_t n;
	uint8_t punct;
	bool user_variable; /* @name (not @@system_variable) */
};

/* next_token skips comments and literals; false at the end. */
static bool next_token(struct lexer *l, struct token *t)
{
	while (skip_space_and_comments(l)) {
		uint8_t c = *l->p;
		*t = (struct token){0};
		if (c == '\'' || c == '"' || c == '`') {
			skip_quoted(l);
			continue;
		}
		if (c == '@') {
			bool system = l->p + 1 < l->end && l->p[1] == '@';
			l->p += system ? 2 : 1;
			t->user_variable = !system;
			if (system)
				continue; /* @@system_variable: read only, unless SET */
			return true;
		}
		t->n = next_word(l, &t->w);
		if (t->n == 0)
			t->punct = *l->p++;
		return true;
	}
	return false;
}

/* sets_insert_id: after the word LAST_INSERT_ID, an argument follows: the
 * call sets the session's value, which no OK packet reports. Reading it,
 * LAST_INSERT_ID(), is tracked and restored instead (see server.c). */
static bool sets_insert_id(struct lexer *l)
{
	struct lexer ahead = *l;
	struct token open, close;
	if (!next_token(&ahead, &open) || open.punct != '(')
		return false;
	return !next_token(&ahead, &close) || close.punct != ')';
}

/* scan_body looks through the whole statement, outside literals, for the
 * tokens that leave state behind. */
static enum my_pin_reason scan_body(struct lexer *l)
{
	static const struct {
		const char *word;
		enum my_pin_reason reason;
	} words[] = {
		{"GET_LOCK", MY_PIN_NAMED_LOCK},	{"RELEASE_LOCK", MY_PIN_NAMED_LOCK},
		{"RELEASE_ALL_LOCKS", MY_PIN_NAMED_LOCK}, {"IS_USED_LOCK", MY_PIN_NAMED_LOCK},
		{"IS_FREE_LOCK", MY_PIN_NAMED_LOCK},	{"SQL_CALC_FOUND_ROWS", MY_PIN_FOUND_ROWS},
		{"FOUND_ROWS", MY_PIN_FOUND_ROWS},	{"TEMPORARY", MY_PIN_TEMPORARY_TABLE},
	};
	struct token t;
	while (next_token(l, &t)) {
		if (t.user_variable)
			return MY_PIN_USER_VARIABLE;
		if (t.n && word_is(t.w, t.n, "LAST_INSERT_ID") && sets_insert_id(l))
			return MY_PIN_LAST_INSERT_ID;
		for (size_t i = 0; t.n && i < sizeof(words) / sizeof(words[0]); i++) {
			if (word_is(t.w, t.n, words[i].word))
				return words[i].reason;
		}
	}
	return MY_PIN_NONE;
}

bool my_query_is_read(const uint8_t *sql, size_t len)
{
	/* Words that make a SELECT write, lock or advance something. */
	static const char *const writes[] = {"FOR", "LOCK", "INTO", "NEXTVAL", "SETVAL",
					     "LASTVAL", "SLEEP", "BENCHMARK"};
	struct lexer l = {.p = sql, .end = sql + len};
	const uint8_t *w;
	size_t n = next_word(&l, &w);
	if (n == 0 || l.executable_comment || (!word_is(w, n, "SELECT") && !word_is(w, n, "SHOW")))
		return false;
	struct lexer body = l;
	if (scan_body(&body) != MY_PIN_NONE || body.executable_comment)
		return false;
	struct token t;
	while (next_token(&l, &t)) {
		if (t.punct == ';')
			return false; /* a second statement could be anything */
		for (size_t i = 0; t.n && i < sizeof(writes) / sizeof(writes[0]); i++) {
			if (word_is(t.w, t.n, writes[i]))
				return false;
		}
	}
	return !l.executable_comment;
}

enum my_pin_reason my_pin_query(const uint8_t *sql, size_t len)
{
	struct lexer l = {.p = sql, .end = sql + len};
	const uint8_t *w;
	size_t n = next_word(&l, &w);
	if (l.executable_comment)
		return MY_PIN_EXECUTABLE_COMMENT;
	if (n == 0)
		return MY_PIN_NONE; /* empty: the server answers with an error */
	if (word_is(w, n, "SET"))
		return MY_PIN_SET;
	if (word_is(w, n, "PREPARE") || word_is(w, n, "EXECUTE") || word_is(w, n, "DEALLOCATE"))
		return MY_PIN_PREPARED_STATEMENT;
	if (word_is(w, n, "LOCK"))
		return MY_PIN_LOCK_TABLES;
	if (word_is(w, n, "HANDLER") || word_is(w, n, "DECLARE"))
		return MY_PIN_HANDLER;
	enum my_pin_reason r = scan_body(&l);
	return l.executable_comment ? MY_PIN_EXECUTABLE_COMMENT : r;
}

int my_query_use_schema(const uint8_t *sql, size_t len, char *out, size_t out_len)
{
	struct lexer l = {.p = sql, .end = sql + len};
	const uint8_t *w;
	size_t n = next_word(&l, &w);
	if (!word_is(w, n, "USE"))
		return 0;
	if (l.executable_comment || !skip_space_and_comments(&l))
		return -1;
	size_t o = 0;
	if (*l.p == '`') {
		for (l.p++; l.p < l.end; l.p++) {
			if (*l.p == '`') {
				if (l.p + 1 < l.end && l.p[1] == '`')
					l.p++; /* `` is a literal backtick */
				else
					break;
			}
			if (o + 1 >= out_len)
				return -1;
			out[o++] = (char)*l.p;
		}
		if (l.p >= l.end)
			return -1;
		l.p++;
	} else {
		n = next_word(&l, &w);
		if (n == 0 || n + 1 > out_len)
			return -1;
		memcpy(out, w, n);
		o = n;
	}
	out[o] = '\0';
	/* Only ";" and space may follow. */
	while (l.p < l.end && (isspace(*l.p) || *l.p == ';'))
		l.p++;
	return l.p == l.end && o > 0 ? 1 : -1;
}

/* read_name reads a bare word or a quoted name into |out|. */
static bool read_name(struct lexer *l, char *out, size_t out_len)
{
	if (!skip_space_and_comments(l))
		return false;
	const uint8_t *w;
	size_t n;
	uint8_t q = *l->p;
	if (q == '\'' || q == '"' || q == '`') {
		w = ++l->p;
		while (l->p < l->end && *l->p != q)
			l->p++;
		if (l->p >= l->end)
			return false;
		n = (size_t)(l->p++ - w);
	} else {
		n = next_word(l, &w);
	}
	if (n == 0 || n >= out_len)
		return false;
	memcpy(out, w, n);
	out[n] = '\0';
	return true;
}

int my_query_set_names(const uint8_t *sql, size_t len, char *out_charset, size_t charset_len,
		       char *out_collation, size_t collation_len)
{
	struct lexer l = {.p = sql, .end = sql + len};
	const uint8_t *w;
	size_t n = next_word(&l, &w);
	if (!word_is(w, n, "SET"))
		return 0;
	n = next_word(&l, &w);
	if (!word_is(w, n, "NAMES"))
		return 0;
	if (l.executable_comment || !read_name(&l, out_charset, charset_len))
		return -1;
	out_collation[0] = '\0';
	struct lexer after = l;
	n = next_word(&after, &w);
	if (word_is(w, n, "COLLATE")) {
		l = after;
		if (!read_name(&l, out_collation, collation_len))
			return -1;
	}
	while (l.p < l.end && (isspace(*l.p) || *l.p == ';'))
		l.p++;
	return l.p == l.end && !l.executable_comment ? 1 : -1;
}

/* var_is_trackable: a session variable whose value can be set again on
 * another connection without changing what the client sees. autocommit is
 * one (drivers such as mysqlclient set it on every connection): with it off,
 * each statement opens a transaction, which keeps its connection until it
 * ends, as transaction mode does anyway. */
static bool var_is_trackable(const char *name)
{
	static const char *const exact[] = {
		"insert_id", "last_insert_id", "identity", "timestamp",
		"rand_seed1", "rand_seed2", "pseudo_thread_id", "pseudo_slave_mode", "profiling",
		"names", "password", "role", "statement", "transaction", "character",
	};
	static const char *const prefixes[] = {"character_set_", "collation_", "session_track_",
					       "gtid_", "wsrep_"};
	for (size_t i = 0; i < sizeof(exact) / sizeof(exact[0]); i++) {
		if (strcmp(name, exact[i]) == 0)
			return false;
	}
	for (size_t i = 0; i < sizeof(prefixes) / sizeof(prefixes[0]); i++) {
		if (strncmp(name, prefixes[i], strlen(prefixes[i])) == 0)
			return false;
	}
	return true;
}

/* read_var_name reads "[SESSION|LOCAL] name" or "@@[session.|local.]name"
 * into |out| in lower case; false for GLOBAL and anything else. */
static bool read_var_name(struct lexer *l, char *out, size_t out_len)
{
	if (!skip_space_and_comments(l))
		return false;
	bool at_at = l->end - l->p >= 2 && l->p[0] == '@' && l->p[1] == '@';
	if (at_at)
		l->p += 2;
	const uint8_t *w;
	size_t n = next_word(l, &w);
	bool scope = word_is(w, n, "SESSION") || word_is(w, n, "LOCAL");
	if (word_is(w, n, "GLOBAL"))
		return false;
	if (scope && at_at) {
		if (l->p >= l->end || *l->p != '.')
			return false;
		l->p++;
		n = next_word(l, &w);
	} else if (scope) {
		struct lexer ahead = *l;
		if (skip_space_and_comments(&ahead) && *ahead.p != '=' && *ahead.p != ':')
			n = next_word(l, &w); /* SESSION was the scope, not a name */
	}
	if (n == 0 || n >= out_len)
		return false;
	for (size_t i = 0; i < n; i++) {
		if (w[i] == '$')
			return false;
		out[i] = (char)tolower(w[i]);
	}
	out[n] = '\0';
	return true;
}

/* read_assign reads "=" or ":=". */
static bool read_assign(struct lexer *l)
{
	if (!skip_space_and_comments(l))
		return false;
	if (*l->p == ':' && l->end - l->p >= 2 && l->p[1] == '=')
		l->p++;
	if (*l->p != '=')
		return false;
	l->p++;
	return true;
}

static bool read_number(struct lexer *l)
{
	const uint8_t *start = l->p;
	if (*l->p == '-' || *l->p == '+')
		l->p++;
	size_t digits = 0;
	while (l->p < l->end && (isdigit(*l->p) || *l->p == '.'))
		digits += isdigit(*l->p++) != 0;
	if (digits > 0 && l->p < l->end && (*l->p == 'e' || *l->p == 'E')) {
		l->p++;
		if (l->p < l->end && (*l->p == '-' || *l->p == '+'))
			l->p++;
		while (l->p < l->end && isdigit(*l->p))
			l->p++;
	}
	bool glued = l->p < l->end && (isalnum(*l->p) || *l->p == '_' || *l->p == '$');
	return digits > 0 && l->p > start && !glued;
}

/* read_literal reads a value that means the same on any connection and
 * under any sql_mode: a number, a single-quoted string without backslash or
 * quote inside, or one of a few constant words. */
static bool read_literal(struct lexer *l, const uint8_t **value, size_t *value_len)
{
	static const char *const constants[] = {"ON", "OFF", "TRUE", "FALSE", "NULL", "DEFAULT"};
	if (!skip_space_and_comments(l))
		return false;
	*value = l->p;
	bool ok = false;
	if (*l->p == '\'') {
		for (l->p++; l->p < l->end && *l->p != '\'' && *l->p != '\\'; l->p++)
			;
		ok = l->p < l->end && *l->p == '\'';
		l->p += ok;
		ok = ok && (l->p == l->end || *l->p != '\''); /* '' inside: an escape */
	} else if (isdigit(*l->p) || *l->p == '-' || *l->p == '+' || *l->p == '.') {
		ok = read_number(l);
	} else {
		const uint8_t *w;
		size_t n = next_word(l, &w);
		for (size_t i = 0; n && i < sizeof(constants) / sizeof(constants[0]); i++)
			ok = ok || word_is(w, n, constants[i]);
		ok = ok && (l->p == l->end || (*l->p != '(' && *l->p != '.'));
	}
	*value_len = (size_t)(l->p - *value);
	return ok;
}

static bool parse_set_vars(struct lexer *l, struct my_vars *out)
{
	for (;;) {
		char name[MY_VAR_NAME_MAX + 1];
		const uint8_t *value;
		size_t value_len;
		if (!read_var_name(l, name, sizeof(name)) || !var_is_trackable(name) ||
		    !read_assign(l) || !read_literal(l, &value, &value_len) ||
		    !my_vars_put(out, name, strlen(name), (const char *)value, value_len))
			return false;
		if (!skip_space_and_comments(l))
			return true;
		if (*l->p != ',')
			break;
		l->p++;
	}
	while (l->p < l->end && (isspace(*l->p) || *l->p == ';'))
		l->p++;
	return l->p == l->end;
}

int my_query_set_vars(const uint8_t *sql, size_t len, struct my_vars *out)
{
	struct lexer l = {.p = sql, .end = sql + len};
	const uint8_t *w;
	size_t n = next_word(&l, &w);
	my_vars_clear(out);
	if (!word_is(w, n, "SET"))
		return 0;
	if (parse_set_vars(&l, out) && !l.executable_comment && out->n > 0)
		return 1;
	my_vars_clear(out);
	return 0;
}
