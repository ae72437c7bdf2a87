SHELL := /bin/bash
# Bhyve.Aot: `make run` builds everything and boots the default guest; `make test` passes every test.
# Everything a fresh Debian machine with the .NET SDK lacks is installed here (apt-get, as root).

DOTNET     ?= dotnet
OUT        := out
BIN        := $(OUT)/bhyve-aot
GUESTS     := native/guest/build
RUN_ARGS   ?= --kernel $(GUESTS)/hello.elf --memory 64M --cpus 1 --cmdline "exit=0 console=com1 hello=world"
APT_GET    := DEBIAN_FRONTEND=noninteractive apt-get -y -q -o=Dpkg::Use-Pty=0

BENCH_DISK ?= 2G
BENCH_ARGS ?=

.PHONY: all deps deps-test guests build publish run test test-linux-long bench bench-storage bench-micro bench-linux-boot linux-image clean

all: publish guests

# Build tools: gcc/make for the guests, clang+lld for the NativeAOT link.
deps:
	@command -v gcc >/dev/null && command -v clang >/dev/null && command -v ld.lld >/dev/null || \
	  { $(APT_GET) update >/dev/null && $(APT_GET) install --no-install-recommends gcc make clang lld >/dev/null; }

# Test tools: QEMU runs the same guests as the reference VMM; fio is the storage suite's host baseline;
# iasl (acpica-tools) checks our ACPI tables; lz4 unpacks the Debian kernel's payload; ping (iputils-ping) drives
# the Solo5 network conformance tests.
deps-test: deps
	@command -v qemu-system-x86_64 >/dev/null && command -v fio >/dev/null && command -v iasl >/dev/null && command -v lz4 >/dev/null && command -v ping >/dev/null && command -v curl >/dev/null || \
	  { $(APT_GET) update >/dev/null && $(APT_GET) install --no-install-recommends qemu-system-x86 fio acpica-tools lz4 iputils-ping curl >/dev/null; }

# Debian's cloud kernel (bzImage, the vmlinux inside it, virtio modules) and a static busybox, in out/linux.
LINUX      := $(OUT)/linux
linux-image: deps-test
	@tests/linux/fetch-debian-kernel.sh $(LINUX)

guests: deps
	@$(MAKE) --no-print-directory -C native/guest

# The storage suite embeds native/guest/build/storage-bench.elf, so the guests are built before any .NET build.
build: guests
	$(DOTNET) build Bhyve.Aot.sln -c Release --nologo -v q

publish: deps guests
	$(DOTNET) publish src/bhyve-aot/bhyve-aot.csproj -c Release -r linux-x64 -o $(OUT) --nologo -v q
	@ls -l $(BIN)

run: publish guests
	@$(BIN) run $(RUN_ARGS); status=$$?; \
	  if [ $$status -ne 1 ]; then echo "bhyve-aot exited with $$status" >&2; exit $$status; fi

# The Linux failure-path boots are left to `make test-linux-long` (filtered out here, not skipped).
test: deps-test publish guests linux-image
	@rm -f $(OUT)/solo5-conformance.txt; BHYVE_AOT_BIN=$(abspath $(BIN)) BHYVE_AOT_GUESTS=$(abspath $(GUESTS)) BHYVE_AOT_LINUX=$(abspath $(LINUX)) \
	  $(DOTNET) test tests/Bhyve.Aot.Tests/Bhyve.Aot.Tests.csproj -c Release --nologo \
	    --filter "FullyQualifiedName!~EndToEnd.LinuxFailurePathTests" \
	    --logger "console;verbosity=normal" 2>&1 | tee $(OUT)/test.log; \
	  status=$${PIPESTATUS[0]}; \
	  count() { grep -E "^ +$$1: +[0-9]+" $(OUT)/test.log | tail -1 | grep -oE "[0-9]+" || echo 0; }; \
	  if [ -f $(OUT)/solo5-conformance.txt ]; then cat $(OUT)/solo5-conformance.txt; fi; \
	  echo "$$(count Passed) passed, $$(count Failed) failed, $$(count Skipped) skipped"; \
	  exit $$status

# The longer Linux runs on the shared kernel (../shared/linux), more boots than `make test` affords: the
# failure paths (read-only disk, file truncated under the guest, driver unbind/bind with I/O in flight).
test-linux-long: deps-test publish guests linux-image
	@BHYVE_AOT_LINUX_LONG=1 BHYVE_AOT_BIN=$(abspath $(BIN)) BHYVE_AOT_GUESTS=$(abspath $(GUESTS)) BHYVE_AOT_LINUX=$(abspath $(LINUX)) \
	  $(DOTNET) test tests/Bhyve.Aot.Tests/Bhyve.Aot.Tests.csproj -c Release --nologo --logger "console;verbosity=normal" \
	    --filter "FullyQualifiedName~EndToEnd.Linux"

# The whole benchmark suite: storage (bhyve-aot vs QEMU vs host io_uring, results and charts under
# bench/results/<UTC timestamp>/), the hot-path micro-benchmarks (fail on any allocation), boot time
# (our test guest, then the shared Linux kernel to /init against QEMU microvm).
bench: bench-storage bench-micro bench-linux-boot
	python3 bench/startup.py

LINUX_BOOT_ARGS ?=
bench-linux-boot: deps-test publish linux-image
	python3 tests/linux/boot-bench.py --bin $(BIN) --busybox $(LINUX)/busybox --log $(OUT)/linux-boot-bench $(LINUX_BOOT_ARGS)

bench-storage: deps-test publish guests
	@dir=bench/results/$$(date -u +%Y%m%d-%H%M%S); \
	  $(BIN) bench storage --disk $(BENCH_DISK) --device all --vs qemu --output $$dir $(BENCH_ARGS) && \
	  $(DOTNET) run -c Release --project bench/Bhyve.Aot.Charts -v q -- $$dir

# In process: the generated per-benchmark project takes minutes to build on a busy 2-core machine.
bench-micro:
	$(DOTNET) run -c Release --project bench/Bhyve.Aot.Bench -v q -- --filter '*' --job short --inProcess

clean:
	$(DOTNET) clean Bhyve.Aot.sln -v q >/dev/null 2>&1 || true
	@$(MAKE) --no-print-directory -C native/guest clean
	rm -rf $(OUT)
