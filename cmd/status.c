/* status: the one mapping from error kinds to exit statuses (sysexits.h),
 * used by main and by the test tools that report as moodlecord would.
 * The man page's EXIT STATUS lists the same table. */
#include <sysexits.h>

#include "cmd.h"

int
exit_status(enum mc_err kind)
{
	switch (kind) {
	case MC_OK:
	case MC_ERR_BUSY:        return EX_OK;
	case MC_ERR_USAGE:       return EX_USAGE;
	case MC_ERR_DATA:        return EX_DATAERR;
	case MC_ERR_UNAVAILABLE: return EX_UNAVAILABLE;
	case MC_ERR_IO:          return EX_IOERR;
	case MC_ERR_TEMP:        return EX_TEMPFAIL;
	case MC_ERR_AUTH:        return EX_NOPERM;
	case MC_ERR_CONFIG:      return EX_CONFIG;
	case MC_ERR_NOTFOUND:    return EX_UNAVAILABLE;
	}
	return EX_SOFTWARE;
}
