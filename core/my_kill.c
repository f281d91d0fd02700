/* my_kill: reads a KILL statement (or COM_PROCESS_KILL): which connection, and whether its query or all of it. */
#include "my_kill.h"

#include <ctype.h>
#include <string.h>
#include <strings.h>

#include "my_proto.h"

const char *my_kill_kind_str(enum my_kill_kind kind)
{
	switch (kind) {
	case MY_KILL_NONE: return "none";
	case MY_KILL_CONNECTION: return "connection";
	case MY_KILL_QUERY: return "query";
	case MY_KILL_UNSUPPORTED: return "unsupported";
	}
	return "unknown";
}

/* A bounded reader over the statement text. */
struct kill_lex {
	const char *p;
	size_t left;
};

static void lex_advance(struct kill_lex *l, size_t n)
{
	l->p += n;
	l->left -= n;
}

/* skip_space_and_comments moves past whitespace, '-- ' and '#' line
 * comments and '/ * ... * /' comments. An executable comment's opener
 * ('/ *!' or '/ *M!' and its version digits) is skipped alone: what it holds
 * runs, so it is read as code, and its closer counts as space. */
static void skip_space_and_comments(struct kill_lex *l)
{
	while (l->left > 0) {
		char ch = *l->p;
		if (isspace((unsigned char)ch) || ch == ';') {
			lex_advance(l, 1);
		} else if (ch == '#' || (ch == '-' && l->left >= 3 && l->p[1] == '-' &&
					 isspace((unsigned char)l->p[2]))) {
			while (l->left > 0 && *l->p != '\n')
				lex_advance(l, 1);
		} else if (ch == '*' && l->left >= 2 && l->p[1] == '/') {
			lex_advance(l, 2); /* the end of an executable comment */
		} else if (ch == '/' && l->left >= 2 && l->p[1] == '*') {
			bool executable = l->left >= 3 && (l->p[2] == '!' || l->p[2] == 'M');
			if (executable) {
				lex_advance(l, l->p[2] == 'M' && l->left >= 4 && l->p[3] == '!' ? 4 : 3);
				while (l->left > 0 && isdigit((unsigned char)*l->p))
					lex_advance(l, 1);
				continue;
			}
			lex_advance(l, 2);
			while (l->left >= 2 && !(l->p[0] == '*' && l->p[1] == '/'))
				lex_advance(l, 1);
			lex_advance(l, l->left >= 2 ? 2 : l->left);
		} else {
			return;
		}
	}
}

/* take_word reads the keyword at the cursor (letters and '_'): true and
 * consumed when it is |word|, compared without case. */
static bool take_word(struct kill_lex *l, const char *word)
{
	size_t n = 0;
	while (n < l->left && (isalpha((unsigned char)l->p[n]) || l->p[n] == '_'))
		n++;
	if (n == 0 || n != strlen(word) || strncasecmp(l->p, word, n) != 0)
		return false;
	lex_advance(l, n);
	skip_space_and_comments(l);
	return true;
}

/* take_id reads a decimal connection id that fits 32 bits. */
static bool take_id(struct kill_lex *l, uint32_t *out_id)
{
	uint64_t v = 0;
	size_t n = 0;
	while (n < l->left && isdigit((unsigned char)l->p[n])) {
		v = v * 10 + (uint64_t)(l->p[n] - '0');
		if (v > UINT32_MAX)
			return false;
		n++;
	}
	if (n == 0 || (n < l->left && (isalnum((unsigned char)l->p[n]) || l->p[n] == '_')))
		return false;
	lex_advance(l, n);
	skip_space_and_comments(l);
	*out_id = (uint32_t)v;
	return true;
}

enum my_kill_kind my_kill_parse(const char *sql, size_t len, uint32_t *out_id)
{
	struct kill_lex l = {sql, len};
	*out_id = 0;
	skip_space_and_comments(&l);
	if (!take_word(&l, "KILL"))
		return MY_KILL_NONE;
	if (!take_word(&l, "HARD"))
		(void)take_word(&l, "SOFT");
	enum my_kill_kind kind = MY_KILL_CONNECTION;
	if (take_word(&l, "QUERY"))
		kind = MY_KILL_QUERY;
	else
		(void)take_word(&l, "CONNECTION");
	/* skip_space_and_comments ate a trailing ';': nothing may follow. */
	if (!take_id(&l, out_id) || l.left != 0)
		return MY_KILL_UNSUPPORTED;
	return kind;
}

bool my_process_kill_parse(struct my_cur p, uint32_t *out_id)
{
	uint8_t cmd;
	return my_cur_u8(&p, &cmd) && cmd == COM_PROCESS_KILL && my_cur_u32le(&p, out_id) &&
	       my_cur_done(&p);
}

void my_kill_scan_init(struct my_kill_scan *k)
{
	for (size_t i = 0; i < sizeof(k->last) / sizeof(k->last[0]); i++)
		k->last[i] = -1;
	k->found = false;
}

static bool glues_before(int c) { return c >= 0 && (isalpha(c) || c == '_' || c == '$'); }

static bool glues_after(int c) { return c >= 0 && (isalnum(c) || c == '_' || c == '$'); }

/* kill_scan_check: the four bytes before |next| (-1: the text ended) spell
 * KILL, not glued to what stands around them. */
static bool kill_scan_check(const struct my_kill_scan *k, int next)
{
	static const char word[] = "KILL";
	for (size_t i = 0; i < 4; i++) {
		if (k->last[i + 1] < 0 || toupper(k->last[i + 1]) != word[i])
			return false;
	}
	return !glues_before(k->last[0]) && !glues_after(next);
}

void my_kill_scan_feed(struct my_kill_scan *k, const uint8_t *p, size_t len)
{
	for (size_t i = 0; i < len && !k->found; i++) {
		k->found = kill_scan_check(k, p[i]);
		memmove(k->last, k->last + 1, sizeof(k->last) - sizeof(k->last[0]));
		k->last[4] = p[i];
	}
}

void my_kill_scan_end(struct my_kill_scan *k)
{
	k->found = k->found || kill_scan_check(k, -1);
}
