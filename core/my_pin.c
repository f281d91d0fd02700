/* my_pin: a lexer that follows the server's reading of SQL text (sql_mode, executable comments) and the one classifier of session effects built on it. */
#include "my_pin.h"

#include <ctype.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "my_builtins.h"
#include "my_charset.h"

const char *my_pin_reason_str(enum my_pin_reason r)
{
	static const char *const names[MY_PIN_REASON_COUNT] = {
		"none",		 "set",		    "user_variable", "temporary_table",
		"prepared_statement", "lock_tables", "named_lock", "found_rows",
		"last_insert_id", "change_user",    "executable_comment", "handler",
		"other_command",  "call",	    "global_lock",   "sql_mode",
		"charset",	  "stored_function", "sequence",
	};
	return (unsigned)r < MY_PIN_REASON_COUNT ? names[r] : "unknown";
}

/* ---- lexer ---------------------------------------------------------- */

struct lexer {
	const uint8_t *p, *end;
	const uint8_t *comment_end; /* inside an executable comment: its closing star */
	struct my_sql_mode mode;
	/* Per statement: */
	bool executable_comment;    /* the statement went through one */
	bool ambiguous_comment;	    /* its reading depends on whether the server runs one */
	bool ambiguous_mode;	    /* its reading depends on an unknown sql_mode bit */
	bool statement_done;	    /* its ";" (or the end of the text) was read */
	bool charset_word;	    /* it names the client's character set (NAMES, CHARSET...)
				       or runs what the lexer cannot see (CALL, dynamic SQL) */
	/* Per text: */
	bool charset_unreadable;    /* from here on (see my_sql_mode) */
	bool kill;		    /* a KILL in a compound statement or in dynamic SQL */
	bool dollar_ambiguous;	    /* a $tag$ read two ways: the text pins (check_dollar_quote) */
	unsigned depth;		    /* of dynamic SQL literals read as SQL */
	enum my_server_kind server; /* whose builtins (my_sql_mode's; l->mode changes) */
	unsigned *lookahead_left;   /* tokens lookahead may still read in this text
				       (LOOKAHEAD_BUDGET; copies share it) */
};

/* lex_space: a byte the server skips between tokens. Besides ASCII's
 * (vertical tab and form feed included), some single-byte character sets
 * have one above 0x7F (measured on MariaDB 10.11 and MySQL 9.7: 0xA0 in
 * latin1, latin2, cp1250, greek...; see my_collation). */
static bool lex_space(const struct lexer *l, uint8_t c)
{
	/* isspace of the C locale, inline: the lexer asks for every byte of
	 * every query, and <ctype.h> costs a call to find its table each time. */
	return c == ' ' || (c >= '\t' && c <= '\r') || (c >= 0x80 && c == l->mode.space_byte);
}

static bool is_word_byte(const struct lexer *l, uint8_t c)
{
	bool alnum = (c >= '0' && c <= '9') || ((c | 0x20) >= 'a' && (c | 0x20) <= 'z');
	return alnum || c == '_' || c == '$' || (c >= 0x80 && c != l->mode.space_byte);
}

/* comment_close finds the star of the closing delimiter from |from| (the
 * end of the text when there is none). */
static const uint8_t *comment_close(const uint8_t *from, const uint8_t *end)
{
	for (const uint8_t *q = from; q + 1 < end; q++) {
		if (q[0] == '*' && q[1] == '/')
			return q;
	}
	return end;
}

/* skip_version passes the version of an executable comment at |p|. Both
 * servers take one only when five digits follow (fewer are SQL: the name
 * 1234abs); MariaDB takes a sixth digit too, MySQL reads it as SQL, so a
 * sixth digit glued to what follows (500001abs: the name 1abs to MySQL)
 * has two readings. */
static const uint8_t *skip_version(struct lexer *l, const uint8_t *p)
{
	size_t digits = 0;
	while (digits < 6 && l->end - p > (ptrdiff_t)digits && isdigit(p[digits]))
		digits++;
	if (digits < 5)
		return p;
	if (digits == 6 && l->end - p > 6 && (is_word_byte(l, p[6]) || p[6] == '.'))
		l->ambiguous_comment = true;
	return p + digits;
}

/* enter_comment passes the opening of a comment at l->p. An executable one
 * (slash-star-bang, or MariaDB's slash-star-M-bang) is read as SQL up to
 * its end: the server runs it unless its version number is above its own,
 * so whatever it holds is classified as if it ran; it cannot make a
 * statement tracked (see classify_statement). */
static void enter_comment(struct lexer *l)
{
	const uint8_t *p = l->p + 2;
	bool exec = (p < l->end && *p == '!') || (l->end - p >= 2 && p[0] == 'M' && p[1] == '!');
	if (l->comment_end) {
		l->ambiguous_comment = true; /* nested: readings differ between servers */
	}
	if (!exec) {
		const uint8_t *close = comment_close(p, l->end);
		l->p = close < l->end ? close + 2 : l->end;
		return;
	}
	p += *p == 'M' ? 2 : 1;
	p = skip_version(l, p);
	l->executable_comment = true;
	if (!l->comment_end)
		l->comment_end = comment_close(p, l->end);
	l->p = p;
}

/* skip_space_and_comments; returns false at the end. */
static bool skip_space_and_comments(struct lexer *l)
{
	while (l->p < l->end) {
		if (l->comment_end && l->p >= l->comment_end) {
			l->p = l->p == l->comment_end && l->comment_end < l->end ? l->p + 2 : l->p;
			l->comment_end = NULL;
			continue;
		}
		uint8_t c = *l->p;
		if (lex_space(l, c)) {
			if (c >= 0x80 && l->mode.space_unknown)
				l->ambiguous_mode = true; /* a space, or part of a word */
			l->p++;
		} else if (c == '#' || (l->end - l->p >= 3 && c == '-' && l->p[1] == '-' &&
					 (lex_space(l, l->p[2]) || iscntrl(l->p[2])))) {
			if (c == '-' && l->p[2] >= 0x80 && l->mode.space_unknown)
				l->ambiguous_mode = true; /* "#" may end the text: no p[2] */
			if (l->comment_end)
				l->ambiguous_comment = true; /* it would run past the comment's end */
			while (l->p < l->end && *l->p != '\n')
				l->p++;
		} else if (l->end - l->p >= 2 && c == '/' && l->p[1] == '*') {
			enter_comment(l);
		} else {
			return true;
		}
	}
	return false;
}

/* quoted_end: where the token opened by the quote at |p| ends, with or
 * without backslash escapes. A doubled quote is always an escape. */
static const uint8_t *quoted_end(const uint8_t *p, const uint8_t *end, bool backslash)
{
	uint8_t q = *p++;
	while (p < end) {
		if (backslash && *p == '\\' && p + 1 < end) {
			p += 2;
		} else if (*p == q) {
			if (p + 1 < end && p[1] == q)
				p += 2;
			else
				return p + 1;
		} else {
			p++;
		}
	}
	return end;
}

/* skip_quoted passes a string or quoted identifier at l->p, read every way
 * the session's sql_mode allows; readings that end apart make the
 * statement ambiguous (the first reading is kept). */
static void skip_quoted(struct lexer *l)
{
	uint8_t q = *l->p;
	const uint8_t *ends[3];
	size_t n = 0;
	enum my_mode_bit nbe = l->mode.no_backslash_escapes;
	bool string_reading = q == '\'' || (q == '"' && l->mode.ansi_quotes != MY_MODE_ON);
	bool ident_reading = q == '`' || (q == '"' && l->mode.ansi_quotes != MY_MODE_OFF);
	if (string_reading && nbe != MY_MODE_ON)
		ends[n++] = quoted_end(l->p, l->end, true);
	if (string_reading && nbe != MY_MODE_OFF)
		ends[n++] = quoted_end(l->p, l->end, false);
	if (ident_reading)
		ends[n++] = quoted_end(l->p, l->end, false);
	for (size_t i = 1; i < n; i++) {
		if (ends[i] != ends[0])
			l->ambiguous_mode = true;
	}
	if (l->comment_end && ends[0] > l->comment_end)
		l->ambiguous_comment = true; /* the comment ends inside it, unless it runs */
	l->p = ends[0];
}

/* A token outside literals and comments: a word, or one punctuation byte
 * (|n| = 0). */
struct token {
	const uint8_t *w;
	size_t n;
	uint8_t punct;
	bool user_variable; /* @name, @'name' (not @@system_variable) */
	bool quoted;	    /* a string or quoted identifier (skipped) */
};

/* note_charset_word: a name that may change character_set_client (SET
 * NAMES, SET CHAR[ACTER] SET, SET CHARSET, character_set_client) makes a
 * statement that pins leave the character set unknown. */
static void note_charset_word(struct lexer *l, const uint8_t *w, size_t n)
{
	static const char *const words[] = {"NAMES", "CHAR", "CHARACTER", "CHARSET",
					    "CHARACTER_SET_CLIENT"};
	if (n < 4 || (toupper(w[0]) != 'C' && toupper(w[0]) != 'N'))
		return; /* most words: one test */
	for (size_t i = 0; i < sizeof(words) / sizeof(words[0]); i++) {
		if (n == strlen(words[i]) && strncasecmp((const char *)w, words[i], n) == 0)
			l->charset_word = true;
	}
}

static bool followed_by_paren(const struct lexer *l);
static bool calls_stored(const struct lexer *l, const struct token *t, bool qualified);
static bool text_may_kill(const uint8_t *p, const uint8_t *end);

