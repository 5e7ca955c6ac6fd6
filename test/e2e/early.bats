#!/usr/bin/env bats
# Config errors, a webhook URL Discord would not take included, are found
# before any network call: sync and check exit 78 and the fake Moodle was
# never asked anything.

bats_require_minimum_version 1.5.0
load common
load moodle_helpers

setup() {
	common_setup
	CFG="$T/config"
	moodle_start mixed
	moodle_config "$CFG"
}
teardown() { common_teardown; }

# VERB exits 78 with one line naming the webhook URL, without its token,
# and the fake Moodle's log is empty.
refused_early() {
	run --separate-stderr "$MOODLECORD" -c "$CFG" "$1"
	echo "status $status: $stderr"
	[ "$status" -eq 78 ]
	[ "${#stderr_lines[@]}" -eq 1 ]
	[[ "$stderr" == *"webhook_url"*"/webhooks/ID/TOKEN"* ]]
	[[ "$stderr" != *"BadHook-tok"* ]]
	[ ! -s "$T/moodle.log" ]
}

@test "a webhook_url with a malformed webhook id: sync and check exit 78 before Moodle" {
	sed -i "s|^webhook_url = .*|webhook_url = https://discord.com/api/webhooks/12345/BadHook-tok|" "$CFG"
	refused_early sync
	refused_early check
	[ ! -e "$T/state.mdb" ]
}

@test "a webhook_url_file holding a URL without a token: sync and check exit 78 before Moodle" {
	printf 'https://discord.com/api/webhooks/123456789012345678/BadHook-tok/x/\n' >"$T/hook"
	chmod 600 "$T/hook"
	sed -i "s|^webhook_url = .*|webhook_url_file = $T/hook|" "$CFG"
	refused_early sync
	refused_early check
}
