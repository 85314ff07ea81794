# Two commands (see README.md):
#   make book   set up .venv, execute every chapter and build the HTML book into _build/html
#   make test   set up .venv (and Chromium), then run every test: library, nbval, strict build, browser
# Also: make lab (open the chapters in JupyterLab), make execute CH=NN (execute and store one
# chapter), make assignments, make lock (recompile the pins).
# A graded course with nbgrader (instructors.md), one target per step, in a directory DIR outside
# _build: make course DIR=... [COURSE_ID=...] [CH=01], then make release/collect/autograde/
# feedback CH=01 DIR=..., make export DIR=...
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
# Readers' environment: requirements/reader.txt (the library, matplotlib, widgets, JupyterLab).
READER := $(VENV)/.reader
# Everything: requirements/dev.txt (reader + book build + tests + nbgrader), one resolution.
STAMP  := $(VENV)/.dev
EXTRAS := $(STAMP)
UV     := uv==0.13.9

.PHONY: book test test-fast setup lab lock browser assignments clean execute \
	course release collect autograde feedback export

setup: $(STAMP)

$(BIN)/python:
	@$(PYTHON) -m venv $(VENV) || { \
	  echo "Could not create a virtual environment. On Debian: apt-get install python3-venv"; exit 1; }
	$(BIN)/python -m pip install --quiet --upgrade pip

$(STAMP): requirements/dev.txt pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -r requirements/dev.txt
	$(BIN)/python -m pip install --quiet --no-deps -e .
	$(BIN)/python -m ipykernel install --prefix $(VENV) --name python3 > /dev/null
	@touch $(STAMP) $(READER)

$(READER): requirements/reader.txt pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -r requirements/reader.txt
	$(BIN)/python -m pip install --quiet --no-deps -e .
	$(BIN)/python -m ipykernel install --prefix $(VENV) --name python3 > /dev/null
	@touch $(READER)

# Open the chapters in JupyterLab, in the project's environment (readers' packages only).
lab: $(READER)
	$(BIN)/jupyter lab chapters

# Recompile the lock files from pyproject.toml (existing pins are kept unless asked):
#   make lock                               after editing the lists in pyproject.toml
#   make lock UPGRADE="--upgrade-package numpy"   to move one package to its newest release
lock: | $(BIN)/python
	$(BIN)/python -m pip install --quiet $(UV)
	$(BIN)/uv pip compile pyproject.toml --all-extras --python-version 3.11 $(UPGRADE) \
	  --custom-compile-command "make lock" -o requirements/dev.txt
	$(BIN)/uv pip compile pyproject.toml --extra reader --python-version 3.11 \
	  -c requirements/dev.txt --custom-compile-command "make lock" -o requirements/reader.txt

book: $(STAMP)
	$(SAME_ARITHMETIC) $(BIN)/jupyter-book build . --builder html --all -n -W --keep-going
	@echo ""
	@echo "Book built. Open $(CURDIR)/_build/html/index.html in a browser."

# Chromium for the headless-browser test: $(MEMLAB_CHROMIUM), or a Chromium/Chrome on the PATH;
# else, on Debian or Ubuntu, Debian's chromium (apt-get: root, or sudo); else say what to install.
CHROMIUM_NAMES := chromium chromium-browser google-chrome google-chrome-stable
browser:
	@if [ -n "$$MEMLAB_CHROMIUM" ]; then \
	  test -x "$$MEMLAB_CHROMIUM" || { echo "MEMLAB_CHROMIUM=$$MEMLAB_CHROMIUM is not an executable."; exit 1; }; \
	elif for b in $(CHROMIUM_NAMES); do command -v $$b; done | grep -q .; then :; \
	elif command -v apt-get > /dev/null; then \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get update -qq && $$SUDO apt-get install -y -qq chromium > /dev/null; \
	else \
	  echo "The browser test needs Chromium or Google Chrome, and none was found"; \
	  echo "(looked for: $(CHROMIUM_NAMES)). Install one (macOS: brew install --cask chromium;"; \
	  echo "Fedora: dnf install chromium; Arch: pacman -S chromium; or Google Chrome), then run"; \
	  echo "make test again, with MEMLAB_CHROMIUM=/path/to/the/browser if it is not on the PATH."; \
	  exit 1; \
	fi

