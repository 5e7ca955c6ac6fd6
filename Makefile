# moodlecord: GNU make.  `make` builds, `make check` tests (plain and under
# ASan+UBSan), `make demo` shows it working against the fakes on loopback.

VERSION   = 0.1.0
PREFIX   ?= /usr/local
MANPREFIX ?= $(PREFIX)/share/man
DOCPREFIX ?= $(PREFIX)/share/doc/moodlecord
DESTDIR  ?=

CC       ?= cc
PKG_CONFIG ?= pkg-config
APT_GET  ?= apt-get
LIBS_PC   = libcurl json-c lmdb inih
TEST_PC   = cmocka
FAKES_PC  = libmicrohttpd json-c

# What the build and the tests need, each "pc:MODULE:PACKAGE" (a pkg-config
# module) or "cmd:COMMAND:PACKAGE" (a command) with the Debian package that
# has it.  `make deps` installs the packages of the missing ones.
DEPS      = cmd:pkg-config:pkg-config \
            pc:libcurl:libcurl4-openssl-dev pc:json-c:libjson-c-dev \
            pc:lmdb:liblmdb-dev pc:inih:libinih-dev \
            pc:libmicrohttpd:libmicrohttpd-dev pc:cmocka:libcmocka-dev \
            cmd:mdb_stat:lmdb-utils cmd:bats:bats cmd:jq:jq cmd:curl:curl \
            cmd:groff:groff-base cmd:strace:strace \
            cmd:faketime:faketime cmd:script:bsdutils

# -Werror is for `make check` and CI (which pass WERROR=-Werror): a plain
# `make` with a newer compiler warns about a new warning and still builds.
WERROR   ?=
WARN      = -std=c11 -Wall -Wextra $(WERROR)
BASEFLAGS = $(WARN) -D_POSIX_C_SOURCE=200809L -D_DEFAULT_SOURCE \
            -DMOODLECORD_VERSION='"$(VERSION)"' -I. -Ilib -Istate
CFLAGS   ?= -O2 -g
SAN       = -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer

# pc OPTION MODULES: what pkg-config answers.  Its error message is shown
# and make stops there, rather than going on to a missing header.
pc    = $(call pc_ok,$(shell $(PKG_CONFIG) $(1) $(2) && echo pkg-config-ok),$(1) $(2))
pc_ok = $(if $(filter pkg-config-ok,$(1)),$(filter-out pkg-config-ok,$(1)),$\
        $(error $(PKG_CONFIG) $(2) failed (see above); `make deps` installs what is missing))

# Asked once, and only when a rule needs them: the product's libraries,
# the unit tests' cmocka, the fakes' libmicrohttpd.
LIBS_CFLAGS  = $(eval LIBS_CFLAGS := $$(call pc,--cflags,$(LIBS_PC)))$(LIBS_CFLAGS)
LIBS_LDLIBS  = $(eval LIBS_LDLIBS := $$(call pc,--libs,$(LIBS_PC)))$(LIBS_LDLIBS)
TEST_CFLAGS  = $(eval TEST_CFLAGS := $$(call pc,--cflags,$(TEST_PC)))$(TEST_CFLAGS)
TEST_LDLIBS  = $(eval TEST_LDLIBS := $$(call pc,--libs,$(TEST_PC)))$(TEST_LDLIBS)
FAKES_CFLAGS = $(eval FAKES_CFLAGS := $$(call pc,--cflags,$(FAKES_PC)))$(FAKES_CFLAGS)
FAKES_LDLIBS = $(eval FAKES_LDLIBS := $$(call pc,--libs,$(FAKES_PC)))$(FAKES_LDLIBS)
SOAK_CFLAGS  = $(eval SOAK_CFLAGS := $$(call pc,--cflags,libcurl json-c))$(SOAK_CFLAGS)
SOAK_LDLIBS  = $(eval SOAK_LDLIBS := $$(call pc,--libs,libcurl json-c))$(SOAK_LDLIBS)

