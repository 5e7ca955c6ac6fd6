#!/usr/bin/env bats
# `check`, the Discord half: the webhook's name and channel printed, nothing
# posted, a dead webhook failing the check; and the fakes' clean exit.

bats_require_minimum_version 1.5.0
load common
load moodle_helpers
load discord_helpers

setup() {
	common_setup
	CFG="$T/config"
}
teardown() { common_teardown; }

@test "check shows the webhook and its channel, with one GET and nothing posted" {
	moodle_start mixed
	moodle_config "$CFG"
	run --separate-stderr "$MOODLECORD" -c "$CFG" check
	echo "$output"
	[ "$status" -eq 0 ]
	[ -z "$stderr" ]
	[ "$(grep '^discord: ' <<<"$output")" = 'discord: webhook 123456789012345678 "Moodle" posts to channel 111111111111111111' ]
	[ "$(discord_log | jq -c '[.[] | .method + " " + .path + " " + (.status | tostring)]')" = \
	  '["GET /api/v10/webhooks/123456789012345678/*** 200"]' ]
	[ "$(discord_channel | jq length)" -eq 0 ]
	[[ "$output" != *Hook-Sekr3t-token* ]]

	MOODLECORD_DISCORD_THREAD_ID=999999999999999999 run "$MOODLECORD" -c "$CFG" check
	[ "$status" -eq 0 ]
	[ "$(grep -c '^discord: messages go to thread 999999999999999999 of that channel$' <<<"$output")" -eq 1 ]
	# The webhook itself is asked without the thread.
	[ "$(discord_log | jq -r '.[1].query // "-"')" = "-" ]
}

@test "check with the webhook deleted: 78 after the Moodle half, one line, no token" {
	moodle_start mixed
	moodle_config "$CFG"
	discord_admin delete_webhook
	run --separate-stderr "$MOODLECORD" -c "$CFG" check
	echo "status $status"; echo "$output"; echo "stderr: $stderr"
	[ "$status" -eq 78 ]
	[ "${#stderr_lines[@]}" -eq 1 ]
	[[ "$stderr" == "moodlecord: check: discord: the webhook was deleted in Discord (10015 Unknown Webhook)"* ]]
	[[ "$output" == *"moodle: Fake & Co Moodle"* ]]
	[ "$(grep -c '^discord: ' <<<"$output")" -eq 0 ]
	[ "$(discord_log | jq length)" -eq 1 ]
	[[ "$output $stderr" != *Hook-Sekr3t-token* ]]
}

# bats test_tags=fake-selftest
@test "the fakes exit 0 on SIGTERM" {
	local pid st
	moodle_start mixed
	moodle_discord
	[ "$(wc -w <<<"$FAKE_PIDS")" -eq 2 ]
	for pid in $FAKE_PIDS; do
		kill -TERM "$pid"
		st=0
		wait "$pid" || st=$?
		echo "pid $pid: $st"
		[ "$st" -eq 0 ]
	done
	FAKE_PIDS=""
}
