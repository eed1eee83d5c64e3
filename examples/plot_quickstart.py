"""
Quick start: forecast the next hour with an LSTM pipeline
=========================================================

A :class:`~sklstm.SequenceWindower` turns a time-ordered table into windows
of past rows, and an :class:`~sklstm.LSTMRegressor` reads each window and
forecasts the next value. Both are scikit-learn estimators, so they go into a
:class:`~sklearn.pipeline.Pipeline` with a scaler, and the pipeline is
fitted, scored and plotted like any other model.
"""

# %%
# A synthetic hourly series
# -------------------------
# Fifty days of an hourly "load" that follows a daily cycle, a weekly cycle,
# and a "temperature" with a lag of two hours, plus noise. The rows are in
# time order, one per hour.

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

rng = np.random.default_rng(0)
hours = pd.date_range("2024-01-01", periods=50 * 24, freq="h")
t = np.arange(len(hours))
temp = 10 + 6 * np.sin(2 * np.pi * (t - 8) / 24) + rng.normal(0, 1.0, len(t))
load = (
    50
    + 8 * np.sin(2 * np.pi * t / 24)
    + 5 * np.sin(2 * np.pi * t / (24 * 7))
    + 0.8 * np.roll(temp, 2)
    + rng.normal(0, 1.0, len(t))
)
data = pd.DataFrame({"load": load, "temp": temp}, index=hours)
data.head()

# %%
# Features now, target one hour later
# -----------------------------------
# :func:`~sklstm.make_supervised` pairs the features at hour ``t`` (both
# columns, the target's own past included) with the load at ``t + 1``, and
# drops the last row, whose next hour is not in the data.

from sklstm import make_supervised

X, y = make_supervised(data, "load", horizon=1)
print(X.shape, y.name)

# %%
# The test period is the last ten days. It is split off by position, never
# by shuffling: a forecast is trained on the past and judged on the future.

n_test = 10 * 24
split = len(X) - n_test
X_train, y_train = X.iloc[:split], y.iloc[:split]

# %%
# The pipeline
# ------------
# The scaler is a step of the pipeline, so it learns its mean and scale from
# the training rows only. The windower turns each row into the 24 rows ending
# there, shape ``(n_rows, 24, 2)``; it keeps one output row per input row, so
# ``y`` stays aligned. ``early_stopping`` holds out the *last* 10 % of the
# training rows, in time order, and keeps the weights that scored best there.

from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler

from sklstm import LSTMRegressor, SequenceWindower

window = 24
model = Pipeline(
    [
        ("scale", StandardScaler()),
        ("win", SequenceWindower(window=window)),
        (
            "lstm",
            LSTMRegressor(
                hidden_layer_sizes=16,
                learning_rate_init=0.01,
                max_iter=30,
                early_stopping=True,
                n_iter_no_change=5,
                random_state=0,
            ),
        ),
    ]
)
model.fit(X_train, y_train)
lstm = model[-1]
print(f"{lstm.n_iter_} epochs, best validation R² {lstm.best_validation_score_:.3f}")

# %%
# Forecasting the test period
# ---------------------------
# The windows of the first test hours reach back into the training period,
# so ``predict`` is given the ``window - 1`` rows before the test period as
# history, and their predictions are dropped. Only features are passed: the
# model sees nothing of the test period that a real forecast would not.

history = X.iloc[split - (window - 1) :]
y_pred = model.predict(history)[window - 1 :]
y_test = y.iloc[split:]

# %%
# Against persistence
# -------------------
# A forecast is only useful if it beats the naive one: "the next hour is like
# this hour".

from sklearn.metrics import mean_absolute_error, r2_score

persistence = X["load"].iloc[split:]
for name, forecast in [("LSTM", y_pred), ("persistence", persistence)]:
    print(
        f"{name:>12}: MAE {mean_absolute_error(y_test, forecast):.2f}, "
        f"R² {r2_score(y_test, forecast):.3f}"
    )

# %%
# Predictions against the truth
# -----------------------------
# The last four days of the test period, and the training loss and
# validation score of each epoch.

fig, (ax_series, ax_curve) = plt.subplots(
    1, 2, figsize=(11, 3.8), gridspec_kw={"width_ratios": [2.2, 1]}
)
last = slice(-4 * 24, None)
ax_series.plot(y_test.index[last], y_test.iloc[last], label="truth", color="k")
ax_series.plot(y_test.index[last], y_pred[last], label="LSTM forecast", color="C1")
ax_series.set_ylabel("load")
ax_series.set_title("One-hour-ahead forecast, test period")
ax_series.legend()
ax_series.tick_params(axis="x", labelrotation=30)

epochs = np.arange(1, lstm.n_iter_ + 1)
ax_curve.plot(epochs, lstm.loss_curve_, color="C0")
ax_curve.set_xlabel("epoch")
ax_curve.set_ylabel("loss (½ MSE, scaled target)")
ax_score = ax_curve.twinx()
ax_score.plot(epochs, lstm.validation_scores_, color="C2")
ax_score.set_ylabel("validation R²")
ax_curve.set_title("Training")
ax_curve.legend(
    ax_curve.get_lines() + ax_score.get_lines(),
    ["training loss", "validation R²"],
    loc="center right",
)
fig.tight_layout()
plt.show()
