#!/usr/bin/env bats
# `ping`: the role ping before each conference, exactly once; the cleanup of
# ping messages; missed runs; failures.  The real binary against the fake
# Discord; states are written with test/tools/statefill through state/store,
# with start times computed from the clock (the exact second boundaries are
# in test/unit/test_ping_plan.c; here each case keeps a 10 s margin).

load common
load discord_helpers

ROLE=987654321098765432

setup() {
	common_setup
	STATE="$T/state/state.mdb"
	STATEFILL="$(dirname "$MOODLECORD")/test/tools/statefill"
	start_discord
	CFG="$T/config"
	ping_config "$CFG" "$STATE" "$ROLE"
	NOW=$(date +%s)
}
teardown() { common_teardown; }

# ping_config FILE STATE [ROLE]: ping every 5 minutes, meetings of 90.
ping_config() {
	write_config "$1" <<-EOF
	[discord]
	webhook_url = $WEBHOOK_URL
	${3:+role_id = $3}
	ping_minutes = 5
	[schedule]
	meeting_minutes = 90
	[state]
	path = $2
	EOF
}

# conf ID START [DURATION [PING [PING_ID [PING_AT]]]]: one statefill line.
conf() {
	printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$1" "$2" "${3:-0}" "${4:-none}" \
	    "${5:--}" "${6:-0}" RM101 "Session $1" "$(page "$1")"
}
page() { echo "https://moodle.example.edu/mod/bigbluebuttonbn/view.php?id=$((1000 + $1))"; }
put() { "$STATEFILL" "$STATE" put; }
# show ID: "PING PING_ID AGE" as stored.
show() { "$STATEFILL" "$STATE" show "$1"; }
ping_state() { show "$1" | cut -d' ' -f1; }
ping_id() { show "$1" | cut -d' ' -f2; }
ncalls() { discord_log | jq length; }
nmessages() { discord_channel | jq length; }
fingerprint() { printf '%s %s\n' "$(stat -c '%s %Y' "$STATE")" "$(cksum <"$STATE")"; }

@test "a conference in 4 minutes: one ping with the role mention, that role allowed, the link" {
	start=$((NOW + 240))
	conf 1 "$start" | put
	run "$MOODLECORD" -c "$CFG" ping
	[ "$status" -eq 0 ]
	[ -z "$output" ]
	[ "$(nmessages)" -eq 1 ]
	msg=$(discord_channel | jq -c '.[0]')
	content=$(jq -r .content <<<"$msg")
	[[ "$content" == "<@&$ROLE> "* ]]
	[[ "$content" == *"**Session 1**"* ]]
	[[ "$content" == *"starts <t:$start:R>"* ]]
	[[ "$content" == *"$(page 1)"* ]]
	[ "$(jq -c .allowed_mentions <<<"$msg")" = "{\"parse\":[],\"roles\":[\"$ROLE\"]}" ]
	[ "$(jq -c .mention_roles <<<"$msg")" = "[\"$ROLE\"]" ]
	[ "$(jq -r .mention_everyone <<<"$msg")" = false ]
	[ "$(discord_log | jq -r '.[0].method + " " + .[0].query')" = "POST wait=true" ]
	[ "$(ping_state 1)" = sent ]
	[ "$(ping_id 1)" = "$(jq -r .id <<<"$msg")" ]
}

@test "the next run: no call, nothing written" {
	conf 1 $((NOW + 240)) | put
	"$MOODLECORD" -c "$CFG" ping
	[ "$(ncalls)" -eq 1 ]
	before=$(fingerprint)
	run "$MOODLECORD" -c "$CFG" -v ping
	[ "$status" -eq 0 ]
	[ "$output" = "ping: nothing to do" ]
	[ "$(ncalls)" -eq 1 ]
	[ "$(fingerprint)" = "$before" ]
}

