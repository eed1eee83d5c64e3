"""
Prediction intervals for PM2.5: quantile LSTMs and conformal calibration
========================================================================

A point forecast of PM2.5 six hours ahead says nothing of how far off it may
be, and in a Beijing winter it may be off by a hundred µg/m³. This example
puts 80 % intervals around the forecasts of small LSTMs in four ways and
measures, on rows that none of them has seen, how often each interval holds
the observed value (its *coverage*, 80 % if it keeps its promise) and how
wide it is:

(a) a pair of quantile LSTMs (``loss="quantile"``, ``quantile=0.1`` and
    ``0.9``), as trained;
(b) the same pair, conformalised on a calibration block with MAPIE's
    ``ConformalizedQuantileRegressor`` (CQR);
(c) split conformal around a point LSTM (squared error), MAPIE's
    ``SplitConformalRegressor``;
(d) adaptive conformal inference (ACI) around the same point LSTM, MAPIE's
    ``TimeSeriesRegressor(method="aci")``, which moves its level hour by hour
    as the observations come in.

The models read 24 hours of PM2.5 and weather and forecast PM2.5 6 hours
ahead. They are trained on 2012, calibrated on January and February 2013 (a
block that follows the training rows in time, never shuffled) and tested on
January to March 2014. :doc:`/intervals` explains the methods.
"""

# %%
# One row per forecast
# --------------------
# The data preparation is that of the ``sklstm-beijing`` study
# (:mod:`sklstm.beijing`): PM2.5 gaps filled by time interpolation, wind
# direction one-hot encoded, the other seven features standard-scaled on the
# training rows. The data set is read from ``SKLSTM_DATA_HOME`` (or
# downloaded into ``~/sklstm_data``). A row ``t`` is an issue time: its input
# is the 24 hours ending at ``t``, its target PM2.5 at ``t + 6``, and it
# belongs to the period of its target.
#
# MAPIE reads a table, one sample per row, and ACI predicts one row at a
# time. So each row of what MAPIE sees must carry its whole input: the rows
# are windowed once, over the whole series, and flattened
# (``SequenceWindower(flatten=True)``); the models put the flat row back into
# a ``(24, n_features)`` sequence before the LSTM. A calibration or test
# block then starts with its true history, not with padding.
import logging
from contextlib import contextmanager

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from mapie.regression import (
    ConformalizedQuantileRegressor,
    SplitConformalRegressor,
    TimeSeriesRegressor,
)
from sklearn.frozen import FrozenEstimator
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import FunctionTransformer

from sklstm import LSTMRegressor, SequenceWindower
from sklstm.beijing import (
    FEATURES,
    Period,
    load_frame,
    lstm_columns,
    rows_in,
    target_times,
    targets,
)

HORIZON, WINDOW, LEVEL = 6, 24, 0.8
periods = {
    "train": Period.between("2012-01-01 00:00", "2012-12-31 23:00"),
    "calibration": Period.between("2013-01-01 00:00", "2013-02-28 23:00"),
    "test": Period.between("2014-01-01 00:00", "2014-03-31 23:00"),
}

frame = load_frame()
columns = lstm_columns(FEATURES).fit(
    frame.loc[periods["train"].contains(frame.index), list(FEATURES)]
)
flat_windows = SequenceWindower(window=WINDOW, flatten=True).fit_transform(
    columns.transform(frame)
)
target = targets(frame, [HORIZON]).iloc[:, 0].to_numpy()
masks = {
    name: rows_in(period, frame.index, HORIZON) for name, period in periods.items()
}
X = {name: flat_windows[mask] for name, mask in masks.items()}
y = {name: target[mask] for name, mask in masks.items()}
for name in periods:
    print(f"{name:12s} {len(y[name]):5d} rows, mean PM2.5 {y[name].mean():.0f} µg/m³")


def unflatten(rows, window):
    """Flat rows ``(n, window * n_features)`` back to ``(n, window, n_features)``."""
    return rows.reshape(len(rows), window, -1)


def coverage(band, observed):
    """Share of ``observed`` inside ``band``, an array of (lower, upper) rows."""
    return np.mean((band[:, 0] <= observed) & (observed <= band[:, 1]))


# %%
# Four small LSTMs
# ----------------
# A point model (squared error) and quantile models for 0.1, 0.5 and 0.9:
# 32 units, 10 epochs, about 3 s each on one core. Ten epochs keep the
# example short; the default cosine schedule fits its decay into them, which
# also lets the quantile models settle (:doc:`/training`).
def forecaster(**loss):
    return make_pipeline(
        FunctionTransformer(unflatten, kw_args={"window": WINDOW}),
        LSTMRegressor(
            hidden_layer_sizes=32,
            batch_size=32,
            learning_rate_init=0.003,
            max_iter=10,
            random_state=0,
            n_threads=1,
            **loss,
        ),
    )


