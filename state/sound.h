/* sound: a note beside the state file saying which version of it a run
 * read whole and found sound, so `ping`, which reads only its due window,
 * refuses what sync would refuse without reading everything each minute.
 *
 * The note (PATH-sound) holds the file's device, inode, size and change
 * time as they were when a run that had read every record (sync; ping
 * when the note did not match) finished.  Any later write, by moodlecord
 * or anything else, changes the change time, so the note no longer
 * matches and the next ping reads the file whole before trusting it. */
#ifndef MC_SOUND_H
#define MC_SOUND_H

#include "util.h"

/* 1 when the note matches the state file at path as it is now, else 0
 * (no note, another file, changed since, or unreadable). */
int sound_check(const char *path);

/* Write the note for the state file at path as it is now (its directory
 * must be writable).  MC_ERR_IO with e filled when it cannot be written. */
enum mc_err sound_mark(const char *path, struct err *e);

/* Remove the note (a run that finds the file damaged); errors ignored. */
void sound_forget(const char *path);

#endif