@test "nothing due: no network, the state file untouched" {
	{
		conf 1 $((NOW + 3600))
		conf 2 $((NOW - 1800)) 0 sent 1300000000000000001 $((NOW - 2100))
		conf 3 $((NOW - 86400 * 3)) 0 sent 1300000000000000002 $((NOW - 86400 * 3))
		conf 4 $((NOW + 310))
	} | put
	before=$(fingerprint)
	# Discord unreachable: a run that tried to connect would fail.
	write_config "$T/closed" <<-EOF
	[discord]
	webhook_url = http://127.0.0.1:9/api/v10/webhooks/$WEBHOOK_ID/$WEBHOOK_TOKEN
	role_id = $ROLE
	[state]
	path = $STATE
	EOF
	run "$MOODLECORD" -c "$T/closed" -v ping
	[ "$status" -eq 0 ]
	[ "$output" = "ping: nothing to do" ]
	run "$MOODLECORD" -c "$CFG" ping
	[ "$status" -eq 0 ]
	[ "$(ncalls)" -eq 0 ]
	[ "$(fingerprint)" = "$before" ]
}

@test "nothing due: no socket, the state file opened read-only (strace)" {
	command -v strace >/dev/null || skip "strace is not installed"
	{ conf 1 $((NOW + 3600)); conf 2 $((NOW - 1800)) 0 sent 1300000000000000001 $((NOW - 2100)); } | put
	# LeakSanitizer cannot run under ptrace; the other tests cover leaks.
	ASAN_OPTIONS="${ASAN_OPTIONS:-}:detect_leaks=0" \
	    strace -f -qq -o "$T/trace" -e trace=socket,connect,openat "$MOODLECORD" -c "$CFG" ping
	! grep -E 'socket\(|connect\(' "$T/trace" || false
	grep -F "\"$STATE\"" "$T/trace" >"$T/opens"
	[ -s "$T/opens" ]
	! grep -v O_RDONLY "$T/opens" || false
}

@test "no state yet: exit 0, no call" {
	run "$MOODLECORD" -c "$CFG" -v ping
	[ "$status" -eq 0 ]
	[[ "$output" == *"no state yet"* ]]
	[ ! -e "$STATE" ]
	[ "$(ncalls)" -eq 0 ]
}

@test "--dry-run: one line per ping and per delete, no call, nothing written" {
	s1=$((NOW + 240)) s2=$((NOW - 6000)) s3=$((NOW - 120))
	{
		conf 1 "$s1"
		conf 2 "$s2" 0 sent 1300000000000000001 $((NOW - 6200))
		conf 3 "$s3"
	} | put
	before=$(fingerprint)
	run "$MOODLECORD" -c "$CFG" ping --dry-run
	[ "$status" -eq 0 ]
	at() { date -u -d "@$1" '+%Y-%m-%d %H:%M'; }
	[ "${#lines[@]}" -eq 3 ]
	[ "${lines[0]}" = "ping  $(at "$s3")  RM101  Session 3  (started)" ]
	[ "${lines[1]}" = "ping  $(at "$s1")  RM101  Session 1" ]
	[ "${lines[2]}" = "delete-ping  $(at "$s2")  RM101  Session 2" ]
	[ "$(ncalls)" -eq 0 ]
	[ "$(fingerprint)" = "$before" ]
	[ "$(ping_state 1)" = none ]
}

@test "--dry-run writes nothing: no state directory, no lock file, with or without a state" {
	run "$MOODLECORD" -c "$CFG" ping --dry-run
	[ "$status" -eq 0 ]
	[ ! -e "$T/state" ]
	conf 1 $((NOW + 240)) | put
	before=$(ls -A "$T/state")
	run "$MOODLECORD" -c "$CFG" ping --dry-run
	[ "$status" -eq 0 ]
	[ "${lines[0]}" = "ping  $(date -u -d "@$((NOW + 240))" '+%Y-%m-%d %H:%M')  RM101  Session 1" ]
	[ "$(ls -A "$T/state")" = "$before" ]
	[ ! -e "$STATE.ping.lock" ]
	[ "$(ncalls)" -eq 0 ]
}

