#!/usr/bin/env bats
# Several reminders (ping_minutes = 1440, 60, 5): each posted once at its
# time, each replacing the one before, the last deleted once the
# conference is over; late runs; a changed list; reminders per route.
# The real binary under faketime (the clock of each run set to a moment
# before or after one conference's start) against the fake Discord;
# states are written with test/tools/statefill.

load common
load discord_helpers

ROLE=987654321098765432
ROLE2=987654321098765433
HOOK2_ID=223456789012345678
HOOK2_TOKEN=Second-Hook_token.xyz

setup() {
	[ -n "$LIBFAKETIME" ] || skip "libfaketime is not installed (make deps installs faketime)"
	common_setup
	STATE="$T/state/state.mdb"
	STATEFILL="$(dirname "$MOODLECORD")/test/tools/statefill"
	start_discord --rate 1000/1 --webhook "$HOOK2_ID/$HOOK2_TOKEN"
	HOOK2_URL="http://127.0.0.1:$DISCORD_PORT/api/v10/webhooks/$HOOK2_ID/$HOOK2_TOKEN"
	CFG="$T/config"
	remind_config "1440, 60, 5"
	# a conference starting in two days (whole minute), 90 minutes long
	S=$(( ($(date +%s) / 60 + 2 * 1440) * 60 ))
	export FAKETIME_DONT_FAKE_MONOTONIC=1
}
teardown() { common_teardown; }

remind_config() {
	write_config "$CFG" <<-EOF
	[discord]
	webhook_url = $WEBHOOK_URL
	role_id = $ROLE
	ping_minutes = $1
	${2:-}
	[schedule]
	meeting_minutes = 90
	[state]
	path = $STATE
	EOF
}

# conf ID START [ROUTE]: a conference never reminded.
conf() {
	printf '%s\t%s\t0\tnone\t-\t0\tRM101\tSession %s\thttps://moodle.example.edu/mod/bigbluebuttonbn/view.php?id=%s%s\n' \
	    "$1" "$2" "$1" "$((1000 + $1))" "${3:+	$3}" | "$STATEFILL" "$STATE" put
}

# libfaketime itself, preloaded (the faketime wrapper's semaphore is not
# safe to run this often); the sanitizer build accepts it after its own
# runtime.
LIBFAKETIME=
for f in /usr/lib/*/faketime/libfaketime.so.1 /usr/lib/faketime/libfaketime.so.1; do
	[ -e "$f" ] && LIBFAKETIME=$f && break
done

# ping_at SECONDS_FROM_START [ARGS]: a ping run at that moment.
ping_at() {
	local at=$1
	shift
	run env LD_PRELOAD="$LIBFAKETIME" FAKETIME="@$(date -u -d "@$((S + at))" '+%Y-%m-%d %H:%M:%S')" \
	    ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}verify_asan_link_order=0" \
	    "$MOODLECORD" -c "$CFG" "$@" ping
	echo "ping at $at: status $status: $output"
}

# The reminders standing: "ID OFFSET-WORDING" lines from the channel.
standing() { discord_channel | jq -r '[.[] | .content] | join("|")'; }
nmessages() { discord_channel | jq length; }
methods() { discord_log | jq -r '[.[] | .method] | join(" ")'; }
stored() { "$MOODLECORD" -c "$CFG" dump --json | jq -r ".[] | select(.id == $1) | \"\(.ping) \(.ping_offset)\""; }

@test "reminders: each offset once, each replacing the one before, the last deleted when over" {
	conf 1 "$S"
	ping_at $((-1440 * 60 - 1)) -v
	[ "$status" -eq 0 ]
	[ "$(nmessages)" -eq 0 ]
	ping_at $((-1440 * 60 + 5)) -v
	[ "$(nmessages)" -eq 1 ]
	[[ "$(standing)" == "<@&$ROLE> **Session 1**"*"starts <t:$S:R>"* ]]
	[ "$(stored 1)" = "sent 1440" ]
	first=$(discord_channel | jq -r '.[0].id')
	# the same window later: nothing
	ping_at $((-1000 * 60))
	[ "$(methods)" = "POST" ]
	# the hour before: the 60-minute one replaces it
	ping_at $((-60 * 60 + 5)) -v
	[ "$status" -eq 0 ]
	[ "$(methods)" = "POST POST DELETE" ]
	[ "$(nmessages)" -eq 1 ]
	[ "$(discord_channel | jq -r '.[0].id')" != "$first" ]
	[ "$(discord_log | jq -r '.[2].path')" = "/api/v10/webhooks/$WEBHOOK_ID/***/messages/$first" ]
	[ "$(stored 1)" = "sent 60" ]
	ping_at $((-30 * 60))
	[ "$(methods)" = "POST POST DELETE" ]
	# five minutes before: the last one
	ping_at $((-5 * 60 + 1))
	[ "$(methods)" = "POST POST DELETE POST DELETE" ]
	[ "$(nmessages)" -eq 1 ]
	[ "$(stored 1)" = "sent 5" ]
	# a reminder is a new message with the role allowed, never silent
	[ "$(discord_channel | jq -c '[.[0].mention_roles, .[0].flags]')" = "[[\"$ROLE\"],0]" ]
	ping_at 120
	[ "$(methods)" = "POST POST DELETE POST DELETE" ]
	# over (90 minutes): deleted, done
	ping_at $((90 * 60))
	[ "$(methods)" = "POST POST DELETE POST DELETE DELETE" ]
	[ "$(nmessages)" -eq 0 ]
	[ "$(stored 1)" = "done 5" ]
	ping_at $((91 * 60))
	[ "$(methods)" = "POST POST DELETE POST DELETE DELETE" ]
}

