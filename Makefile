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
CFLAGS_BASE = -std=c17 -D_GNU_SOURCE -g $(OPT) $(WARN) -Isrc -I/usr/include/postgresql -I/usr/include/libxml2 -fstack-protector-strong
ifeq ($(SANITIZE),1)
CFLAGS_BASE += -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer
LDFLAGS     += -fsanitize=address,undefined
else
CFLAGS_BASE += -D_FORTIFY_SOURCE=2
endif
LDLIBS += -lpcap -lssl -lcrypto -lsqlite3 -lpq -ljson-c -lxml2 -lmaxminddb -lpthread

LIB_SRC  := $(sort $(wildcard src/lib/*.c src/scan/*.c src/probe/*.c src/detect/*.c src/query/*.c src/store/*.c))
LIB_OBJ  := $(LIB_SRC:%.c=$(BUILD)/obj/%.o) $(BUILD)/obj/gen/data.o
UNIT_SRC := $(sort $(wildcard tests/unit/*.c))
UNIT_OBJ := $(UNIT_SRC:%.c=$(BUILD)/obj/%.o)

.DEFAULT_GOAL := all
.PHONY: all test asan fuzz clean

# data/*.tsv tables are compiled in as C strings (gen/data.c), so the binary
# is self-contained while the tables stay data files.
DATA_FILES := $(sort $(wildcard data/*.tsv))
$(BUILD)/gen/data.c: $(DATA_FILES) Makefile
	@mkdir -p $(dir $@)
	@{ echo '/* generated from data/*.tsv by the Makefile: do not edit */'; \
	  for f in $(DATA_FILES); do n=$$(basename $$f .tsv | tr -c 'a-z0-9\n' '_'); \
	    echo "extern const char data_$$n[];"; echo "const char data_$$n[] ="; \
	    sed 's/\\/\\\\/g; s/"/\\"/g; s/^/"/; s/$$/\\n"/' $$f; echo ';'; done; } > $@

$(BUILD)/obj/gen/data.o: $(BUILD)/gen/data.c
	@mkdir -p $(dir $@)
	$(CC) -std=c17 -c $< -o $@
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
fuzz: build/gen/data.c
	@mkdir -p build-fuzz
	for f in $(FUZZ_SRC); do n=$$(basename $$f .c); \
	  clang -std=c17 -D_GNU_SOURCE -g -O1 -Isrc -I/usr/include/postgresql -I/usr/include/libxml2 -fsanitize=fuzzer,address,undefined \
	    -o build-fuzz/$$n $$f $(LIB_SRC) build/gen/data.c $(LDLIBS) || exit 1; done

clean:
	rm -rf build build-asan build-fuzz

-include $(shell find $(BUILD)/obj -name '*.d' 2>/dev/null)