@test "missed runs: a ping up to ping_minutes after the start, worded 'started'; later none" {
	{
		conf 1 $((NOW - 290))          # started 4:50 ago: pinged, "started"
		conf 2 $((NOW - 301))          # started 5:01 ago: too late
		conf 3 $((NOW + 290))          # starts in 4:50: pinged, "starts"
		conf 4 $((NOW + 310))          # starts in 5:10: not yet
		conf 5 $((NOW - 150)) 120      # lasted 2 minutes, over: none
		conf 6 $((NOW - 86400))        # a day ago, never pinged: none
	} | put
	run "$MOODLECORD" -c "$CFG" -v ping
	[ "$status" -eq 0 ]
	[ "$(nmessages)" -eq 2 ]
	[[ "$(discord_channel | jq -r '.[0].content')" == *"**Session 1**"*"started <t:$((NOW - 290)):R>"* ]]
	[[ "$(discord_channel | jq -r '.[1].content')" == *"**Session 3**"*"starts <t:$((NOW + 290)):R>"* ]]
	[ "$(ping_state 1) $(ping_state 2) $(ping_state 3) $(ping_state 4) $(ping_state 5) $(ping_state 6)" = \
	  "sent none sent none none none" ]
	[[ "$output" == *"pinged: Session 1 (message "*")"* ]]
	# Nothing more on the next run.
	"$MOODLECORD" -c "$CFG" ping
	[ "$(ncalls)" -eq 2 ]
}

@test "no role_id: the same message without a mention" {
	ping_config "$CFG" "$STATE"
	start=$((NOW + 240))
	conf 1 "$start" | put
	run "$MOODLECORD" -c "$CFG" ping
	[ "$status" -eq 0 ]
	msg=$(discord_channel | jq -c '.[0]')
	content=$(jq -r .content <<<"$msg")
	[[ "$content" == "**Session 1**"*"starts <t:$start:R>"*"$(page 1)"* ]]
	[[ "$content" != *"<@&"* ]]
	[ "$(jq -c .allowed_mentions <<<"$msg")" = '{"parse":[]}' ]
	[ "$(jq -c .mention_roles <<<"$msg")" = '[]' ]
	[ "$(ping_state 1)" = sent ]
}

@test "over: the ping message is deleted, once; one already gone counts as deleted" {
	{ conf 1 $((NOW + 240)); conf 2 $((NOW + 250)); } | put
	"$MOODLECORD" -c "$CFG" ping
	id1=$(ping_id 1) id2=$(ping_id 2)
	[ "$(nmessages)" -eq 2 ]
	# Later: conference 1 ended a minute ago, 2 is running; then 1 and 2 over,
	# 2's message deleted by a moderator meanwhile.
	conf 1 $((NOW - 5460)) 0 sent "$id1" $((NOW - 5700)) | put
	conf 2 $((NOW - 1800)) 0 sent "$id2" $((NOW - 2100)) | put
	run "$MOODLECORD" -c "$CFG" -v ping
	[ "$status" -eq 0 ]
	[ "$output" = "deleted ping: Session 1" ]
	[ "$(discord_channel | jq -r '[.[].id] | join(" ")')" = "$id2" ]
	[ "$(discord_log | jq -r '.[2].method + " " + .[2].path')" = \
	  "DELETE /api/v10/webhooks/$WEBHOOK_ID/***/messages/$id1" ]
	[ "$(ping_state 1)" = done ]
	[ "$(ping_state 2)" = sent ]
	discord_admin "delete_message?id=$id2"
	conf 2 $((NOW - 5400)) 0 sent "$id2" $((NOW - 5700)) | put
	run "$MOODLECORD" -c "$CFG" ping
	[ "$status" -eq 0 ]
	[ "$(ping_state 2)" = done ]
	[ "$(ncalls)" -eq 4 ]
	run "$MOODLECORD" -c "$CFG" ping
	[ "$(ncalls)" -eq 4 ]
}

