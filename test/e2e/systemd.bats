#!/usr/bin/env bats
# The systemd units as `make install` installs them: systemd-analyze has
# nothing to say about any of them, each system service is rated 2.0 or
# lower, the timers fire when they should, 75 does not fail a unit.
# Without systemd-analyze (Debian package systemd) each test is skipped.

# bats file_tags=build

load common

TOP=$(cd "$BATS_TEST_DIRNAME/../.." && pwd)
SERVICES="moodlecord-sync@.service moodlecord-ping@.service"
TIMERS="moodlecord-sync@.timer moodlecord-ping@.timer"

setup() {
	common_setup
	unset MAKEFLAGS MFLAGS MAKELEVEL
	command -v systemd-analyze >/dev/null ||
		skip "systemd-analyze is not installed (make deps-deb installs it)"
	# Installed under a PREFIX of its own (not DESTDIR): ExecStart= then
	# names a binary that exists, as verify checks.
	P="$T/usr"
	make -C "$TOP" --no-print-directory install PREFIX="$P" >/dev/null
	SYS="$P/lib/systemd/system" USR="$P/lib/systemd/user"
	# verify looks up Documentation=man:moodlecord(1)
	export MANPATH="$P/share/man"
	mkdir -m 700 "$T/run"
}
teardown() { common_teardown; }

# analyze ARGS...: systemd-analyze under bats' run, its output shown.
analyze() {
	run systemd-analyze "$@"
	echo "systemd-analyze $*: status $status"
	echo "$output"
}

@test "make install puts the system and user units, sysusers.d and tmpfiles.d in place" {
	local u
	for u in $SERVICES $TIMERS; do
		[ "$(stat -c %a "$SYS/$u")" = 644 ]
		[ "$(stat -c %a "$USR/$u")" = 644 ]
	done
	grep -qx "ExecStart=$P/bin/moodlecord -c /etc/moodlecord/%i.conf sync" "$SYS/moodlecord-sync@.service"
	grep -qx "ExecStart=$P/bin/moodlecord -c %E/moodlecord/%i.conf ping" "$USR/moodlecord-ping@.service"
	grep -qx 'u moodlecord - .* /var/lib/moodlecord' "$P/lib/sysusers.d/moodlecord.conf"
	grep -qx 'd /etc/moodlecord 0700 moodlecord moodlecord -' "$P/lib/tmpfiles.d/moodlecord.conf"
	! grep -rq '@BINDIR@' "$SYS" "$USR" || false
}

@test "systemd-analyze verify: nothing to report on any unit, system or user" {
	analyze verify "$SYS"/moodlecord-*
	[ "$status" -eq 0 ]
	[ -z "$output" ]
	XDG_RUNTIME_DIR="$T/run" analyze --user verify "$USR"/moodlecord-*
	[ "$status" -eq 0 ]
	[ -z "$output" ]
	# It does report a broken unit (its status alone would not say so).
	sed 's/^ProtectSystem=strict/ProtectSystem=bogus/' "$SYS/moodlecord-sync@.service" >"$T/bad@.service"
	analyze verify "$T/bad@.service"
	[[ "$output" == *"bad@.service:"*"bogus"* ]]
}

@test "systemd-analyze security --offline=true: each system service at 2.0 or lower" {
	local u level
	for u in $SERVICES; do
		analyze security --offline=true --threshold=20 "$SYS/$u"
		[ "$status" -eq 0 ]
		level=$(sed -n 's/^→ Overall exposure level for .*: \([0-9.]*\) .*/\1/p' <<<"$output")
		echo "$u: $level"
		[ -n "$level" ]
		awk -v l="$level" 'BEGIN { exit !(l <= 2.0) }'
	done
	# The same units without their sandbox would not pass.
	sed '/^# Sandbox/,$d' "$SYS/moodlecord-sync@.service" >"$T/open@.service"
	analyze security --offline=true --threshold=20 "$T/open@.service"
	[ "$status" -ne 0 ]
}

# elapses TIMER: the next three times its OnCalendar= fires, as seconds.
elapses() {
	local cal
	cal=$(sed -n 's/^OnCalendar=//p' "$SYS/$1")
	systemd-analyze calendar --iterations=3 "$cal" |
		sed -n 's/^ *\(Next elapse\|Iter\. #[0-9]\): //p' |
		while read -r t; do date -d "$t" +%s; done
}

@test "ping at second 0 of every minute to the second; sync every 30 minutes, caught up, spread" {
	local t prev=
	for t in $(elapses moodlecord-ping@.timer); do
		[ $((t % 60)) -eq 0 ]
		[ -z "$prev" ] || [ $((t - prev)) -eq 60 ]
		prev=$t
	done
	[ -n "$prev" ]
	grep -qx 'AccuracySec=1s' "$SYS/moodlecord-ping@.timer"
	prev=
	for t in $(elapses moodlecord-sync@.timer); do
		[ $((t % 1800)) -eq 0 ]
		[ -z "$prev" ] || [ $((t - prev)) -eq 1800 ]
		prev=$t
	done
	[ -n "$prev" ]
	grep -qx 'Persistent=true' "$SYS/moodlecord-sync@.timer"
	grep -qx 'RandomizedDelaySec=2min' "$SYS/moodlecord-sync@.timer"
	cmp "$SYS/moodlecord-sync@.timer" "$USR/moodlecord-sync@.timer"
	cmp "$SYS/moodlecord-ping@.timer" "$USR/moodlecord-ping@.timer"
}

@test "75 is a success for systemd, no other status; state in the instance's StateDirectory" {
	local u d
	for d in "$SYS" "$USR"; do
		for u in $SERVICES; do
			[ "$(grep -c '^SuccessExitStatus=' "$d/$u")" -eq 1 ]
			grep -qx 'SuccessExitStatus=75' "$d/$u"
			grep -qx 'StateDirectory=moodlecord/%i' "$d/$u"
			grep -qx 'Environment=MOODLECORD_STATE_PATH=%S/moodlecord/%i/state.mdb' "$d/$u"
		done
	done
	grep -qx 'User=moodlecord' "$SYS/moodlecord-sync@.service"
	grep -qx 'User=moodlecord' "$SYS/moodlecord-ping@.service"
}

@test "the man page's FILES names every unit, each instance's config and state, and 75" {
	local files
	files=$(groff -mdoc -Tutf8 -P-cbou "$TOP/cmd/moodlecord.1" 2>/dev/null |
		sed -n '/^FILES/,/^EXIT STATUS/p' | tr -s ' \n' '  ')
	for u in $SERVICES $TIMERS; do
		[[ "$files" == *"$u"* ]]
	done
	[[ "$files" == *"/lib/systemd/system/"* && "$files" == *"/lib/systemd/user/"* ]]
	[[ "$files" == *"/etc/moodlecord/NAME.conf"* ]]
	[[ "$files" == *"/var/lib/moodlecord/NAME/state.mdb"* ]]
	[[ "$files" == *"~/.config/moodlecord/NAME.conf"* ]]
	[[ "$files" == *"~/.local/state/moodlecord/NAME/state.mdb"* ]]
	[[ "$files" == *"status 75"*"does not mark the unit failed"* ]]
}
