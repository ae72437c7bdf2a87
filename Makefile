SHELL := /bin/bash
# Bhyve.Aot: `make run` builds everything and boots the default guest; `make test` passes every test.
# Everything a fresh Debian machine with the .NET SDK lacks is installed here (apt-get, as root).

DOTNET     ?= dotnet
OUT        := out
BIN        := $(OUT)/bhyve-aot
GUESTS     := native/guest/build
RUN_ARGS   ?= --kernel $(GUESTS)/hello.elf --memory 64M --cpus 1 --cmdline "exit=0 console=com1 hello=world"
APT_GET    := DEBIAN_FRONTEND=noninteractive apt-get -y -q -o=Dpkg::Use-Pty=0

.PHONY: all deps deps-test guests linux-image build publish run test bench clean

all: publish guests

# Build tools: gcc/make for the guests, clang+lld for the NativeAOT link.
deps:
	@command -v gcc >/dev/null && command -v clang >/dev/null && command -v ld.lld >/dev/null || \
	  { $(APT_GET) update >/dev/null && $(APT_GET) install --no-install-recommends gcc make clang lld >/dev/null; }

# Test tools: QEMU runs the same guests as the reference VMM; iasl (acpica-tools) checks our ACPI tables;
# lz4 unpacks the Debian kernel's payload.
deps-test: deps
	@command -v qemu-system-x86_64 >/dev/null || \
	  { $(APT_GET) update >/dev/null && $(APT_GET) install --no-install-recommends qemu-system-x86 >/dev/null; }
	@command -v iasl >/dev/null && command -v lz4 >/dev/null || \
	  { $(APT_GET) update >/dev/null && $(APT_GET) install --no-install-recommends acpica-tools lz4 >/dev/null; }

# Debian's cloud kernel (bzImage, the vmlinux inside it, virtio modules) and a static busybox, in out/linux.
LINUX      := $(OUT)/linux
linux-image: deps-test
	@tests/linux/fetch-debian-kernel.sh $(LINUX)

guests: deps
	@$(MAKE) --no-print-directory -C native/guest

build:
	$(DOTNET) build Bhyve.Aot.sln -c Release --nologo -v q

publish: deps
	$(DOTNET) publish src/bhyve-aot/bhyve-aot.csproj -c Release -r linux-x64 -o $(OUT) --nologo -v q
	@ls -l $(BIN)

run: publish guests
	@$(BIN) run $(RUN_ARGS); status=$$?; \
	  if [ $$status -ne 1 ]; then echo "bhyve-aot exited with $$status" >&2; exit $$status; fi

test: deps-test publish guests linux-image
	@BHYVE_AOT_BIN=$(abspath $(BIN)) BHYVE_AOT_GUESTS=$(abspath $(GUESTS)) BHYVE_AOT_LINUX=$(abspath $(LINUX)) \
	  $(DOTNET) test tests/Bhyve.Aot.Tests/Bhyve.Aot.Tests.csproj -c Release --nologo \
	    --logger "console;verbosity=normal" 2>&1 | tee $(OUT)/test.log; \
	  status=$${PIPESTATUS[0]}; \
	  count() { grep -E "^ +$$1: +[0-9]+" $(OUT)/test.log | tail -1 | grep -oE "[0-9]+" || echo 0; }; \
	  echo "$$(count Passed) passed, $$(count Failed) failed, $$(count Skipped) skipped"; \
	  exit $$status

bench: publish guests
	python3 bench/startup.py

clean:
	$(DOTNET) clean Bhyve.Aot.sln -v q >/dev/null 2>&1 || true
	@$(MAKE) --no-print-directory -C native/guest clean
	rm -rf $(OUT)
