#!/usr/bin/env bats
# The command line: help, version, usage errors and their status.

load common

setup() { common_setup; }
teardown() { common_teardown; }

@test "--help prints the synopsis and exits 0" {
	run "$MOODLECORD" --help
	[ "$status" -eq 0 ]
	[[ "$output" == *"usage: moodlecord [-c FILE] [-v|-q] sync [--dry-run]"* ]]
}

@test "--version prints the version" {
	run "$MOODLECORD" --version
	[ "$status" -eq 0 ]
	[[ "$output" =~ ^moodlecord\ [0-9]+\.[0-9]+\.[0-9]+$ ]]
}

@test "no verb is a usage error (64)" {
	run "$MOODLECORD"
	[ "$status" -eq 64 ]
	[ "${lines[0]}" = "moodlecord: no verb given (sync, ping, dump or check)" ]
	[ "${lines[1]}" = "usage: moodlecord [-c FILE] [-v|-q] sync [--dry-run]" ]
}

@test "unknown verb, option, extra argument, misplaced flags: 64" {
	run "$MOODLECORD" frobnicate
	[ "$status" -eq 64 ]
	[ "${lines[0]}" = "moodlecord: unknown verb 'frobnicate' (sync, ping, dump or check)" ]
	run "$MOODLECORD" --frob sync
	[ "$status" -eq 64 ]
	[ "${lines[0]}" = "moodlecord: unknown option --frob" ]
	run "$MOODLECORD" -x sync
	[ "$status" -eq 64 ]
	[ "${lines[0]}" = "moodlecord: unknown option -x" ]
	run "$MOODLECORD" sync extra
	[ "$status" -eq 64 ]
	[ "${lines[0]}" = "moodlecord: unexpected argument 'extra' after sync" ]
	run "$MOODLECORD" dump --dry-run
	[ "$status" -eq 64 ]
	[ "${lines[0]}" = "moodlecord: --dry-run is for sync and ping, not dump" ]
	run "$MOODLECORD" sync --json
	[ "$status" -eq 64 ]
	[ "${lines[0]}" = "moodlecord: --json is for dump, not sync" ]
	run "$MOODLECORD" -v -q sync
	[ "$status" -eq 64 ]
	[ "${lines[0]}" = "moodlecord: -v and -q cannot be used together" ]
	run "$MOODLECORD" sync -c
	[ "$status" -eq 64 ]
	[ "${lines[0]}" = "moodlecord: option -c needs a value" ]
}

@test "-c FILE and --config FILE and --config=FILE name the config file" {
	local o
	for o in "-c $T/none" "--config $T/none" "--config=$T/none"; do
		# shellcheck disable=SC2086
		run "$MOODLECORD" $o check
		[ "$status" -eq 78 ]
		[[ "$output" == *"cannot open config file $T/none: No such file or directory"* ]]
	done
}

@test "--help and --version to a full disk exit 74" {
	run "$MOODLECORD" --help
	[ "$status" -eq 0 ]
	run "$MOODLECORD" --version
	[ "$status" -eq 0 ]
	run sh -c "\"$MOODLECORD\" --help >/dev/full"
	[ "$status" -eq 74 ]
	run sh -c "\"$MOODLECORD\" --version >/dev/full"
	[ "$status" -eq 74 ]
}
