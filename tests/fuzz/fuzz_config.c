/* fuzz_config: the INI config parser and its validation, on arbitrary text. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cfg.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = malloc(size + 1);
	memcpy(text, data, size);
	text[size] = '\0';
	struct cfg cfg;
	char err[512];
	if (cfg_load_string("fuzz.ini", text, &cfg, err, sizeof(err)))
		cfg_free(&cfg);
	free(text);
	return 0;
}