/* check_dollar_quote looks at a token that starts with "$" at l->p. MySQL
 * 9 reads $tag$ ... $tag$ as one string (a LANGUAGE JAVASCRIPT routine's
 * body, which it creates even without the component that runs it);
 * MariaDB and older MySQL read a name made of word bytes. Where the two
 * end apart, the statement pins (MY_PIN_SQL_MODE) and the rest of the text
 * is searched for KILL byte by byte: either reading may be the server's.
 * Once that is done, the text pins whatever follows: later "$" are not
 * looked at again (each look may search to the end of the text). */
static void check_dollar_quote(struct lexer *l)
{
	if (l->dollar_ambiguous)
		return;
	const uint8_t *tag_end = l->p + 1, *name_end = l->p;
	while (tag_end < l->end && *tag_end != '$' && is_word_byte(l, *tag_end))
		tag_end++;
	while (name_end < l->end && is_word_byte(l, *name_end))
		name_end++;
	if (tag_end >= l->end || *tag_end != '$')
		return; /* no opening delimiter: a name either way */
	size_t delim = (size_t)(tag_end + 1 - l->p);
	const uint8_t *close = tag_end + 1, *string_end = l->end;
	for (; (size_t)(l->end - close) >= delim; close++) {
		if (memcmp(close, l->p, delim) == 0) {
			string_end = close + delim;
			break;
		}
	}
	if (string_end == name_end)
		return;
	l->ambiguous_mode = l->dollar_ambiguous = true;
	l->kill = l->kill || text_may_kill(l->p, l->end);
}

/* quoted_name: the quoted token from |open| to l->p is an identifier
 * (backticks; double quotes unless ANSI_QUOTES is known off): its name is
 * what a bare word would be. A doubled quote inside stays doubled: no
 * keyword or builtin has one, so such a name before "(" is a stored
 * function's, as it is to the server. */
static bool quoted_name(const struct lexer *l, const uint8_t *open, const uint8_t **w, size_t *n)
{
	uint8_t q = *open;
	if (q == '\'' || (q == '"' && l->mode.ansi_quotes == MY_MODE_OFF))
		return false;
	if (l->p - open < 2 || l->p[-1] != q)
		return false;
	*w = open + 1;
	*n = (size_t)(l->p - open - 2);
	return *n > 0;
}

/* next_token reads the next token; false at the end of the text. A quoted
 * identifier followed by "(" is a function's name to the server
 * (`GET_LOCK`(...) is GET_LOCK), so it comes as a word too. */
static bool next_token(struct lexer *l, struct token *t)
{
	if (!skip_space_and_comments(l))
		return false;
	*t = (struct token){0};
	uint8_t c = *l->p;
	if (c == '\'' || c == '"' || c == '`') {
		const uint8_t *open = l->p, *w;
		size_t n;
		skip_quoted(l);
		t->quoted = true;
		if (quoted_name(l, open, &w, &n)) {
			note_charset_word(l, w, n);
			if (followed_by_paren(l)) {
				t->w = w;
				t->n = n;
			}
		}
		return true;
	}
	if (c == '@') {
		const uint8_t *at = l->p;
		bool system = l->p + 1 < l->end && l->p[1] == '@';
		l->p += system ? 2 : 1;
		t->user_variable = !system;
		t->punct = '@';
		if (!system && l->p < l->end && (*l->p == '\'' || *l->p == '"' || *l->p == '`'))
			skip_quoted(l);
		else
			while (l->p < l->end && (is_word_byte(l, *l->p) || *l->p == '.'))
				l->p++;
		const uint8_t *name = l->p;
		while (system && name > at && name[-1] != '@' && name[-1] != '.')
			name--;
		if (system)
			note_charset_word(l, name, (size_t)(l->p - name));
		return true;
	}
	if (c == '$')
		check_dollar_quote(l);
	t->w = l->p;
	while (l->p < l->end && is_word_byte(l, *l->p))
		l->p++;
	t->n = (size_t)(l->p - t->w);
	if (t->n == 0)
		t->punct = *l->p++;
	else
		note_charset_word(l, t->w, t->n);
	return true;
}

/* peek_token reads the next token without moving. */
static bool peek_token(const struct lexer *l, struct token *t)
{
	struct lexer ahead = *l;
	return next_token(&ahead, t);
}

/* word_is compares with an upper-case keyword, byte by byte: most words
 * differ at the first, and no strlen of the keyword is needed (it is asked
 * about twenty keywords per statement). A quoted name may hold any byte,
 * NUL included: the keyword's own NUL ends the comparison. */
static bool word_is(const struct token *t, const char *kw)
{
	if (t->n == 0)
		return false;
	for (size_t i = 0; i < t->n; i++) {
		uint8_t c = t->w[i];
		if (c >= 'a' && c <= 'z')
			c -= 'a' - 'A';
		if (kw[i] == '\0' || c != (uint8_t)kw[i])
			return false;
	}
	return kw[t->n] == '\0';
}

static bool is_end(const struct token *t)
{
	return t->n == 0 && t->punct == ';' && !t->quoted;
}

/* next_in_statement reads the next token of the current statement; false
 * once its ";" or the end of the text is read. */
static bool next_in_statement(struct lexer *l, struct token *t)
{
	if (l->statement_done)
		return false;
	if (next_token(l, t) && !is_end(t))
		return true;
	l->statement_done = true;
	return false;
}

/* at_statement_end: only the end of the text or ";" follows. */
static bool at_statement_end(const struct lexer *l)
{
	struct token t;
	return !peek_token(l, &t) || is_end(&t);
}

/* ---- statement bodies ------------------------------------------------ */

/* What scanning a statement's tokens found. */
struct scan {
	enum my_pin_reason pin;
	bool writes; /* a word that makes a SELECT write, lock or wait */
	bool calls;  /* a call of a function that is not a known builtin */
};

/* Builtin functions without side effects, and the keywords that may stand
 * before "(" in a query, in strcmp order. A name missing here only costs
 * a retry (the statement is not a read). */
static const char *const pure_names[] = {
	"ABS", "ACOS", "ADDDATE", "ADDTIME", "AGAINST", "ALL", "AND", "ANY", "AS", "ASCII", "ASIN",
	"ATAN", "ATAN2", "AVG", "BETWEEN", "BIN", "BINARY", "BIT_AND", "BIT_COUNT", "BIT_LENGTH",
	"BIT_OR", "BIT_XOR", "BY", "CASE", "CAST", "CEIL", "CEILING", "CHAR", "CHARACTER_LENGTH",
	"CHARSET", "CHAR_LENGTH", "COALESCE", "COERCIBILITY", "COLLATION", "CONCAT", "CONCAT_WS",
	"CONNECTION_ID", "CONV", "CONVERT", "CONVERT_TZ", "COS", "COT", "COUNT", "CRC32", "CROSS",
	"CUME_DIST", "CURDATE", "CURRENT_DATE", "CURRENT_ROLE", "CURRENT_TIME", "CURRENT_TIMESTAMP",
	"CURRENT_USER", "CURTIME", "DATABASE", "DATE", "DATEDIFF", "DATETIME", "DATE_ADD",
	"DATE_FORMAT", "DATE_SUB", "DAY", "DAYNAME", "DAYOFMONTH", "DAYOFWEEK", "DAYOFYEAR",
	"DECIMAL", "DEGREES", "DENSE_RANK", "DISTINCT", "DOUBLE", "ELSE", "ELT", "EXISTS", "EXP",
	"EXPORT_SET", "EXTRACT", "FIELD", "FIND_IN_SET", "FIRST_VALUE", "FLOAT", "FLOOR", "FORCE",
	"FORMAT", "FROM", "FROM_BASE64", "FROM_DAYS", "FROM_UNIXTIME", "GREATEST", "GROUP_CONCAT",
	"HAVING", "HEX", "HOUR", "IF", "IFNULL", "IN", "INDEX", "INET6_ATON", "INET6_NTOA",
	"INET_ATON", "INET_NTOA", "INSERT", "INSTR", "INT", "INTEGER", "INTERVAL", "IS", "ISNULL",
	"JOIN", "JSON", "JSON_ARRAY", "JSON_ARRAYAGG", "JSON_CONTAINS", "JSON_CONTAINS_PATH",
	"JSON_EXTRACT", "JSON_KEYS", "JSON_LENGTH", "JSON_OBJECT", "JSON_OBJECTAGG", "JSON_QUOTE",
	"JSON_SEARCH", "JSON_TABLE", "JSON_TYPE", "JSON_UNQUOTE", "JSON_VALID", "JSON_VALUE", "KEY",
	"LAG", "LAST_DAY", "LAST_VALUE", "LATERAL", "LCASE", "LEAD", "LEAST", "LEFT", "LENGTH",
	"LIKE", "LN", "LOCATE", "LOG", "LOG10", "LOG2", "LOWER", "LPAD", "LTRIM", "MAKEDATE",
	"MAKETIME", "MATCH", "MAX", "MD5", "MICROSECOND", "MID", "MIN", "MINUTE", "MOD", "MONTH",
	"MONTHNAME", "NCHAR", "NOT", "NOW", "NTH_VALUE", "NTILE", "NULLIF", "OCT", "OCTET_LENGTH",
	"ON", "OR", "ORD", "OVER", "PARTITION", "PERCENT_RANK", "PERIOD_ADD", "PERIOD_DIFF", "PI",
	"POSITION", "POW", "POWER", "QUARTER", "QUOTE", "RADIANS", "RAND", "RANK", "REGEXP",
	"REGEXP_INSTR", "REGEXP_REPLACE", "REGEXP_SUBSTR", "REPEAT", "REPLACE", "REVERSE", "RIGHT",
	"RLIKE", "ROUND", "ROW", "ROW_NUMBER", "RPAD", "RTRIM", "SCHEMA", "SECOND", "SEC_TO_TIME",
	"SELECT", "SESSION_USER", "SHA", "SHA1", "SHA2", "SIGN", "SIGNED", "SIN", "SOME", "SOUNDEX",
	"SPACE", "SQRT", "STD", "STDDEV", "STDDEV_POP", "STDDEV_SAMP", "STRCMP", "STR_TO_DATE",
	"SUBDATE", "SUBSTR", "SUBSTRING", "SUBSTRING_INDEX", "SUBTIME", "SUM", "SYSDATE",
	"SYSTEM_USER", "TAN", "THEN", "TIME", "TIMEDIFF", "TIMESTAMP", "TIMESTAMPADD",
	"TIMESTAMPDIFF", "TIME_FORMAT", "TIME_TO_SEC", "TO_BASE64", "TO_DAYS", "TO_SECONDS", "TRIM",
	"TRUNCATE", "UCASE", "UNHEX", "UNION", "UNIX_TIMESTAMP", "UNSIGNED", "UPPER", "USER",
	"USING", "UTC_DATE", "UTC_TIME", "UTC_TIMESTAMP", "UUID", "UUID_SHORT", "VALUES",
	"VARCHAR", "VARIANCE", "VAR_POP", "VAR_SAMP", "VERSION", "WEEK", "WEEKDAY", "WEEKOFYEAR",
	"WHEN", "WHERE", "WINDOW", "WITH", "XOR", "YEAR", "YEARWEEK",
};

