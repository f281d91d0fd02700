/* my_readback: values of session variables set to expressions, read back from the server as literals (see my_readback.h). */
#include "my_readback.h"

#include <string.h>

#include "my_proto.h"

void my_readback_query(struct my_bld *b, const struct my_vars *names)
{
	my_bld_bytes(b, "SELECT ", 7);
	for (uint8_t i = 0; i < names->n; i++) {
		const struct my_var *v = &names->v[i];
		if (i > 0)
			my_bld_u8(b, ',');
		my_bld_bytes(b, "@@session.", 10);
		my_bld_bytes(b, v->text, v->name_len);
	}
}

/* next_packet reads one frame's payload; payloads of 16 MiB and more
 * (continued in the next frame) are not expected here. */
static bool next_packet(struct my_cur *reply, struct my_cur *out)
{
	uint32_t len;
	uint8_t seq;
	return my_cur_u24le(reply, &len) && my_cur_u8(reply, &seq) && len < MY_MAX_FRAME_PAYLOAD &&
	       my_cur_bytes(reply, out, len);
}

static bool is_eof(struct my_cur p)
{
	uint8_t first;
	return p.len < 9 && my_cur_u8(&p, &first) && first == 0xfe;
}

/* column_type reads a column definition (protocol 41) up to its type. */
static bool column_type(struct my_cur p, uint8_t *out_type)
{
	struct my_cur skip;
	uint64_t fixed_len;
	uint16_t charset;
	uint32_t length;
	for (int i = 0; i < 6; i++) { /* catalog, schema, table, org_table, name, org_name */
		if (!my_cur_lenenc_bytes(&p, &skip))
			return false;
	}
	return my_cur_lenenc(&p, &fixed_len) && fixed_len >= 7 && my_cur_u16le(&p, &charset) &&
	       my_cur_u32le(&p, &length) && my_cur_u8(&p, out_type);
}

static bool is_numeric_type(uint8_t type)
{
	static const uint8_t numeric[] = {0x00 /* DECIMAL */, 0x01, 0x02, 0x03, 0x04, 0x05,
					  0x08, 0x09, 0xf6 /* NEWDECIMAL */};
	return memchr(numeric, type, sizeof(numeric)) != NULL;
}

/* literal_of writes the literal that sets |value| again; false when none
 * is exact. */
static bool literal_of(char *out, size_t out_len, uint8_t type, const struct my_cur *value)
{
	if (value->len + 3 > out_len)
		return false;
	for (size_t i = 0; i < value->len; i++) {
		uint8_t ch = value->ptr[i];
		bool ok = is_numeric_type(type) ? (ch >= '0' && ch <= '9') || strchr("+-.eE", ch)
						: ch >= 0x20 && ch != '\'' && ch != '\\' && ch != 0x7f;
		if (!ok || ch == 0)
			return false;
	}
	if (is_numeric_type(type)) {
		if (value->len == 0)
			return false;
		memcpy(out, value->ptr, value->len);
		out[value->len] = '\0';
		return true;
	}
	out[0] = '\'';
	memcpy(out + 1, value->ptr, value->len);
	out[value->len + 1] = '\'';
	out[value->len + 2] = '\0';
	return true;
}

/* read_row reads the row's values into |into| under the names of |names|. */
static bool read_row(struct my_vars *into, const struct my_vars *names, const uint8_t *types,
		     struct my_cur row)
{
	char literal[MY_VAR_VALUE_MAX + 1];
	for (uint8_t i = 0; i < names->n; i++) {
		struct my_cur value;
		uint8_t first;
		struct my_cur peek = row;
		if (!my_cur_u8(&peek, &first))
			return false;
		if (first == 0xfb) { /* NULL */
			row = peek;
			memcpy(literal, "NULL", 5);
		} else if (!my_cur_lenenc_bytes(&row, &value) ||
			   !literal_of(literal, sizeof(literal), types[i], &value)) {
			return false;
		}
		const struct my_var *v = &names->v[i];
		if (!my_vars_put(into, v->text, v->name_len, literal, strlen(literal)))
			return false;
	}
	return my_cur_done(&row);
}

bool my_readback_parse(struct my_vars *out, const struct my_vars *names, struct my_cur reply)
{
	uint8_t types[MY_VARS_MAX];
	struct my_cur p;
	uint64_t columns;
	if (!next_packet(&reply, &p) || !my_cur_lenenc(&p, &columns) || !my_cur_done(&p) ||
	    columns != names->n || columns == 0 || columns > MY_VARS_MAX)
		return false;
	for (uint8_t i = 0; i < names->n; i++) {
		if (!next_packet(&reply, &p) || !column_type(p, &types[i]))
			return false;
	}
	struct my_cur row;
	if (!next_packet(&reply, &p) || !is_eof(p) || !next_packet(&reply, &row) || is_eof(row) ||
	    !next_packet(&reply, &p) || !is_eof(p) || !my_cur_done(&reply))
		return false;
	if (read_row(out, names, types, row))
		return true;
	my_vars_clear(out);
	return false;
}

void my_readback_insert_id_query(struct my_bld *b)
{
	my_bld_bytes(b, "SELECT LAST_INSERT_ID()", 23);
}

/* parse_u64 reads a decimal number of 1 to 20 digits that fits 64 bits. */
static bool parse_u64(const char *text, uint64_t *out)
{
	uint64_t v = 0;
	size_t n = strlen(text);
	if (n == 0 || n > 20)
		return false;
	for (size_t i = 0; i < n; i++) {
		uint64_t digit = (uint64_t)(text[i] - '0');
		if (text[i] < '0' || text[i] > '9' || v > (UINT64_MAX - digit) / 10)
			return false;
		v = v * 10 + digit;
	}
	*out = v;
	return true;
}

enum my_readback_u64 my_readback_u64_read(uint64_t *out, struct my_cur reply)
{
	/* The answer has the shape of a one-variable read-back: the name only
	 * labels the value here, and a NULL reads as the literal NULL (a
	 * string 'NULL' would be quoted). */
	static const char name[] = "value";
	struct my_vars names = {0}, got = {0};
	enum my_readback_u64 answer = MY_READBACK_U64_NONE;
	const char *value = NULL;
	if (my_vars_put(&names, name, sizeof(name) - 1, "", 0) &&
	    my_readback_parse(&got, &names, reply))
		value = my_vars_get(&got, name);
	if (value && strcmp(value, "NULL") == 0)
		answer = MY_READBACK_U64_NULL;
	else if (value && parse_u64(value, out))
		answer = MY_READBACK_U64_VALUE;
	my_vars_clear(&got);
	my_vars_clear(&names);
	return answer;
}

bool my_readback_u64_parse(uint64_t *out, struct my_cur reply)
{
	return my_readback_u64_read(out, reply) == MY_READBACK_U64_VALUE;
}
