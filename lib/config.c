/* config: placeholder until the loader lands (issue 2). */
#include "config.h"

#include <string.h>

enum mc_err
config_load(struct config *cfg, const char *path, unsigned need, struct err *e)
{
	(void)path;
	(void)need;
	memset(cfg, 0, sizeof *cfg);
	return err_set(e, MC_ERR_CONFIG, "config loading is not built yet");
}

void
config_free(struct config *cfg)
{
	secrets_free(&cfg->secrets);
	memset(cfg, 0, sizeof *cfg);
}
