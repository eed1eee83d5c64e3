"""
Forecasting with inputs known ahead: the calendar and the weather
=================================================================

Tomorrow's PM2.5 depends on tomorrow's wind, and the hour and the weekday of
every future hour are known. :class:`~sklstm.SequenceWindower` reads such
columns past the forecast origin (``known_ahead`` and ``lead``), and
:class:`~sklstm.CalendarFeatures` turns timestamps into calendar columns.
This example forecasts PM2.5 24 hours ahead in Beijing from the 24 hours
before each origin, with and without the look-ahead.

The weather of the hours ahead is the *observed* weather here: it stands in
for a weather forecast, a perfect one, so the gain it shows is an upper
bound of what a real forecast would give. The calendar is known ahead in
earnest.

The models train on January to September 2013, the LSTM stops early on
October, and all are scored on November and December 2013: one short
period, so the numbers are an illustration, not the study's.
"""

# %%
# The data and the columns
# ------------------------
# PM2.5 is known only up to the origin (past-only); the weather and the
# calendar are read ``lead`` hours ahead. ``time`` is a column, so that a
# ``ColumnTransformer`` hands it to ``CalendarFeatures``.
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from sklearn.compose import ColumnTransformer
from sklearn.linear_model import Ridge
from sklearn.metrics import root_mean_squared_error
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from sklstm import CalendarFeatures, LSTMRegressor, SequenceWindower
from sklstm.datasets import load_beijing_pm25

HORIZON = 24
WEATHER = ["dew", "temp", "press", "wnd_spd"]
CALENDAR = [f"{c}_{p}" for c in ("hour", "day_of_week", "day_of_year")
            for p in ("sin", "cos")]  # fmt: skip

data = load_beijing_pm25()
data["pollution"] = data["pollution"].interpolate(method="time").bfill()
frame = data.loc["2013", ["pollution", *WEATHER]].assign(time=lambda f: f.index)
y = frame["pollution"].shift(-HORIZON)
train = frame.index < "2013-10-01"
test = frame.index >= "2013-11-01"


def columns():
    return ColumnTransformer(
        [
            ("scale", StandardScaler(), ["pollution", *WEATHER]),
            ("calendar", CalendarFeatures(), ["time"]),
        ],
        verbose_feature_names_out=False,
    )


def with_future_rows(stop, known):
    """Rows before ``stop``, then the ``HORIZON`` rows after it as future
    rows: their past-only columns (those not in ``known``) blanked."""
    rows = frame.iloc[: stop + HORIZON].copy()
    past_only = [name for name in ["pollution", *WEATHER] if name not in known]
    rows.iloc[stop:, [rows.columns.get_loc(name) for name in past_only]] = np.nan
    return rows


# %%
# Ridge with and without the look-ahead
# -------------------------------------
# ``flatten=True`` gives lags and named leads (``temp_lead6`` ...). Training
# rows end with the ``HORIZON`` rows after them as future rows, so that the
# last training windows read their true look-ahead; ``y`` covers the
# observed rows only.
n_train, n_all = int(train.sum()), len(frame) - HORIZON
scores = {}
for name, known in [
    ("past only", []),
    ("+ calendar ahead", CALENDAR),
    ("+ calendar and weather ahead", CALENDAR + WEATHER),
]:
    lead = HORIZON if known else 0
    windower = SequenceWindower(
        window=24, flatten=True, known_ahead=known or None, lead=lead
    )
    model = make_pipeline(columns(), windower, Ridge()).set_output(transform="pandas")
    model.fit(with_future_rows(n_train, known)[: n_train + lead], y.iloc[:n_train])
    y_pred = model.predict(with_future_rows(n_all, known)[: n_all + lead])
    scores[f"Ridge, {name}"] = root_mean_squared_error(
        y.iloc[:n_all][test[:n_all]], y_pred[test[:n_all]]
    )

# %%
# The LSTM reads the look-ahead as a sequence
# -------------------------------------------
# The window of hour ``t`` holds 24 past hours, then 24 future ones with the
# weather and the calendar, PM2.5 masked to 0, and a flag column set to 1.
# Early stopping holds out October, the last rows given to ``fit``.
n_fit = int((frame.index < "2013-11-01").sum())
known = CALENDAR + WEATHER
lstm = make_pipeline(
    columns(),
    SequenceWindower(window=24, known_ahead=known, lead=HORIZON),
    LSTMRegressor(
        hidden_layer_sizes=16, max_iter=15, early_stopping=True,
        validation_fraction=1 - n_train / n_fit, random_state=0,
    ),
).set_output(transform="pandas")  # fmt: skip
lstm.fit(with_future_rows(n_fit, known), y.iloc[:n_fit])
y_lstm = lstm.predict(with_future_rows(n_all, known))
scores["LSTM, + calendar and weather ahead"] = root_mean_squared_error(
    y.iloc[:n_all][test[:n_all]], y_lstm[test[:n_all]]
)
print(pd.Series(scores, name="RMSE (µg/m³), Nov-Dec 2013, 24 h ahead").round(1))

# %%
# A forecast from the last observed hour
# --------------------------------------
# At the last hour of 30 November, append the next 24 hours: their calendar
# and weather known (here observed, as a perfect forecast), PM2.5 not. The
# last output row is the forecast issued at that hour for 24 hours later.
origin = frame.index.get_loc(pd.Timestamp("2013-11-30 23:00"))
issued = lstm.predict(with_future_rows(origin + 1, known))[-1]
target_time = frame.index[origin + HORIZON]
print(f"Issued {frame.index[origin]}, for {target_time}: {issued:.0f} µg/m³ "
      f"(observed {frame['pollution'].iloc[origin + HORIZON]:.0f})")  # fmt: skip

# %%
# Two weeks of 24-hour forecasts
# ------------------------------
shown = slice("2013-12-01", "2013-12-14")
times = frame.index[:n_all] + pd.Timedelta(hours=HORIZON)
fig, ax = plt.subplots(figsize=(10, 4))
ax.plot(frame["pollution"][shown], color="black", label="observed")
ax.plot(pd.Series(y_lstm, index=times)[shown], label="LSTM, weather and calendar ahead")
ax.set_ylabel("PM2.5 (µg/m³)")
ax.set_title("Forecasts 24 hours ahead, drawn at the hour they forecast")
ax.legend()
plt.show()
