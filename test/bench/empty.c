/* The benchmark's baseline: a C program that does nothing, linked with the
 * same libraries as moodlecord, so the ratio measures moodlecord's own work
 * and not the dynamic loader's. */
int
main(void)
{
	return 0;
}
