"""Progress of a long command (import, backup, restore), shown on standard error.

On a terminal one line is rewritten in place; with ``--verbosity 2`` (or more) a plain line is
written now and then, which suits a log file. Otherwise nothing is shown: cron jobs and tests get
only the command's result. Updates are cheap to call for every row: at most a few lines a second
are written, and the first and last updates of each step always are.
"""

from __future__ import annotations

import time

#: Seconds between two lines (or two rewrites of the line on a terminal).
INTERVAL = 0.5


def _plain(text: str) -> str:
    # Progress is not an error: not in the red Django gives a command's standard error.
    return text


class Progress:
    def __init__(self, stream=None, *, interactive: bool = False, enabled: bool = False, interval: float = INTERVAL):
        self.stream = stream
        self.interactive = interactive
        self.enabled = enabled and stream is not None
        self.interval = interval
        self._last = 0.0
        self._step = None
        self._open_line = False

    @classmethod
    def for_command(cls, command, verbosity: int) -> Progress:
        """Progress on the command's stderr: when it is a terminal, or asked for with --verbosity 2."""
        interactive = command.stderr.isatty()
        return cls(command.stderr, interactive=interactive, enabled=interactive or verbosity >= 2)

    @classmethod
    def silent(cls) -> Progress:
        return cls()

    def update(self, step: str, done: int, total: int | None = None, unit: str = "") -> None:
        """``done`` of ``total`` things (``unit``) of ``step`` are done."""
        if not self.enabled:
            return
        now = time.monotonic()
        new_step = step != self._step
        finished = total is not None and done >= total
        if not (new_step or finished or now - self._last >= self.interval):
            return
        self._step, self._last = step, now
        line = f"{step}: {done:,}" + ("" if total is None else f" of {total:,}") + (f" {unit}" if unit else "")
        if total:
            line += f" ({100 * done // total}%)"
        if self.interactive:
            # Rewrite the terminal line; a finished step keeps its line.
            self.stream.write(f"\r\033[K{line}", style_func=_plain, ending="\n" if finished else "")
            self._open_line = not finished
        else:
            self.stream.write(line, style_func=_plain)

    def done(self) -> None:
        """End an unfinished terminal line, so what follows starts on a line of its own."""
        if self.enabled and self.interactive and self._open_line:
            self.stream.write("", style_func=_plain)
            self._open_line = False
