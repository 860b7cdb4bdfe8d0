#!/bin/sh
# Build step of the image (Dockerfile, build stage), and of tests/scale/test_container.py, which
# runs it into a fresh virtual environment: create VENV and install the pinned runtime
# dependencies into it, nothing else. Every package in requirements.lock ships a binary wheel
# for CPython 3.11 on x86_64/aarch64 glibc, so no compiler is needed (--only-binary makes sure).
#   usage: docker/install.sh VENV [pip options...]
set -eu
venv="$1"
shift
here="$(cd "$(dirname "$0")" && pwd)"
python3 -m venv "$venv"
"$venv/bin/python" -m pip install --quiet --only-binary=:all: "$@" \
  -r "$here/../requirements.lock"
# pip is a build tool: the running image never installs anything.
"$venv/bin/python" -m pip uninstall --quiet --yes pip
