"""Every use of threadpoolctl beyond its documented API.

The rest of the package calls these functions, so a change upstream is
mended in one place.
"""

import threadpoolctl


def take_blas_control():
    """Let this thread set OpenBLAS's process-wide limit.

    threadpoolctl (3.6 and later) lets only one thread, the first to set a
    limit, change a process-wide OpenBLAS pool until its ``with`` block
    ends, and silently ignores the others. sklstm's shared BLAS limit
    (``_lstm._threads``) is set and restored by whichever thread enters
    first or leaves last, always under its own lock, so it takes that
    control for each change.
    """
    controller_class = getattr(threadpoolctl, "OpenBLASController", None)
    clear = getattr(controller_class, "clear_controlling_thread", None)
    if clear is not None:
        clear(force=True)