static int cmp_name(const void *key, const void *elem)
{
	return strcmp((const char *)key, *(const char *const *)elem);
}

static bool is_pure_name(const struct token *t)
{
	char up[32];
	if (t->n >= sizeof(up))
		return false;
	for (size_t i = 0; i < t->n; i++)
		up[i] = (char)toupper(t->w[i]);
	up[t->n] = '\0';
	return bsearch(up, pure_names, sizeof(pure_names) / sizeof(pure_names[0]),
		       sizeof(pure_names[0]), cmp_name) != NULL;
}

/* Words of a statement body that matter: some leave session state, some
 * make a SELECT write, lock, wait or advance something. */
struct body_word {
	const char *word;
	uint8_t len;
	enum my_pin_reason reason; /* NONE: only |writes| */
	bool writes;
};
static const struct body_word body_words[] = {
	{"GET_LOCK", 8, MY_PIN_NAMED_LOCK, true},
	{"RELEASE_LOCK", 12, MY_PIN_NAMED_LOCK, true},
	{"RELEASE_ALL_LOCKS", 17, MY_PIN_NAMED_LOCK, true},
	{"IS_USED_LOCK", 12, MY_PIN_NAMED_LOCK, false},
	{"IS_FREE_LOCK", 12, MY_PIN_NAMED_LOCK, false},
	{"SQL_CALC_FOUND_ROWS", 19, MY_PIN_FOUND_ROWS, false},
	{"FOUND_ROWS", 10, MY_PIN_FOUND_ROWS, false},
	{"TEMPORARY", 9, MY_PIN_TEMPORARY_TABLE, true},
	{"FOR", 3, MY_PIN_NONE, true},
	{"LOCK", 4, MY_PIN_NONE, true},
	{"INTO", 4, MY_PIN_NONE, true},
	{"NEXTVAL", 7, MY_PIN_SEQUENCE, true},
	{"SETVAL", 6, MY_PIN_SEQUENCE, true},
	{"LASTVAL", 7, MY_PIN_NONE, true},
	{"SLEEP", 5, MY_PIN_NONE, true},
	{"BENCHMARK", 9, MY_PIN_NONE, true},
};

/* followed_by_paren: "(" comes next, after spaces or comments (IGNORE_SPACE
 * and stored functions allow them), or after the end of the executable
 * comment the name ends: f, then the comment's end, then "(" calls f. */
static bool followed_by_paren(const struct lexer *l)
{
	const uint8_t *p = l->p;
	while (p < l->end && lex_space(l, *p))
		p++;
	if (p < l->end && (*p == '/' || *p == '#' || *p == '-' || p == l->comment_end)) {
		struct token next; /* a comment, maybe: the slow way */
		return peek_token(l, &next) && next.punct == '(' && !next.quoted;
	}
	return p < l->end && *p == '(' && (!l->comment_end || p < l->comment_end);
}

/* scan_word looks at one word of a statement body (|l| just after it);
 * function calls are looked for only when |reads| (a SELECT or SHOW). */
static void scan_word(struct lexer *l, const struct token *t, bool qualified, bool reads,
		      struct scan *s)
{
	uint8_t first = (uint8_t)toupper(t->w[0]);
	for (size_t i = 0; i < sizeof(body_words) / sizeof(body_words[0]); i++) {
		const struct body_word *b = &body_words[i];
		if ((uint8_t)b->word[0] != first || b->len != t->n ||
		    strncasecmp((const char *)t->w, b->word, t->n) != 0)
			continue;
		if (s->pin == MY_PIN_NONE)
			s->pin = b->reason;
		s->writes = s->writes || b->writes;
		return;
	}
	if (first == 'L' && s->pin == MY_PIN_NONE && word_is(t, "LAST_INSERT_ID") &&
	    followed_by_paren(l)) {
		/* With an argument it sets the session's value, which no OK
		 * packet reports; LAST_INSERT_ID() alone is tracked. */
		struct lexer ahead = *l;
		struct token open, close;
		if (next_token(&ahead, &open) && (!next_token(&ahead, &close) || close.punct != ')'))
			s->pin = MY_PIN_LAST_INSERT_ID;
	}
	if (first == 'N' && s->pin == MY_PIN_NONE && word_is(t, "NEXT")) {
		struct token value; /* NEXT VALUE FOR s: NEXTVAL(s) */
		if (peek_token(l, &value) && word_is(&value, "VALUE"))
			s->pin = MY_PIN_SEQUENCE;
	}
	if (reads && !s->calls && followed_by_paren(l) &&
	    (qualified || !is_pure_name(t) || calls_stored(l, t, qualified)))
		s->calls = true; /* `REPLACE`(...), NOW (): stored functions' names */
}

/* Tokens looked at past a name for its arguments or the column list of a
 * common table expression: enough for any real one, and a bound on the
 * work per name. */
#define LOOKAHEAD_MAX 512

/* Lookahead tokens per text: POINT(POINT(POINT(... would otherwise cost
 * LOOKAHEAD_MAX tokens per name. Past it, names read as calls (pin). */
#define LOOKAHEAD_BUDGET (1u << 20)

/* lookahead_token reads the |i|th token of a lookahead at |ahead|; false at
 * the statement's end, past LOOKAHEAD_MAX, or with the text's budget spent. */
static bool lookahead_token(struct lexer *ahead, struct token *t, int i)
{
	if (i >= LOOKAHEAD_MAX || *ahead->lookahead_left == 0)
		return false;
	--*ahead->lookahead_left;
	return next_in_statement(ahead, t);
}

/* builtin_forms: the forms (enum my_builtin_form) in which |b| is |server|'s
 * own, and in |out_arities| with how many arguments. Either server: a name
 * only one owns is taken as that one's (a call of it is a builtin on the
 * server that has it), and what every owner owns is the server's own. */
static unsigned builtin_forms(enum my_server_kind server, const struct my_builtin *b,
			      unsigned *out_arities)
{
	*out_arities = 0;
	if (!b)
		return 0;
	bool mariadb = server != MY_SERVER_MYSQL && b->mariadb;
	bool mysql = server != MY_SERVER_MARIADB && b->mysql;
	if (server == MY_SERVER_EITHER && !b->mariadb)
		mysql = true;
	unsigned forms = MY_BUILTIN_GLUED | MY_BUILTIN_QUOTED | MY_BUILTIN_SPACED;
	*out_arities = MY_BUILTIN_ANY_ARITY;
	if (mariadb) {
		forms &= b->mariadb;
		*out_arities &= b->mariadb_arities;
	}
	if (mysql) {
		forms &= b->mysql;
		*out_arities &= b->mysql_arities;
	}
	return mariadb || mysql ? forms : 0;
}

/* count_args: how many arguments the call whose "(" comes next (|l| just
 * after its name) has; MY_BUILTIN_ARITY_MAX for that many or more, -1 past
 * the lookahead's bound. */
static int count_args(const struct lexer *l)
{
	struct lexer ahead = *l;
	struct token t;
	int depth = 0, args = 0;
	for (int i = 0; lookahead_token(&ahead, &t, i); i++) {
		bool punct = t.n == 0 && !t.quoted;
		if (punct && t.punct == '(')
			depth++;
		else if (punct && t.punct == ')' && --depth == 0)
			return args < MY_BUILTIN_ARITY_MAX ? args : MY_BUILTIN_ARITY_MAX;
		else if (depth == 1 && args == 0)
			args = 1;
		if (depth == 1 && punct && t.punct == ',')
			args++;
	}
	return -1;
}

/* builtin_form: how the name |t| (|l| just after it) stands before its
 * "(" (enum my_builtin_form). */
static unsigned builtin_form(const struct lexer *l, const struct token *t)
{
	if (t->quoted)
		return MY_BUILTIN_QUOTED;
	return l->p < l->end && *l->p == '(' ? MY_BUILTIN_GLUED : MY_BUILTIN_SPACED;
}

/* json_table: |t| (|l| just after it) is the table function JSON_TABLE(doc,
 * path COLUMNS (...)): MariaDB's is a table's name, not a builtin, and a
 * call of that name in an expression (no COLUMNS) is a stored function's. */
static bool json_table(const struct lexer *l, const struct token *t)
{
	if (!word_is(t, "JSON_TABLE") || t->quoted)
		return false;
	struct lexer ahead = *l;
	struct token a;
	int depth = 0;
	for (int i = 0; lookahead_token(&ahead, &a, i); i++) {
		bool punct = a.n == 0 && !a.quoted;
		if (punct && a.punct == '(')
			depth++;
		else if ((punct && a.punct == ')' && --depth == 0) || depth == 0)
			return false;
		else if (depth == 1 && word_is(&a, "COLUMNS"))
			return true;
	}
	return false;
}

/* calls_stored: the word |t| (|l| just after it) is a call of a function
 * that is not the server's own: a stored or loadable function, which runs
 * with the client's session and may leave anything there (SET @x, a
 * sequence's last value, a lock). A qualified name (db.f) is always one. */
static bool calls_stored(const struct lexer *l, const struct token *t, bool qualified)
{
	if (!followed_by_paren(l))
		return false;
	char up[65];
	if (qualified || t->n >= sizeof(up))
		return true; /* no builtin's name is that long */
	for (size_t i = 0; i < t->n; i++)
		up[i] = (char)toupper(t->w[i]);
	up[t->n] = '\0';
	unsigned arities;
	if ((builtin_forms(l->server, my_builtin_find(up), &arities) & builtin_form(l, t)) == 0)
		return !json_table(l, t);
	if (arities == MY_BUILTIN_ANY_ARITY)
		return false;
	int args = count_args(l);
	return args < 0 || (arities & (1u << args)) == 0;
}

static bool word_in(const struct token *t, const char *const *words, size_t n)
{
	for (size_t i = 0; t->n && i < n; i++) {
		if (word_is(t, words[i]))
			return true;
	}
	return false;
}

/* names_a_table: the name after |t| is a table's (INSERT INTO t), a common
 * table expression's (WITH c) or an alias (AS a), whose "(" opens a list
 * of columns, not a call; or a column's or a character set's (SET a = ...,
 * LOAD DATA ... CHARACTER SET utf8mb4 (a, b)). */
static bool names_a_table(const struct token *t)
{
	static const char *const words[] = {"AS",	 "CHARSET", "INSERT", "INTO",
					    "REPLACE", "SET",	    "TABLE",  "WITH"};
	return word_in(t, words, sizeof(words) / sizeof(words[0]));
}

/* keeps_a_table: |t| may stand between such a word and the name
 * (INSERT IGNORE t, WITH RECURSIVE c); elsewhere it names nothing
 * (SELECT HIGH_PRIORITY f(1) calls f). */
static bool keeps_a_table(const struct token *t)
{
	static const char *const words[] = {"DELAYED", "HIGH_PRIORITY", "IGNORE", "LOW_PRIORITY",
					    "RECURSIVE"};
	return word_in(t, words, sizeof(words) / sizeof(words[0]));
}

/* Whether a statement runs the functions it names (runs_calls). */
enum calls_run { CALLS_NONE, CALLS_RUN, CALLS_FROM_SELECT };

/* Where scan_to_end is in a table's name: none, just after a word that
 * names one, after its first part (db in db.t), or just after ")" or a
 * literal, where a name is an alias ((SELECT 1) dt (x)): no call stands
 * there in valid SQL. */
enum table_name { TABLE_NONE, TABLE_NEXT, TABLE_NAMED, TABLE_ALIAS };


/* cte_columns: the name just read (|l| after it) is a common table
 * expression's with a column list: "(" ... ")" AS "(" follows, which no
 * call is followed by (WITH a AS (...), b (x) AS (...): b is no call). */
static bool cte_columns(const struct lexer *l)
{
	struct lexer ahead = *l;
	struct token t;
	int depth = 0;
	for (int i = 0; lookahead_token(&ahead, &t, i); i++) {
		bool open = t.punct == '(' && !t.quoted, close = t.punct == ')' && !t.quoted;
		if ((i == 0 && !open) || (close && --depth < 0))
			return false;
		depth += open;
		if (depth == 0 && close)
			return next_in_statement(&ahead, &t) && word_is(&t, "AS") &&
			       next_in_statement(&ahead, &t) && t.punct == '(' && !t.quoted;
	}
	return false;
}

/* note_call: the token |t| (|l| just after it) of a statement that runs
 * the functions it names pins when it calls a stored one, unless it names
 * a table (INSERT INTO t (a)); |table| follows where table names stand. */
static void note_call(const struct lexer *l, const struct token *t, bool after_dot,
		      enum table_name *table, struct scan *s)
{
	bool name = t->n || t->quoted;
	bool dot = t->punct == '.' && !t->quoted;
	if (t->n && *table != TABLE_NEXT && *table != TABLE_ALIAS && s->pin == MY_PIN_NONE &&
	    calls_stored(l, t, after_dot) && !cte_columns(l))
		s->pin = MY_PIN_STORED_FUNCTION;
	if (t->punct == ')' && !t->quoted)
		*table = TABLE_ALIAS; /* (SELECT 1) dt (x): no call stands right after ")" */
	else if (names_a_table(t))
		*table = TABLE_NEXT; /* INSERT IGNORE INTO t: the last one */
	else if (*table == TABLE_NEXT && keeps_a_table(t))
		*table = TABLE_NEXT;
	else if (name && *table == TABLE_NEXT)
		*table = TABLE_NAMED;
	else if (dot && *table == TABLE_NAMED)
		*table = TABLE_NEXT;
	else if (t->quoted && !t->n)
		*table = TABLE_ALIAS; /* JSON_TABLE('[]', '$' COLUMNS (...)): no call after a literal */
	else
		*table = TABLE_NONE;
}

/* starts_query: |t| opens the query of CREATE TABLE ... [AS] query, whose
 * calls run: SELECT, VALUES ROW(...), or TABLE t after the statement's own
 * TABLE (MySQL; |tables| counts them). */
static bool starts_query(const struct lexer *l, const struct token *t, unsigned *tables)
{
	struct token next;
	if (word_is(t, "TABLE"))
		return ++*tables > 1;
	if (word_is(t, "VALUES")) /* not a partition's VALUES LESS THAN (...), VALUES IN (...) */
		return !peek_token(l, &next) || (!word_is(&next, "LESS") && !word_is(&next, "IN"));
	return word_is(t, "SELECT");
}

/* scan_to_end reads the rest of a statement, its ";" included, and
 * reports the first token that leaves state behind; |calls|: whether the
 * statement runs the functions it names (SELECT, DML, DO), so that a
 * stored one pins; |table_next|: its first word names a table (INSERT t). */
static void scan_to_end(struct lexer *l, bool reads, enum calls_run calls, bool table_next,
			struct scan *s)
{
	struct token t;
	bool after_dot = false;
	enum table_name table = table_next ? TABLE_NEXT : TABLE_NONE;
	unsigned tables = 0;
	while (next_in_statement(l, &t)) {
		if (t.user_variable && s->pin == MY_PIN_NONE)
			s->pin = MY_PIN_USER_VARIABLE;
		if (t.n)
			scan_word(l, &t, after_dot, reads, s);
		if (calls == CALLS_FROM_SELECT && starts_query(l, &t, &tables))
			calls = CALLS_RUN;
		if (calls == CALLS_RUN)
			note_call(l, &t, after_dot, &table, s);
		after_dot = t.punct == '.' && !t.quoted;
	}
}

/* skip_statement passes the rest of a statement whose effect is decided,
 * its ";" included. */
static void skip_statement(struct lexer *l)
{
	struct token t;
	while (next_in_statement(l, &t))
		;
}

/* ---- dynamic SQL and texts that are not lexed ------------------------ */

static void classify_text(struct my_session_change *out, struct my_sql_mode mode,
			  enum my_text_kind kind, const uint8_t *sql, size_t len, unsigned depth);

/* Dynamic SQL in dynamic SQL deeper than this is refused like a KILL: the
 * server does not prepare such texts, and it bounds the recursion. */
#define DYNAMIC_DEPTH_MAX 4

/* decode_literal writes to |out| the text of the string literal from
 * |open| to |end| (its quotes included) as the server reads it, with or
 * without backslash escapes; returns its length (never more than the
 * literal's). */
static size_t decode_literal(uint8_t *out, const uint8_t *open, const uint8_t *end, bool backslash)
{
	static const char from[] = "0bnrtZ", to[] = "\0\b\n\r\t\x1a";
	size_t o = 0;
	for (const uint8_t *p = open + 1; p < end - 1; p++) {
		if (backslash && *p == '\\' && p + 1 < end - 1) {
			const char *k = memchr(from, p[1], sizeof(from) - 1);
			if (p[1] == '%' || p[1] == '_')
				out[o++] = '\\'; /* kept, as LIKE wants it */
			out[o++] = k ? (uint8_t)to[k - from] : p[1];
			p++;
		} else {
			out[o++] = *p;
			p += *p == *open; /* a doubled quote is one */
		}
	}
	return o;
}

/* read_dynamic reads at l->p the text that EXECUTE IMMEDIATE or PREPARE
 * ... FROM runs: string literals, maybe after a character set introducer
 * (adjacent ones are one string to the server), maybe in parentheses, up
 * to the statement's end or USING, and classifies it into |inner| (call
 * my_session_change_cleanup). False when it is an expression or a
 * variable, or out of memory: |inner| is untouched. */
static bool read_dynamic(struct lexer *l, bool backslash, struct my_session_change *inner)
{
	uint8_t *buf = try_realloc(NULL, (size_t)(l->end - l->p) + 1);
	size_t n = 0, strings = 0, opened = 0, closed = 0;
	bool ok = buf != NULL, introduced = false;
	struct token t;
	while (ok && skip_space_and_comments(l)) {
		const uint8_t *open = l->p;
		if (!next_token(l, &t) || is_end(&t) || word_is(&t, "USING"))
			break;
		bool string = t.quoted && closed == 0 &&
			      (*open == '\'' || (*open == '"' && l->mode.ansi_quotes != MY_MODE_ON));
		bool introducer = strings == 0 && !introduced && t.n && !t.quoted &&
				  (t.w[0] == '_' || word_is(&t, "N"));
		bool paren = !t.quoted && t.n == 0 && t.punct == '(' && strings == 0 && !introduced;
		bool close = !t.quoted && t.n == 0 && t.punct == ')' && strings > 0 && closed < opened;
		ok = string || introducer || paren || close;
		if (string)
			n += decode_literal(buf + n, open, l->p, backslash);
		strings += string;
		introduced = introduced || introducer;
		opened += paren;
		closed += close;
	}
	ok = ok && strings > 0 && closed == opened;
	if (ok)
		classify_text(inner, l->mode, MY_TEXT_PREPARE, buf, n, l->depth + 1);
	xfree(buf);
	return ok;
}

/* check_dynamic: at l->p (after IMMEDIATE or FROM) comes the text of
 * dynamic SQL. A KILL in it counts as one here, read every way the
 * session's sql_mode allows; a text that cannot be read (an expression, a
 * variable) may change the character set. */
static void check_dynamic(struct lexer *l)
{
	if (l->depth >= DYNAMIC_DEPTH_MAX) {
		l->kill = true;
		return;
	}
	for (int b = MY_MODE_OFF; b <= MY_MODE_ON; b++) {
		if (l->mode.no_backslash_escapes != MY_MODE_UNKNOWN &&
		    l->mode.no_backslash_escapes != (enum my_mode_bit)b)
			continue;
		struct lexer ahead = *l;
		struct my_session_change inner;
		ahead.mode.no_backslash_escapes = (enum my_mode_bit)b;
		if (!read_dynamic(&ahead, b == MY_MODE_OFF, &inner)) {
			l->charset_word = true;
			continue;
		}
		l->kill = l->kill || inner.kill;
		l->charset_word = l->charset_word || inner.charset_unreadable;
		my_session_change_cleanup(&inner);
	}
}

/* classify_dynamic: PREPARE and EXECUTE pin; their dynamic SQL is read
 * for a KILL. */
static enum my_pin_reason classify_dynamic(struct lexer *l)
{
	struct token t;
	while (next_in_statement(l, &t)) {
		if (word_is(&t, "IMMEDIATE") || word_is(&t, "FROM"))
			check_dynamic(l);
	}
	return MY_PIN_PREPARED_STATEMENT;
}

/* text_may_kill: the bytes "KILL" (any case) stand in |p|..|end| with no
 * ASCII letter glued before them (digits may be an executable comment's
 * version) nor a word byte after. In a text the lexer cannot read, that is
 * every place the server may see the keyword. */
static bool text_may_kill(const uint8_t *p, const uint8_t *end)
{
	for (const uint8_t *q = p; end - q >= 4; q++) {
		if (strncasecmp((const char *)q, "KILL", 4) != 0)
			continue;
		bool before = q > p && (isalpha(q[-1]) || q[-1] == '_' || q[-1] == '$');
		bool after = end - q > 4 && (isalnum(q[4]) || q[4] == '_' || q[4] == '$');
		if (!before && !after)
			return true;
	}
	return false;
}

/* classify_unreadable: the rest of the text is in a character set whose
 * characters may end in a backslash, quote or backtick byte, which the
 * lexer cannot cut: it pins (MY_PIN_CHARSET), nothing of it is tracked nor
 * a read, and a KILL anywhere in its bytes counts. */
static void classify_unreadable(struct lexer *l, struct my_session_change *out)
{
	out->statements++;
	if (out->pin == MY_PIN_NONE)
		out->pin = MY_PIN_CHARSET;
	out->kill = out->kill || text_may_kill(l->p, l->end);
	out->charset_unreadable = true;
	l->p = l->end;
}

/* ---- SET, SET NAMES and USE ----------------------------------------- */

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
		"optimizer_trace", /* the trace holds the statements' text: it stays with the session */
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

/* copy_lower copies a word in lower case; false when it does not fit or is
 * not a plain name. */
static bool copy_lower(const struct token *t, char *out, size_t out_len)
{
	if (t->n == 0 || t->n >= out_len)
		return false;
	for (size_t i = 0; i < t->n; i++) {
		if (t->w[i] == '$' || t->w[i] >= 0x80)
			return false;
		out[i] = (char)tolower(t->w[i]);
	}
	out[t->n] = '\0';
	return true;
}

/* read_var_name reads "[SESSION|LOCAL] name" or "@@[session.|local.]name"
 * into |out| in lower case; false for GLOBAL, user variables and anything
 * else. */
static bool read_var_name(struct lexer *l, char *out, size_t out_len)
{
	if (!skip_space_and_comments(l))
		return false;
	bool at_at = l->end - l->p >= 2 && l->p[0] == '@' && l->p[1] == '@';
	if (at_at)
		l->p += 2;
	struct token t;
	if (!next_token(l, &t) || t.n == 0 || word_is(&t, "GLOBAL"))
		return false;
	bool scope = word_is(&t, "SESSION") || word_is(&t, "LOCAL");
	if (scope && at_at) {
		if (l->p >= l->end || *l->p != '.')
			return false;
		l->p++;
		if (!next_token(l, &t))
			return false;
	} else if (scope) {
		struct token next;
		if (peek_token(l, &next) && next.n > 0 && !next_token(l, &t))
			return false; /* SESSION was the scope, not a name */
	}
	return copy_lower(&t, out, out_len);
}

/* read_assign reads "=" or ":=". */
static bool read_assign(struct lexer *l)
{
	struct token t;
	if (!next_token(l, &t) || t.quoted || t.n)
		return false;
	if (t.punct == ':' && (l->p >= l->end || *l->p++ != '='))
		return false;
	return t.punct == '=' || t.punct == ':';
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
	bool glued = l->p < l->end && is_word_byte(l, *l->p);
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
		const uint8_t *q = l->p + 1;
		while (q < l->end && *q != '\'' && *q != '\\')
			q++;
		ok = q < l->end && *q == '\'' && (q + 1 == l->end || q[1] != '\'');
		l->p = ok ? q + 1 : l->end;
	} else if (isdigit(*l->p) || *l->p == '-' || *l->p == '+' || *l->p == '.') {
		ok = read_number(l);
	} else {
		struct token t;
		if (next_token(l, &t) && t.n) {
			for (size_t i = 0; i < sizeof(constants) / sizeof(constants[0]); i++)
				ok = ok || word_is(&t, constants[i]);
		}
		ok = ok && (l->p == l->end || (*l->p != '(' && *l->p != '.'));
	}
	*value_len = (size_t)(l->p - *value);
	return ok;
}

/* vars_merge puts each of |from| into |into| as written (DEFAULT too:
 * the client applies the whole change with my_vars_apply). */
static bool vars_merge(struct my_vars *into, const struct my_vars *from)
{
	for (uint8_t i = 0; i < from->n; i++) {
		const struct my_var *v = &from->v[i];
		const char *value = v->text + v->name_len + 1;
		if (!my_vars_put(into, v->text, v->name_len, value, strlen(value)))
			return false;
	}
	return true;
}

/* sql_mode_of_literal: the lexing rules of "sql_mode=<literal>". */
static struct my_sql_mode sql_mode_of_literal(const char *v)
{
	static const char *const ansi_quoting[] = {"ANSI_QUOTES", "ANSI", "DB2", "MAXDB",
						   "MSSQL", "ORACLE", "POSTGRESQL"};
	struct my_sql_mode m = {MY_MODE_UNKNOWN, MY_MODE_UNKNOWN, false, 0, false, MY_SERVER_EITHER};
	if (*v != '\'')
		return m; /* DEFAULT, a number (a bit mask): not read here */
	m = (struct my_sql_mode){MY_MODE_OFF, MY_MODE_OFF, false, 0, false, MY_SERVER_EITHER};
	for (const char *p = v + 1; *p && *p != '\'';) {
		size_t n = strcspn(p, ",'");
		for (size_t i = 0; i < n; i++) {
			if (!isalnum((unsigned char)p[i]) && p[i] != '_')
				return (struct my_sql_mode){MY_MODE_UNKNOWN, MY_MODE_UNKNOWN, false, 0, false, MY_SERVER_EITHER};
		}
		for (size_t i = 0; i < sizeof(ansi_quoting) / sizeof(ansi_quoting[0]); i++) {
			if (n == strlen(ansi_quoting[i]) && strncasecmp(p, ansi_quoting[i], n) == 0)
				m.ansi_quotes = MY_MODE_ON;
		}
		if (n == 20 && strncasecmp(p, "NO_BACKSLASH_ESCAPES", 20) == 0)
			m.no_backslash_escapes = MY_MODE_ON;
		p += n + (p[n] == ',');
	}
	return m;
}

struct my_sql_mode my_sql_mode_of(const struct my_vars *vars)
{
	const char *v = my_vars_get(vars, "sql_mode");
	return v ? sql_mode_of_literal(v) : (struct my_sql_mode){MY_MODE_UNKNOWN, MY_MODE_UNKNOWN, false, 0, false, MY_SERVER_EITHER};
}

