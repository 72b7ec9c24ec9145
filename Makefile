# maasfs — see README.md. `make`, `make check`, `make SANITIZE=1 check`.

VERSION := 0.1.0
PKGS := fuse3 libnl-3.0 libnl-route-3.0 libvirt yaml-0.1 libssh libcrypto \
	libnftables libnbd

CC ?= cc
CFLAGS ?= -O2 -g
WARNINGS := -Wall -Wextra -Werror -Wshadow -Wformat=2 -Wstrict-prototypes \
	-Wmissing-prototypes -Wpointer-arith -Wundef -Wvla -Wcast-align \
	-Wwrite-strings
# The libraries' flags are asked of pkg-config when a recipe first needs
# them, once, not when the Makefile is read: `make deps all` installs the
# packages (deps) before anything is compiled. A library still missing then
# stops the build with the packages to install, not with a missing header.
once = $(if $(filter undefined,$(origin _once_$1)),$(eval _once_$1 := $(shell $2)))$(_once_$1)
pkg_flags = $(call once,$1,pkg-config $1 $(PKGS) 2>/dev/null || echo FAIL)
pkg_check = $(if $(filter FAIL,$1),$(error libraries missing ($(shell \
	for p in $(PKGS); do pkg-config --exists $$p || printf '%s ' $$p; done)\
	): run `make deps` as root, or tests/deps),$1)
PKG_CFLAGS = $(call pkg_check,$(call pkg_flags,--cflags))
PKG_LIBS = $(call pkg_check,$(call pkg_flags,--libs))
CHECK_CFLAGS = $(call once,check_cflags,pkg-config --cflags check 2>/dev/null)
CHECK_LIBS = $(call once,check_libs,pkg-config --libs check 2>/dev/null)

# V=1 shows the whole commands.
Q := $(if $(V),,@)

BUILD := build
ifeq ($(SANITIZE),1)
BUILD := build-sanitize
CFLAGS += -fsanitize=address,undefined -fno-omit-frame-pointer
LDFLAGS += -fsanitize=address,undefined
endif
# The libFuzzer build (`make fuzz`): clang, every object instrumented.
ifeq ($(FUZZ),1)
BUILD := build-fuzz
CC := clang
CFLAGS += -fsanitize=fuzzer-no-link,address,undefined \
	-fno-sanitize-recover=undefined -fno-omit-frame-pointer \
	-Wno-cast-align   # clang's: netlink's buffers are aligned
LDFLAGS += -fsanitize=fuzzer,address,undefined
endif

ALL_CFLAGS = -std=gnu11 $(WARNINGS) -D_GNU_SOURCE \
	-DMAASFS_VERSION=\"$(VERSION)\" $(PKG_CFLAGS) -MMD -MP $(CFLAGS)

