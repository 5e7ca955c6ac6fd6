#!/usr/bin/env bats
# The man page renders without warnings; make install/uninstall honour
# DESTDIR, PREFIX and MANPREFIX and only copy files.

load common

TOP=$(cd "$BATS_TEST_DIRNAME/../.." && pwd)

setup() {
	common_setup
	# Called from `make check`: the outer make's jobserver is not ours.
	unset MAKEFLAGS MFLAGS MAKELEVEL
}
teardown() { common_teardown; }

@test "the man page renders without a warning" {
	run groff -ww -mdoc -Tutf8 -P-cbou "$TOP/cmd/moodlecord.1"
	[ "$status" -eq 0 ]
	[[ "$output" == *"EXIT STATUS"* ]]
	run sh -c "groff -ww -mandoc -Tutf8 '$TOP/cmd/moodlecord.1' 2>&1 >/dev/null"
	[ "$status" -eq 0 ]
	[ -z "$output" ]
}

@test "the man page has every section and every config key" {
	local s k
	for s in NAME SYNOPSIS DESCRIPTION COMMANDS OPTIONS CONFIGURATION ENVIRONMENT FILES \
	    "EXIT STATUS" EXAMPLES; do
		grep -q "^\.Sh $s\$" "$TOP/cmd/moodlecord.1" || { echo "no section $s"; return 1; }
	done
	for k in url username password password_file password_command token token_file \
	    modules lookahead_days courses webhook_url webhook_url_file role_id ping_minutes \
	    thread_id meeting_minutes path connect_timeout timeout deadline; do
		grep -q "^\.It Cm $k\b\|Cm $k ,\|, Cm $k\$" "$TOP/cmd/moodlecord.1" ||
			{ echo "no key $k"; return 1; }
	done
	for s in 64 65 69 74 75 77 78; do
		grep -q "^\.It $s " "$TOP/cmd/moodlecord.1" || { echo "no status $s"; return 1; }
	done
}

@test "the man page says what the commands print and return as built" {
	local page
	page=$(groff -mdoc -Tutf8 -P-cbou "$TOP/cmd/moodlecord.1" 2>/dev/null | tr -s ' \n' '  ')
	# dump without a state (dump.bats checks the binary prints these)
	[[ "$page" == *"prints ‘no state yet’, or ‘[]’ with --json, and exits 0"* ]]
	[[ "$page" == *"never writes it"* ]]
	# the dry-run plan of sync (sync.bats checks its form), in plan order
	[[ "$page" == *"delete 2025-03-01 09:00 MATH2 Exam (over) edit "*" create "*" (new) 1 to create, 1 to edit, 1 to delete"* ]]
	[[ "$page" == *"‘1 created, 1 edited, 1 deleted’"* ]]
	[[ "$page" == *"exits 75; the next run carries on"* ]]
	[[ "$page" == *"refused (status 78); set path in [state] to a new file, or remove the state file, to start afresh"* ]]
	[[ "$page" == *"over an hour, which is reported with status 75"* ]]
	[[ "$page" == *"written by a newer moodlecord"* ]]
}

@test "crontab.example runs sync every 30 minutes and ping every minute from /usr/local/bin" {
	grep -q '^MAILTO=' "$TOP/crontab.example"
	grep -qx '\*/30 \* \* \* \*  */usr/local/bin/moodlecord sync' "$TOP/crontab.example"
	grep -qx '\* \* \* \* \*  */usr/local/bin/moodlecord ping' "$TOP/crontab.example"
}

# fake_tools: apt-get, sudo (which, like sudo's env_reset, drops the
# environment) and id in $T/bin, each logging its call to $T/calls.
fake_tools() {
	mkdir -p "$T/bin"
	cat >"$T/bin/apt-get" <<-EOF
	#!/bin/sh
	echo "apt-get \$* (DEBIAN_FRONTEND=\${DEBIAN_FRONTEND:-})" >>"$T/calls"
	EOF
	cat >"$T/bin/sudo" <<-EOF
	#!/bin/sh
	echo "sudo" >>"$T/calls"
	exec env -i PATH="\$PATH" "\$@"
	EOF
	printf '#!/bin/sh\necho %s\n' "${1:-0}" >"$T/bin/id"
	chmod +x "$T/bin/apt-get" "$T/bin/sudo" "$T/bin/id"
}