struct my_sql_mode my_sql_mode_merge(struct my_sql_mode a, struct my_sql_mode b)
{
	return (struct my_sql_mode){
		a.no_backslash_escapes == b.no_backslash_escapes ? a.no_backslash_escapes
								 : MY_MODE_UNKNOWN,
		a.ansi_quotes == b.ansi_quotes ? a.ansi_quotes : MY_MODE_UNKNOWN,
		a.charset_unreadable || b.charset_unreadable,
		a.space_byte ? a.space_byte : b.space_byte,
		a.space_unknown || b.space_unknown || a.space_byte != b.space_byte,
		a.server == b.server ? a.server : MY_SERVER_EITHER,
	};
}

enum my_server_kind my_server_kind_of(const char *server_version)
{
	if (!server_version || !server_version[0])
		return MY_SERVER_EITHER;
	return strstr(server_version, "MariaDB") ? MY_SERVER_MARIADB : MY_SERVER_MYSQL;
}

/* with_sql_mode: |m|'s lexing rules of sql_mode, with the character set's
 * of |charset| (SET sql_mode does not change the character set). */
static struct my_sql_mode with_sql_mode(struct my_sql_mode charset, struct my_sql_mode m)
{
	m.charset_unreadable = charset.charset_unreadable;
	m.space_byte = charset.space_byte;
	m.space_unknown = charset.space_unknown;
	m.server = charset.server; /* nor the backend */
	return m;
}

/* read_expression passes a value that is not a literal, up to the "," that
 * ends it or the statement's end: true when it reads the session without
 * changing anything (no user variable, no lock, no write, no call of a
 * function that is not a known builtin), so that its result may be read
 * back from the server (@@system variables, CONCAT, IF...). */
static bool read_expression(struct lexer *l)
{
	struct scan s = {0};
	struct token t;
	int depth = 0;
	bool after_dot = false, any = false;
	for (;;) {
		struct lexer before = *l;
		if (!next_token(l, &t) || is_end(&t) || (depth == 0 && t.punct == ',' && !t.quoted)) {
			*l = before; /* the separator or the end is the caller's */
			return any && depth == 0 && s.pin == MY_PIN_NONE && !s.writes && !s.calls;
		}
		any = true;
		if (t.user_variable)
			return false;
		if (!t.quoted && t.punct == '(')
			depth++;
		if (!t.quoted && t.punct == ')' && --depth < 0)
			return false;
		if (t.n)
			scan_word(l, &t, after_dot, true, &s);
		after_dot = t.punct == '.' && !t.quoted;
	}
}

/* parse_set_vars reads "name = value [, ...]" to the statement's end:
 * literal values into |out|, the names of variables set to expressions
 * (read_expression) into |readback|; false for anything else. */
static bool parse_set_vars(struct lexer *l, struct my_vars *out, struct my_vars *readback)
{
	for (;;) {
		char name[MY_VAR_NAME_MAX + 1];
		const uint8_t *value;
		size_t value_len;
		if (!read_var_name(l, name, sizeof(name)) || !var_is_trackable(name) ||
		    !read_assign(l))
			return false;
		struct lexer before = *l;
		struct token t;
		bool literal = read_literal(l, &value, &value_len) &&
			       (!peek_token(l, &t) || is_end(&t) || (t.punct == ',' && !t.quoted));
		if (literal) {
			if (!my_vars_put(out, name, strlen(name), (const char *)value, value_len))
				return false;
		} else {
			*l = before;
			if (!read_expression(l) || !my_vars_put(readback, name, strlen(name), "", 0))
				return false;
		}
		if (!peek_token(l, &t) || is_end(&t))
			return true;
		if (t.punct != ',' || t.quoted)
			return false;
		next_token(l, &t);
	}
}

/* read_characteristics reads "ISOLATION LEVEL level | READ ONLY | READ
 * WRITE [, ...]" to the statement's end into |out| as the session
 * variables they set (transaction_isolation, transaction_read_only; the
 * client renames them for servers that know only tx_*). */
static bool read_characteristics(struct lexer *l, struct my_vars *out)
{
	static const char *const levels[][3] = {
		{"READ", "UNCOMMITTED", "'READ-UNCOMMITTED'"},
		{"READ", "COMMITTED", "'READ-COMMITTED'"},
		{"REPEATABLE", "READ", "'REPEATABLE-READ'"},
		{"SERIALIZABLE", NULL, "'SERIALIZABLE'"},
	};
	struct token a, b, c;
	for (;;) {
		if (!next_token(l, &a) || !next_token(l, &b))
			return false;
		const char *name = NULL, *value = NULL;
		if (word_is(&a, "READ") && (word_is(&b, "ONLY") || word_is(&b, "WRITE"))) {
			name = "transaction_read_only";
			value = word_is(&b, "ONLY") ? "ON" : "OFF";
		} else if (word_is(&a, "ISOLATION") && word_is(&b, "LEVEL") && next_token(l, &c)) {
			for (size_t i = 0; !value && i < sizeof(levels) / sizeof(levels[0]); i++) {
				struct lexer before = *l;
				struct token d;
				if (!word_is(&c, levels[i][0]))
					continue;
				if (!levels[i][1] || (next_token(l, &d) && word_is(&d, levels[i][1])))
					value = levels[i][2];
				else
					*l = before;
			}
			name = "transaction_isolation";
		}
		if (!value || !my_vars_put(out, name, strlen(name), value, strlen(value)))
			return false;
		if (!peek_token(l, &a) || is_end(&a))
			return true;
		if (a.punct != ',' || a.quoted || !next_token(l, &a))
			return false;
	}
}

/* read_name reads a bare word or a quoted name into |out|. */
static bool read_name(struct lexer *l, char *out, size_t out_len, bool backtick_only)
{
	if (!skip_space_and_comments(l))
		return false;
	const uint8_t *w = l->p;
	size_t n;
	uint8_t q = *l->p;
	if (q == '`' || (!backtick_only && (q == '\'' || q == '"'))) {
		w = ++l->p;
		while (l->p < l->end && *l->p != q)
			l->p++;
		if (l->p >= l->end)
			return false;
		n = (size_t)(l->p++ - w);
		if (l->p < l->end && *l->p == q)
			return false; /* a doubled quote: not read here */
	} else {
		while (l->p < l->end && is_word_byte(l, *l->p))
			l->p++;
		n = (size_t)(l->p - w);
	}
	if (n == 0 || n >= out_len || memchr(w, '\\', n))
		return false;
	memcpy(out, w, n);
	out[n] = '\0';
	return true;
}

/* classify_set_names: after "SET NAMES": "cs [COLLATE coll]" to the end. */
static bool classify_set_names(struct lexer *l, struct my_session_change *out)
{
	char charset[64], collation[64] = "";
	if (!read_name(l, charset, sizeof(charset), false))
		return false;
	struct token t;
	if (peek_token(l, &t) && word_is(&t, "COLLATE")) {
		next_token(l, &t);
		if (!read_name(l, collation, sizeof(collation), false))
			return false;
	}
	const struct my_collation *coll = my_collation_by_name(charset, collation);
	if (!coll || !at_statement_end(l))
		return false;
	out->collation = coll->id;
	return true;
}

/* classify_transaction: after "SET [SESSION|LOCAL]": "TRANSACTION ..." of
 * the session is tracked as the variables it sets; without a scope it
 * configures the next transaction only (|next_transaction|). */
static bool classify_transaction(struct lexer *l, struct my_session_change *out)
{
	struct lexer ahead = *l;
	struct token t;
	if (!next_token(&ahead, &t))
		return false;
	bool scope = word_is(&t, "SESSION") || word_is(&t, "LOCAL");
	if (scope && !next_token(&ahead, &t))
		return false;
	if (!word_is(&t, "TRANSACTION"))
		return false;
	*l = ahead;
	struct my_vars set = {0};
	bool ok = read_characteristics(l, &set) && (!scope || vars_merge(&out->vars, &set));
	out->next_transaction = ok && !scope;
	my_vars_clear(&set);
	return ok;
}

/* classify_set: SET NAMES, SET TRANSACTION and a SET of literals or of
 * expressions to read back are tracked; every other SET pins. A literal
 * sql_mode changes how the rest of the text reads. */
static enum my_pin_reason classify_set(struct lexer *l, struct my_session_change *out)
{
	struct token t;
	if (peek_token(l, &t) && word_is(&t, "NAMES")) {
		next_token(l, &t);
		return classify_set_names(l, out) ? MY_PIN_NONE : MY_PIN_SET;
	}
	struct lexer start = *l;
	if (classify_transaction(l, out))
		return MY_PIN_NONE;
	*l = start;
	struct my_vars set = {0}, readback = {0};
	enum my_pin_reason r = MY_PIN_SET;
	if (parse_set_vars(l, &set, &readback) && vars_merge(&out->vars, &set) &&
	    vars_merge(&out->readback, &readback)) {
		r = MY_PIN_NONE;
		const char *mode = my_vars_get(&set, "sql_mode");
		if (mode)
			l->mode = with_sql_mode(l->mode, sql_mode_of_literal(mode));
	}
	if (r != MY_PIN_NONE || my_vars_get(&readback, "sql_mode")) {
		/* sql_mode = expression: what follows reads in an unknown mode. */
		l->mode = with_sql_mode(l->mode, (struct my_sql_mode){MY_MODE_UNKNOWN,
								      MY_MODE_UNKNOWN, false, 0, false, MY_SERVER_EITHER});
	}
	my_vars_clear(&set);
	my_vars_clear(&readback);
	return r;
}

