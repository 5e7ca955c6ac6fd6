# moodlecord: GNU make.  `make` builds, `make check` tests (plain and under
# ASan+UBSan), `make demo` shows it working against the fakes on loopback.

VERSION   = 0.1.0
PREFIX   ?= /usr/local
MANPREFIX ?= $(PREFIX)/share/man
DOCPREFIX ?= $(PREFIX)/share/doc/moodlecord
DESTDIR  ?=

CC       ?= cc
PKG_CONFIG ?= pkg-config
LIBS_PC   = libcurl json-c lmdb inih
TEST_PC   = libmicrohttpd cmocka

# Debian packages needed to build and test; `make deps` installs the missing.
DEB_PKGS  = pkg-config libcurl4-openssl-dev libjson-c-dev liblmdb-dev lmdb-utils \
            libinih-dev libmicrohttpd-dev libcmocka-dev bats jq curl groff-base \
            faketime

WARN      = -std=c11 -Wall -Wextra -Werror
BASEFLAGS = $(WARN) -D_POSIX_C_SOURCE=200809L -D_DEFAULT_SOURCE \
            -DMOODLECORD_VERSION='"$(VERSION)"' -I. -Ilib -Istate
CFLAGS   ?= -O2 -g
SAN       = -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer

pc_cflags = $(shell $(PKG_CONFIG) --cflags $(1) 2>/dev/null)
pc_libs   = $(shell $(PKG_CONFIG) --libs $(1) 2>/dev/null)

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
$(1)/%.o: %.c $$(wildcard lib/*.h state/*.h cmd/*.h test/unit/*.h test/fuzz/*.h)
	@mkdir -p $$(dir $$@)
	$$(CC) $$(BASEFLAGS) $(2) $$(CPPFLAGS) $$(CFLAGS) $$(call pc_cflags,$$(LIBS_PC) $$(TEST_PC)) -c $$< -o $$@

$(1)/libmc.a: $$(LIB_SRC:%.c=$(1)/%.o)
	@rm -f $$@
	$$(AR) rcs $$@ $$^

$(1)/moodlecord: $$(CMD_SRC:%.c=$(1)/%.o) $(1)/libmc.a
	$$(CC) $(2) $$(CFLAGS) $$(LDFLAGS) -o $$@ $$^ $$(call pc_libs,$$(LIBS_PC)) -lm

$(1)/test/unit/%: $(1)/test/unit/%.o $(1)/libmc.a
	$$(CC) $(2) $$(CFLAGS) $$(LDFLAGS) -o $$@ $$^ $$(call pc_libs,$$(LIBS_PC) cmocka) -lm

$(1)/units: $$(UNIT_SRC:%.c=$(1)/%)

$(1)/test/tools/%: $(1)/test/tools/%.o $(1)/libmc.a
	$$(CC) $(2) $$(CFLAGS) $$(LDFLAGS) -o $$@ $$^ $$(call pc_libs,$$(LIBS_PC)) -lm

$(1)/tools: $$(TOOL_SRC:%.c=$(1)/%)

$(1)/test/fuzz/fuzz_%: $(1)/test/fuzz/fuzz_%.o $(1)/test/fuzz/replay.o $(1)/libmc.a
	$$(CC) $(2) $$(CFLAGS) $$(LDFLAGS) -o $$@ $$^ $$(call pc_libs,$$(LIBS_PC)) -lm

$(1)/fuzzers: $$(FUZZ_SRC:%.c=$(1)/%)
endef

$(eval $(call variant,$(B),))
$(eval $(call variant,$(S),$(SAN)))

# The fakes are test servers: built once, plain.
FAKES = $(FAKE_SRC:test/fakes/%.c=$(B)/fakes/%)
$(B)/fakes/%: test/fakes/%.c $(wildcard test/fakes/*.h)
	@mkdir -p $(dir $@)
	$(CC) $(BASEFLAGS) $(CPPFLAGS) $(CFLAGS) $(call pc_cflags,libmicrohttpd json-c) $(LDFLAGS) -o $@ $< \
		$(call pc_libs,libmicrohttpd json-c) -lm

fakes: $(FAKES)

# The soak driver and the damaged-state corpus (test/soak): built once,
# plain, like the fakes.
$(B)/test/soak/%: test/soak/%.c test/soak/world.c test/soak/soak.h
	@mkdir -p $(dir $@)
	$(CC) $(BASEFLAGS) $(CPPFLAGS) $(CFLAGS) $(call pc_cflags,libcurl json-c) $(LDFLAGS) -o $@ \
		$< test/soak/world.c $(call pc_libs,libcurl json-c)
SOAK = $(B)/test/soak/soak $(B)/test/soak/flips

deps:
	@missing=; for p in $(DEB_PKGS); do \
		dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q 'ok installed' || missing="$$missing $$p"; \
	done; \
	if [ -n "$$missing" ]; then \
		sudo=; [ "$$(id -u)" -eq 0 ] || sudo=sudo; \
		echo "installing:$$missing"; \
		$$sudo apt-get update -qq && \
		$$sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $$missing; \
	fi

check: deps
	$(MAKE) --no-print-directory build-tests
	./test/run $(B) $(S)

build-tests: $(B)/moodlecord $(S)/moodlecord $(B)/units $(S)/units $(B)/tools $(S)/tools \
	$(B)/fuzzers $(S)/fuzzers $(FAKES) moodlecord

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

install: moodlecord
	mkdir -p $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(MANPREFIX)/man1 $(DESTDIR)$(DOCPREFIX)
	cp -f moodlecord $(DESTDIR)$(PREFIX)/bin/moodlecord
	chmod 755 $(DESTDIR)$(PREFIX)/bin/moodlecord
	sed 's/@VERSION@/$(VERSION)/' cmd/moodlecord.1 > $(DESTDIR)$(MANPREFIX)/man1/moodlecord.1
	chmod 644 $(DESTDIR)$(MANPREFIX)/man1/moodlecord.1
	cp -f crontab.example README.md $(DESTDIR)$(DOCPREFIX)/
	chmod 644 $(DESTDIR)$(DOCPREFIX)/crontab.example $(DESTDIR)$(DOCPREFIX)/README.md

uninstall:
	rm -f $(DESTDIR)$(PREFIX)/bin/moodlecord $(DESTDIR)$(MANPREFIX)/man1/moodlecord.1
	rm -f $(DESTDIR)$(DOCPREFIX)/crontab.example $(DESTDIR)$(DOCPREFIX)/README.md
	-rmdir $(DESTDIR)$(DOCPREFIX) 2>/dev/null

clean:
	rm -rf build moodlecord

.PHONY: all deps check build-tests bench demo install uninstall clean fakes fuzz soak
.SECONDARY:
