# Makefile for the payout signer appliance.
#
# Each layer is a static archive; the link line of each program names the
# layers it may use, so the privilege split is visible here: signerd never
# links libpq, orchestratord never links hsm/.
#
#   make            build everything into build/
#   make test       install missing Debian/npm packages, then run every suite
#                   (plain build and ASan+UBSan build)
#   make demo       install missing packages, then run the demo
#   make bench      install missing packages, then time signerd, the HSM
#                   and the journal (ratios to baselines from the same run)
#   make fuzz       build libFuzzer harnesses and run each for FUZZ_SECONDS
#   make fuzz-long  every harness for 10M runs or 20 min, new coverage merged
#                   into fuzz/corpus (about 40 minutes on 2 cores)
#   make install    PREFIX, DESTDIR, SYSCONFDIR; make deb: the Debian packages
#   make SANITIZE=address,undefined   sanitizer build into build-san/

.DEFAULT_GOAL := all
SHELL := /bin/bash

PKG_CONFIG ?= pkg-config
CC ?= cc
FUZZ_CC ?= clang
FUZZ_SECONDS ?= 20

SANITIZE ?=
ifeq ($(SANITIZE),)
BUILD ?= build
OPT := -O2 -D_FORTIFY_SOURCE=2
else
BUILD ?= build-san
# FORTIFY and ASan both wrap the libc string functions; keep only ASan.
OPT := -O1 -fsanitize=$(SANITIZE) -fno-omit-frame-pointer \
	-fno-sanitize-recover=all
endif

WARN := -Wall -Wextra -Werror -Wformat=2 -Wformat-security \
	-Wimplicit-fallthrough -Wstrict-prototypes -Wmissing-prototypes \
	-Wpointer-arith -Wvla -Wno-unused-parameter
HARDEN := -fstack-protector-strong -fstack-clash-protection -fcf-protection \
	-fPIE
HARDEN_LD := -pie -Wl,-z,relro,-z,now,-z,noexecstack

# --- libraries ----------------------------------------------------------
# need_pc: pkg-config module $1 from Debian package $2.  Expanded inside
# recipes only, so `make test` can install packages before it is checked.
need_pc = $(if $(shell $(PKG_CONFIG) --exists $1 && echo y),,$(error \
	library $1 not found: install the Debian package $2 (scripts/deps does))) \
	$(shell $(PKG_CONFIG) --cflags $1)
need_hdr = $(if $(wildcard $1),,$(error header $1 not found: install the \
	Debian package $2 (scripts/deps does)))
libs_pc = $(shell $(PKG_CONFIG) --libs $1)

# NNG and SoftHSM2 ship no pkg-config file.
NNG_CHECK = $(call need_hdr,/usr/include/nng/nng.h,libnng-dev)
DEP_CFLAGS = $(call need_pc,p11-kit-1,libp11-kit-dev) \
	$(call need_pc,libcrypto,libssl-dev) \
	$(call need_pc,libsecp256k1,libsecp256k1-dev) \
	$(call need_pc,nettle,nettle-dev) \
	$(call need_pc,jansson,libjansson-dev) \
	$(call need_pc,libseccomp,libseccomp-dev) \
	$(call need_pc,inih,libinih-dev) $(NNG_CHECK)
ORCH_CFLAGS = $(call need_pc,libpq,libpq-dev) \
	$(call need_pc,libmicrohttpd,libmicrohttpd-dev) \
	$(call need_pc,libcurl,libcurl4-openssl-dev)
TEST_CFLAGS = $(call need_pc,cmocka,libcmocka-dev)

LIBS_COMMON :=
LIBS_PROTO :=
LIBS_EVM = $(call libs_pc,libsecp256k1 nettle)
LIBS_HSM = $(call libs_pc,p11-kit-1 libcrypto) -ldl -lpthread
LIBS_JSON = $(call libs_pc,jansson)
LIBS_CMOCKA = $(call libs_pc,cmocka)
LIBS_CRYPTO = $(call libs_pc,libcrypto)
LIBS_NNG := -lnng -lpthread
LIBS_SECCOMP = $(call libs_pc,libseccomp)
LIBS_INIH = $(call libs_pc,inih)
LIBS_ORCH = $(call libs_pc,libpq libmicrohttpd libcurl)

