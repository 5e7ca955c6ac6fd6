/* tokenfile: the file `moodlecord login` keeps the Moodle token in, for
 * sync, ping and check to read.
 *
 * Its first line is the token, its second (when the site gave one) the
 * private token; nothing else.  It is readable by its owner only (0600)
 * and is replaced whole: written to a temporary file in the same
 * directory, flushed to disk, then renamed over the old one, so a reader
 * sees the old token or the new one, never half of either.  The file's
 * modification time is when the token was got: Moodle tokens end after
 * the site's token duration (12 weeks unless changed), counted from then.
 *
 * Nothing here prints or exits. */
#ifndef MC_TOKENFILE_H
#define MC_TOKENFILE_H

#include <stdint.h>

#include "util.h"

/* Where the token lives when [moodle] token_file names no file: beside
 * the config file, named after it with ".token" added, so that two
 * configs never share a token.  A new string, caller frees. */
char *tokenfile_default_path(const char *config_file);

/* Replace the file at path with token (and privatetoken unless NULL), mode
 * 0600.  The directory must exist.  MC_OK, or MC_ERR_IO with e naming the
 * path and the reason (the old file is then untouched). */
enum mc_err tokenfile_save(const char *path, const char *token, const char *privatetoken,
    struct err *e);

#endif