@test "reminders: a late run posts only the latest due, at the boundaries" {
	conf 1 "$S"
	conf 2 "$((S + 3600))"
	conf 3 "$((S + 7200))"
	# at S - 50 min: 1 gets its hour one; 2 (1 h 50 before) and 3 (2 h 50)
	# their day-before ones
	ping_at $((-50 * 60))
	[ "$status" -eq 0 ]
	[ "$(stored 1) $(stored 2) $(stored 3)" = "sent 60 sent 1440 sent 1440" ]
	[ "$(nmessages)" -eq 3 ]
	# the second before 1's five-minute window: nothing new
	ping_at $((-5 * 60 - 1))
	[ "$(nmessages)" -eq 3 ]
	[ "$(discord_log | jq length)" -eq 3 ]
	# at the start: 1's five-minute one, worded "started"
	ping_at 0 -v
	[[ "$output" == *"pinged: Session 1 (message "*")"* ]]
	[[ "$(discord_channel | jq -r '.[] | select(.content | contains("**Session 1**")) | .content')" == *"started <t:$S:R>"* ]]
	[ "$(stored 1)" = "sent 5" ]
	# 5 minutes after its start 1 gets nothing more
	conf 4 "$S"
	ping_at $((5 * 60))
	[ "$(stored 4)" = "none 0" ]
	[ "$(stored 1)" = "sent 5" ]
}

@test "reminders: the list changed; a reminder already sent is never sent again" {
	conf 1 "$S"
	ping_at $((-55 * 60))
	[ "$(stored 1)" = "sent 60" ]
	remind_config "90, 30"
	# 90 is at or above what was sent: not late, not again
	ping_at $((-45 * 60))
	[ "$(nmessages)" -eq 1 ]
	[ "$(discord_log | jq length)" -eq 1 ]
	ping_at $((-30 * 60))
	[ "$(stored 1)" = "sent 30" ]
	[ "$(methods)" = "POST POST DELETE" ]
	remind_config "60"
	ping_at $((-10 * 60))
	ping_at $((10 * 60))
	[ "$(methods)" = "POST POST DELETE" ]
}

@test "reminders: --dry-run names each reminder due, writes nothing" {
	conf 1 "$S"
	ping_at $((-55 * 60))
	ping_at $((-4 * 60)) --dry-run
	[ "$status" -eq 0 ]
	[ "$output" = "ping  $(date -d "@$S" '+%Y-%m-%d %H:%M')  RM101  Session 1  (replaces its ping)" ]
	[ "$(discord_log | jq length)" -eq 1 ]
}

@test "reminders per route: each route its own offsets, role and webhook" {
	remind_config "1440, 60, 5" "[route b]
courses = 7
webhook_url = $HOOK2_URL
role_id = $ROLE2
ping_minutes = 30"
	conf 1 "$S"
	conf 2 "$S" b
	ping_at $((-50 * 60))
	[ "$status" -eq 0 ]
	[ "$(stored 1) $(stored 2)" = "sent 60 none 0" ]
	ping_at $((-20 * 60))
	[ "$(stored 1) $(stored 2)" = "sent 60 sent 30" ]
	[ "$(discord_channel | jq -r --arg h "$HOOK2_ID" '[.[] | select(.webhook_id == $h) | .mention_roles[0]] | join(",")')" = "$ROLE2" ]
	[ "$(discord_channel | jq -r --arg h "$WEBHOOK_ID" '[.[] | select(.webhook_id == $h) | .mention_roles[0]] | join(",")')" = "$ROLE" ]
}
