/* my_charset: the collation ids common clients send in their handshake. */
#include "my_charset.h"

#include <stddef.h>
#include <string.h>
#include <strings.h>

/* Ids shared by MySQL and MariaDB; 255 exists only on MySQL 8. The first
 * entry of a charset is its default collation on MariaDB.
 *
 * The space bytes were measured on MariaDB 10.11 and MySQL 9.7 (both the
 * same): "SELECT<b>1<b>AS<b>x" runs for every byte b the lexer skips. Of
 * the character sets here only latin1 has one above 0x7F; latin2, cp1250,
 * greek, hebrew, latin5, latin7, dec8, armscii8 and geostd8 have 0xA0 too,
 * cp852, cp866 and keybcs2 0xFF, and others (hp8, macroman...) more bytes
 * that make "--" a comment: a SET NAMES of one of those pins, as does any
 * character set not listed here. */
static const struct my_collation collations[] = {
	{8, "latin1", "latin1_swedish_ci", 0xa0},
	{11, "ascii", "ascii_general_ci", 0},
	{28, "gbk", "gbk_chinese_ci", 0},
	{33, "utf8mb3", "utf8mb3_general_ci", 0},
	{45, "utf8mb4", "utf8mb4_general_ci", 0},
	{46, "utf8mb4", "utf8mb4_bin", 0},
	{47, "latin1", "latin1_bin", 0xa0},
	{63, "binary", "binary", 0},
	{83, "utf8mb3", "utf8mb3_bin", 0},
	{192, "utf8mb3", "utf8mb3_unicode_ci", 0},
	{224, "utf8mb4", "utf8mb4_unicode_ci", 0},
	{255, "utf8mb4", "utf8mb4_0900_ai_ci", 0},
};

const struct my_collation *my_collation_find(uint8_t id)
{
	for (size_t i = 0; i < sizeof(collations) / sizeof(collations[0]); i++) {
		if (collations[i].id == id)
			return &collations[i];
	}
	return NULL;
}

const struct my_collation *my_collation_by_name(const char *charset, const char *collation)
{
	if (strcasecmp(charset, "utf8") == 0)
		charset = "utf8mb3";
	for (size_t i = 0; i < sizeof(collations) / sizeof(collations[0]); i++) {
		if (strcasecmp(collations[i].charset, charset) != 0)
			continue;
		if (!collation || !*collation || strcasecmp(collations[i].collation, collation) == 0)
			return &collations[i];
	}
	return NULL;
}

bool my_collation_hides_backslash(uint8_t id)
{
	/* big5 1, 84; sjis 13, 88; gbk 28, 87; cp932 95, 96; gb18030 248-250
	 * (MySQL 8). MariaDB's other collations of these charsets have ids
	 * above 255: a client names them only in SET NAMES, which pins. */
	static const uint8_t ids[] = {1, 13, 28, 84, 87, 88, 95, 96, 248, 249, 250};
	for (size_t i = 0; i < sizeof(ids); i++) {
		if (ids[i] == id)
			return true;
	}
	return false;
}

uint8_t my_collation_space_byte(uint8_t id)
{
	const struct my_collation *c = my_collation_find(id);
	return c ? c->space_byte : 0;
}
