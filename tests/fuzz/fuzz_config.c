/* fuzz_config.c - libFuzzer driver for the configuration reader
 * (vt_config_load_text): any text is accepted or rejected with a message of
 * the form "NAME: key.path: message", never a crash or a leak. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/config.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct vt_config cfg;
    char err[600] = "";
    if (vt_config_defaults(&cfg))
        abort();
    int rc = vt_config_load_text(&cfg, "fuzz.json", (const char *)data, size, err, sizeof(err));
    if (rc && strncmp(err, "fuzz.json: ", 11) != 0)
        abort();
    vt_config_cleanup(&cfg);
    return 0;
}