CPPFLAGS += -I. -D_GNU_SOURCE
CFLAGS_ALL = -std=c11 -g $(OPT) $(WARN) $(HARDEN) $(DEP_CFLAGS) $(CFLAGS)
# orchestratord's sources (and only they) see libpq, microhttpd and curl.
$(BUILD)/obj/orchestratord/%.o $(BUILD)/tests/orchestratord/%: \
	CFLAGS_ALL += $(ORCH_CFLAGS)
LDFLAGS_ALL = $(OPT) $(HARDEN_LD) $(LDFLAGS)

# --- layers -------------------------------------------------------------
LAYERS := common proto evm hsm policy journal sandbox signerd orchestratord
# A program folder's archive holds everything but its main.c, so tests can
# link the program's pieces.
src_of = $(filter-out $1/main.c,$(wildcard $1/*.c))
obj_of = $(patsubst %.c,$(BUILD)/obj/%.o,$(call src_of,$1))
lib_of = $(BUILD)/lib$1.a

.SECONDEXPANSION:
.SECONDARY:

$(BUILD)/lib%.a: $$(call obj_of,$$*)
	@rm -f $@
	$(AR) rcs $@ $^

# orchestratord's SQL migrations are compiled in (orchestratord migrate),
# so the binary and its schema cannot drift apart.
ORCH_SQL := $(sort $(wildcard orchestratord/migrations/*.sql))
$(BUILD)/gen/migrations.c: $(ORCH_SQL) scripts/embed_sql.sh
	@mkdir -p $(dir $@)
	scripts/embed_sql.sh $(ORCH_SQL) >$@.tmp && mv $@.tmp $@
$(BUILD)/obj/gen/migrations.o: $(BUILD)/gen/migrations.c
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(CFLAGS_ALL) -c -o $@ $<
$(BUILD)/liborchestratord.a: $(BUILD)/obj/gen/migrations.o

$(BUILD)/obj/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(CFLAGS_ALL) -MMD -MP -c -o $@ $<

# --- programs -----------------------------------------------------------
# signerctl: the security team's tool; talks to the HSM and to signerd.
# It runs signerd's own verifier (signerd/replay.c) for `audit verify`.
SIGNERCTL_LAYERS := signerctl signerd journal policy hsm evm proto common
$(BUILD)/signerctl: $(BUILD)/obj/signerctl/main.o $$(foreach l,$$(SIGNERCTL_LAYERS),$$(call lib_of,$$l))
	$(CC) $(LDFLAGS_ALL) -o $@ $^ $(LIBS_HSM) $(LIBS_EVM) $(LIBS_JSON) \
		$(LIBS_CRYPTO) $(LIBS_NNG)

# signerd: the trust anchor.  No libpq, no HTTP, no JSON-RPC client.
SIGNERD_LAYERS := signerd sandbox journal policy hsm evm proto common
$(BUILD)/signerd: $(BUILD)/obj/signerd/main.o $$(foreach l,$$(SIGNERD_LAYERS),$$(call lib_of,$$l))
	$(CC) $(LDFLAGS_ALL) -o $@ $^ $(LIBS_HSM) $(LIBS_EVM) $(LIBS_JSON) \
		$(LIBS_CRYPTO) $(LIBS_NNG) $(LIBS_SECCOMP) $(LIBS_INIH)

# orchestratord: the payout state machine.  No hsm/, no journal/: it
# holds no keys and reaches signerd only through its socket (sandbox/ for
# the privilege drop).
ORCH_LAYERS := orchestratord sandbox policy evm proto common
$(BUILD)/orchestratord: $(BUILD)/obj/orchestratord/main.o $$(foreach l,$$(ORCH_LAYERS),$$(call lib_of,$$l))
	$(CC) $(LDFLAGS_ALL) -o $@ $^ $(LIBS_ORCH) $(LIBS_EVM) $(LIBS_JSON) \
		$(LIBS_CRYPTO) $(LIBS_NNG) $(LIBS_INIH) $(LIBS_SECCOMP)

PROGRAMS = $(BUILD)/signerctl $(BUILD)/signerd \
	$(if $(wildcard orchestratord/main.c),$(BUILD)/orchestratord)

# Test-only tools (not installed): sign a transaction straight through the
# HSM, bypassing signerd, to prove interop with an EVM node; write large
# journals with signerd's own record functions (jnlfill); drive signerd.
TOOL_LAYERS := signerd sandbox journal policy hsm evm proto common
$(BUILD)/tools/%: tests/tools/%.c $(foreach l,$(TOOL_LAYERS),$(call lib_of,$l))
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(CFLAGS_ALL) $(LDFLAGS_ALL) -o $@ $^ \
		$(LIBS_HSM) $(LIBS_EVM) $(LIBS_JSON) $(LIBS_CRYPTO) $(LIBS_NNG) \
		$(LIBS_SECCOMP) $(LIBS_INIH)
# slowsync: an LD_PRELOAD shim that slows fdatasync (tests and bench only),
# so a shared object of its own; no sanitizer, since it is preloaded into
# sanitized programs too and ASan's runtime must come first in them.
SHIM_SRCS := tests/tools/slowsync.c
$(BUILD)/tools/slowsync.so: tests/tools/slowsync.c
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) -std=c11 -g -O2 $(WARN) -fPIC -shared -o $@ $< -ldl
TOOLS = $(patsubst tests/tools/%.c,$(BUILD)/tools/%,$(filter-out \
	$(SHIM_SRCS),$(wildcard tests/tools/*.c))) $(BUILD)/tools/slowsync.so

# --- unit tests ---------------------------------------------------------
# tests/<layer>/test_<file>.c links the layer and everything below it.
TEST_DEPS_common := common
TEST_DEPS_proto := proto common
TEST_DEPS_evm := evm proto common
TEST_DEPS_hsm := hsm evm proto common
TEST_DEPS_policy := policy evm proto common
TEST_DEPS_journal := journal proto common
TEST_DEPS_sandbox := sandbox hsm evm proto common
TEST_DEPS_signerd := signerd sandbox journal policy hsm evm proto common
TEST_DEPS_signerctl := signerctl signerd journal policy hsm evm proto common
TEST_DEPS_orchestratord := orchestratord sandbox policy evm proto common
TEST_SRCS := $(foreach l,$(LAYERS) signerctl,$(wildcard tests/$l/test_*.c))
TEST_BINS := $(patsubst %.c,$(BUILD)/%,$(TEST_SRCS))
layer_of_test = $(word 2,$(subst /, ,$1))

$(BUILD)/tests/%: tests/%.c $$(foreach l,$$(TEST_DEPS_$$(call layer_of_test,tests/$$*)),$$(call lib_of,$$l))
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(CFLAGS_ALL) $(TEST_CFLAGS) $(LDFLAGS_ALL) -o $@ $^ \
		$(LIBS_HSM) $(LIBS_EVM) $(LIBS_JSON) $(LIBS_CRYPTO) $(LIBS_NNG) \
		$(LIBS_SECCOMP) $(LIBS_INIH) $(LIBS_CMOCKA) \
		$(if $(filter orchestratord/%,$*),$(LIBS_ORCH))

# --- top-level targets --------------------------------------------------
.PHONY: all deps check test demo bench fuzz clean
all: $(PROGRAMS) $(TOOLS) $(TEST_BINS)

deps:
	scripts/deps

# check: run every suite against an already built tree.
check: all
	tests/run.sh $(BUILD)

# The fuzz harnesses are built and run briefly too, so a decoder change
# that breaks one cannot land unnoticed; `make fuzz` runs them longer.
test: deps
	$(MAKE) all
	$(MAKE) SANITIZE=address,undefined all
	$(MAKE) fuzz FUZZ_SECONDS=2
	tests/run.sh build build-san

demo: deps
	$(MAKE) all
	scripts/demo.sh

bench: deps
	$(MAKE) all
	scripts/bench.sh

# --- fuzzing ------------------------------------------------------------
# Each fuzz/fuzz_<name>.c is linked against the pure layers, built with
# clang's libFuzzer and ASan+UBSan, and run for FUZZ_SECONDS.
FUZZ_SRCS := $(wildcard fuzz/fuzz_*.c)
FUZZ_BINS := $(patsubst fuzz/%.c,build-fuzz/%,$(FUZZ_SRCS))
FUZZ_LIB_SRCS = $(foreach l,common proto evm policy journal,$(call src_of,$l))
build-fuzz/%: fuzz/%.c $$(FUZZ_LIB_SRCS)
	@mkdir -p $(dir $@)
	$(FUZZ_CC) -std=c11 -g -O1 -I. -D_GNU_SOURCE $(WARN) $(DEP_CFLAGS) \
		-fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all \
		-o $@ $^ $(LIBS_EVM) \
		$(LIBS_JSON) $(LIBS_CRYPTO) $(LIBS_NNG) $(LIBS_INIH)

# The approval harness runs policy/'s approval checker (OpenSSL, no I/O).
build-fuzz/fuzz_api: orchestratord/validate.c orchestratord/approval_check.c
build-fuzz/fuzz_rpc: orchestratord/rpc_parse.c
# The snapshot state blob (signerd/state.c and the parts it composes).
build-fuzz/fuzz_state: signerd/state.c signerd/nonces.c signerd/timelock.c \
	signerd/pause.c signerd/seen.c signerd/versions.c signerd/table.c \
	signerd/sha256.c

fuzz: $(FUZZ_BINS)
	@set -e; for f in $(FUZZ_BINS); do \
		n=$$(basename $$f); mkdir -p build-fuzz/corpus/$$n; \
		echo "fuzz: $$n for $(FUZZ_SECONDS)s"; \
		$$f -max_total_time=$(FUZZ_SECONDS) -max_len=4096 \
			-artifact_prefix=build-fuzz/$$n- \
			build-fuzz/corpus/$$n $$(ls -d fuzz/corpus/$$n 2>/dev/null) \
			2>build-fuzz/$$n.log \
			|| { tail -40 build-fuzz/$$n.log; exit 1; }; \
		grep -E '^#[0-9]+.*DONE' build-fuzz/$$n.log || true; \
	done

# fuzz-long: every harness for FUZZ_LONG_RUNS executions or
# FUZZ_LONG_SECONDS, whichever comes first, FUZZ_JOBS at a time (each is
# one single-threaded process: 2 fills a 2-core machine); then only the
# inputs that add coverage are merged into fuzz/corpus (D67).  Per harness
# figures go to build-fuzz/fuzz-long.tsv.  About 40 minutes on 2 cores.
FUZZ_LONG_RUNS ?= 10000000
FUZZ_LONG_SECONDS ?= 1200
FUZZ_JOBS ?= 2
.PHONY: fuzz-long
fuzz-long: $(FUZZ_BINS)
	fuzz/long.sh $(FUZZ_JOBS) $(FUZZ_LONG_RUNS) $(FUZZ_LONG_SECONDS) \
		$(FUZZ_BINS)

clean:
	rm -rf build build-san build-fuzz build-deb

-include $(shell find $(BUILD) -name '*.d' 2>/dev/null)

# --- install and the Debian package -------------------------------------
# make install [PREFIX=/usr/local] [DESTDIR=] [SYSCONFDIR=$(PREFIX)/etc]
# installs the programs (never the tests), the man pages, the systemd
# units, the sysusers.d and tmpfiles.d entries and example configs from
# dist/.  A config already in SYSCONFDIR is the operator's and is never
# replaced: the new one goes beside it as NAME.example.  State stays in
# /var/lib/signerd and /run/signerd whatever the prefix, where tmpfiles.d
# and RuntimeDirectory= put it.  Without DESTDIR and as root, install also
# creates the users and directories (systemd-sysusers, systemd-tmpfiles)
# and gives the configs to their groups; with DESTDIR (a package) the
# package's maintainer scripts do that.
PREFIX ?= /usr/local
EXEC_PREFIX ?= $(PREFIX)
BINDIR ?= $(EXEC_PREFIX)/bin
SBINDIR ?= $(EXEC_PREFIX)/sbin
DATAROOTDIR ?= $(PREFIX)/share
MANDIR ?= $(DATAROOTDIR)/man
SYSCONFDIR ?= $(PREFIX)/etc
SYSTEMDUNITDIR ?= $(PREFIX)/lib/systemd/system
SYSUSERSDIR ?= $(PREFIX)/lib/sysusers.d
TMPFILESDIR ?= $(PREFIX)/lib/tmpfiles.d
INSTALL ?= install

MANPAGES = $(wildcard man/*.1 man/*.5 man/*.8)
DIST_SUBST = sed -e 's|@SBINDIR@|$(SBINDIR)|g' -e 's|@SYSCONFDIR@|$(SYSCONFDIR)|g'
# A real install on this machine (not into a DESTDIR), as root.
REAL_INSTALL = $(if $(DESTDIR),,$(shell [ "$$(id -u)" = 0 ] && echo y))
# Each config: daemon, file, and "example" for one installed only as
# NAME.example (the genesis policy is the security team's to write).  A
# real install gives them to the daemon's group: signerd's is signer,
# orchestratord's orchestrator (the name without its "d").
DIST_CONFS = signerd:signerd.conf signerd:softhsm2.conf \
	signerd:policy.json:example orchestratord:orchestratord.conf

.PHONY: programs install uninstall deb package
programs: $(PROGRAMS)

install: $(PROGRAMS)
	$(INSTALL) -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(SBINDIR) \
		$(DESTDIR)$(SYSTEMDUNITDIR) $(DESTDIR)$(SYSUSERSDIR) \
		$(DESTDIR)$(TMPFILESDIR) $(BUILD)/dist
	$(INSTALL) -m 0755 $(BUILD)/signerctl $(DESTDIR)$(BINDIR)/signerctl
	$(INSTALL) -m 0755 $(BUILD)/signerd $(DESTDIR)$(SBINDIR)/signerd
	$(INSTALL) -m 0755 $(BUILD)/orchestratord $(DESTDIR)$(SBINDIR)/orchestratord
	@set -e; for m in $(MANPAGES); do \
		d=$(DESTDIR)$(MANDIR)/man$${m##*.}; $(INSTALL) -d $$d; \
		echo "$(INSTALL) -m 0644 $$m $$d/"; $(INSTALL) -m 0644 $$m $$d/; \
	done
	@set -e; for f in signerd.service orchestratord.service \
	    signerd.tmpfiles; do \
		$(DIST_SUBST) dist/$$f >$(BUILD)/dist/$$f; done
	$(INSTALL) -m 0644 $(BUILD)/dist/signerd.service \
		$(BUILD)/dist/orchestratord.service $(DESTDIR)$(SYSTEMDUNITDIR)/
	$(INSTALL) -m 0644 dist/signerd.sysusers $(DESTDIR)$(SYSUSERSDIR)/signerd.conf
	$(INSTALL) -m 0644 dist/orchestratord.sysusers \
		$(DESTDIR)$(SYSUSERSDIR)/orchestratord.conf
	$(INSTALL) -m 0644 $(BUILD)/dist/signerd.tmpfiles $(DESTDIR)$(TMPFILESDIR)/signerd.conf
	@if [ -n "$(REAL_INSTALL)" ]; then set -ex; \
		systemd-sysusers $(SYSUSERSDIR)/signerd.conf \
			$(SYSUSERSDIR)/orchestratord.conf; \
		systemd-tmpfiles --create $(TMPFILESDIR)/signerd.conf; \
	fi
	@set -e; for c in $(DIST_CONFS); do \
		IFS=: read -r daemon f only <<<"$$c"; \
		dir=$(DESTDIR)$(SYSCONFDIR)/$$daemon; \
		grp=; [ -z "$(REAL_INSTALL)" ] || grp="-g $${daemon%d}"; \
		$(INSTALL) -d -m 0750 $$grp $$dir; \
		$(DIST_SUBST) dist/$$f >$(BUILD)/dist/$$f; \
		$(INSTALL) -m 0640 $$grp $(BUILD)/dist/$$f $$dir/$$f.example; \
		if [ -n "$$only" ]; then \
			echo "install: $$dir/$$f.example (write $$f from it)"; \
		elif [ -e $$dir/$$f ]; then \
			echo "install: $$dir/$$f exists, kept; the new one is $$f.example"; \
		else \
			echo "install: $$dir/$$f"; \
			$(INSTALL) -m 0640 $$grp $(BUILD)/dist/$$f $$dir/$$f; \
		fi; \
	done
	@if [ -n "$(REAL_INSTALL)" ] && [ -d /run/systemd/system ]; then \
		systemctl daemon-reload; fi

uninstall:
	rm -f $(DESTDIR)$(BINDIR)/signerctl $(DESTDIR)$(SBINDIR)/signerd \
		$(DESTDIR)$(SBINDIR)/orchestratord \
		$(DESTDIR)$(SYSTEMDUNITDIR)/signerd.service \
		$(DESTDIR)$(SYSTEMDUNITDIR)/orchestratord.service \
		$(DESTDIR)$(SYSUSERSDIR)/signerd.conf \
		$(DESTDIR)$(SYSUSERSDIR)/orchestratord.conf \
		$(DESTDIR)$(TMPFILESDIR)/signerd.conf \
		$(DESTDIR)$(SYSCONFDIR)/signerd/*.example \
		$(DESTDIR)$(SYSCONFDIR)/orchestratord/*.example \
		$(foreach m,$(MANPAGES),$(DESTDIR)$(MANDIR)/man$(subst .,,$(suffix $m))/$(notdir $m))
	@echo "uninstall: kept the configs in $(SYSCONFDIR)/signerd and" \
		"$(SYSCONFDIR)/orchestratord, /var/lib/signerd (journal and" \
		"token) and the users"

# make deb: the Debian packages signerd and orchestratord (debian/), built
# by dpkg-buildpackage from a copy of the sources in $(DEB_DIR)/src, so the
# tree stays clean; the objects stay in $(DEB_DIR)/obj between builds and
# the .deb files land in $(DEB_DIR)/.  Programs only: no tests, sanitizers
# or npm.
DEB_DIR ?= build-deb
DEB_SRCS = Makefile README.md common proto evm hsm policy journal sandbox \
	signerd signerctl orchestratord scripts/embed_sql.sh man dist debian docs
deb: deps
	$(MAKE) package

package:
	rm -rf $(DEB_DIR)/src $(DEB_DIR)/*.deb $(DEB_DIR)/*.changes \
		$(DEB_DIR)/*.buildinfo
	mkdir -p $(DEB_DIR)/src
	tar -cf - $(wildcard $(DEB_SRCS)) | tar -C $(DEB_DIR)/src -xf -
	cd $(DEB_DIR)/src && SIGNER_DEB_OBJ=$(abspath $(DEB_DIR))/obj \
		dpkg-buildpackage -us -uc -b -j2
	@ls -1 $(DEB_DIR)/*.deb