point = forecaster().fit(X["train"], y["train"])
quantiles = {
    q: forecaster(loss="quantile", quantile=q).fit(X["train"], y["train"])
    for q in (0.1, 0.5, 0.9)
}


# %%
# (a) The quantile pair, as trained
# ---------------------------------
# The 0.9 model forecasts a value that PM2.5 stays below 90 % of the time,
# the 0.1 model one that it stays below 10 % of the time: between them, 80 %
# of the hours, *as far as the training year taught them*. Nothing
# guarantees that the share holds in another year.
def quantile_pair(rows):
    return np.column_stack([quantiles[q].predict(rows) for q in (0.1, 0.9)])


bands = {"(a) quantile pair": quantile_pair(X["test"])}
crossed = np.mean(np.diff(bands["(a) quantile pair"]) < 0)
print(f"The 0.1 quantile lies above the 0.9 one on {crossed:.1%} of the test rows")
in_training = coverage(quantile_pair(X["train"]), y["train"])
print(f"The pair covers {in_training:.1%} of its own training rows")


# %%
# (b) Conformalised quantile regression
# -------------------------------------
# CQR measures on the calibration block how far the observations fall outside
# the pair, on each side, and moves each bound by the 90 % quantile of its
# side's distances (outwards, or inwards if the pair was too wide), so that
# each side misses about 10 % of the hours. MAPIE takes the three fitted
# models, lower, upper and median, in that order.
#
# ``FrozenEstimator`` is scikit-learn's wrapper for a fitted model. Without
# it, MAPIE 1.6 checks that a ``Pipeline`` is fitted by predicting one 2-D row
# of zeros with its *last step*, and the LSTM refuses a 2-D row after a fit on
# sequences; through the wrapper, the row goes through the whole pipeline.
#
# MAPIE 1.6 logs the rows where the median model lies outside the pair with
# ``logging.basicConfig(level=logging.INFO)``, which would set up the root
# logger of the whole process and leave it at INFO. A handler already in
# place makes that call do nothing.
@contextmanager
def root_logger_left_alone():
    root = logging.getLogger()
    handler = logging.NullHandler()
    root.addHandler(handler)
    try:
        yield
    finally:
        root.removeHandler(handler)


cqr = ConformalizedQuantileRegressor(
    [FrozenEstimator(quantiles[q]) for q in (0.1, 0.9, 0.5)],
    confidence_level=LEVEL,
    prefit=True,
)
with root_logger_left_alone():
    cqr.conformalize(X["calibration"], y["calibration"])
    _, interval = cqr.predict_interval(X["test"])
bands["(b) CQR"] = interval[:, :, 0]

# %%
# (c) Split conformal around the point LSTM
# -----------------------------------------
# The absolute errors of the point model on the calibration block give one
# half-width, the same for every hour: their 80 % quantile.
split = SplitConformalRegressor(FrozenEstimator(point), confidence_level=LEVEL)
split.conformalize(X["calibration"], y["calibration"])
point_forecast, interval = split.predict_interval(X["test"])
bands["(c) split conformal"] = interval[:, :, 0]


# %%
# (d) Adaptive conformal inference, hour by hour
# ----------------------------------------------
# ``TimeSeriesRegressor(method="aci", cv="prefit")`` takes the fitted point
# model as it is; its ``fit`` only computes the calibration errors (signed,
# one quantile for each side). Then, through the test months, at each hour
# ``t``:
#
# * the forecast issued at ``t - 6`` has just been observed:
#   ``adapt_conformal_inference`` lowers the working miss rate by
#   ``gamma * (1 - 0.2)`` if it was missed, raises it by ``gamma * 0.2`` if
#   it was covered;
# * the interval for ``t + 6`` is issued at the current level.
#
# The model and the calibration errors never change; only the level does.
# With ``gamma = 0.005``, the value of Gibbs and Candès, ten misses in a row
# raise it by 4 points. The walk predicts one row at a time, twice an hour:
# a few seconds for the three months.
def walk_with_aci(aci, inputs, outcomes, gamma):
    """Issue each row's interval, after learning from the row observed by then."""
    issued = np.empty((len(inputs), 2))
    for row in range(len(inputs)):
        known = row - HORIZON  # the row whose target is the current hour
        if known >= 0:
            aci.adapt_conformal_inference(
                inputs[known : known + 1],
                outcomes[known : known + 1],
                gamma=gamma,
                confidence_level=LEVEL,
            )
        _, interval = aci.predict(
            inputs[row : row + 1], confidence_level=LEVEL, allow_infinite_bounds=True
        )
        issued[row] = interval[0, :, 0]
    return issued