LIB_SRC  = $(sort $(wildcard lib/*.c state/*.c))
CMD_SRC  = $(sort $(wildcard cmd/*.c))
UNIT_SRC = $(sort $(wildcard test/unit/test_*.c))
FAKE_SRC = $(sort $(wildcard test/fakes/*.c))
# test tools
TOOL_SRC = $(sort $(wildcard test/tools/*.c))
# fuzz targets, each linked with the corpus replay driver (make check)
FUZZ_SRC = $(sort $(wildcard test/fuzz/fuzz_*.c))

# Two builds side by side: build/plain and build/san.  The top-level
# ./moodlecord is the plain one.
B = build/plain
S = build/san

all: moodlecord

moodlecord: $(B)/moodlecord
	cp $(B)/moodlecord $@

define variant
# The flags this build's objects were compiled with, rewritten only when
# they change (say, make check's -Werror after a plain make): a change
# rebuilds every object.
$(1)/flags: FORCE
	@mkdir -p $$(@D)
	@echo $$(CC) $$(BASEFLAGS) $(2) $$(CPPFLAGS) $$(CFLAGS) $$(LDFLAGS) | cmp -s - $$@ || \
		echo $$(CC) $$(BASEFLAGS) $(2) $$(CPPFLAGS) $$(CFLAGS) $$(LDFLAGS) >$$@

# Product objects (lib, state, cmd), test tools and fuzz targets see only
# the product's libraries; the unit tests add cmocka.
$(1)/%.o: %.c $(1)/flags $$(wildcard lib/*.h state/*.h cmd/*.h test/unit/*.h test/fuzz/*.h)
	@mkdir -p $$(dir $$@)
	$$(CC) $$(BASEFLAGS) $(2) $$(CPPFLAGS) $$(CFLAGS) $$(LIBS_CFLAGS) -c $$< -o $$@

$(1)/test/unit/%.o: test/unit/%.c $(1)/flags $$(wildcard lib/*.h state/*.h cmd/*.h test/unit/*.h)
	@mkdir -p $$(dir $$@)
	$$(CC) $$(BASEFLAGS) $(2) $$(CPPFLAGS) $$(CFLAGS) $$(LIBS_CFLAGS) $$(TEST_CFLAGS) -c $$< -o $$@

$(1)/libmc.a: $$(LIB_SRC:%.c=$(1)/%.o)
	@rm -f $$@
	$$(AR) rcs $$@ $$^

$(1)/moodlecord: $$(CMD_SRC:%.c=$(1)/%.o) $(1)/libmc.a
	$$(CC) $(2) $$(CFLAGS) $$(LDFLAGS) -o $$@ $$^ $$(LIBS_LDLIBS) -lm -pthread

$(1)/test/unit/%: $(1)/test/unit/%.o $(1)/libmc.a
	$$(CC) $(2) $$(CFLAGS) $$(LDFLAGS) -o $$@ $$^ $$(LIBS_LDLIBS) $$(TEST_LDLIBS) -lm -pthread

$(1)/units: $$(UNIT_SRC:%.c=$(1)/%)

# discord_drive reports errors with moodlecord's exit statuses.
$(1)/test/tools/discord_drive: $(1)/cmd/status.o

$(1)/test/tools/%: $(1)/test/tools/%.o $(1)/libmc.a
	$$(CC) $(2) $$(CFLAGS) $$(LDFLAGS) -o $$@ $$^ $$(LIBS_LDLIBS) -lm -pthread

$(1)/tools: $$(TOOL_SRC:%.c=$(1)/%)

$(1)/test/fuzz/fuzz_%: $(1)/test/fuzz/fuzz_%.o $(1)/test/fuzz/replay.o $(1)/libmc.a
	$$(CC) $(2) $$(CFLAGS) $$(LDFLAGS) -o $$@ $$^ $$(LIBS_LDLIBS) -lm -pthread

$(1)/fuzzers: $$(FUZZ_SRC:%.c=$(1)/%)
endef

$(eval $(call variant,$(B),))
$(eval $(call variant,$(S),$(SAN)))

# The fakes are test servers: built once, plain.
FAKES = $(FAKE_SRC:test/fakes/%.c=$(B)/fakes/%)
$(B)/fakes/%: test/fakes/%.c $(B)/flags $(wildcard test/fakes/*.h)
	@mkdir -p $(dir $@)
	$(CC) $(BASEFLAGS) $(CPPFLAGS) $(CFLAGS) $(FAKES_CFLAGS) $(LDFLAGS) -o $@ $< $(FAKES_LDLIBS) -lm

fakes: $(FAKES)

# The soak driver and the damaged-state corpus (test/soak): built once,
# plain, like the fakes.
$(B)/test/soak/%: test/soak/%.c test/soak/world.c test/soak/soak.h $(B)/flags
	@mkdir -p $(dir $@)
	$(CC) $(BASEFLAGS) $(CPPFLAGS) $(CFLAGS) $(SOAK_CFLAGS) $(LDFLAGS) -o $@ \
		$< test/soak/world.c $(SOAK_LDLIBS)
SOAK = $(B)/test/soak/soak $(B)/test/soak/flips

# deps: install the Debian packages of what is missing (apt-get, through
# sudo unless root); without apt-get, name what is missing and fail.
deps:
	@missing= names=; for d in $(DEPS); do \
		kind=$${d%%:*} rest=$${d#*:}; name=$${rest%%:*} pkg=$${rest#*:}; \
		if [ "$$kind" = pc ]; then \
			$(PKG_CONFIG) --exists "$$name" 2>/dev/null; \
		else \
			command -v "$$name" >/dev/null 2>&1; \
		fi || { missing="$$missing $$pkg"; names="$$names $$name"; }; \
	done; \
	[ -n "$$missing" ] || exit 0; \
	if ! command -v $(APT_GET) >/dev/null 2>&1; then \
		echo "make deps: missing:$$names (Debian packages:$$missing); no $(APT_GET) here to install them" >&2; \
		exit 1; \
	fi; \
	sudo=; [ "$$(id -u)" -eq 0 ] || sudo=sudo; \
	echo "installing:$$missing"; \
	$$sudo $(APT_GET) update -qq && \
	$$sudo env DEBIAN_FRONTEND=noninteractive $(APT_GET) install -y -qq --no-install-recommends $$missing

check: deps
	$(MAKE) --no-print-directory build-tests WERROR=-Werror
	./test/run $(B) $(S)
	./test/soak/run $(B) $(S) 1 1 0.25 8

build-tests: $(B)/moodlecord $(S)/moodlecord $(B)/units $(S)/units $(B)/tools $(S)/tools \
	$(B)/fuzzers $(S)/fuzzers $(FAKES) $(SOAK) moodlecord build/v1/moodlecord

# Release 0.1.0 (state schema 1), for the upgrade test that an old release
# refuses a newer state: built from its commit when this checkout has it
# (test/e2e/upgrade.bats skips that test otherwise).
V1_COMMIT = e83b2b7
build/v1/moodlecord:
	@if git rev-parse -q --verify '$(V1_COMMIT)^{commit}' >/dev/null 2>&1; then \
		rm -rf build/v1 && mkdir -p build/v1/src && \
		git archive $(V1_COMMIT) | tar -x -C build/v1/src && \
		$(MAKE) --no-print-directory -C build/v1/src build/plain/moodlecord >build/v1/build.log 2>&1 && \
		cp build/v1/src/build/plain/moodlecord $@; \
	else \
		echo "make: commit $(V1_COMMIT) is not here: the test against release 0.1.0 is skipped"; \
	fi

bench: deps
	$(MAKE) --no-print-directory $(B)/moodlecord $(FAKES)
	./test/bench/run $(B)

# A simulated week of cron time with faults (test/soak/run); SOAK_SEED=N.
SOAK_DAYS ?= 7
SOAK_SEED ?= 1
soak: deps
	$(MAKE) --no-print-directory $(B)/moodlecord $(S)/moodlecord $(FAKES) $(SOAK)
	./test/soak/run $(B) $(S) $(SOAK_DAYS) $(SOAK_SEED)

# Fuzz each target with libFuzzer for FUZZ_SECONDS (needs clang; not part
# of check, which replays the seed corpus).
FUZZ_SECONDS ?= 60
fuzz:
	./test/fuzz/run build/fuzz $(FUZZ_SECONDS)

demo: deps
	$(MAKE) --no-print-directory moodlecord $(FAKES)
	./test/demo.sh $(B)

install: moodlecord install-units
	mkdir -p $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(MANPREFIX)/man1 $(DESTDIR)$(DOCPREFIX)
	cp -f moodlecord $(DESTDIR)$(PREFIX)/bin/moodlecord
	chmod 755 $(DESTDIR)$(PREFIX)/bin/moodlecord
	sed 's/@VERSION@/$(VERSION)/' cmd/moodlecord.1 > $(DESTDIR)$(MANPREFIX)/man1/moodlecord.1
	chmod 644 $(DESTDIR)$(MANPREFIX)/man1/moodlecord.1
	cp -f crontab.example README.md $(DESTDIR)$(DOCPREFIX)/
	chmod 644 $(DESTDIR)$(DOCPREFIX)/crontab.example $(DESTDIR)$(DOCPREFIX)/README.md

uninstall: uninstall-units
	rm -f $(DESTDIR)$(PREFIX)/bin/moodlecord $(DESTDIR)$(MANPREFIX)/man1/moodlecord.1
	rm -f $(DESTDIR)$(DOCPREFIX)/crontab.example $(DESTDIR)$(DOCPREFIX)/README.md
	-rmdir $(DESTDIR)$(DOCPREFIX) 2>/dev/null

# The systemd units (cmd/systemd), one instance per config: the system
# units run as the system user moodlecord (sysusers.d), which owns
# /etc/moodlecord (tmpfiles.d); the user units read ~/.config/moodlecord.
# ExecStart= names the binary under $(PREFIX).
SYSTEMD_SYSTEM_DIR ?= $(PREFIX)/lib/systemd/system
SYSTEMD_USER_DIR   ?= $(PREFIX)/lib/systemd/user
SYSUSERS_DIR       ?= $(PREFIX)/lib/sysusers.d
TMPFILES_DIR       ?= $(PREFIX)/lib/tmpfiles.d
UNITS = moodlecord-sync@.service moodlecord-sync@.timer \
        moodlecord-ping@.service moodlecord-ping@.timer

install-units:
	mkdir -p $(DESTDIR)$(SYSTEMD_SYSTEM_DIR) $(DESTDIR)$(SYSTEMD_USER_DIR) \
		$(DESTDIR)$(SYSUSERS_DIR) $(DESTDIR)$(TMPFILES_DIR)
	for u in moodlecord-sync@.service moodlecord-ping@.service; do \
		sed 's|@BINDIR@|$(PREFIX)/bin|g' cmd/systemd/system/$$u >$(DESTDIR)$(SYSTEMD_SYSTEM_DIR)/$$u && \
		sed 's|@BINDIR@|$(PREFIX)/bin|g' cmd/systemd/user/$$u >$(DESTDIR)$(SYSTEMD_USER_DIR)/$$u || exit 1; \
	done
	for d in $(DESTDIR)$(SYSTEMD_SYSTEM_DIR) $(DESTDIR)$(SYSTEMD_USER_DIR); do \
		cp -f cmd/systemd/moodlecord-sync@.timer cmd/systemd/moodlecord-ping@.timer $$d/ || exit 1; \
		(cd $$d && chmod 644 $(UNITS)) || exit 1; \
	done
	cp -f cmd/systemd/moodlecord.sysusers $(DESTDIR)$(SYSUSERS_DIR)/moodlecord.conf
	cp -f cmd/systemd/moodlecord.tmpfiles $(DESTDIR)$(TMPFILES_DIR)/moodlecord.conf
	chmod 644 $(DESTDIR)$(SYSUSERS_DIR)/moodlecord.conf $(DESTDIR)$(TMPFILES_DIR)/moodlecord.conf

uninstall-units:
	for d in $(DESTDIR)$(SYSTEMD_SYSTEM_DIR) $(DESTDIR)$(SYSTEMD_USER_DIR); do \
		(cd $$d 2>/dev/null && rm -f $(UNITS)) || true; \
	done
	rm -f $(DESTDIR)$(SYSUSERS_DIR)/moodlecord.conf $(DESTDIR)$(TMPFILES_DIR)/moodlecord.conf

# The Debian package (debian/) of the committed tree (HEAD), built in
# build/deb from a clean copy; the .deb and .changes land there.  The tests
# are not run again: `make check` is for that.
DEB_DIR = build/deb
deb:
	rm -rf $(DEB_DIR)
	mkdir -p $(DEB_DIR)/moodlecord-$(VERSION)
	git archive --format=tar HEAD | tar -x -C $(DEB_DIR)/moodlecord-$(VERSION)
	cd $(DEB_DIR)/moodlecord-$(VERSION) && dpkg-buildpackage -us -uc -b

# What packaging and its checks need (make deb, lintian, the units' tests,
# .ci/run), installed as `make deps` does.
DEB_DEPS = cmd:dpkg-buildpackage:dpkg-dev cmd:dh:debhelper cmd:lintian:lintian \
           cmd:man:man-db cmd:systemd-analyze:systemd cmd:git:git
deps-deb:
	@$(MAKE) --no-print-directory deps DEPS="$(DEPS) $(DEB_DEPS)"

clean:
	rm -rf build moodlecord

.PHONY: all deps deps-deb check build-tests bench demo install uninstall install-units \
	uninstall-units deb clean fakes fuzz soak FORCE
.SECONDARY:
