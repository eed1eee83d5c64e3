"""The files ``sklstm-beijing`` writes in ``--out``, all or none.

The outputs are written in a staging folder beside ``--out`` and moved into
it only once all are written (:func:`staged`); :func:`unwritable` checks
``--out`` before the study starts.
"""

import contextlib
import os
import shutil
import tempfile
from pathlib import Path

from ._markdown import markdown_report
from ._report import join_and, plot_forecasts, plot_skill

#: Names of the files written in ``--out``.
TABLE_CSV = "beijing_pm25.csv"
TABLE_MD = "beijing_pm25.md"
PLOT_PNG = "beijing_pm25_forecast.png"
SKILL_PNG = "beijing_pm25_skill.png"

#: Every file the command writes, in the order it names them.
OUTPUTS = (TABLE_MD, TABLE_CSV, PLOT_PNG, SKILL_PNG)

#: How to get the plots where matplotlib is missing (it is an optional extra).
PLOT_INSTALL_HINT = 'pip install "sklstm[plot]"'


def write_outputs(out, result, command, *, can_plot):
    """Write the tables and, if ``can_plot``, the plots of ``result`` in ``out``.

    Parameters
    ----------
    out : pathlib.Path
        The folder; created if missing.
    result : StudyResult
    command : str
        The command line, quoted in the Markdown report.
    can_plot : bool
        Whether matplotlib is installed.

    Returns
    -------
    written : list of pathlib.Path
        The files now in ``out``, in the order of :data:`OUTPUTS`.
    """
    settings, results = result.settings, result.results
    with staged(out) as staging:
        results.to_csv(staging / TABLE_CSV, index=False, float_format="%.8g")
        markdown = markdown_report(result, command)
        (staging / TABLE_MD).write_text(markdown, encoding="utf-8")
        if can_plot:
            plot_forecasts(
                staging / PLOT_PNG,
                result.truth,
                result.forecasts,
                result.plot_start,
                bands=result.bands,
                title=f"Beijing PM2.5, test year {result.plot_start.year}: "
                "observed and forecast",
            )
            title = f"Skill against persistence, test years {join_and(settings.folds)}"
            if len(settings.folds) > 1:
                title += " (line: mean; band or bar: range)"
            plot_skill(staging / SKILL_PNG, results, settings.horizons, title=title)
    return [out / name for name in OUTPUTS if (out / name).exists()]


@contextlib.contextmanager
def staged(out):
    """A temporary folder beside ``out`` for the outputs, moved into ``out``
    when the block ends without error (files of an earlier run that this
    one does not write are removed, so no stale plot stays beside new
    tables); on an error, nothing is left, not even ``out``."""
    existing = out.resolve()
    while not existing.exists():
        existing = existing.parent
    staging = Path(tempfile.mkdtemp(prefix=".sklstm-beijing-", dir=existing))
    try:
        yield staging
        out.mkdir(parents=True, exist_ok=True)
        for name in OUTPUTS:
            if not (staging / name).exists():
                (out / name).unlink(missing_ok=True)
        for name in OUTPUTS:
            if (staging / name).exists():
                os.replace(staging / name, out / name)
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def unwritable(out):
    """Why the outputs cannot be written in ``out``, or None if they can.

    ``out`` need not exist: its nearest existing folder must be writable
    (checked by creating a file there, which also holds for root).
    """
    if out.exists() and not out.is_dir():
        return "is a file, not a folder; pass a folder for the outputs"
    existing = out
    while not existing.exists():
        existing = existing.parent
    if not existing.is_dir():
        return f"{existing} is a file, not a folder; pass a folder for the outputs"
    try:
        with tempfile.TemporaryFile(dir=existing):
            pass
    except OSError as error:
        return f"cannot write in {existing} ({error.strerror}); pass a writable folder"
    return None
