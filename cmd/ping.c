/* ping: not built yet (a later issue finishes it). */
#include "cmd.h"

enum mc_err
verb_ping(struct ctx *c, struct err *e)
{
	(void)c;
	return err_set(e, MC_ERR_UNAVAILABLE, "'ping' is not built yet in this version");
}