# Every object but main goes into the library the unit tests link.
LIB_SRCS := $(wildcard lib/*.c core/*.c backend/*/*.c) fs/fs.c fs/ll.c fs/kcache.c fs/scratch.c
LIB_OBJS := $(LIB_SRCS:%.c=$(BUILD)/%.o)
MAIN_OBJ := $(BUILD)/fs/main.o
UNIT_SRCS := $(wildcard tests/unit/check_*.c)
UNIT_BINS := $(UNIT_SRCS:tests/unit/%.c=$(BUILD)/tests/%)
UNIT_HELPERS := $(filter-out $(UNIT_SRCS),$(wildcard tests/unit/*.c))
UNIT_HELPER_OBJS := $(UNIT_HELPERS:%.c=$(BUILD)/%.o)
TOOLS := $(BUILD)/tests/fsop $(BUILD)/tests/dhcpflood $(BUILD)/tests/wiregrep
FUZZ_SRCS := $(wildcard tests/fuzz/fuzz_*.c)
FUZZ_BINS := $(FUZZ_SRCS:tests/fuzz/%.c=$(BUILD)/fuzz/%)

BIN := $(BUILD)/maasfs

.PHONY: bench all check unit integration demo deps clean man install \
	uninstall fuzz fuzz-bins crash asan asan-bins
ifeq ($(SANITIZE),1)
all: $(BIN)
else
all: $(BIN) maasfs
endif

$(BUILD)/%.o: %.c
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  CC      $<")
	$(Q)$(CC) $(ALL_CFLAGS) $(CHECK_CFLAGS) -c -o $@ $<

$(BUILD)/libmaasfs.a: $(LIB_OBJS)
	@$(if $(Q),echo "  AR      $@")
	$(Q)rm -f $@ && ar rcs $@ $^

$(BIN): $(MAIN_OBJ) $(BUILD)/libmaasfs.a
	@$(if $(Q),echo "  LD      $@")
	$(Q)$(CC) $(LDFLAGS) -o $@ $^ $(PKG_LIBS) -lpthread

# ./maasfs is the plain build (a SANITIZE=1 build stays in its directory).
maasfs: build/maasfs
	cp $< $@.new && mv $@.new $@

$(BUILD)/tests/%: $(BUILD)/tests/unit/%.o $(UNIT_HELPER_OBJS) \
		$(BUILD)/libmaasfs.a
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  LD      $@")
	$(Q)$(CC) $(LDFLAGS) -Wl,--wrap=fsync -o $@ $^ $(PKG_LIBS) $(CHECK_LIBS) \
		-lpthread

$(BUILD)/tests/fsop: $(BUILD)/tests/tools/fsop.o $(BUILD)/lib/util.o
	@$(if $(Q),echo "  LD      $@")
	$(Q)$(CC) $(LDFLAGS) -o $@ $^

$(BUILD)/tests/dhcpflood: $(BUILD)/tests/tools/dhcpflood.o
	@$(if $(Q),echo "  LD      $@")
	$(Q)$(CC) $(LDFLAGS) -o $@ $^

$(BUILD)/tests/wiregrep: $(BUILD)/tests/tools/wiregrep.o
	@$(if $(Q),echo "  LD      $@")
	$(Q)$(CC) $(LDFLAGS) -o $@ $^

# Unit tests (no root) and integration tests (root: they mount for real).
# The runner ends with one line "N passed, N failed".
check: $(BIN) $(UNIT_BINS) $(TOOLS) asan-bins
	BUILD=$(BUILD) ASAN_BUILD=build-sanitize ASAN_TESTS="$(ASAN_TESTS)" \
		tests/run $(UNIT_BINS)

# The ASan/UBSan build of what the ASAN_TESTS run (make check runs them
# against it, the others against the plain build).
asan-bins:
	$(MAKE) SANITIZE=1 build-sanitize/maasfs build-sanitize/tests/fsop \
		build-sanitize/tests/dhcpflood

unit: $(UNIT_BINS)
	BUILD=$(BUILD) tests/run --unit-only $(UNIT_BINS)

# libFuzzer harnesses for every parser (tests/fuzz/README), each run
# FUZZ_SECONDS from its corpus under ASan and UBSan.
FUZZ_SECONDS ?= 10
fuzz:
	$(MAKE) FUZZ=1 fuzz-bins
	tests/fuzz/run build-fuzz/fuzz $(FUZZ_SECONDS)

fuzz-bins: $(FUZZ_BINS)

$(BUILD)/fuzz/%: $(BUILD)/tests/fuzz/%.o $(BUILD)/libmaasfs.a
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  LD      $@")
	$(Q)$(CC) $(LDFLAGS) -o $@ $^ $(PKG_LIBS) -lpthread

# Integration tests against the ASan/UBSan build: the subset that reaches
# the tree, the state, the kernel work and the parsers without guests
# (README, Tests). make check runs these against build-sanitize (tests/run:
# ASAN_BUILD, ASAN_TESTS), not twice; make asan runs them alone. A report
# of the daemon goes to a file (it has no stderr), and any report fails the
# run. Leaks are the unit tests' business (libvirt and libnl keep caches).
ASAN_TESTS := t0200-tenant t0210-owner t0220-many-users t0300-subnet \
	t0400-dhcp t0450-cache t0500-restart t0530-crash
asan: asan-bins
	ASAN_BUILD=build-sanitize ASAN_TESTS="$(ASAN_TESTS)" \
		tests/run --integration-only $(ASAN_TESTS:%=tests/%.sh)

# The randomized crash tests at length: CRASH_ROUNDS kills of maasfs at
# random moments (t0530, no guests), CRASH_LAB_ROUNDS with guests and
# migrations on the lab (t0540, about a minute a round), from a new seed
# (printed) unless CRASH_SEED is given.
CRASH_ROUNDS ?= 100
CRASH_LAB_ROUNDS ?= 20
crash: $(BIN) $(TOOLS)
	CRASH_SEED=$${CRASH_SEED:-$$$$} CRASH_ROUNDS=$(CRASH_ROUNDS) \
		TEST_TIMEOUT=$$(( $(CRASH_ROUNDS) * 20 + 120 )) BUILD=$(BUILD) \
		tests/run --integration-only tests/t0530-crash.sh
	CRASH_SEED=$${CRASH_SEED:-$$$$} CRASH_ROUNDS=$(CRASH_LAB_ROUNDS) \
		TEST_TIMEOUT=$$(( $(CRASH_LAB_ROUNDS) * 180 + 300 )) \
		BUILD=$(BUILD) tests/run --integration-only \
		tests/t0540-crash-lab.sh

# T=t0300 runs only the scripts whose name starts so.
integration: $(BIN) $(TOOLS)
	BUILD=$(BUILD) tests/run --integration-only $(if $(T),$(wildcard tests/$(T)*.sh))

# Benchmarks against their baselines (DESIGN §9; root, the lab): one
# Markdown table, also in bench/results.md. Never part of CI's default path
# (t1100 runs its smoke mode).
bench: $(BIN)
	BUILD=$(BUILD) bench/run

# The lab demo of README command 1.
demo: maasfs
	examples/demo

# Debian packages the project needs (README, .ci/run).
deps:
	tests/deps

# Man pages, from scdoc sources.
MANPAGES := $(BUILD)/man/maasfs.8 $(BUILD)/man/maasfs-clouds.5
man: $(MANPAGES)

$(BUILD)/man/%: doc/%.scd
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  SCDOC   $<")
	$(Q)scdoc <$< >$@.tmp && mv $@.tmp $@

# make install [PREFIX=/usr/local] [DESTDIR=] [SYSCONFDIR=/etc]: the
# binary (maasfs, and maasfs agent on a cloud host), the man pages, the
# systemd unit, and the settings the unit reads (/etc/default/maasfs and a
# clouds file naming this host), these two only where none exist yet.
# make uninstall removes it all (a settings file only if unchanged).
PREFIX ?= /usr/local
BINDIR ?= $(PREFIX)/bin
MANDIR ?= $(PREFIX)/share/man
DOCDIR ?= $(PREFIX)/share/doc/maasfs
UNITDIR ?= $(PREFIX)/lib/systemd/system
SYSCONFDIR ?= /etc
INSTALL ?= install

INSTALLED := $(BINDIR)/maasfs $(MANDIR)/man8/maasfs.8 \
	$(MANDIR)/man5/maasfs-clouds.5 $(UNITDIR)/maasfs.service \
	$(DOCDIR)/examples/clouds.yaml $(DOCDIR)/README.md
SETTINGS := dist/default.maasfs:$(SYSCONFDIR)/default/maasfs \
	dist/clouds.yaml:$(SYSCONFDIR)/maasfs/clouds.yaml

install: $(BIN) $(MANPAGES)
	$(INSTALL) -D -m 755 $(BIN) $(DESTDIR)$(BINDIR)/maasfs
	$(INSTALL) -D -m 644 $(BUILD)/man/maasfs.8 $(DESTDIR)$(MANDIR)/man8/maasfs.8
	$(INSTALL) -D -m 644 $(BUILD)/man/maasfs-clouds.5 \
		$(DESTDIR)$(MANDIR)/man5/maasfs-clouds.5
	mkdir -p $(DESTDIR)$(UNITDIR)
	sed -e 's|@BINDIR@|$(BINDIR)|g' -e 's|@SYSCONFDIR@|$(SYSCONFDIR)|g' \
		dist/maasfs.service.in >$(DESTDIR)$(UNITDIR)/maasfs.service
	chmod 644 $(DESTDIR)$(UNITDIR)/maasfs.service
	$(INSTALL) -D -m 644 dist/clouds.yaml $(DESTDIR)$(DOCDIR)/examples/clouds.yaml
	$(INSTALL) -D -m 644 README.md $(DESTDIR)$(DOCDIR)/README.md
	@for s in $(SETTINGS); do \
		src=$${s%%:*}; dst=$(DESTDIR)$${s#*:}; \
		if [ -e "$$dst" ]; then echo "  KEEP    $$dst"; \
		else $(INSTALL) -D -m 644 "$$src" "$$dst" && echo "  NEW     $$dst"; fi; \
	done

uninstall:
	rm -f $(addprefix $(DESTDIR),$(INSTALLED))
	rmdir $(DESTDIR)$(DOCDIR)/examples $(DESTDIR)$(DOCDIR) 2>/dev/null || true
	@for s in $(SETTINGS); do \
		src=$${s%%:*}; dst=$(DESTDIR)$${s#*:}; \
		if cmp -s "$$src" "$$dst"; then rm -f "$$dst"; \
		elif [ -e "$$dst" ]; then echo "  KEEP    $$dst (changed: yours)"; fi; \
	done
	rmdir $(DESTDIR)$(SYSCONFDIR)/maasfs 2>/dev/null || true

clean:
	rm -rf build build-sanitize build-fuzz maasfs

.SECONDARY:

-include $(shell find $(BUILD) -name '*.d' 2>/dev/null)