# Every test, in parallel on all cores (pytest-xdist; the cells of one notebook, one chapter's
# nbgrader tests and the book build each stay in one worker: tests/conftest.py). JOBS=0: serial.
# MEMLAB_REQUIRE_ALL=1: a test whose tool (nbgrader, Chromium) is missing fails, saying how to
# install it, instead of being skipped. One numba and BLAS thread per worker: the workers already
# fill the cores, and threads on top oversubscribe them (Chapter 3's section-3 cell took 190 s in
# the suite with two threads per worker, 35 s with one; the whole suite 7:44 against 6:07 on
# 2 cores). Stored outputs do not depend on the thread count; tests that compare thread counts
# start their own process with two threads. OMP_WAIT_POLICY=PASSIVE: idle OpenMP threads sleep.
# PYTHONDONTWRITEBYTECODE= (empty): bytecode is cached even where the environment turns it off;
# the suite starts some 40 Python processes (workers, kernels, subprocesses), and each compiled
# the library and the tests anew (collection took 7.8 s per worker instead of 5.0 s).
# SAME_ARITHMETIC: the same floating-point arithmetic on every x86-64 Linux machine with AVX2
# (CI included), so that stored outputs that are chaotic in the last bit compare equal there:
# OpenBLAS's Haswell kernels (on AVX-512 and on older CPUs it picks other kernels, whose sums run
# in another order) and numpy without its AVX-512 code paths (some of its math functions have
# AVX-512 versions that round differently; the names are numpy 2.4's). Chapter 8's MAP-EM fit stops
# its E-steps at a tolerance, so its fitted couplings move by up to 1 % with the summation order
# of a dot product; its stored numbers failed nbval on an AMD EPYC (AVX2) machine, and change in
# the same way with OpenBLAS's Sandybridge kernels. Elsewhere (other CPUs, macOS) nothing is
# pinned, and Chapter 8's MAP-EM numbers may differ there.
SAME_ARITHMETIC := $(shell grep -qw avx2 /proc/cpuinfo 2>/dev/null && \
	echo OPENBLAS_CORETYPE=Haswell NPY_DISABLE_CPU_FEATURES=X86_V4,AVX512_ICL,AVX512_SPR)
JOBS ?= auto
TEST_ENV := PYTHONDONTWRITEBYTECODE= OMP_WAIT_POLICY=PASSIVE NUMBA_NUM_THREADS=1 OMP_NUM_THREADS=1 \
	OPENBLAS_NUM_THREADS=1 MKL_NUM_THREADS=1 $(SAME_ARITHMETIC)
test: $(EXTRAS) browser
	$(TEST_ENV) MEMLAB_REQUIRE_ALL=1 $(BIN)/python -m pytest tests chapters --nbval \
	  --nbval-sanitize-with tests/nbval_sanitize.cfg --nbval-cell-timeout=600 -p no:cacheprovider \
	  -n $(JOBS)

# Execute one chapter and store its outputs, with the arithmetic the tests use:
#   make execute CH=08
ifneq ($(filter execute,$(MAKECMDGOALS)),)
ifeq ($(wildcard chapters/$(CH)_*.ipynb),)
$(error Say which chapter, by its two digits: make execute CH=08)
endif
endif
execute: $(STAMP)
	$(TEST_ENV) $(BIN)/jupyter-execute --inplace --timeout=600 $(wildcard chapters/$(CH)_*.ipynb)

# The library's tests alone, in under a minute: no notebook execution, browser, nbgrader or long
# simulation (markers in pyproject.toml).
test-fast: $(STAMP)
	$(TEST_ENV) $(BIN)/python -m pytest tests -p no:cacheprovider -n $(JOBS) \
	  -m "not notebooks and not browser and not assignments and not slow"

# Student notebooks (and a scratch nbgrader source tree) in _build/assignments (instructors.md);
# for a graded course, whose gradebook must survive `make clean`: make course DIR=...
assignments: $(EXTRAS)
	$(BIN)/python -m memlab.exercises.build --chapters chapters --out _build/assignments

# The course steps run in the project's environment (nbgrader is in requirements/dev.txt);
# memlab.exercises.course puts .venv/bin on PATH for nbgrader's own commands.
COURSE := $(BIN)/python -m memlab.exercises.course
need_dir = @test -n "$(DIR)" || { echo "Say where the course lives: make $@ DIR=path/to/course$(1)"; exit 2; }
need_ch  = @test -n "$(CH)" || { echo "Say which chapter: make $@ DIR=$(DIR) CH=01$(1)"; exit 2; }

course: $(EXTRAS)
	$(call need_dir, [COURSE_ID=my-course-2026] [CH=01])
	$(COURSE) new "$(DIR)" $(if $(COURSE_ID),--course-id "$(COURSE_ID)") $(if $(CH),--chapter $(CH))

release: $(EXTRAS)
	$(call need_dir, CH=01)
	$(call need_ch)
	$(COURSE) release "$(DIR)" $(CH) $(if $(FORCE),--force)

collect: $(EXTRAS)
	$(call need_dir, CH=01 FROM=folder/with/notebooks)
	$(call need_ch, FROM=folder/with/notebooks)
	@test -n "$(FROM)" || { echo "Say where the notebooks are: make collect DIR=$(DIR) CH=$(CH) FROM=folder"; exit 2; }
	$(COURSE) collect "$(DIR)" $(CH) "$(FROM)"

autograde: $(EXTRAS)
	$(call need_dir, CH=01)
	$(call need_ch)
	$(COURSE) autograde "$(DIR)" $(CH) $(if $(STUDENT),--student "$(STUDENT)")

feedback: $(EXTRAS)
	$(call need_dir, CH=01)
	$(call need_ch)
	$(COURSE) feedback "$(DIR)" $(CH)

export: $(EXTRAS)
	$(call need_dir)
	$(COURSE) export "$(DIR)"

clean:
	rm -rf _build
