# libcnn and the cnn-* programs.
#
#   make            build the library and the programs into build/
#   make check      install missing dependencies, build, run every test
#   make check SANITIZE=1   the same under AddressSanitizer + UBSan (build-san/)
#   make demo       train LeNet-5 on Fashion-MNIST (Debian's dataset), and
#                   edge-detect a real photo from Debian's python3-skimage
#   make bench      speed against PyTorch (not part of check)
#   make fuzz       every reader under libFuzzer for FUZZ_SECONDS (300) each
#   make pretrained fetch the pretrained networks (npm pack) that the import
#                   tests check against TensorFlow.js; without them they skip
#   make install PREFIX=/usr/local DESTDIR=

PREFIX ?= /usr/local
DESTDIR ?=
CC ?= cc

VERSION := $(shell sed -n 's/^\#define CNN_VERSION "\(.*\)"/\1/p' lib/cnn.h)
SOVERSION := 0

PKGS := libpng libzstd zlib
CFLAGS ?= -O2 -g
CPPFLAGS += -Ilib $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
XCFLAGS := -std=gnu11 -Wall -Wextra -fPIC -pthread -D_FILE_OFFSET_BITS=64
LDLIBS += $(shell pkg-config --libs $(PKGS) 2>/dev/null || echo -lpng -lzstd -lz) -ljpeg -lm
LDFLAGS += -pthread

ifeq ($(SANITIZE),1)
B := build-san
# float-cast-overflow is not part of gcc's "undefined": a float cast to an
# integer it does not fit (a header's 1e19) must fail the tests too.
XCFLAGS += -fsanitize=address,undefined,float-cast-overflow -fno-omit-frame-pointer \
	-fno-sanitize-recover=undefined,float-cast-overflow
LDFLAGS += -fsanitize=address,undefined,float-cast-overflow
else
B := build
endif

