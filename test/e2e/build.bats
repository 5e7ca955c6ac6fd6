#!/usr/bin/env bats
# The build: which flags reach which objects, -Werror only where it
# belongs, pkg-config's errors, `make deps` without dpkg or apt-get, and
# test/run's counts.

# bats file_tags=build

load common

TOP=$(cd "$BATS_TEST_DIRNAME/../.." && pwd)

setup() {
	common_setup
	# Called from `make check`: the outer make's jobserver is not ours.
	unset MAKEFLAGS MFLAGS MAKELEVEL
}
teardown() { common_teardown; }

# mk ARGS...: make in the top directory, building into $T (never into
# build/), under bats' run.
mk() {
	run make -C "$TOP" --no-print-directory B="$T/b" S="$T/s" "$@"
	echo "$output"
}

@test "a plain make builds without -Werror; make check with it" {
	mk -n moodlecord
	[ "$status" -eq 0 ]
	grep -q ' -c lib/util.c ' <<<"$output"
	! grep -q -- '-Werror' <<<"$output" || false
	mk -n check
	[ "$status" -eq 0 ]
	grep -- ' -c lib/util.c ' <<<"$output" | grep -q -- ' -Werror '
	grep -- ' -c test/unit/test_util.c ' <<<"$output" | grep -q -- ' -Werror '
}

@test "objects built without -Werror are rebuilt with it" {
	mk "$T/b/lib/util.o"
	[ "$status" -eq 0 ]
	mk "$T/b/lib/util.o"
	[[ "$output" != *" -c "* ]]
	mk "$T/b/lib/util.o" WERROR=-Werror
	[[ "$output" == *" -Werror "*" -c lib/util.c "* ]]
}

@test "product objects get no test library's flags; tests and fakes get theirs" {
	mkdir -p "$T/pc"
	for m in cmocka:MC_TEST_CMOCKA libmicrohttpd:MC_TEST_MHD; do
		printf 'Name: %s\nDescription: x\nVersion: 9\nCflags: -D%s\nLibs: -l%s\n' \
			"${m%%:*}" "${m#*:}" "${m%%:*}" >"$T/pc/${m%%:*}.pc"
	done
	PKG_CONFIG_PATH="$T/pc" mk -n build-tests
	[ "$status" -eq 0 ]
	# every product object is compiled, none with a test library's flag
	[ "$(grep -c -- ' -c \(lib\|state\|cmd\)/' <<<"$output")" -ge 20 ]
	! grep -- ' -c \(lib\|state\|cmd\|test/tools\|test/fuzz\)/' <<<"$output" | grep -q 'MC_TEST_' || false
	grep -- ' -c test/unit/test_util.c ' <<<"$output" | grep -q -- '-DMC_TEST_CMOCKA'
	grep -- ' -c test/unit/test_util.c ' <<<"$output" | grep -vq -- '-DMC_TEST_MHD'
	grep -- 'test/fakes/fake_discord.c' <<<"$output" | grep -q -- '-DMC_TEST_MHD'
	# and the product links none of them
	grep -- "-o $T/b/moodlecord " <<<"$output" | grep -vq -- '-lcmocka\|-llibmicrohttpd'
}

@test "pkg-config's error is shown and stops the build" {
	mk "$T/b/lib/util.o" LIBS_PC="libcurl mc-no-such-module"
	[ "$status" -ne 0 ]
	[[ "$output" == *"mc-no-such-module"*"not found"* ]]
	[[ "$output" == *"pkg-config --cflags libcurl mc-no-such-module failed (see above); \`make deps\` installs what is missing"* ]]
	[ ! -e "$T/b/lib/util.o" ]
}

