"""
Forecasting Beijing PM2.5 with an LSTM pipeline, against baselines
===================================================================

The ``sklstm-beijing`` command runs a full study: an LSTM pipeline and four
baselines forecast PM2.5 at the US Embassy in Beijing 1, 6 and 24 hours
ahead, by rolling origin: for each test year Y of 2012, 2013 and 2014, the
models are trained on 2010 to Y-2, the LSTM is early-stopped on Y-1, and all
are scored on Y. This example runs the same code on one fold and a slice of
the data (train September to December 2012, validation January 2013, test
January 2014), so that it finishes in under a minute; its numbers are not
the study's.

Each fitted model is a scikit-learn pipeline from raw hourly rows::

    ColumnTransformer (one-hot wind direction, standard scaling,
                       fitted on the train period and frozen)
      → SequenceWindower(window=24)
      → LSTMRegressor(early_stopping=True)

The baselines read the same rows: persistence (the value at ``t``),
seasonal naive (the value 24 hours before the target), and Ridge and
gradient boosting on the 24 hourly lags.
"""

# %%
# Run the study on a slice
# ------------------------
# ``StudySettings.quick()`` are the settings of ``sklstm-beijing --quick``:
# a slice of each fold, and a smaller LSTM (32 units, batches of 32, at most
# 12 epochs, two seeds); ``folds=(2014,)`` keeps the last fold only. The
# data set is read from ``SKLSTM_DATA_HOME`` (or downloaded into
# ``~/sklstm_data``).
import matplotlib.pyplot as plt

from sklstm.beijing import StudySettings, run_study, wide_table

result = run_study(StudySettings.quick(folds=(2014,)))

# %%
# Test RMSE, MAE and skill
# ------------------------
# One row per model and input set: univariate reads PM2.5 only,
# multivariate adds dew point, temperature, pressure, wind and precipitation.
# RMSE and MAE in µg/m³; skill in % against persistence on the same hours;
# ``DM p``: the Diebold-Mariano p-value of the LSTM against the best
# baseline of its inputs.
january = result.results[result.results["test_year"] == "2014"]
table = wide_table(january, horizons=(1, 6, 24))
print(table.round(2).to_string(index=False))

# %%
# Two weeks of forecasts
# ----------------------
# The forecasts are drawn at the hour they forecast: a good 6- or 24-hour
# forecast leads persistence, which lags the observations by the horizon.
start, stop = "2014-01-12", "2014-01-25 23:00"
fig, axes = plt.subplots(len(result.forecasts), 1, figsize=(10, 8), sharex=True)
for ax, (horizon, forecasts) in zip(axes, result.forecasts.items(), strict=True):
    ax.plot(result.truth[start:stop], color="black", label="observed")
    for label, forecast in forecasts.items():
        style = {"color": "0.55", "linestyle": ":"} if label == "persistence" else {}
        ax.plot(forecast[start:stop], label=label, **style)
    ax.set_title(f"{horizon} h ahead", loc="left")
    ax.set_ylabel("PM2.5 (µg/m³)")
axes[0].legend(ncol=4, fontsize=8)
fig.autofmt_xdate()
fig.tight_layout()
plt.show()
