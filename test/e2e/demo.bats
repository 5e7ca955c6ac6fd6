#!/usr/bin/env bats
# make demo: the script runs every step against the fakes and shows the
# channel; nothing secret in what it prints.

load common

setup() { common_setup; }
teardown() { common_teardown; }

@test "the demo: check, dry run, sync, ping and dump succeed; the channel is shown" {
	run env MOODLECORD="$MOODLECORD" FAKES="$FAKES" TMPDIR="$T" "$BATS_TEST_DIRNAME/../demo.sh"
	echo "$output"
	[ "$status" -eq 0 ]
	[[ "$output" == *"4 to create, 0 to edit, 0 to delete"* ]]
	[[ "$output" == *"4 created, 0 edited, 0 deleted"* ]]
	[[ "$output" == *"pinged: Weekly seminar: reading group"* ]]
	[ "$(grep -c '^  Moodle, posted ' <<<"$output")" -eq 5 ]
	[[ "$output" == *"| @Students Weekly seminar: reading group (Research Methods) starts in 4 minutes: http://127.0.0.1:"* ]]
	[[ "$output" != *demo-password* ]]
	[[ "$output" != *demo-Webhook-token* ]]
	# the fakes are stopped and the temporary directory removed
	[ -z "$(ls "$T" | grep moodlecord-demo)" ]
}
