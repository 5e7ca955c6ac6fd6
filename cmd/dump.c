/* dump: not built yet (a later issue finishes it). */
#include "cmd.h"

enum mc_err
verb_dump(struct ctx *c, struct err *e)
{
	(void)c;
	return err_set(e, MC_ERR_UNAVAILABLE, "'dump' is not built yet in this version");
}
