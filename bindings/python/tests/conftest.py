# SPDX-License-Identifier: Apache-2.0
"""Shared test setup: the package is imported from bindings/python (the
parent of this directory); liblox is found as lox._native documents
(run-tests.sh sets LOX_LIBRARY)."""

import os
import subprocess
import sys

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
if ROOT not in sys.path:
    sys.path.insert(0, ROOT)


def run_python(code, env_extra=None, timeout=60, cwd=None):
    """Runs ``code`` in a fresh interpreter (this one's executable) with the
    package importable; returns the CompletedProcess (text mode)."""
    env = dict(os.environ)
    env["PYTHONPATH"] = ROOT + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
    env.pop("LOX_DEBUG", None)
    if env_extra:
        env.update(env_extra)
    return subprocess.run([sys.executable, "-c", code], env=env, capture_output=True,
                          text=True, timeout=timeout, cwd=cwd)


@pytest.fixture
def pyrun():
    return run_python