aci = TimeSeriesRegressor(FrozenEstimator(point), method="aci", cv="prefit")
aci.fit(X["calibration"], y["calibration"])
bands["(d) ACI"] = walk_with_aci(aci, X["test"], y["test"], gamma=0.005)
print(f"ACI's level after the walk: {1 - aci.current_alpha[0.2]:.1%}")

# %%
# Coverage and width on the test months
# -------------------------------------
# Coverage is the share of the 2,160 test hours whose observed PM2.5 lies in
# its interval (the target is 80 %); width is the mean of upper minus lower
# bound. The promise is about all hours together, but the hours that matter
# most are the hardest: the table also gives the coverage of the clean hours
# (observed PM2.5 below 50 µg/m³, 694 hours) and of the heavy ones (above
# 300 µg/m³, 242 hours).
observed = y["test"]
groups = {
    "coverage (%)": slice(None),
    "clean hours (%)": observed < 50,
    "heavy hours (%)": observed > 300,
}


def summary(band):
    row = {
        column: 100 * coverage(band[chosen], observed[chosen])
        for column, chosen in groups.items()
    }
    row["mean width (µg/m³)"] = np.mean(np.diff(band))
    return row


table = pd.DataFrame(
    [summary(band) for band in bands.values()],
    index=pd.Index(list(bands), name=f"{LEVEL:.0%} interval, {HORIZON} h ahead"),
)
print(table.round(1).to_string())

# %%
# Two weeks of intervals
# ----------------------
# Each band is drawn at the hour it forecasts, around the median model's
# forecast for (a) and (b), the point model's for (c) and (d).
hours = target_times(frame.index, HORIZON)[masks["test"]]
shown = (hours >= "2014-02-12") & (hours < "2014-02-26")
median_forecast = quantiles[0.5].predict(X["test"])
centres = [median_forecast, median_forecast, point_forecast, point_forecast]
fig, axes = plt.subplots(len(bands), 1, figsize=(10, 10), sharex=True, sharey=True)
for ax, (name, band), centre in zip(axes, bands.items(), centres, strict=True):
    ax.fill_between(
        hours[shown], band[shown, 0], band[shown, 1], alpha=0.3, label="interval"
    )
    ax.plot(hours[shown], centre[shown], linewidth=0.9, label="forecast")
    ax.plot(hours[shown], observed[shown], color="black", label="observed")
    covered = coverage(band, observed)
    ax.set_title(f"{name}: {covered:.0%} of the test hours covered", loc="left")
    ax.set_ylabel("PM2.5 (µg/m³)")
axes[0].legend(ncol=3, fontsize=8, loc="upper left")
fig.autofmt_xdate()
fig.tight_layout()
plt.show()

# %%
# What the numbers say
# --------------------
# The quantile pair, as trained, covers 69 % of the test hours, not 80 %,
# although it covers 84 % of its own training rows: the training year (a
# whole year, mean PM2.5 91 µg/m³) taught it less spread than the winter
# months that came later. Its band has the right shape, though, wide in the
# haze and narrow in clean air, and CQR keeps that shape: moved outwards by
# the calibration errors, it covers the clean and the heavy hours about
# equally (76 % and 78 %).
#
# Split conformal is 87 % overall, but that is the average of two failures:
# its half-width, the same for every hour, covers 95 % of the clean hours
# (its lower bound is below zero on most test hours) and fewer than half of
# the heavy ones. Averaged over the hours, a constant-width interval can keep
# its promise while failing exactly when PM2.5 is high.
#
# CQR (84 %) and split conformal (87 %) both cover more than promised, and
# for the same reason: they trust the calibration block, and January and
# February 2013, with the haze of mid-January 2013 (PM2.5 up to 886 µg/m³),
# were dirtier (mean 161 µg/m³) than the test months (133 µg/m³). Their errors
# were larger, and the methods carried them over. The conformal guarantee
# needs calibration and test rows that are exchangeable; a year apart, they
# are not. ACI starts from the point model's errors on the same calibration
# block, but reads the test hours as they are observed: it lowers its
# working level to about 73 % by the end of March, and covers 80 % of the
# hours with intervals 44 µg/m³ narrower on average than split conformal's.
# Its width changes with its working level, not with the air of the hour, so
# the heavy hours remain poorly covered. The same update could drive CQR's correction
# instead; MAPIE 1.6's ``TimeSeriesRegressor`` wraps one point model, so this
# example does not try it.
#
# This is one seed, one quarter and small models trained for ten epochs: the
# pattern is the point, not the exact numbers.
