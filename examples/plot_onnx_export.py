"""
Deploying the Beijing forecaster with ONNX Runtime
==================================================

A fitted forecaster has to run where it is needed: in a service written in
C++, C#, Java or JavaScript, on a device, in a database. :mod:`sklstm.onnx`
exports a whole fitted pipeline, from raw hourly rows to forecasts, to one
`ONNX <https://onnx.ai>`_ file, which `ONNX Runtime
<https://onnxruntime.ai>`_ runs without Python's sklstm or scikit-learn.

This example fits the multivariate 1-hour-ahead PM2.5 pipeline of the
``sklstm-beijing`` study (:mod:`sklstm.beijing`) with small settings,
exports it, forecasts every hour of 2014 with ONNX Runtime and with
``pipeline.predict``, and shows that the two agree to float32 precision.
:doc:`/onnx` says what is exported and how.
"""

# %%
# Fit the multivariate pipeline
# -----------------------------
# The pipeline of the study, from raw rows::
#
#     FrozenEstimator(ColumnTransformer)  one-hot wind direction, scaling
#       → SequenceWindower(window=24)
#       → LSTMRegressor
#
# It is fitted as ``sklstm-beijing --quick`` fits it (train September to
# December 2012, early stopping on January 2013), with a smaller network and
# at most 6 epochs, to keep the example short: its forecasts are not the
# study's. The data set is read from ``SKLSTM_DATA_HOME`` (or downloaded
# into ``~/sklstm_data``).

import matplotlib.pyplot as plt
import numpy as np
import onnxruntime

from sklstm.beijing import (
    FEATURES,
    FULL,
    QUICK,
    TARGET,
    fit_columns,
    fit_lstm,
    history_start,
    load_frame,
    lstm_columns,
    lstm_pipeline,
    rows_in,
    target_times,
    targets,
)
from sklstm.onnx import to_onnx

HORIZON, WINDOW = 1, 24
frame = load_frame()
y = targets(frame, [HORIZON]).iloc[:, 0]
columns = fit_columns(lstm_columns(FEATURES), frame, QUICK, FEATURES)
pipeline = lstm_pipeline(
    columns,
    window=WINDOW,
    hidden_layer_sizes=32,
    batch_size=32,
    learning_rate_init=0.003,
    max_iter=6,
    early_stopping=True,
    n_iter_no_change=3,
    random_state=0,
    n_threads=1,
)
fit_lstm(pipeline, frame, y, QUICK, FEATURES, (HORIZON,))  # six epochs, to be short
lstm = pipeline[-1]
print(f"{lstm.n_iter_} epochs, best January 2013 R² {lstm.best_validation_score_:.3f}")

# %%
# Export it
# ---------
# :func:`sklstm.onnx.to_onnx` takes the fitted pipeline and a sample of the
# rows it reads: here a DataFrame, so the graph gets one input per column,
# float32 for the numbers and a string input for the wind direction. The
# ``FrozenEstimator`` is exported as the ColumnTransformer it wraps, the
# windower as a handful of indexing nodes, the LSTM as one ONNX ``LSTM``
# node per layer and a matrix product for the head.
X = frame[list(FEATURES)]
onx = to_onnx(pipeline, X.iloc[:1])
model_bytes = onx.SerializeToString()  # what onnx.save(onx, path) writes
print(f"{len(model_bytes) / 1024:.0f} KiB")
print("inputs:", ", ".join(i.name for i in onx.graph.input))
print("outputs:", ", ".join(o.name for o in onx.graph.output))
print("LSTM nodes:", sum(node.op_type == "LSTM" for node in onx.graph.node))

# %%
# Forecast 2014 with ONNX Runtime
# -------------------------------
# The rows of 2014 are given with the 23 hours before them, so that the
# first windows read their true past; the forecasts of those history rows
# are dropped. ONNX Runtime takes one ``(n_rows, 1)`` array per input
# column: float32 numbers, and the wind direction as strings.
in_2014 = rows_in(FULL.test, frame.index, HORIZON)
start = history_start(in_2014, WINDOW)
stop = int(np.flatnonzero(in_2014)[-1]) + 1
rows = X.iloc[start:stop]
kept = in_2014[start:stop]

session = onnxruntime.InferenceSession(model_bytes, providers=["CPUExecutionProvider"])
feed = {
    node.name: rows[[node.name]].to_numpy(
        np.float32 if node.type == "tensor(float)" else object
    )
    for node in session.get_inputs()
}
(onnx_forecast,) = session.run(None, feed)
onnx_forecast = onnx_forecast[kept]
sklstm_forecast = pipeline.predict(rows)[kept]

# %%
# The same forecasts
# ------------------
# Both run the network in float32 (ONNX Runtime with its own LSTM kernel),
# so they differ by float32 rounding only: a few ten-thousandths of a
# µg/m³ on forecasts of tens to hundreds, a few millionths of the target's
# standard deviation, in which the network computes.
difference = onnx_forecast - sklstm_forecast
print(f"{kept.sum()} hourly forecasts of 2014")
print(f"max |ONNX - predict|: {np.abs(difference).max():.2e} µg/m³")
print(
    f"forecasts from {sklstm_forecast.min():.1f} to {sklstm_forecast.max():.1f} µg/m³"
)
# The network computes in standardised units: target_scale_ µg/m³ each.
scale = lstm.target_scale_[0]
print(f"max difference in the network's units: {np.abs(difference).max() / scale:.1e}")

# %%
# Two weeks of forecasts, and the difference over the year
# --------------------------------------------------------
# The forecasts are drawn at the hour they forecast. The two lines of the
# top panel lie on top of each other; the bottom panel shows their
# difference for every hour of 2014.
hours = target_times(frame.index, HORIZON)[start:stop][kept]
fortnight = (hours >= "2014-01-12") & (hours < "2014-01-26")
fig, (top, bottom) = plt.subplots(
    2, 1, figsize=(10, 6), gridspec_kw={"height_ratios": [3, 2]}
)
observed = frame[TARGET].reindex(hours).to_numpy()
top.plot(hours[fortnight], observed[fortnight], color="black", label="observed")
top.plot(hours[fortnight], sklstm_forecast[fortnight], label="pipeline.predict")
top.plot(
    hours[fortnight],
    onnx_forecast[fortnight],
    linestyle="--",
    label="ONNX Runtime",
)
top.set_ylabel("PM2.5 (µg/m³)")
top.set_title("1 hour ahead, 12-25 January 2014", loc="left")
top.legend()
bottom.plot(hours, difference, linewidth=0.6, color="C3")
bottom.set_ylabel("ONNX - predict (µg/m³)")
bottom.set_title("Every hour of 2014", loc="left")
for ax in (top, bottom):
    ax.tick_params(axis="x", labelrotation=20)
fig.tight_layout()
plt.show()