/* classify_use: "USE db" to the end is tracked; any other USE pins. */
static enum my_pin_reason classify_use(struct lexer *l, struct my_session_change *out)
{
	char db[MY_NAME_MAX];
	if (!skip_space_and_comments(l))
		return MY_PIN_OTHER_COMMAND;
	bool ok;
	if (*l->p == '`') {
		size_t o = 0;
		ok = true;
		for (l->p++; ok && l->p < l->end; l->p++) {
			if (*l->p == '`') {
				if (l->p + 1 < l->end && l->p[1] == '`')
					l->p++; /* `` is a literal backtick */
				else
					break;
			}
			ok = o + 1 < sizeof(db);
			if (ok)
				db[o++] = (char)*l->p;
		}
		ok = ok && l->p < l->end && o > 0;
		l->p += ok;
		if (ok)
			db[o] = '\0';
	} else {
		ok = read_name(l, db, sizeof(db), true);
	}
	if (!ok || !at_statement_end(l))
		return MY_PIN_OTHER_COMMAND;
	out->use = true;
	memcpy(out->db, db, sizeof(db));
	return MY_PIN_NONE;
}

/* ---- statements ----------------------------------------------------- */

/* begins_block: BEGIN is a transaction when nothing follows it but WORK
 * (and a last ";"). Anything else is a block: BEGIN NOT ATOMIC, or, under
 * MariaDB's sql_mode=ORACLE, BEGIN ... END, where even "BEGIN WORK; END"
 * calls a procedure named work. Elsewhere those are syntax errors. */
static bool begins_block(const struct lexer *l)
{
	struct lexer ahead = *l;
	struct token t;
	if (!next_token(&ahead, &t) || is_end(&t))
		return false;
	if (!word_is(&t, "WORK"))
		return true;
	return next_token(&ahead, &t) && (!is_end(&t) || next_token(&ahead, &t));
}

/* starts_compound: the statement may hold other statements (a routine's
 * body, BEGIN NOT ATOMIC, IF, a label): its ";" do not end it. */
static bool starts_compound(const struct lexer *l, const struct token *first)
{
	static const char *const routine[] = {"PROCEDURE", "FUNCTION", "TRIGGER", "EVENT",
					      "PACKAGE"};
	struct lexer ahead = *l;
	struct token t;
	if (word_is(first, "IF") || word_is(first, "CASE") || word_is(first, "WHILE") ||
	    word_is(first, "LOOP") || word_is(first, "REPEAT") || word_is(first, "FOR"))
		return true;
	if (word_is(first, "BEGIN"))
		return begins_block(l);
	if (first->n && peek_token(l, &t) && t.punct == ':' && !t.quoted)
		return true; /* label: */
	if (!word_is(first, "CREATE"))
		return false;
	for (int i = 0; i < 12 && next_token(&ahead, &t) && !is_end(&t) && t.punct != '(' &&
			!word_is(&t, "TABLE"); i++) { /* CREATE TABLE event SELECT f(1) runs f */
		for (size_t k = 0; k < sizeof(routine) / sizeof(routine[0]); k++) {
			if (word_is(&t, routine[k]))
				return true;
		}
	}
	return false;
}

/* classify_compound reads the rest of the text as one statement: any word
 * that would pin as a statement of its own, or in a body, pins. One that
 * runs (not a CREATE of a routine) pins in any case: for the stored
 * functions it calls (reason stored_function), else for a name standing
 * alone in it, a procedure's call under MariaDB's sql_mode=ORACLE (reason
 * call). What follows a CREATE's first ";" runs too: it pins for the
 * stored functions it calls. */
static enum my_pin_reason classify_compound(struct lexer *l, bool runs)
{
	static const struct {
		const char *word;
		enum my_pin_reason reason;
	} words[] = {
		{"SET", MY_PIN_SET},	    {"USE", MY_PIN_OTHER_COMMAND},
		{"PREPARE", MY_PIN_PREPARED_STATEMENT}, {"EXECUTE", MY_PIN_PREPARED_STATEMENT},
		{"LOCK", MY_PIN_LOCK_TABLES}, {"HANDLER", MY_PIN_HANDLER},
		{"CALL", MY_PIN_CALL},	    {"FLUSH", MY_PIN_GLOBAL_LOCK},
		{"XA", MY_PIN_OTHER_COMMAND}, {"BACKUP", MY_PIN_GLOBAL_LOCK},
	};
	struct scan s = {0};
	struct token t;
	bool after_dot = false, calls_run = runs;
	enum table_name table = TABLE_NONE;
	while (next_token(l, &t)) {
		/* A routine's body may end at its first ";", and what follows
		 * runs (CREATE PROCEDURE p() SELECT 1; SELECT f(1)): calls after
		 * it pin, in a body of several statements too (where its END is
		 * is not followed here). */
		calls_run = calls_run || is_end(&t);
		if (calls_run)
			note_call(l, &t, after_dot, &table, &s);
		if (t.user_variable && s.pin == MY_PIN_NONE)
			s.pin = MY_PIN_USER_VARIABLE;
		for (size_t i = 0; t.n && s.pin == MY_PIN_NONE && i < sizeof(words) / sizeof(words[0]); i++) {
			if (word_is(&t, words[i].word))
				s.pin = words[i].reason;
		}
		if (word_is(&t, "KILL"))
			l->kill = true; /* it would reach a backend session by number */
		if (word_is(&t, "IMMEDIATE") || word_is(&t, "FROM"))
			check_dynamic(l);
		if (t.n)
			scan_word(l, &t, after_dot, false, &s);
		after_dot = t.punct == '.' && !t.quoted;
	}
	if (runs && s.pin == MY_PIN_NONE)
		s.pin = MY_PIN_CALL;
	l->charset_word = l->charset_word || s.pin != MY_PIN_NONE;
	return s.pin;
}

/* classify_flush: FLUSH TABLES ... WITH READ LOCK and ... FOR EXPORT take
 * locks that stay with the session. */
static enum my_pin_reason classify_flush(struct lexer *l)
{
	struct token t;
	enum my_pin_reason r = MY_PIN_NONE;
	while (next_in_statement(l, &t)) {
		if (word_is(&t, "LOCK") || word_is(&t, "EXPORT"))
			r = MY_PIN_GLOBAL_LOCK;
	}
	return r;
}

/* runs_calls: a statement that starts with |first| (|l| just after it)
 * runs the functions it names: from its start, or (CREATE TABLE ...
 * SELECT) from its SELECT on. Other DDL only stores them, in a routine's
 * or a view's body. EXPLAIN may fold a call while it optimizes. */
static enum calls_run runs_calls(const struct lexer *l, const struct token *first)
{
	static const char *const words[] = {"SELECT",  "WITH",	  "INSERT",   "REPLACE", "UPDATE",
					    "DELETE",  "DO",	  "VALUES",   "TABLE",	 "LOAD",
					    "SHOW",    "EXPLAIN", "DESCRIBE", "DESC",	 "ANALYZE", "PURGE"};
	if (first->n == 0)
		return first->punct == '(' && !first->quoted ? CALLS_RUN : CALLS_NONE; /* (SELECT ...) */
	for (size_t i = 0; i < sizeof(words) / sizeof(words[0]); i++) {
		if (word_is(first, words[i]))
			return CALLS_RUN;
	}
	if (!word_is(first, "CREATE"))
		return CALLS_NONE;
	struct lexer ahead = *l;
	struct token t = {0};
	while (next_in_statement(&ahead, &t) && (word_is(&t, "OR") || word_is(&t, "REPLACE")))
		;
	return word_is(&t, "TABLE") ? CALLS_FROM_SELECT : CALLS_NONE;
}

/* classify_by_first_word decides a statement from its first word; |s|
 * gets what the body scan found. */
static enum my_pin_reason classify_by_first_word(struct lexer *l, const struct token *first,
						 struct my_session_change *out, struct scan *s)
{
	static const struct {
		const char *word;
		enum my_pin_reason reason;
	} pins[] = {
		{"DEALLOCATE", MY_PIN_PREPARED_STATEMENT}, {"LOCK", MY_PIN_LOCK_TABLES},
		{"HANDLER", MY_PIN_HANDLER},	    {"DECLARE", MY_PIN_HANDLER},
		{"CALL", MY_PIN_CALL},		    {"BACKUP", MY_PIN_GLOBAL_LOCK},
		{"XA", MY_PIN_OTHER_COMMAND},
	};
	if (word_is(first, "PREPARE") || word_is(first, "EXECUTE"))
		return classify_dynamic(l);
	if (word_is(first, "CALL"))
		l->charset_word = true; /* a routine may SET NAMES */
	if (word_is(first, "SET"))
		return classify_set(l, out);
	if (word_is(first, "USE"))
		return classify_use(l, out);
	if (word_is(first, "FLUSH"))
		return classify_flush(l);
	for (size_t i = 0; i < sizeof(pins) / sizeof(pins[0]); i++) {
		if (word_is(first, pins[i].word))
			return pins[i].reason;
	}
	if (starts_compound(l, first))
		return classify_compound(l, !word_is(first, "CREATE"));
	bool reads = word_is(first, "SELECT") || word_is(first, "SHOW");
	if (first->n)
		scan_word(l, first, false, reads, s);
	else if (first->user_variable)
		s->pin = MY_PIN_USER_VARIABLE;
	scan_to_end(l, reads, runs_calls(l, first), names_a_table(first), s);
	return s->pin;
}

/* change_init empties |ch| without touching its schema buffer (it is read
 * only when |use| is set): the classifier runs for every query. */
static void change_init(struct my_session_change *ch)
{
	ch->pin = MY_PIN_NONE;
	ch->use = false;
	ch->db[0] = '\0';
	ch->collation = 0;
	ch->vars = (struct my_vars){0};
	ch->readback = (struct my_vars){0};
	ch->next_transaction = false;
	ch->statements = 0;
	ch->read = false;
	ch->begins = false;
	ch->kill = false;
	ch->xa = false;
	ch->charset_unreadable = false;
}

