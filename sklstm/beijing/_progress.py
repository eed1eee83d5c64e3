"""A progress bar per study step, on one terminal line.

On a terminal the bar redraws itself in place (``\\r``); elsewhere (a log
file, CI) it writes one line when its step ends, so logs stay readable.
"""

import sys
import time


class ProgressBar:
    """Count the tasks of one study step and show how far it has got.

    Parameters
    ----------
    label : str
        The step, e.g. ``"LSTM fits"``.
    total : int
        Number of tasks of the step.
    stream : file-like, default=None
        Where to draw; None means ``sys.stderr``.
    width : int, default=24
        Characters of the bar itself.

    Examples
    --------
    >>> import io
    >>> stream = io.StringIO()
    >>> with ProgressBar("fits", 2, stream=stream) as bar:
    ...     bar.update()
    ...     bar.update()
    >>> stream.getvalue().startswith("fits")
    True
    """

    def __init__(self, label, total, *, stream=None, width=24):
        self.label = label
        self.total = max(int(total), 0)
        self.stream = sys.stderr if stream is None else stream
        self.width = width
        self.done = 0
        self._began = time.perf_counter()
        self._live = bool(getattr(self.stream, "isatty", lambda: False)())
        if self._live:
            self._draw(end="")

    def update(self, n=1):
        """Count ``n`` more tasks done."""
        self.done = min(self.done + n, self.total)
        if self._live:
            self._draw(end="")

    def close(self):
        """End the step: draw the final line."""
        self._draw(end="\n")

    def __enter__(self):
        return self

    def __exit__(self, *exc_info):
        self.close()

    def _draw(self, end):
        share = self.done / self.total if self.total else 1.0
        filled = round(share * self.width)
        bar = "#" * filled + "." * (self.width - filled)
        seconds = time.perf_counter() - self._began
        line = f"{self.label:<28} [{bar}] {self.done}/{self.total} {seconds:4.0f} s"
        prefix = "\r" if self._live else ""
        self.stream.write(prefix + line + end)
        self.stream.flush()


class NoProgress:
    """A :class:`ProgressBar` that shows nothing (``--quiet``, the API)."""

    def __init__(self, label, total, **kwargs):
        self.total = total

    def update(self, n=1):
        """Do nothing."""

    def close(self):
        """Do nothing."""

    def __enter__(self):
        return self

    def __exit__(self, *exc_info):
        pass