@test "make deps: a quiet no-op when every package is there" {
	fake_tools 0
	run env PATH="$T/bin:$PATH" make -C "$TOP" --no-print-directory deps
	[ "$status" -eq 0 ]
	[ -z "$output" ]
	[ ! -e "$T/calls" ]
}

@test "make deps: one update, then only the missing installed, non-interactively; sudo when not root" {
	fake_tools 0
	run env -u DEBIAN_FRONTEND PATH="$T/bin:$PATH" make -C "$TOP" --no-print-directory deps \
	    DEPS="cmd:pkg-config:pkg-config cmd:mc-no-such-command:mc-no-such-package"
	[ "$status" -eq 0 ]
	[ "$output" = "installing: mc-no-such-package" ]
	diff -u - "$T/calls" <<-EOF
	apt-get update -qq (DEBIAN_FRONTEND=)
	apt-get install -y -qq --no-install-recommends mc-no-such-package (DEBIAN_FRONTEND=noninteractive)
	EOF
	rm "$T/calls"
	fake_tools 1000
	run env -u DEBIAN_FRONTEND PATH="$T/bin:$PATH" make -C "$TOP" --no-print-directory deps \
	    DEPS="cmd:pkg-config:pkg-config cmd:mc-no-such-command:mc-no-such-package"
	[ "$status" -eq 0 ]
	diff -u - "$T/calls" <<-EOF
	sudo
	apt-get update -qq (DEBIAN_FRONTEND=)
	sudo
	apt-get install -y -qq --no-install-recommends mc-no-such-package (DEBIAN_FRONTEND=noninteractive)
	EOF
}

@test "make install DESTDIR PREFIX, then make uninstall" {
	local root="$T/root" v built=0
	make -q -C "$TOP" moodlecord && built=1
	run make -C "$TOP" --no-print-directory install DESTDIR="$root" PREFIX=/usr
	echo "$output"
	[ "$status" -eq 0 ]
	# With the binary built, it only copies: nothing is compiled.
	[ "$built" -eq 0 ] || [[ "$output" != *" -c "* ]]
	[ -x "$root/usr/bin/moodlecord" ]
	cmp "$root/usr/bin/moodlecord" "$TOP/moodlecord"
	[ "$(stat -c %a "$root/usr/bin/moodlecord")" = 755 ]
	[ "$(stat -c %a "$root/usr/share/man/man1/moodlecord.1")" = 644 ]
	[ "$(stat -c %a "$root/usr/share/doc/moodlecord/crontab.example")" = 644 ]
	[ -f "$root/usr/share/doc/moodlecord/README.md" ]
	v=$("$root/usr/bin/moodlecord" --version)
	grep -q "^\.Os moodlecord ${v#moodlecord }\$" "$root/usr/share/man/man1/moodlecord.1"
	! grep -q '@VERSION@' "$root/usr/share/man/man1/moodlecord.1" || false
	run groff -ww -mdoc -Tutf8 "$root/usr/share/man/man1/moodlecord.1"
	[ "$status" -eq 0 ]

	run make -C "$TOP" --no-print-directory uninstall DESTDIR="$root" PREFIX=/usr
	[ "$status" -eq 0 ]
	[ ! -e "$root/usr/bin/moodlecord" ]
	[ ! -e "$root/usr/share/man/man1/moodlecord.1" ]
	[ ! -e "$root/usr/share/doc/moodlecord" ]
}

@test "make install MANPREFIX puts the man page there" {
	local root="$T/root"
	run make -C "$TOP" --no-print-directory install DESTDIR="$root" PREFIX=/opt/mc MANPREFIX=/opt/man
	[ "$status" -eq 0 ]
	[ -x "$root/opt/mc/bin/moodlecord" ]
	[ -f "$root/opt/man/man1/moodlecord.1" ]
	[ -f "$root/opt/mc/share/doc/moodlecord/crontab.example" ]
	run make -C "$TOP" --no-print-directory uninstall DESTDIR="$root" PREFIX=/opt/mc MANPREFIX=/opt/man
	[ "$status" -eq 0 ]
	[ ! -e "$root/opt/man/man1/moodlecord.1" ]
	[ ! -e "$root/opt/mc/bin/moodlecord" ]
}