# fake_tools: apt-get, dpkg and dpkg-query in $T/bin, each logging its
# call to $T/calls (dpkg's fail, as on a machine without dpkg).
fake_tools() {
	mkdir -p "$T/bin"
	printf '#!/bin/sh\necho "apt-get $*" >>"%s"\n' "$T/calls" >"$T/bin/apt-get"
	printf '#!/bin/sh\necho "dpkg $*" >>"%s"\nexit 127\n' "$T/calls" >"$T/bin/dpkg"
	printf '#!/bin/sh\necho "dpkg-query $*" >>"%s"\nexit 127\n' "$T/calls" >"$T/bin/dpkg-query"
	chmod +x "$T/bin/apt-get" "$T/bin/dpkg" "$T/bin/dpkg-query"
}

@test "make deps finds what is there with pkg-config and command -v, never dpkg" {
	fake_tools
	run env PATH="$T/bin:$PATH" make -C "$TOP" --no-print-directory deps
	[ "$status" -eq 0 ]
	[ -z "$output" ]
	[ ! -e "$T/calls" ]
	run env PATH="$T/bin:$PATH" make -C "$TOP" --no-print-directory deps \
		DEPS="pc:json-c:libjson-c-dev pc:mc-no-such-module:mc-pkg-b cmd:jq:jq"
	[ "$status" -eq 0 ]
	[ "$output" = "installing: mc-pkg-b" ]
	diff -u - "$T/calls" <<-EOF
	apt-get update -qq
	apt-get install -y -qq --no-install-recommends mc-pkg-b
	EOF
}

@test "make deps without apt-get names what is missing and fails" {
	fake_tools
	run env PATH="$T/bin:$PATH" make -C "$TOP" --no-print-directory deps APT_GET=mc-no-apt-get \
		DEPS="cmd:sh:dash cmd:mc-no-such-command:mc-pkg-a pc:mc-no-such-module:mc-pkg-b pc:lmdb:liblmdb-dev"
	echo "$output"
	[ "$status" -ne 0 ]
	[ "${lines[0]}" = "make deps: missing: mc-no-such-command mc-no-such-module (Debian packages: mc-pkg-a mc-pkg-b); no mc-no-apt-get here to install them" ]
	[ ! -e "$T/calls" ]
}

@test "test/run: a skipped test counts as skipped, the fakes' self-tests run once" {
	local d
	mkdir -p "$T/w/e2e" "$T/w/test/unit"
	# test/run runs the tests whose sources exist, and not a binary left
	# by a removed one (test_gone)
	touch "$T/w/test/unit/test_x.c"
	for d in p s; do
		mkdir -p "$T/w/$d/test/unit"
		cat >"$T/w/$d/test/unit/test_x" <<-'EOF'
		#!/bin/sh
		printf '[  PASSED  ] 2 test(s).\n[  SKIPPED ] 1 test(s), listed below:\n[  SKIPPED ] test_needs_a_tool\n'
		EOF
		chmod +x "$T/w/$d/test/unit/test_x"
		printf '#!/bin/sh\nexit 1\n' >"$T/w/$d/test/unit/test_gone"
		chmod +x "$T/w/$d/test/unit/test_gone"
	done
	cp "$BATS_TEST_DIRNAME/data/testrun.bats" "$T/w/e2e/"
	cd "$T/w"
	# bats in bats: the outer one's fd 3, settings and PATH entry left out
	run env $(compgen -e | sed -n 's/^BATS_.*/-u &/p') PATH="${PATH//$BATS_LIBEXEC:/}" \
		SELFTEST_LOG="$T/selftest" MC_E2E_DIR="$T/w/e2e" "$TOP/test/run" p s 3>&-
	echo "$output"
	[ "$status" -eq 0 ]
	[ "${lines[-1]}" = "7 passed, 0 failed, 4 skipped" ]
	grep -qx 'unit plain test_x: 2 passed, 0 failed, 1 skipped' <<<"$output"
	grep -qx 'e2e san: 1 passed, 0 failed, 1 skipped' <<<"$output"
	grep -qx 'e2e fakes: 1 passed, 0 failed, 0 skipped' <<<"$output"
	[ "$(cat "$T/selftest")" = "run with $T/w/p/moodlecord" ]
}