# Every lib/LAYER/*.c is part of libcnn (lib/README: the layers and their
# rule).  Every lib/simd/NAME.c is compiled once per instruction set below,
# with CNN_ISA_<isa> defined, and the library picks the best one the
# processor has at run time.
LIB_LAYERS := core ops io nn vision
LIB_SRC := $(foreach d,$(LIB_LAYERS),$(wildcard lib/$(d)/*.c))
LIB_H := lib/cnn.h $(wildcard lib/*/*.h)
SIMD_SRC := $(wildcard lib/simd/*.c)
ISAS := avx512 avx2 generic
ISAFLAGS_avx512 := -mavx512f -mavx512dq -mavx512bw -mavx512vl -mavx2 -mfma -DCNN_ISA_avx512
ISAFLAGS_avx2 := -mavx2 -mfma -DCNN_ISA_avx2
ISAFLAGS_generic := -DCNN_ISA_generic

LIB_OBJ := $(LIB_SRC:lib/%.c=$(B)/lib/%.o) \
	$(foreach isa,$(ISAS),$(SIMD_SRC:lib/simd/%.c=$(B)/lib/simd/%-$(isa).o))
PROGS := $(patsubst bin/%.c,%,$(wildcard bin/cnn-*.c))
TOOL_OBJ := $(patsubst bin/%.c,$(B)/bin/%.o,$(filter-out bin/cnn-%.c,$(wildcard bin/*.c)))
UNIT := $(patsubst tests/unit/%.c,$(B)/tests/%,$(wildcard tests/unit/test_*.c))
TESTLIB_OBJ := $(patsubst tests/unit/%.c,$(B)/tests/%.o,$(filter-out tests/unit/test_%.c,$(wildcard tests/unit/*.c)))

all: $(B)/libcnn.a $(B)/libcnn.so $(PROGS:%=$(B)/%) $(B)/libcnn.pc

$(B)/lib/%.o: lib/%.c $(LIB_H)
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS) $(XCFLAGS) $(CFLAGS) -c -o $@ $<

define simd_rule
$(B)/lib/simd/%-$(1).o: lib/simd/%.c $(LIB_H) | $(B)/lib/simd
	$$(CC) $$(CPPFLAGS) $$(XCFLAGS) $$(CFLAGS) $$(ISAFLAGS_$(1)) -c -o $$@ $$<
endef
$(foreach isa,$(ISAS),$(eval $(call simd_rule,$(isa))))

# Augmentation and composition give the same numbers on every machine for
# a seed: no multiply-adds fused on the instruction sets that have them and
# not on the others.  The resizes of imported networks' inputs (nn/fit.c) compute
# in double as TensorFlow does, and TF.js weights dequantise as JavaScript
# does: q * scale + min, a double multiply and then a double add.
EXACT_OBJ := $(patsubst %,$(B)/lib/%.o,vision/augment vision/augment_colour \
	vision/augment_geometry io/image vision/imagestats nn/fit io/tfjs \
	vision/compose) \
	$(foreach isa,$(ISAS),$(B)/lib/simd/pixels-$(isa).o)
$(EXACT_OBJ): XCFLAGS += -ffp-contract=off

$(B)/libcnn.a: $(LIB_OBJ)
	rm -f $@ && ar rcs $@ $^

$(B)/libcnn.so: $(LIB_OBJ)
	$(CC) -shared -Wl,-soname,libcnn.so.$(SOVERSION) $(LDFLAGS) -o $@ $^ $(LDLIBS)

$(B)/bin/%.o: bin/%.c bin/*.h lib/cnn.h | $(B)/bin
	$(CC) $(CPPFLAGS) -Ibin $(XCFLAGS) $(CFLAGS) -c -o $@ $<

# Programs link libcnn statically so that they run from the build tree.
$(B)/cnn-%: $(B)/bin/cnn-%.o $(TOOL_OBJ) $(B)/libcnn.a
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

$(B)/tests/%.o: tests/unit/%.c tests/unit/*.h $(LIB_H) | $(B)/tests
	$(CC) $(CPPFLAGS) -Itests/unit $(XCFLAGS) $(CFLAGS) -c -o $@ $<

$(B)/tests/test_%: $(B)/tests/test_%.o $(TESTLIB_OBJ) $(B)/libcnn.a
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

# An LD_PRELOAD library that fails allocations on request, for the fault
# tests (tests/bats/safety.bats); plain, as the sanitizers bring their own
# allocator.
FAULTS := $(B)/tests/failmalloc.so
$(FAULTS): tests/faults/failmalloc.c | $(B)/tests
	$(CC) -O2 -shared -fPIC -o $@ $<

# cnn-train itself with the tests' own losses (tests/unit/testloss.c), for
# the BATS tests of truths that no shipped layer reads yet.
TESTLOSS_TRAIN := $(B)/tests/cnn-train-testloss
$(TESTLOSS_TRAIN): $(B)/bin/cnn-train.o $(TOOL_OBJ) $(B)/tests/testloss.o $(B)/libcnn.a
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

$(B)/libcnn.pc: libcnn.pc.in lib/cnn.h | $(B)
	sed -e 's|@PREFIX@|$(PREFIX)|' -e 's|@VERSION@|$(VERSION)|' libcnn.pc.in > $@

$(B) $(B)/lib/simd $(B)/bin $(B)/tests:
	mkdir -p $@

deps:
	@scripts/deps build

check: deps
	@scripts/deps check
	$(MAKE) all $(UNIT) $(FAULTS) $(TESTLOSS_TRAIN)
	@scripts/run-tests $(B)

demo: deps
	@scripts/deps demo
	$(MAKE) all
	$(MAKE) -C examples/edges BUILD=$(abspath $(B))
	$(MAKE) -C examples/fashion-mnist BUILD=$(abspath $(B))

pretrained:
	@scripts/deps pretrained
	$(MAKE) -C examples/pretrained weights nsfwjs

bench: deps
	@scripts/deps bench
	$(MAKE) all
	@bench/run $(abspath $(B))

install: all
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/lib/pkgconfig \
		$(DESTDIR)$(PREFIX)/include $(DESTDIR)$(PREFIX)/share/man/man1 \
		$(DESTDIR)$(PREFIX)/share/man/man5 $(DESTDIR)$(PREFIX)/share/man/man7
	install -m 755 $(PROGS:%=$(B)/%) $(DESTDIR)$(PREFIX)/bin
	install -m 644 lib/cnn.h $(DESTDIR)$(PREFIX)/include
	install -m 644 $(B)/libcnn.a $(DESTDIR)$(PREFIX)/lib
	install -m 755 $(B)/libcnn.so $(DESTDIR)$(PREFIX)/lib/libcnn.so.$(VERSION)
	ln -sf libcnn.so.$(VERSION) $(DESTDIR)$(PREFIX)/lib/libcnn.so.$(SOVERSION)
	ln -sf libcnn.so.$(SOVERSION) $(DESTDIR)$(PREFIX)/lib/libcnn.so
	install -m 644 $(B)/libcnn.pc $(DESTDIR)$(PREFIX)/lib/pkgconfig
	install -m 644 man/man1/*.1 $(DESTDIR)$(PREFIX)/share/man/man1
	install -m 644 man/man5/*.5 $(DESTDIR)$(PREFIX)/share/man/man5
	install -m 644 man/man7/*.7 $(DESTDIR)$(PREFIX)/share/man/man7

# Fuzzing.  Every tests/fuzz/NAME.c is a libFuzzer harness of one reader.
# make fuzz builds them with clang into build-fuzz/ (libcnn compiled again,
# instrumented) and runs each for FUZZ_SECONDS on its corpus; a finding
# fails and leaves its input in build-fuzz/.  The same harnesses, built by
# $(CC) with tests/fuzz/replay.c, replay the corpus and the reproducers of
# fixed findings as unit tests of make check.
FUZZ_NAMES := stream cfg png jpeg array weights model boxtext boxjson text augment tfjs tfjsmap
FUZZ_SECONDS ?= 300
FUZZ_CC ?= clang
FUZZ_SAN := -fsanitize=address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer
FUZZ_REPLAY := $(FUZZ_NAMES:%=$(B)/tests/test_fuzz_%)
FUZZ_PROGS := $(FUZZ_NAMES:%=$(B)/fuzz-%)
UNIT += $(FUZZ_REPLAY)

$(B)/tests/fuzz/%.o: tests/fuzz/%.c tests/fuzz/*.h $(LIB_H) | $(B)/tests/fuzz
	$(CC) $(CPPFLAGS) -Itests/unit $(XCFLAGS) $(CFLAGS) -c -o $@ $<

$(FUZZ_REPLAY): $(B)/tests/test_fuzz_%: $(B)/tests/fuzz/%.o $(B)/tests/fuzz/replay.o \
		$(B)/tests/fuzz/fuzz.o $(B)/libcnn.a
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

$(FUZZ_PROGS): $(B)/fuzz-%: $(B)/tests/fuzz/%.o $(B)/tests/fuzz/fuzz.o $(B)/libcnn.a
	$(CC) $(LDFLAGS) -fsanitize=fuzzer -o $@ $^ $(LDLIBS)

$(B)/tests/fuzz:
	mkdir -p $@

fuzz-programs: $(FUZZ_PROGS)

# The seeds, rewritten from libcnn's own writers (commit the result).
$(B)/tests/fuzz/make-corpus: $(B)/tests/fuzz/make-corpus.o $(B)/libcnn.a
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

fuzz-corpus: $(B)/tests/fuzz/make-corpus
	$< tests/fuzz/corpus

fuzz: deps
	@scripts/deps fuzz
	$(MAKE) B=build-fuzz CC=$(FUZZ_CC) CFLAGS="-O1 -g" \
		XCFLAGS="$(XCFLAGS) -fsanitize=fuzzer-no-link $(FUZZ_SAN)" \
		LDFLAGS="$(LDFLAGS) $(FUZZ_SAN)" fuzz-programs
	@tests/fuzz/run build-fuzz $(FUZZ_SECONDS) $(FUZZ_NAMES)

.PHONY: fuzz fuzz-programs fuzz-corpus

clean:
	rm -rf build build-san build-fuzz

.PHONY: all deps check demo bench pretrained install clean
