#!/usr/bin/env bats
# `dump`: the state as a table and as JSON, read-only.  States are made
# with mdb_load (lmdb-utils) from the dump files in data/, which spell out
# the schema of state/store.h byte for byte.

load common

setup() {
	common_setup
	STATE="$T/state/state.mdb"
	CFG="$T/config"
	write_config "$CFG" <<-EOF
	[state]
	path = $STATE
	EOF
	DATA="$BATS_TEST_DIRNAME/data"
	EXPECTED="$BATS_TEST_DIRNAME/expected"
}
teardown() { common_teardown; }

# load_state DUMPFILE: a state file made by mdb_load, without its lock file.
load_state() {
	mkdir -p "$(dirname "$STATE")"
	mdb_load -n -f "$1" "$STATE"
	rm -f "$STATE-lock"
}

# The file's bytes and modification time, to compare before and after.
fingerprint() {
	printf '%s %s\n' "$(stat -c '%s %Y %y' "$STATE")" "$(cksum <"$STATE")"
}

@test "no state file: 'no state yet', exit 0, nothing created" {
	run "$MOODLECORD" -c "$CFG" dump
	[ "$status" -eq 0 ]
	[ "$output" = "no state yet" ]
	[ ! -e "$STATE" ]
	[ ! -e "$STATE-lock" ]
	[ ! -e "$(dirname "$STATE")" ]
}

@test "no state file, --json: an empty array" {
	run "$MOODLECORD" -c "$CFG" dump --json
	[ "$status" -eq 0 ]
	[ "$output" = "[]" ]
	[ "$(printf '%s' "$output" | jq length)" -eq 0 ]
	[ ! -e "$STATE" ]
}

@test "no config file: the default state path, absent" {
	run "$MOODLECORD" dump
	[ "$status" -eq 0 ]
	[ "$output" = "no state yet" ]
	[ ! -e "$XDG_STATE_HOME/moodlecord" ]
}

@test "an empty state: the header only; --json: []" {
	load_state "$DATA/state-empty.dump"
	"$MOODLECORD" -c "$CFG" dump >"$T/out"
	diff -u "$EXPECTED/dump-empty.txt" "$T/out"
	run "$MOODLECORD" -c "$CFG" dump --json
	[ "$status" -eq 0 ]
	[ "$output" = "[]" ]
}

@test "a filled state: the table sorted by start, then id, in UTC" {
	load_state "$DATA/state-filled.dump"
	"$MOODLECORD" -c "$CFG" dump >"$T/out"
	diff -u "$EXPECTED/dump-filled.txt" "$T/out"
}

@test "the table shows local time: TZ respected" {
	load_state "$DATA/state-filled.dump"
	TZ=Asia/Tokyo "$MOODLECORD" -c "$CFG" dump >"$T/out"
	diff -u "$EXPECTED/dump-filled-tokyo.txt" "$T/out"
}

@test "the default state path under XDG_STATE_HOME, no config file" {
	STATE="$XDG_STATE_HOME/moodlecord/state.mdb"
	load_state "$DATA/state-filled.dump"
	"$MOODLECORD" dump >"$T/out"
	diff -u "$EXPECTED/dump-filled.txt" "$T/out"
}

@test "--json: every stored field, valid JSON for jq and python" {
	load_state "$DATA/state-filled.dump"
	"$MOODLECORD" -c "$CFG" dump --json >"$T/out.json"
	diff -u "$EXPECTED/dump-filled.json" "$T/out.json"
	# python3 is not in `make deps`: checked where it is installed.
	if command -v python3 >/dev/null; then python3 -m json.tool "$T/out.json" >/dev/null; fi
	[ "$(jq length "$T/out.json")" -eq 4 ]
	[ "$(jq -r '.[2].name' "$T/out.json")" = "$(printf 'Exam Q&A\nsession')" ]
	[ "$(jq -r '[.[].id] | join(",")' "$T/out.json")" = "99,101,102,250" ]
}

@test "dump never writes the state file, with or without LMDB's lock file" {
	load_state "$DATA/state-filled.dump"
	cp "$STATE" "$T/copy"
	touch -d '2020-01-01 00:00:00' "$STATE"
	before=$(fingerprint)
	"$MOODLECORD" -c "$CFG" dump >/dev/null
	"$MOODLECORD" -c "$CFG" dump --json >/dev/null
	[ ! -e "$STATE-lock" ]
	[ "$(fingerprint)" = "$before" ]
	# With LMDB's lock file (mdb_stat leaves one).
	mdb_stat -n "$STATE" >/dev/null
	[ -e "$STATE-lock" ]
	touch -d '2020-01-01 00:00:00' "$STATE"
	before=$(fingerprint)
	"$MOODLECORD" -c "$CFG" dump >/dev/null
	[ "$(fingerprint)" = "$before" ]
	cmp "$STATE" "$T/copy"
}

@test "mdb_stat and mdb_dump read the state file" {
	load_state "$DATA/state-filled.dump"
	run mdb_stat -n -a "$STATE"
	[ "$status" -eq 0 ]
	[[ "$output" == *"Status of by_start"* ]]
	run mdb_dump -n -s messages -p "$STATE"
	[ "$status" -eq 0 ]
	[[ "$output" == *'"ping":"sent"'* ]]
}

@test "a damaged state file: exit 74, one line, the file untouched" {
	mkdir -p "$(dirname "$STATE")"
	head -c 20000 /dev/urandom >"$STATE"
	cp "$STATE" "$T/copy"
	run "$MOODLECORD" -c "$CFG" dump
	[ "$status" -eq 74 ]
	[ "${#lines[@]}" -eq 1 ]
	[ "$output" = "moodlecord: dump: state file $STATE is damaged or not a moodlecord state (not an LMDB file): move it away to start afresh" ]
	run "$MOODLECORD" -c "$CFG" dump --json
	[ "$status" -eq 74 ]
	cmp "$STATE" "$T/copy"
	[ ! -e "$STATE-lock" ]
}

@test "a truncated state file: exit 74, the file untouched" {
	load_state "$DATA/state-filled.dump"
	head -c 12288 "$STATE" >"$T/cut" && cp "$T/cut" "$STATE"
	run "$MOODLECORD" -c "$CFG" dump
	[ "$status" -eq 74 ]
	[ "${#lines[@]}" -eq 1 ]
	[[ "$output" == "moodlecord: dump: state file $STATE is damaged or not a moodlecord state (truncated: 12288 bytes"*"): move it away to start afresh" ]]
	cmp "$STATE" "$T/cut"
}

@test "a state written by a newer moodlecord: exit 74" {
	sed '/^ schema$/{n;s/.*/ 3/}' "$DATA/state-filled.dump" >"$T/newer.dump"
	load_state "$T/newer.dump"
	run "$MOODLECORD" -c "$CFG" dump
	[ "$status" -eq 74 ]
	[ "$output" = "moodlecord: dump: state file $STATE was written by a newer moodlecord (schema 3; this one knows 2): upgrade moodlecord" ]
}