@test "moved later after its ping: the old ping deleted, pinged again in the new window" {
	conf 1 $((NOW + 240)) | put
	"$MOODLECORD" -c "$CFG" ping
	old=$(ping_id 1)
	# Sync moved it an hour later; the run an hour on, as ping sees it then:
	# pinged an hour before its window.
	start=$((NOW + 250))
	conf 1 "$start" 0 sent "$old" $((NOW - 3600)) | put
	run "$MOODLECORD" -c "$CFG" ping --dry-run
	[ "$output" = "ping  $(date -u -d "@$start" '+%Y-%m-%d %H:%M')  RM101  Session 1  (moved: replaces its ping)" ]
	run "$MOODLECORD" -c "$CFG" -v ping
	[ "$status" -eq 0 ]
	[ "${lines[0]}" = "deleted ping: Session 1 (moved, pinged again)" ]
	[ "$(discord_log | jq -r '[.[] | .method] | join(" ")')" = "POST DELETE POST" ]
	[ "$(nmessages)" -eq 1 ]
	[[ "$(discord_channel | jq -r '.[0].content')" == *"starts <t:$start:R>"* ]]
	[ "$(ping_state 1)" = sent ]
	[ "$(ping_id 1)" = "$(discord_channel | jq -r '.[0].id')" ]
	[ "$(ping_id 1)" != "$old" ]
	"$MOODLECORD" -c "$CFG" ping
	[ "$(ncalls)" -eq 3 ]
}

@test "Discord down (5xx) during a ping: exit 69, the claim released, the next run pings" {
	conf 1 $((NOW + 240)) | put
	discord_admin "fail?n=1&status=502"
	run "$MOODLECORD" -c "$CFG" ping
	[ "$status" -eq 69 ]
	[[ "$output" == *"ping of 'Session 1' not posted (the next run tries again)"* ]]
	[[ "$output" != *"$WEBHOOK_TOKEN"* ]]
	[ "$(ping_state 1)" = none ]
	[ "$(nmessages)" -eq 0 ]
	run "$MOODLECORD" -c "$CFG" ping
	[ "$status" -eq 0 ]
	[ "$(nmessages)" -eq 1 ]
	[ "$(ping_state 1)" = sent ]
}

@test "connection dropped after the post arrived: exit 75, claim released, pinged again (a duplicate rather than none)" {
	conf 1 $((NOW + 240)) | put
	discord_admin "drop?next=1"
	run "$MOODLECORD" -c "$CFG" ping
	[ "$status" -eq 75 ]
	[ "$(ping_state 1)" = none ]
	run "$MOODLECORD" -c "$CFG" ping
	[ "$status" -eq 0 ]
	[ "$(nmessages)" -eq 2 ]
	[ "$(ping_state 1)" = sent ]
	[ "$(ping_id 1)" = "$(discord_channel | jq -r '.[1].id')" ]
}

@test "Discord unreachable: exit 75, the claim released" {
	conf 1 $((NOW + 240)) | put
	sed "s|127.0.0.1:$DISCORD_PORT|127.0.0.1:9|" "$CFG" >"$T/closed"
	chmod 600 "$T/closed"
	run "$MOODLECORD" -c "$T/closed" ping
	[ "$status" -eq 75 ]
	[ "$(ping_state 1)" = none ]
}

@test "webhook deleted: exit 78, the claim released" {
	conf 1 $((NOW + 240)) | put
	discord_admin delete_webhook
	run "$MOODLECORD" -c "$CFG" ping
	[ "$status" -eq 78 ]
	[ "$(ping_state 1)" = none ]
}

@test "a run killed mid-post: its claim holds for 2 minutes, then the ping is sent again" {
	conf 1 $((NOW + 240)) | put
	discord_admin "hold?next=1"
	"$MOODLECORD" -c "$CFG" ping >"$T/out" 2>&1 &
	pid=$!
	discord_wait_held
	[ "$(ping_state 1)" = claimed ]
	kill -KILL "$pid"
	wait "$pid" || true
	discord_admin release
	sleep 0.2
	[ "$(nmessages)" -eq 1 ]  # it reached Discord, but was never recorded
	run "$MOODLECORD" -c "$CFG" ping
	[ "$status" -eq 0 ]
	[ "$(ncalls)" -eq 1 ]
	[ "$(ping_state 1)" = claimed ]
	conf 1 $((NOW + 240)) 0 claimed - $((NOW - 110)) | put
	"$MOODLECORD" -c "$CFG" ping
	[ "$(ncalls)" -eq 1 ]
	conf 1 $((NOW + 240)) 0 claimed - $((NOW - 130)) | put
	run "$MOODLECORD" -c "$CFG" ping
	[ "$status" -eq 0 ]
	[ "$(nmessages)" -eq 2 ]
	[ "$(ping_state 1)" = sent ]
}

