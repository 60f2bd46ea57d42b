"""Add concurrency to methods and functions in a single line of code.

(Placeholder while lox.worker.thread / lox.worker.process land.)
"""

__all__ = ["thread", "process"]


def thread(*args, **kwargs):
    raise NotImplementedError("lox.thread: not implemented yet")


def process(*args, **kwargs):
    raise NotImplementedError("lox.process: not implemented yet")