/* starts_transaction: a statement that starts with |first| (|l| just
 * after it) is BEGIN or START TRANSACTION (a BEGIN that opens a block pins
 * as a compound statement, and is never taken for one: see begins_block). */
static bool starts_transaction(const struct lexer *l, const struct token *first)
{
	struct token second;
	return word_is(first, "BEGIN") ||
	       (word_is(first, "START") && peek_token(l, &second) && word_is(&second, "TRANSACTION"));
}

/* What classify_statement found of one statement, beyond |out|. */
struct statement_kind {
	bool read;   /* a SELECT or SHOW that may run twice */
	bool begins; /* BEGIN or START TRANSACTION */
};

/* classify_statement reads one statement (up to ";" or the end) into
 * |out|; false when no statement is left. */
static bool classify_statement(struct lexer *l, struct my_session_change *out,
			       struct statement_kind *kind)
{
	struct token first;
	l->executable_comment = l->ambiguous_comment = l->ambiguous_mode = false;
	l->statement_done = l->charset_word = false;
	*kind = (struct statement_kind){0};
	if (l->charset_unreadable) {
		const uint8_t *from = l->p;
		if (!skip_space_and_comments(l))
			return false;
		l->p = from; /* its bytes from here, comments included */
		classify_unreadable(l, out);
		return true;
	}
	if (!next_token(l, &first))
		return false;
	if (is_end(&first))
		return true; /* an empty statement */
	out->statements++;
	if (word_is(&first, "KILL"))
		out->kill = true;
	if (word_is(&first, "XA"))
		out->xa = true;
	struct my_session_change tracked;
	struct scan s = {0};
	change_init(&tracked);
	bool begins = starts_transaction(l, &first);
	enum my_pin_reason r = classify_by_first_word(l, &first, &tracked, &s);
	skip_statement(l); /* whatever a decided statement has left, to its ";" */
	if (r == MY_PIN_NONE && l->ambiguous_mode)
		r = MY_PIN_SQL_MODE;
	if (r == MY_PIN_NONE &&
	    (l->ambiguous_comment || (l->executable_comment && (my_session_change_tracks(&tracked) ||
								 tracked.next_transaction))))
		r = MY_PIN_EXECUTABLE_COMMENT; /* its effect depends on the server's version */
	if (out->pin == MY_PIN_NONE)
		out->pin = r;
	if (r == MY_PIN_NONE && tracked.collation) {
		/* SET NAMES: the statements after it are cut by its spaces. */
		l->mode.space_byte = my_collation_space_byte(tracked.collation);
		l->mode.space_unknown = false;
	}
	if ((r != MY_PIN_NONE && l->charset_word) ||
	    (r == MY_PIN_NONE && my_collation_hides_backslash(tracked.collation))) {
		/* The statements after it are in a character set not lexed here. */
		l->charset_unreadable = true;
		out->charset_unreadable = true;
	}
	if (r == MY_PIN_NONE && my_session_change_tracks(&tracked)) {
		if (tracked.use) {
			out->use = true;
			memcpy(out->db, tracked.db, sizeof(out->db));
		}
		if (tracked.collation)
			out->collation = tracked.collation;
		if ((!vars_merge(&out->vars, &tracked.vars) ||
		     !vars_merge(&out->readback, &tracked.readback)) &&
		    out->pin == MY_PIN_NONE)
			out->pin = MY_PIN_SET; /* out of memory or too many */
	}
	if (r == MY_PIN_NONE && tracked.next_transaction)
		out->next_transaction = true;
	bool plain = r == MY_PIN_NONE && !my_session_change_tracks(&tracked) &&
		     !tracked.next_transaction && !s.writes && !s.calls && !l->executable_comment;
	kind->read = plain && (word_is(&first, "SELECT") || word_is(&first, "SHOW"));
	kind->begins = plain && begins;
	my_session_change_cleanup(&tracked);
	return true;
}

void my_classify(struct my_session_change *out, struct my_sql_mode mode, enum my_text_kind kind,
		 const uint8_t *sql, size_t len)
{
	classify_text(out, mode, kind, sql, len, 0);
}

/* classify_text is my_classify for a text that is dynamic SQL |depth|
 * levels down. */
static void classify_text(struct my_session_change *out, struct my_sql_mode mode,
			  enum my_text_kind kind, const uint8_t *sql, size_t len, unsigned depth)
{
	change_init(out);
	unsigned lookahead_left = LOOKAHEAD_BUDGET;
	struct lexer l = {.p = sql, .end = sql + len, .mode = mode, .depth = depth, .server = mode.server,
			  .lookahead_left = &lookahead_left,
			  .charset_unreadable = mode.charset_unreadable};
	struct statement_kind first = {0}, statement;
	while (classify_statement(&l, out, &statement)) {
		if (out->statements == 1 && (statement.read || statement.begins))
			first = statement;
	}
	out->read = first.read && out->statements == 1;
	out->begins = first.begins && out->statements == 1;
	out->kill = out->kill || l.kill;
	if (kind == MY_TEXT_PREPARE && out->pin == MY_PIN_NONE &&
	    (my_session_change_tracks(out) || out->next_transaction))
		out->pin = out->use ? MY_PIN_OTHER_COMMAND : MY_PIN_SET; /* runs at each execute */
	if (kind == MY_TEXT_PREPARE) {
		out->use = false;
		out->collation = 0;
		out->next_transaction = false;
		my_vars_clear(&out->vars);
		my_vars_clear(&out->readback);
	}
}

void my_session_change_cleanup(struct my_session_change *ch)
{
	my_vars_clear(&ch->vars);
	my_vars_clear(&ch->readback);
}

bool my_query_is_read(struct my_sql_mode mode, const uint8_t *sql, size_t len)
{
	struct my_session_change ch;
	my_classify(&ch, mode, MY_TEXT_QUERY, sql, len);
	bool read = ch.read && ch.pin == MY_PIN_NONE;
	my_session_change_cleanup(&ch);
	return read;
}

bool my_query_begins_transaction(struct my_sql_mode mode, const uint8_t *sql, size_t len)
{
	struct my_session_change ch;
	my_classify(&ch, mode, MY_TEXT_QUERY, sql, len);
	bool begins = ch.begins && ch.pin == MY_PIN_NONE;
	my_session_change_cleanup(&ch);
	return begins;
}

bool my_query_writes_nothing(struct my_sql_mode mode, const uint8_t *sql, size_t len)
{
	struct my_session_change ch;
	my_classify(&ch, mode, MY_TEXT_QUERY, sql, len);
	bool nothing = (ch.read || ch.begins) && ch.pin == MY_PIN_NONE;
	my_session_change_cleanup(&ch);
	return nothing || my_query_is_commit(mode, sql, len);
}

bool my_query_is_commit(struct my_sql_mode mode, const uint8_t *sql, size_t len)
{
	unsigned lookahead_left = LOOKAHEAD_BUDGET;
	struct lexer l = {.p = sql, .end = sql + len, .mode = mode, .server = mode.server,
			  .lookahead_left = &lookahead_left,
			  .charset_unreadable = mode.charset_unreadable};
	struct token t;
	if (mode.charset_unreadable || !next_token(&l, &t) || !word_is(&t, "COMMIT"))
		return false;
	bool more = next_token(&l, &t);
	if (more && word_is(&t, "WORK"))
		more = next_token(&l, &t);
	if (more && t.punct == ';')
		more = next_token(&l, &t);
	return !more && !l.executable_comment;
}

bool my_text_may_run_kill(struct my_sql_mode mode, const uint8_t *sql, size_t len)
{
	static const char *const plain[] = {"SELECT", "INSERT", "REPLACE", "UPDATE", "DELETE",
					    "LOAD", "DO", "WITH", "VALUES", "TABLE"};
	unsigned lookahead_left = LOOKAHEAD_BUDGET;
	struct lexer l = {.p = sql, .end = sql + len, .mode = mode, .server = mode.server,
			  .lookahead_left = &lookahead_left,
			  .charset_unreadable = mode.charset_unreadable};
	struct token first, next;
	if (mode.charset_unreadable || !next_token(&l, &first) || first.n == 0 ||
	    l.executable_comment || !peek_token(&l, &next) || next.punct == ':')
		return true; /* not known from these bytes, or a label */
	for (size_t i = 0; i < sizeof(plain) / sizeof(plain[0]); i++) {
		if (word_is(&first, plain[i]))
			return false;
	}
	return true;
}

bool my_query_stays_in_transaction(struct my_sql_mode mode, const uint8_t *sql, size_t len)
{
	static const char *const dml[] = {"SELECT", "INSERT", "REPLACE", "UPDATE",
					  "DELETE", "VALUES", "TABLE",	"WITH"};
	unsigned lookahead_left = LOOKAHEAD_BUDGET;
	struct lexer l = {.p = sql, .end = sql + len, .mode = mode, .server = mode.server,
			  .lookahead_left = &lookahead_left,
			  .charset_unreadable = mode.charset_unreadable};
	struct token first;
	if (mode.charset_unreadable || !next_token(&l, &first) || first.n == 0 ||
	    l.executable_comment)
		return false;
	bool plain = false;
	for (size_t i = 0; i < sizeof(dml) / sizeof(dml[0]); i++)
		plain = plain || word_is(&first, dml[i]);
	if (!plain)
		return false;
	struct my_session_change ch;
	my_classify(&ch, mode, MY_TEXT_QUERY, sql, len);
	bool stays = ch.statements == 1 && ch.pin == MY_PIN_NONE && !my_session_change_tracks(&ch) &&
		     !ch.next_transaction && !ch.kill && !ch.xa;
	my_session_change_cleanup(&ch);
	return stays;
}