@test "sync changes the state while a ping run is in flight: the run acts on what is stored now" {
	{
		conf 1 $((NOW + 240))
		conf 2 $((NOW + 250))
		conf 3 $((NOW - 6000)) 0 sent 1300000000000000003 $((NOW - 6300))
	} | put
	discord_admin "hold?next=1"
	"$MOODLECORD" -c "$CFG" -v ping >"$T/out" 2>&1 &
	pid=$!
	discord_wait_held
	# Meanwhile sync moves 2 to tomorrow and 3 (over, pinged) to next week.
	conf 2 $((NOW + 86400)) | put
	conf 3 $((NOW + 604800)) | put
	discord_admin release
	wait "$pid"
	[ "$(ncalls)" -eq 1 ]
	[ "$(ping_state 1) $(ping_state 2) $(ping_state 3)" = "sent none none" ]
	grep -qx "ping: Session 2 has moved, no longer due" "$T/out"
}

# A second path to the same state whose ping lock is another file: the
# data and LMDB lock files are shared (symlinks), the run lock is not, so
# only the claim in LMDB keeps two runs from pinging twice.
alias_state() {
	mkdir -p "$T/alias"
	ln -s "$STATE" "$T/alias/state.mdb"
	ln -s "$STATE-lock" "$T/alias/state.mdb-lock"
	ping_config "$T/config2" "$T/alias/state.mdb" "$ROLE"
}

@test "two runs the run lock does not keep apart: the claim lets one ping" {
	conf 1 $((NOW + 240)) | put
	alias_state
	discord_admin "hold?next=1&stage=after"
	"$MOODLECORD" -c "$CFG" ping >"$T/out" 2>&1 &
	pid=$!
	discord_wait_held
	[ "$(ping_state 1)" = claimed ]
	run "$MOODLECORD" -c "$T/config2" -v ping
	[ "$status" -eq 0 ]
	[ "$output" = "ping: nothing to do" ]
	[ "$(ncalls)" -eq 1 ]
	discord_admin release
	wait "$pid"
	[ "$(nmessages)" -eq 1 ]
	[ "$(ping_state 1)" = sent ]
	[ ! -s "$T/out" ]
}

@test "20 ping runs at once, through two lock files: exactly one ping" {
	{ conf 1 $((NOW + 240)); conf 2 $((NOW + 200)); } | put
	alias_state
	pids=""
	for i in $(seq 1 10); do
		"$MOODLECORD" -c "$CFG" ping >"$T/out.a$i" 2>&1 &
		pids="$pids $!"
		"$MOODLECORD" -c "$T/config2" ping >"$T/out.b$i" 2>&1 &
		pids="$pids $!"
	done
	for pid in $pids; do
		wait "$pid"
	done
	[ "$(nmessages)" -eq 2 ]
	[ "$(ncalls)" -eq 2 ]
	[ "$(discord_channel | jq -r '[.[].content | capture("\\*\\*(?<n>[^*]+)\\*\\*").n] | sort | join(",")')" = \
	  "Session 1,Session 2" ]
	[ "$(ping_state 1) $(ping_state 2)" = "sent sent" ]
	cat "$T"/out.* >"$T/all"
	[ ! -s "$T/all" ]
}

@test "another ping running: the second leaves at once, exit 0, says so with -v" {
	conf 1 $((NOW + 240)) | put
	discord_admin "hold?next=1"
	"$MOODLECORD" -c "$CFG" ping >"$T/out" 2>&1 &
	pid=$!
	discord_wait_held
	run "$MOODLECORD" -c "$CFG" ping
	[ "$status" -eq 0 ]
	[ -z "$output" ]
	run "$MOODLECORD" -c "$CFG" -v ping
	[ "$status" -eq 0 ]
	[[ "$output" == *"another ping is running"* ]]
	discord_admin release
	wait "$pid"
	[ "$(ncalls)" -eq 1 ]
}
