/* check: not built yet (a later issue finishes it).  It loads the config
 * first, so config errors already show with their exit status. */
#include "cmd.h"

enum mc_err
verb_check(struct ctx *c, struct err *e)
{
	enum mc_err rc;

	rc = ctx_load_config(c, CONFIG_NEED_MOODLE | CONFIG_NEED_DISCORD, e);
	if (rc != MC_OK)
		return rc;
	return err_set(e, MC_ERR_UNAVAILABLE, "'check' is not built yet in this version");
}
