# vigil build: `make` builds build/vigil; `make test` runs the suite;
# `make asan` builds with AddressSanitizer+UBSan into build-asan/ and runs the
# whole suite against it; `make fuzz` builds libFuzzer targets (clang).
CC       ?= cc
BUILD    ?= build
SANITIZE ?= 0
OPT      ?= -O2

WARN   = -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes -Wmissing-prototypes \
         -Wformat=2 -Wundef -Wwrite-strings -Wpointer-arith -Wvla \
         -Wimplicit-fallthrough -Wcast-qual
CFLAGS_BASE = -std=c17 -D_GNU_SOURCE -g $(OPT) $(WARN) -Isrc -fstack-protector-strong
ifeq ($(SANITIZE),1)
CFLAGS_BASE += -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer
LDFLAGS     += -fsanitize=address,undefined
else
CFLAGS_BASE += -D_FORTIFY_SOURCE=2
endif
LDLIBS += -lpcap -lssl -lcrypto -lpthread

LIB_SRC  := $(sort $(wildcard src/lib/*.c src/scan/*.c src/probe/*.c src/detect/*.c))
LIB_OBJ  := $(LIB_SRC:%.c=$(BUILD)/obj/%.o)
UNIT_SRC := $(sort $(wildcard tests/unit/*.c))
UNIT_OBJ := $(UNIT_SRC:%.c=$(BUILD)/obj/%.o)

.PHONY: all test asan fuzz clean
all: $(BUILD)/vigil $(BUILD)/test_unit

$(BUILD)/obj/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_BASE) $(CFLAGS) -MMD -MP -c $< -o $@

$(BUILD)/vigil: $(BUILD)/obj/src/main.o $(LIB_OBJ)
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

$(BUILD)/test_unit: $(UNIT_OBJ) $(LIB_OBJ)
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

test: all
	VIGIL=$(BUILD)/vigil UNIT=$(BUILD)/test_unit bash tests/run.sh

asan:
	$(MAKE) BUILD=build-asan SANITIZE=1 OPT=-O1 test

FUZZ_SRC := $(sort $(wildcard fuzz/fuzz_*.c))
fuzz:
	@mkdir -p build-fuzz
	for f in $(FUZZ_SRC); do n=$$(basename $$f .c); \
	  clang -std=c17 -D_GNU_SOURCE -g -O1 -Isrc -fsanitize=fuzzer,address,undefined \
	    -o build-fuzz/$$n $$f $(LIB_SRC) $(LDLIBS) || exit 1; done

clean:
	rm -rf build build-asan build-fuzz

-include $(shell find $(BUILD)/obj -name '*.d' 2>/dev/null)
