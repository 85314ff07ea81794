# Two commands (see README.md):
#   make book   set up .venv, execute every chapter and build the HTML book into _build/html
#   make test   set up .venv (and Chromium), then run every test: library, nbval, strict build, browser
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
EXTRAS := $(VENV)/.instructor

.PHONY: book test setup browser assignments clean

setup: $(STAMP)

$(STAMP): requirements.txt pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV) || { \
	  echo "Could not create a virtual environment. On Debian: apt-get install python3-venv"; exit 1; }
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements.txt
	$(BIN)/python -m ipykernel install --prefix $(VENV) --name python3 > /dev/null
	@touch $(STAMP)

# Instructor extras (nbgrader), needed by the tests and by `make assignments`, not by readers.
$(EXTRAS): $(STAMP) requirements-instructor.txt
	$(BIN)/python -m pip install --quiet -r requirements-instructor.txt
	@touch $(EXTRAS)

book: $(STAMP)
	$(BIN)/jupyter-book build . --builder html --all -n -W --keep-going
	@echo ""
	@echo "Book built. Open $(CURDIR)/_build/html/index.html in a browser."

# Debian's chromium for the headless-browser test (root, or sudo, on a fresh machine).
browser:
	@command -v chromium > /dev/null || { \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get update -qq && $$SUDO apt-get install -y -qq chromium > /dev/null; }

test: $(EXTRAS) browser
	$(BIN)/python -m pytest tests chapters --nbval --nbval-sanitize-with tests/nbval_sanitize.cfg \
	  --nbval-cell-timeout=600 -p no:cacheprovider

# Student notebooks and an nbgrader course directory in _build/assignments (see instructors.md).
assignments: $(EXTRAS)
	$(BIN)/python -m memlab.exercises.build --chapters chapters --out _build/assignments

clean:
	rm -rf _build
